"""The `parley` command as an operator runs it: help, store creation, clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
PARLEY = [sys.executable, "-m", "bot.cli"]


def parley(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "PARLEY_DATA_DIR": str(data_dir),
        "PARLEY_LOG_JSON": "false",
        **env,
    }
    return subprocess.run(
        [*PARLEY, *args], capture_output=True, text=True, env=environment, timeout=120, check=False
    )


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = parley("--help", data_dir=tmp_path)
    assert result.returncode == 0
    for command in ("serve", "ingest", "ask", "store", "agents", "eval", "demo", "migrate"):
        assert command in result.stdout


def test_store_create_prints_keys_as_json_and_refuses_a_duplicate(tmp_path: Path) -> None:
    created = parley("store", "create", "acme", "--json", data_dir=tmp_path)
    assert created.returncode == 0, created.stderr
    keys = json.loads(created.stdout)
    assert keys["store"] == "acme"
    assert keys["public_key"].startswith("pk_") and keys["secret_key"].startswith("sk_")

    again = parley("store", "create", "acme", "--json", data_dir=tmp_path)
    assert again.returncode == 1
    assert again.stderr.strip() == "parley: store 'acme' already exists"


def test_agents_add_needs_an_existing_store(tmp_path: Path) -> None:
    result = parley(
        "agents",
        "add",
        "--store",
        "nope",
        "--email",
        "a@b.c",
        "--password",
        "longenough",
        data_dir=tmp_path,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "parley: store 'nope' not found"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://postgres@127.0.0.1:1/parley", "parley: cannot open database"),
        (
            "mysql://root@localhost/parley",
            "parley: PARLEY_DATABASE_URL 'mysql://root@localhost/parley'",
        ),
        ("not a url", "parley: PARLEY_DATABASE_URL is not a database URL"),
    ],
)
def test_a_bad_database_url_is_one_clear_line(tmp_path: Path, url: str, expected: str) -> None:
    result = parley("migrate", data_dir=tmp_path, PARLEY_DATABASE_URL=url)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(expected)
    assert "Traceback" not in result.stderr
