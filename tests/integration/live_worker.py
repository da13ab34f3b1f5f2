"""A live-chat worker in a process of its own, for the test that kills one with SIGKILL:
`python -m tests.integration.live_worker PORT`, configured by `PARLEY_*` variables. The app gets
an opened `Parley`, so nothing warms up: models load on the worker's first bot turn."""

from __future__ import annotations

import asyncio
import sys

import uvicorn

from bot.api import create_app
from bot.settings import Settings
from bot.wiring import open_parley


async def main(port: int) -> None:
    """Serve until killed."""
    settings = Settings()
    parley = await open_parley(settings, run_migrations=False)
    config = uvicorn.Config(
        create_app(settings, parley),
        host="127.0.0.1",
        port=port,
        ws="websockets-sansio",
        log_config=None,
    )
    try:
        await uvicorn.Server(config).serve()
    finally:
        await parley.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
