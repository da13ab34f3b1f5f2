"""Shared fixtures: isolated data dirs, real databases, and a guard against remote models."""

from __future__ import annotations

import ipaddress
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.api import create_app
from bot.settings import Settings
from bot.storage import Database, connect, migrate
from bot.wiring import Parley, open_parley
from tests.asgi import asgi_client

POSTGRES_ADMIN_URL = os.environ.get(
    "PARLEY_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("PARLEY_TEST_REDIS", "redis://127.0.0.1:6379/0")
CACHE_DIR = Path(__file__).parents[1] / ".cache" / "parley"
"""Rebuildable artefacts shared by test runs (exemplar vectors): computed once per checkout."""
DATA_DIR = Path(__file__).parent / "data"
SUITE_DIR = DATA_DIR / "conversations"
"""The multilingual conversation suite (`evals.agent_suite`)."""
CALIBRATION_SET = DATA_DIR / "handoff_calibration.json"
"""The hand-off floors' calibration questions (`evals.handoff_floors`)."""
EVAL_DIR = Path(
    os.environ.get("PARLEY_EVAL_DIR", Path(__file__).parents[1] / ".." / "shared" / "eval")
)

_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    """Tests talk only to this machine; reaching a remote model or API is a test failure."""
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            pytest.fail(
                f"test tried to reach {host}:{address[1]}: remote models and APIs are off limits"
            )
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def no_remote_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that opens a connection off this machine (e.g. to a hosted LLM)."""
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A fresh Parley data dir."""
    return tmp_path / "parley"


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    """Embedded-default settings in a fresh data dir, with no LLM."""
    return Settings(data_dir=data_dir, llm="none", log_json=False)


async def _create_pg_database() -> tuple[str, str]:
    import asyncpg

    name = f"parley_t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return name, f"{base}/{name}"


async def _drop_pg_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database on the machine's server, dropped afterwards."""
    name, url = await _create_pg_database()
    try:
        yield url
    finally:
        await _drop_pg_database(name)


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated database: the same test runs once on SQLite and once on real PostgreSQL."""
    pg_name = None
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'parley.db'}"
    else:
        pg_name, url = await _create_pg_database()
    db = await connect(url)
    try:
        await migrate(db)
        yield db
    finally:
        await db.close()
        if pg_name:
            await _drop_pg_database(pg_name)


@pytest.fixture
async def parley(settings: Settings) -> AsyncIterator[Parley]:
    """A `Parley` on the embedded defaults in a fresh data dir."""
    opened = await open_parley(settings)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def client(settings: Settings, parley: Parley) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client bound in-process to the app over `parley`."""
    async with asgi_client(create_app(settings, parley)) as http:
        yield http


@pytest.fixture
def eval_dir() -> Iterator[Path]:
    """`../shared/eval` (or `PARLEY_EVAL_DIR`): public evaluation data, never copied in."""
    path = EVAL_DIR.resolve()
    if not path.is_dir():
        pytest.fail(f"evaluation data not found at {path}; set PARLEY_EVAL_DIR")
    yield path
