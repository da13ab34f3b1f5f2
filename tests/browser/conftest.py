"""A real `parley serve` on a free loopback port and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.conftest import CACHE_DIR

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(folder: Path, module: Callable[[int], list[str]]) -> Iterator[str]:
    """Run `python -m` with the arguments `module(port)` gives, on a fresh data dir, until it
    answers `/readyz`; yield its base URL, then stop it."""
    data_dir = folder / "parley"
    port = _free_port()
    env = {
        **os.environ,
        "PARLEY_DATA_DIR": str(data_dir),
        "PARLEY_CACHE_DIR": str(CACHE_DIR),
        "PARLEY_LLM": "none",
    }
    log_path = folder / "server.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", *module(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail("server did not become ready in 300 s")
    yield base
    process.terminate()
    process.wait(timeout=20)
    log.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`parley serve --demo` in its own process with a fresh data dir; yields its base URL."""
    folder = tmp_path_factory.mktemp("browser")
    yield from _serve(folder, lambda port: ["bot.cli", "serve", "--demo", "--port", str(port)])


SCRIPTED_ANSWER = (
    "商品到着後30日以内であれば返品いただけます。 未使用で元の梱包のままの商品に限ります。 [1]"
)
"""What the scripted model answers every question with: two sentences, streamed one by one."""


@pytest.fixture(scope="session")
def scripted_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo storefront whose pipeline asks a scripted chat model (the model boundary), which
    streams SCRIPTED_ANSWER in pieces 0.4 s apart; yields its base URL."""
    folder = tmp_path_factory.mktemp("scripted")
    module = "tests.browser.scripted_storefront"
    yield from _serve(folder, lambda port: [module, str(port), SCRIPTED_ANSWER, "0.4"])


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium (Playwright's own browser download does not work here)."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()
