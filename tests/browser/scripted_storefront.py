"""The demo storefront with a scripted chat model behind the turn pipeline (the model boundary,
as in the other tests): `python -m tests.browser.scripted_storefront PORT ANSWER DELAY_S`,
configured by `PARLEY_*` variables. Every answer the pipeline asks the model for is ANSWER,
streamed in the pieces its spaces mark, DELAY_S apart, so a browser watches a reply build up."""

from __future__ import annotations

import argparse
import asyncio
import sys

import uvicorn

from bot.api import create_app
from bot.demo import seed_demo
from bot.settings import Settings
from bot.wiring import open_parley
from tests.fakes import FakeChatModel, reply

SCRIPTED_ANSWERS = 50
"""More answers than the browser tests ask for (the fake model fails when they run out), and
few: LangChain writes the model's repr, script included, on every call."""


async def main(port: int, answer: str, delay_s: float) -> None:
    """Seed the demo store, then serve until terminated."""
    settings = Settings()
    settings.server.port = port
    for line in await seed_demo(settings):
        print(line, file=sys.stderr)
    parley = await open_parley(settings)
    pipeline = await parley.agent()
    pipeline.llm = FakeChatModel(script=[reply(answer)] * SCRIPTED_ANSWERS, delay_s=delay_s)
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
    parser = argparse.ArgumentParser(description="the demo storefront with a scripted model")
    parser.add_argument("port", type=int)
    parser.add_argument("answer")
    parser.add_argument("delay_s", type=float)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.port, arguments.answer, arguments.delay_s))
