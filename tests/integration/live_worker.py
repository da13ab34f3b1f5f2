"""A live-chat worker in a process of its own (for the test that kills one with SIGKILL, and the
live benchmark): `python -m tests.integration.live_worker PORT [--ingest STORE] [--scripted
TEXT]`, configured by `PARLEY_*` variables. The app gets an opened `Parley`, so nothing warms up
unless asked: models load on the first bot turn. `--ingest` indexes the test knowledge base for
a store without documents (in this worker's data dir) and `--scripted` puts a scripted chat
model answering TEXT to every call behind the pipeline: the model boundary, as in the tests."""

from __future__ import annotations

import argparse
import faulthandler
import signal

import uvicorn
import uvloop

from bot.api import create_app
from bot.settings import Settings
from bot.wiring import open_parley
from tests.fakes import Endless, FakeChatModel, reply
from tests.integration.conftest import KB


async def main(port: int, ingest: str | None, scripted: str | None) -> None:
    """Serve until killed; SIGUSR1 prints every thread's stack (a stuck worker)."""
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    settings = Settings()
    parley = await open_parley(settings, run_migrations=False)
    if ingest is not None:
        if present := await parley.knowledge.list(ingest):
            # Their rows are in the shared database, their vectors in another worker's data
            # dir: ingestion would find them unchanged and leave this worker's index empty.
            await parley.close()
            raise SystemExit(
                f"store {ingest!r} already has {len(present)} documents, indexed by another "
                "worker's data dir; --ingest needs a store of its own"
            )
        job = await parley.knowledge.ingest_paths(ingest, sorted(KB.iterdir()))
        if job.state != "done" or job.errors:
            raise SystemExit(f"ingestion failed: {job.errors}")
    if scripted is not None:
        pipeline = await parley.agent()
        model = FakeChatModel()
        model.script = Endless(reply(scripted))
        pipeline.llm = model
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
    # The event loop `parley serve` runs on (uvicorn picks uvloop where it is installed).
    uvloop.run(main(arguments.port, arguments.ingest, arguments.scripted))
