"""A live-chat worker in a process of its own (for the test that kills one with SIGKILL, and the
live benchmark): `python -m tests.integration.live_worker PORT [--ingest STORE] [--scripted
TEXT]`, configured by `PARLEY_*` variables. The app gets an opened `Parley`, so nothing warms up
unless asked: models load on the first bot turn. `--ingest` indexes the test knowledge base for
a store (in this worker's data dir) and `--scripted` puts a scripted chat model answering TEXT
to every call behind the pipeline: the model boundary, as in the tests."""

from __future__ import annotations

import argparse
import asyncio

import uvicorn

from bot.api import create_app
from bot.settings import Settings
from bot.wiring import open_parley
from tests.fakes import FakeChatModel, reply
from tests.integration.conftest import KB

SCRIPTED_ANSWERS = 100_000
"""Enough scripted answers for any benchmark run (the fake model fails when they run out)."""


async def main(port: int, ingest: str | None, scripted: str | None) -> None:
    """Serve until killed."""
    settings = Settings()
    parley = await open_parley(settings, run_migrations=False)
    if ingest is not None:
        job = await parley.knowledge.ingest_paths(ingest, sorted(KB.iterdir()))
        if job.state != "done" or job.errors:
            raise SystemExit(f"ingestion failed: {job.errors}")
    if scripted is not None:
        pipeline = await parley.agent()
        pipeline.llm = FakeChatModel(script=[reply(scripted)] * SCRIPTED_ANSWERS)
    config = uvicorn.Config(
        create_app(settings, parley),
        host="127.0.0.1",
        port=port,
        ws="websockets-sansio",
        ws_per_message_deflate=settings.live.compression,
        log_config=None,
    )
    try:
        await uvicorn.Server(config).serve()
    finally:
        await parley.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="one live-chat worker")
    parser.add_argument("port", type=int)
    parser.add_argument("--ingest", default=None)
    parser.add_argument("--scripted", default=None)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.port, arguments.ingest, arguments.scripted))
