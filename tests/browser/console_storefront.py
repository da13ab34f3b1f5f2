"""The demo storefront and console with a scripted chat model that translates and words answers
(the model boundary, as in the other tests): `python -m tests.browser.console_storefront PORT`,
configured by `PARLEY_*` variables. The model answers each prompt by what it asks for, so the
order in which the console, the widget and the bot ask does not matter: a translation of a
scripted text gets its scripted translation, a question its scripted answer."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

import uvicorn
from langchain_core.messages import AIMessage, BaseMessage
from pydantic import Field

from bot.api import create_app
from bot.demo import seed_demo
from bot.settings import Settings
from bot.wiring import open_parley
from tests.fakes import Call, FakeChatModel, reply

QUESTION = "返品は何日以内にできますか？"
QUESTION_EN = "Within how many days can I return an item?"
FOLLOW_UP = "返品の送料は無料ですか？"
FOLLOW_UP_EN = "Is return shipping free?"
REPLY = "Hello, I am Sam from the support team. Your return window is 30 days."
REPLY_JA = "こんにちは、サポートチームのサムです。返品期間は30日間です。"
DRAFT = "You can return any item within 30 days of delivery, for any reason [1]."
ANSWER_JA = (
    "商品到着後30日以内であれば返品いただけます。 未使用で元の梱包のままの商品に限ります。 [1]"
)
TRANSLATOR = "Translate this text"
RULES: list[tuple[tuple[str, ...], str]] = [
    ((TRANSLATOR, "into English", QUESTION), QUESTION_EN),
    ((TRANSLATOR, "into English", FOLLOW_UP), FOLLOW_UP_EN),
    ((TRANSLATOR, "into Japanese", REPLY), REPLY_JA),
    ((QUESTION_EN,), DRAFT),  # the answer flow, asked for the agent's suggested reply
]
"""What a prompt must contain, and the scripted answer; the bot's answers are ANSWER_JA."""


class PromptScripted(FakeChatModel):
    """The scripted chat model, answering by what the prompt contains (`rules`, first match),
    else with `fallback`; every call recorded like `FakeChatModel`'s."""

    rules: list[tuple[tuple[str, ...], str]] = Field(default_factory=list)
    fallback: str = ""

    def _next(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> AIMessage:
        call = Call(list(messages), list(kwargs.get("tools") or []), kwargs.get("tool_choice"))
        self.calls.append(call)
        for needles, answer in self.rules:
            if all(needle in call.prompt for needle in needles):
                return reply(answer)
        return reply(self.fallback)


async def main(port: int) -> None:
    """Seed the demo store, then serve until terminated."""
    settings = Settings()
    settings.server.port = port
    for line in await seed_demo(settings):
        print(line, file=sys.stderr)
    parley = await open_parley(settings)
    pipeline = await parley.agent()
    pipeline.llm = PromptScripted(rules=RULES, fallback=ANSWER_JA, delay_s=0.1)
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
    parser = argparse.ArgumentParser(description="the demo store with a translating model")
    parser.add_argument("port", type=int)
    asyncio.run(main(parser.parse_args().port))
