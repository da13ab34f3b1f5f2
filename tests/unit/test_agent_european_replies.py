"""Shoppers writing Czech, Danish, Greek, Finnish, Hungarian or Romanian get a proposed
cancellation in their language, with the yes and no words of their language, and those words
decide it: the turn pipeline on in-memory parts, routed by keyword (routing is not what is
tested here), with no chat model."""

from __future__ import annotations

import re

import pytest

from bot.agent.intents import Intent
from bot.agent.pipeline import TurnPipeline
from bot.agent.replies import say
from bot.agent.turn import Outcome
from bot.domain.answering import AnswerFloors
from bot.live.notices import notice
from tests.unit.memory_shop import (
    KeywordRouter,
    MemoryConversations,
    MemoryOrders,
    MemoryPolicies,
    WordIndex,
)

STORE = "europa"
# A cancellation of #W1000002 as a shopper writes it, the keyword that routes it, the words the
# proposal must hold (the action and reason in the language, the amount with a decimal comma)
# and the yes and no the proposal asks for.
SHOPPERS = {
    "cs": ("Prosím zrušit objednávku #W1000002, už ji nepotřebuji.", "zrušit",
           "Zrušení objednávky #W1000002 (už není potřeba)", "ano", "ne"),
    "da": ("Jeg vil gerne annullere ordre #W1000002, jeg har ikke brug for den længere.",
           "annullere", "Annullering af ordre #W1000002 (ikke længere nødvendig)", "ja", "nej"),
    "el": ("Θέλω να ακυρώσω την παραγγελία #W1000002, δεν τη χρειάζομαι πια.", "ακυρώσ",
           "Ακύρωση της παραγγελίας #W1000002 (δεν χρειάζεται πλέον)", "ναι", "όχι"),
    "fi": ("Haluan perua tilauksen #W1000002, en tarvitse sitä enää.", "perua",
           "Tilauksen #W1000002 peruutus (ei enää tarpeen)", "kyllä", "ei"),
    "hu": ("Szeretném lemondani a #W1000002 rendelést, már nincs rá szükségem.", "lemond",
           "A #W1000002 számú rendelés lemondása (már nincs rá szükség)", "igen", "nem"),
    "ro": ("Vreau să anulez comanda #W1000002, nu mai am nevoie de ea.", "anulez",
           "Anularea comenzii #W1000002 (nu mai este necesară)", "da", "nu"),
}  # fmt: skip


def _pipeline(conversations: MemoryConversations, orders: MemoryOrders) -> TurnPipeline:
    return TurnPipeline(
        conversations=conversations,
        stores=MemoryPolicies({STORE: {"languages": ["en", "de"]}}),
        retriever=WordIndex([]),
        router=KeywordRouter({shopper[1]: Intent.CANCEL for shopper in SHOPPERS.values()}),
        tools=orders,
        llm=None,
        llm_timeout_s=5.0,
        floors=AnswerFloors(confidence=0.6, other_language=0.9, same_language=0.9),
    )


async def _proposed(language: str) -> tuple[TurnPipeline, MemoryOrders]:
    conversations = MemoryConversations()
    orders = MemoryOrders(conversations)
    pipeline = _pipeline(conversations, orders)
    conversations.start(STORE, "t1", customer_id="anna_schmidt_1001")
    message, _, action, yes, no = SHOPPERS[language]
    proposed = await pipeline.handle(STORE, "t1", message)
    assert proposed.outcome is Outcome.CONFIRM, proposed.reply
    assert proposed.intent == "cancel"
    # "Please confirm: <action> Reply "yes" … "no" …", every word of it in the language.
    opening, closing = say(language, "confirm", summary="\0").split("\0")
    assert proposed.reply.startswith(opening + action), proposed.reply
    assert proposed.reply.endswith(closing) and yes in closing and no in closing
    assert re.search(r"\d,\d\d", proposed.reply), "the refund is written 12,50"
    assert orders.catalog.orders["#W1000002"].status == "pending"
    return pipeline, orders


@pytest.mark.parametrize("language", sorted(SHOPPERS))
async def test_the_shoppers_yes_carries_out_the_cancellation_shown_in_their_language(
    language: str,
) -> None:
    pipeline, orders = await _proposed(language)
    done = await pipeline.handle(STORE, "t1", SHOPPERS[language][3])
    assert done.outcome is Outcome.DONE, done.reply
    assert done.reply.startswith(say(language, "done", summary=SHOPPERS[language][2]))
    assert orders.catalog.orders["#W1000002"].status == "cancelled"


@pytest.mark.parametrize("language", sorted(SHOPPERS))
async def test_the_shoppers_no_keeps_the_order(language: str) -> None:
    pipeline, orders = await _proposed(language)
    kept = await pipeline.handle(STORE, "t1", SHOPPERS[language][4])
    assert kept.reply == say(language, "kept")
    assert orders.catalog.orders["#W1000002"].status == "pending"
    assert "confirm_action" not in orders.tool_names()


@pytest.mark.parametrize("language", sorted(SHOPPERS))
async def test_a_tap_on_the_cards_buttons_is_read_as_that_yes_and_no(language: str) -> None:
    # The widget's Confirm/Cancel write the notices' yes/no into the thread in the language.
    assert (notice(language, "yes"), notice(language, "no")) == SHOPPERS[language][3:]
    pipeline, orders = await _proposed(language)
    done = await pipeline.handle(STORE, "t1", notice(language, "yes"))
    assert done.outcome is Outcome.DONE
    assert orders.catalog.orders["#W1000002"].status == "cancelled"


@pytest.mark.parametrize(
    ("language", "message", "reason"),
    [
        ("cs", "Prosím zrušit objednávku #W1000002, objednal jsem ji omylem.", "objednáno omylem"),
        ("da", "Jeg vil gerne annullere ordre #W1000002, den er bestilt ved en fejl.",
         "bestilt ved en fejl"),
        ("el", "Θέλω να ακυρώσω την παραγγελία #W1000002, την έκανα κατά λάθος.",
         "παραγγέλθηκε κατά λάθος"),
        ("fi", "Haluan perua tilauksen #W1000002, tilasin sen vahingossa.", "tilattu vahingossa"),
        ("hu", "Szeretném lemondani a #W1000002 rendelést, tévedésből rendeltem.",
         "tévedésből rendelve"),
        ("ro", "Vreau să anulez comanda #W1000002, am comandat-o din greșeală.",
         "comandată din greșeală"),
    ],
)  # fmt: skip
async def test_an_order_placed_by_mistake_is_cancelled_for_that_reason(
    language: str, message: str, reason: str
) -> None:
    conversations = MemoryConversations()
    orders = MemoryOrders(conversations)
    pipeline = _pipeline(conversations, orders)
    conversations.start(STORE, "t1", customer_id="anna_schmidt_1001")
    proposed = await pipeline.handle(STORE, "t1", message)
    assert proposed.outcome is Outcome.CONFIRM
    assert "#W1000002" in proposed.reply and f"({reason})" in proposed.reply, proposed.reply
    await pipeline.handle(STORE, "t1", SHOPPERS[language][3])
    assert orders.catalog.orders["#W1000002"].cancel_reason == "ordered by mistake"
