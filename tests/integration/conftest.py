"""Fixtures shared by the agent's integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest_asyncio

from bot.settings import Settings
from bot.wiring import Parley, open_parley
from tests.conftest import CACHE_DIR, _create_pg_database, _drop_pg_database
from tests.fakes import FakeChatModel

KB = Path(__file__).parents[1] / "data" / "kb"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def postgres() -> AsyncIterator[str]:
    """A PostgreSQL database of the module's own (its URL), dropped after the module."""
    name, url = await _create_pg_database()
    try:
        yield url
    finally:
        await _drop_pg_database(name)


async def open_with_documents(data_dir: Path, store: str) -> Parley:
    """Parley with no chat model and a store holding the knowledge-base test documents."""
    settings = Settings(data_dir=data_dir, cache_dir=CACHE_DIR, llm="none", log_json=False)
    opened = await open_parley(settings)
    await opened.stores.create(store)
    job = await opened.knowledge.ingest_paths(store, sorted(KB.iterdir()))
    assert job.state == "done" and not job.errors, job.errors
    return opened


@pytest_asyncio.fixture(loop_scope="module")
async def scripted(parley: Parley) -> AsyncIterator[Callable[..., FakeChatModel]]:
    """Put a scripted chat model in the pipeline for one test (the model boundary only); the
    module's `parley` fixture says which Parley."""
    pipeline = await parley.agent()

    def install(*script: Any, delay_s: float = 0.0, timeout_s: float = 30.0) -> FakeChatModel:
        model = FakeChatModel(delay_s=delay_s)
        model.script.extend(script)
        pipeline.llm = model
        pipeline.llm_timeout_s = timeout_s
        return model

    yield install
    pipeline.llm = None
