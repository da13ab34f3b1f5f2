"""`parley ask --json` (one message and --batch) and `POST /api/v1/ask` speak the contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.api import create_app
from bot.demo.seed import demo_files
from bot.settings import Settings
from bot.tools.tau2_files import import_file
from bot.wiring import Parley, open_parley
from tests.asgi import asgi_client
from tests.conftest import CACHE_DIR

pytestmark = pytest.mark.integration
CONTRACT_KEYS = {
    "session", "reply", "language", "intent", "outcome", "citations", "tool_calls", "handoff",
    "confidence",
}  # fmt: skip


def parley_cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PARLEY_DATA_DIR": str(data_dir),
        "PARLEY_CACHE_DIR": str(CACHE_DIR),
        "PARLEY_LLM": "none",
        "PARLEY_LOG_LEVEL": "WARNING",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


def test_ask_batch_keeps_each_session_as_one_conversation(tmp_path: Path) -> None:
    data_dir = tmp_path / "parley"
    assert parley_cli("store", "create", "shop", data_dir=data_dir).returncode == 0
    imported = parley_cli(
        "store",
        "import",
        "--format",
        "tau2",
        str(demo_files() / "orders.json"),
        "--store",
        "shop",
        data_dir=data_dir,
    )
    assert imported.returncode == 0, imported.stderr
    batch = tmp_path / "batch.jsonl"
    lines = [
        {"session": "a", "message": "Wo ist meine Bestellung #W1000001?"},
        {"session": "b", "message": "Je veux parler à un conseiller, s'il vous plaît."},
        {"session": "a", "message": "anna.schmidt@example.com"},
    ]
    batch.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n")

    result = parley_cli(
        "ask", "--store", "shop", "--json", "--batch", str(batch), data_dir=data_dir
    )
    assert result.returncode == 0, result.stderr
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(replies) == 3
    assert all(set(reply) == CONTRACT_KEYS for reply in replies)
    assert [reply["session"] for reply in replies] == ["a", "b", "a"]
    assert replies[0]["outcome"] == "needs_info" and replies[0]["language"] == "de"
    assert replies[1]["outcome"] == "handoff" and replies[1]["language"] == "fr"
    assert replies[1]["handoff"] == {"state": "queued", "reason": "shopper_asked"}
    assert replies[2]["outcome"] == "answered" and "#W1000001" in replies[2]["reply"]


def test_ask_with_a_broken_batch_line_says_where(tmp_path: Path) -> None:
    data_dir = tmp_path / "parley"
    parley_cli("store", "create", "shop", data_dir=data_dir)
    batch = tmp_path / "batch.jsonl"
    batch.write_text('{"session": "a", "message": "hi"}\n{"session": "a"\n')
    result = parley_cli(
        "ask", "--store", "shop", "--json", "--batch", str(batch), data_dir=data_dir
    )
    assert result.returncode == 1
    assert f"{batch}:2: expected" in result.stderr
    assert "Traceback" not in result.stderr


def test_ask_for_an_unknown_store_is_one_line(tmp_path: Path) -> None:
    result = parley_cli("ask", "hello", "--store", "nope", "--json", data_dir=tmp_path / "p")
    assert result.returncode == 1
    assert result.stderr.strip() == "parley: store 'nope' not found"


@pytest.fixture
async def parley(tmp_path: Path) -> AsyncIterator[Parley]:
    settings = Settings(
        data_dir=tmp_path / "parley", cache_dir=CACHE_DIR, llm="none", log_json=False
    )
    opened = await open_parley(settings)
    try:
        yield opened
    finally:
        await opened.close()


async def test_post_ask_needs_the_stores_secret_key_and_answers_in_the_contract(
    parley: Parley,
) -> None:
    keys = await parley.stores.create("shop")
    other = await parley.stores.create("other")
    await import_file(parley.orders, "shop", demo_files() / "orders.json")
    async with asgi_client(create_app(parley.settings, parley)) as client:
        refused = await client.post("/api/v1/ask", json={"message": "hi"})
        assert refused.status_code == 401
        body = {"message": "Where is order #W1000005? I'm yuki.tanaka@example.com", "session": "x"}
        answer = await client.post(
            "/api/v1/ask", json=body, headers={"authorization": f"Bearer {keys.secret_key}"}
        )
        assert answer.status_code == 200, answer.text
        assert set(answer.json()) == CONTRACT_KEYS
        assert answer.json()["outcome"] == "answered" and answer.json()["session"] == "x"
        # The same session name under another store's key is another store's conversation.
        elsewhere = await client.post(
            "/api/v1/ask",
            json={"message": "And its tracking number?", "session": "x"},
            headers={"authorization": f"Bearer {other.secret_key}"},
        )
        assert elsewhere.status_code == 200
        assert "JP3310000005" not in elsewhere.json()["reply"]
