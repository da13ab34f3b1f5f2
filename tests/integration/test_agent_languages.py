"""Shoppers writing in languages outside a store's list, through the whole pipeline with no
chat model: identified among every language, answered in theirs, and when no fixed reply is
written in it, answered in English with the reason stored for the console."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.agent.replies import say
from bot.settings import Settings
from bot.shopper import ask
from bot.wiring import Parley, open_parley
from tests.conftest import CACHE_DIR

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]
STORE = "every-language"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def parley(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Parley]:
    data_dir: Path = tmp_path_factory.mktemp("languages") / "parley"
    settings = Settings(data_dir=data_dir, cache_dir=CACHE_DIR, llm="none", log_json=False)
    opened = await open_parley(settings)
    await opened.stores.create(STORE)
    try:
        yield opened
    finally:
        await opened.close()


async def _stored_reply_meta(parley: Parley, session: str) -> dict[str, Any]:
    conversation = await parley.conversations.named(STORE, session)
    messages = await parley.conversations.messages_after(STORE, conversation.id)
    return dict(messages[-1].meta)


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("sv", "Jag vill prata med en riktig människa, tack."),
        ("uk", "З'єднайте мене з живою людиною, будь ласка."),
        ("hi", "मुझे किसी इंसान से बात करनी है।"),
        ("id", "Saya mau bicara dengan manusia, bukan bot."),
        ("fi", "Haluan puhua oikean ihmisen kanssa."),
    ],
)
async def test_a_request_for_a_person_is_answered_in_the_shoppers_language(
    parley: Parley, language: str, message: str
) -> None:
    session = f"person-{language}"
    reply = await ask(parley, STORE, message, session)
    assert reply["language"] == language
    assert reply["outcome"] == "handoff"
    assert reply["handoff"] == {"state": "queued", "reason": "shopper_asked"}
    assert reply["reply"] == say(language, "handoff")
    assert "reply_fallback" not in await _stored_reply_meta(parley, session)


async def test_a_language_without_fixed_replies_gets_english_and_the_reason(
    parley: Parley,
) -> None:
    reply = await ask(parley, STORE, "אני רוצה לדבר עם נציג אנושי.", "person-he")
    assert reply["language"] == "he"
    assert reply["outcome"] == "handoff"
    assert reply["reply"] == say("en", "handoff")
    fallback = (await _stored_reply_meta(parley, "person-he"))["reply_fallback"]
    assert fallback["language"] == "en" and fallback["shopper_language"] == "he"
    assert fallback["texts"] == "handoff"
