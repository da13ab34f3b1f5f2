"""Shoppers writing Czech, Greek and Hungarian through the whole pipeline with no chat model:
a hand-off and a request that needs their identity first come out in their language, and a
Czech shopper's cancellation is proposed in Czech and decided by their "ano" or "ne" (the
proposal and the yes/no words of every new language: tests/unit/test_agent_european_replies.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.agent.replies import say
from bot.demo.seed import demo_files
from bot.settings import Settings
from bot.shopper import ask
from bot.tools.tau2_files import import_file
from bot.wiring import Parley, open_parley
from tests.conftest import CACHE_DIR

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]
LANGUAGES = ["cs", "el", "hu"]
PERSON = {
    "cs": "Chci mluvit s živým člověkem, prosím.",
    "el": "Θέλω να μιλήσω με έναν άνθρωπο, παρακαλώ.",
    "hu": "Egy élő munkatárssal szeretnék beszélni, kérem.",
}
CANCEL_WITHOUT_IDENTITY = {
    "cs": "Chci zrušit svou objednávku.",
    "el": "Θέλω να ακυρώσω την παραγγελία μου.",
    "hu": "Szeretném lemondani a rendelésemet.",
}
CANCEL = "Chci zrušit objednávku {order}, už ji nepotřebuji. Můj e-mail je {email}"
PROPOSED = "Potvrďte prosím: Zrušení objednávky #W1000006 (už není potřeba); vrácení peněz: 66,40"
ENGLISH = ("Cancellation", "Refund", "refund", "card ending", "no longer", "order ", "Please")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def parley(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Parley]:
    data_dir: Path = tmp_path_factory.mktemp("european") / "parley"
    settings = Settings(data_dir=data_dir, cache_dir=CACHE_DIR, llm="none", log_json=False)
    opened = await open_parley(settings)
    for language in LANGUAGES:
        # One store per language: each cancels the same demo orders.
        await opened.stores.create(f"shop-{language}")
        await import_file(opened.orders, f"shop-{language}", demo_files() / "orders.json")
    try:
        yield opened
    finally:
        await opened.close()


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_request_for_a_person_is_handed_off_in_the_shoppers_language(
    parley: Parley, language: str
) -> None:
    reply = await ask(parley, f"shop-{language}", PERSON[language], "person")
    assert reply["language"] == language
    assert reply["outcome"] == "handoff"
    assert reply["reply"] == say(language, "handoff") != say("en", "handoff")


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_request_about_orders_asks_who_the_shopper_is_in_their_language(
    parley: Parley, language: str
) -> None:
    reply = await ask(parley, f"shop-{language}", CANCEL_WITHOUT_IDENTITY[language], "who")
    assert reply["language"] == language
    assert reply["outcome"] == "needs_info"
    assert reply["reply"] == say(language, "ask_identity") != say("en", "ask_identity")


async def test_a_czech_cancellation_is_proposed_in_czech_and_ano_confirms_it(
    parley: Parley,
) -> None:
    message = CANCEL.format(order="#W1000006", email="somchai.b@example.com")
    proposal = await ask(parley, "shop-cs", message, "cancel-yes")
    assert proposal["language"] == "cs"
    assert proposal["outcome"] == "confirm"
    assert proposal["reply"].startswith(PROPOSED), proposal["reply"]
    assert "„ano“" in proposal["reply"] and "„ne“" in proposal["reply"]
    assert not [word for word in ENGLISH if word in proposal["reply"]], proposal["reply"]
    async with parley.orders.session("shop-cs") as session:
        assert (await session.order("#W1000006")).status == "pending"

    done = await ask(parley, "shop-cs", "ano", "cancel-yes")

    assert done["outcome"] == "done"
    assert [call["name"] for call in done["tool_calls"]] == ["confirm_action"]
    assert done["reply"].startswith("Hotovo. Zrušení objednávky #W1000006"), done["reply"]
    async with parley.orders.session("shop-cs") as session:
        assert (await session.order("#W1000006")).status == "cancelled"


async def test_a_czech_ne_keeps_the_order(parley: Parley) -> None:
    message = CANCEL.format(order="#W1000002", email="anna.schmidt@example.com")
    proposal = await ask(parley, "shop-cs", message, "cancel-no")
    assert proposal["outcome"] == "confirm"

    kept = await ask(parley, "shop-cs", "ne", "cancel-no")

    assert kept["outcome"] == "answered" and kept["tool_calls"] == []
    assert kept["reply"] == say("cs", "kept")
    async with parley.orders.session("shop-cs") as session:
        assert (await session.order("#W1000002")).status == "pending"
