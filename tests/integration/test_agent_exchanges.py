"""Exchanges and item changes through the whole pipeline with a scripted chat model at the model
boundary: code verifies the shopper, reads the order and its products, the model fills the write
tool's item ids (forced tool choice), code checks them, and nothing changes before the shopper's
yes. Real SQLite, Chroma and embedding models; a fresh store per test, since tests write."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.demo.seed import demo_files
from bot.settings import Settings
from bot.shopper import ask
from bot.tools.tau2_files import import_file
from bot.wiring import Parley, open_parley
from tests.conftest import CACHE_DIR
from tests.fakes import FakeChatModel, tool_call

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]
_stores = itertools.count()

EXCHANGE = "exchange_delivered_order_items"
MODIFY = "modify_pending_order_items"
OAK_LAMP, BLACK_LAMP, TUNABLE_LAMP = "8100000011", "8100000012", "8100000013"
BOTTLE = "8100000021"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def parley(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Parley]:
    data_dir: Path = tmp_path_factory.mktemp("agent-exchanges") / "parley"
    settings = Settings(data_dir=data_dir, cache_dir=CACHE_DIR, llm="none", log_json=False)
    opened = await open_parley(settings)
    try:
        yield opened
    finally:
        await opened.close()


@pytest_asyncio.fixture(loop_scope="module")
async def store(parley: Parley) -> str:
    """A store of its own with the demo orders (exchanges change them)."""
    name = f"swap-{next(_stores)}"
    await parley.stores.create(name)
    await import_file(parley.orders, name, demo_files() / "orders.json")
    return name


async def talk(parley: Parley, store: str, session: str, *messages: str) -> list[dict[str, Any]]:
    return [await ask(parley, store, message, session) for message in messages]


def names(reply: dict[str, Any]) -> list[str]:
    return [call["name"] for call in reply["tool_calls"]]


async def order(parley: Parley, store: str, order_id: str) -> Any:
    async with parley.orders.session(store) as session:
        return await session.order(order_id)


async def test_an_exchange_is_proposed_from_the_models_pick_and_runs_only_after_yes(
    parley: Parley, store: str, scripted: Callable[..., FakeChatModel]
) -> None:
    model = scripted(tool_call(EXCHANGE, item_ids=[OAK_LAMP], new_item_ids=[BLACK_LAMP]))
    (proposal,) = await talk(
        parley,
        store,
        "swap-en",
        "I'd like to exchange the desk lamp from order #W1000007 for the black one. "
        "maria.garcia@example.com",
    )
    assert proposal["intent"] == "exchange" and proposal["outcome"] == "confirm"
    assert names(proposal) == [
        "find_user_id_by_email",
        "get_order_details",
        "get_product_details",
        EXCHANGE,
    ]
    assert proposal["tool_calls"][-1]["arguments"] == {
        "order_id": "#W1000007",
        "item_ids": [OAK_LAMP],
        "new_item_ids": [BLACK_LAMP],
        "payment_method_id": "paypal_1005",
    }
    assert "#W1000007" in proposal["reply"]
    (call,) = model.calls
    assert call.tool_choice == EXCHANGE and call.tool_names == [EXCHANGE]
    assert BLACK_LAMP in call.prompt and "for the black one" in call.prompt
    assert TUNABLE_LAMP not in call.prompt  # unavailable variants are not offered
    assert (await order(parley, store, "#W1000007")).status == "delivered"

    (done,) = await talk(parley, store, "swap-en", "yes")
    assert done["outcome"] == "done"
    assert names(done) == ["confirm_action"]
    changed = await order(parley, store, "#W1000007")
    assert changed.status == "exchange requested"
    assert changed.exchange_new_items == [BLACK_LAMP]
    assert model.remaining == 0


async def test_a_wrong_item_goes_back_to_the_model_and_is_never_proposed(
    parley: Parley, store: str, scripted: Callable[..., FakeChatModel]
) -> None:
    model = scripted(
        tool_call(EXCHANGE, item_ids=[BOTTLE], new_item_ids=[BLACK_LAMP]),
        tool_call(EXCHANGE, item_ids=[OAK_LAMP], new_item_ids=[BLACK_LAMP]),
    )
    (proposal,) = await talk(
        parley,
        store,
        "swap-de",
        "Ich möchte die Schreibtischlampe aus Bestellung #W1000007 gegen die schwarze "
        "umtauschen. maria.garcia@example.com",
    )
    assert proposal["language"] == "de"
    assert proposal["outcome"] == "confirm"
    assert names(proposal).count(EXCHANGE) == 1
    assert proposal["tool_calls"][-1]["arguments"]["item_ids"] == [OAK_LAMP]
    _, second = model.calls
    assert f"item {BOTTLE} is not in order #W1000007" in second.prompt
    assert (await order(parley, store, "#W1000007")).status == "delivered"


async def test_a_model_that_keeps_picking_wrong_asks_the_shopper_then_hands_off(
    parley: Parley, store: str, scripted: Callable[..., FakeChatModel]
) -> None:
    wrong = tool_call(EXCHANGE, item_ids=[OAK_LAMP], new_item_ids=[TUNABLE_LAMP])
    model = scripted(wrong, wrong, wrong, wrong)
    asked, handed = await talk(
        parley,
        store,
        "swap-wrong",
        "Can I exchange the lamp in order #W1000007 for the NL-4420? maria.garcia@example.com",
        "the tunable one please",
    )
    assert asked["outcome"] == "needs_info"
    assert EXCHANGE not in names(asked)
    assert "black" in asked["reply"]  # the variants the shopper can choose from
    assert handed["outcome"] == "handoff"
    assert handed["handoff"] == {"state": "queued", "reason": "unsupported_request"}
    assert EXCHANGE not in names(handed) and "confirm_action" not in names(handed)
    # The second turn reads the first turn's words again.
    assert "NL-4420" in model.calls[2].prompt and "tunable one" in model.calls[2].prompt
    assert (await order(parley, store, "#W1000007")).status == "delivered"


async def test_a_shopper_who_has_not_chosen_is_asked_and_their_answer_completes_it(
    parley: Parley, store: str, scripted: Callable[..., FakeChatModel]
) -> None:
    model = scripted(
        tool_call(EXCHANGE, item_ids=[OAK_LAMP], new_item_ids=[]),
        tool_call(EXCHANGE, item_ids=[OAK_LAMP], new_item_ids=[BLACK_LAMP]),
    )
    asked, proposal = await talk(
        parley,
        store,
        "swap-es",
        "¿Puedo cambiar la lámpara del pedido #W1000007 por otra? maria.garcia@example.com",
        "La negra, por favor",
    )
    assert asked["language"] == "es" and asked["outcome"] == "needs_info"
    # "cambiar" reads as changing an order too: a delivered order is exchanged either way.
    assert asked["intent"] in ("exchange", "modify_order")
    assert model.calls[0].tool_choice == EXCHANGE
    assert proposal["outcome"] == "confirm"
    assert proposal["tool_calls"][-1]["arguments"]["new_item_ids"] == [BLACK_LAMP]
    assert "por otra" in model.calls[1].prompt and "La negra" in model.calls[1].prompt
    assert (await order(parley, store, "#W1000007")).status == "delivered"


@pytest.mark.parametrize("failure", ["error", "timeout"])
async def test_a_failing_model_asks_the_shopper_and_writes_nothing(
    parley: Parley, store: str, scripted: Callable[..., FakeChatModel], failure: str
) -> None:
    if failure == "error":
        scripted(ConnectionError("provider unreachable"))
    else:
        scripted(
            tool_call(EXCHANGE, item_ids=[OAK_LAMP], new_item_ids=[BLACK_LAMP]),
            delay_s=2.0,
            timeout_s=0.2,
        )
    (asked,) = await talk(
        parley,
        store,
        f"swap-{failure}",
        "I want to exchange the lamp in order #W1000007 for the black one. "
        "maria.garcia@example.com",
    )
    assert asked["outcome"] == "needs_info"
    assert EXCHANGE not in names(asked)
    assert (await order(parley, store, "#W1000007")).status == "delivered"


async def test_items_of_a_pending_order_are_changed_with_the_modify_tool(
    parley: Parley, store: str, scripted: Callable[..., FakeChatModel]
) -> None:
    model = scripted(tool_call(MODIFY, item_ids=["8100000031"], new_item_ids=["8100000032"]))
    proposal, done = await talk(
        parley,
        store,
        "modify-en",
        "Please change the kettle in my order #W1000002 to the glass version. "
        "anna.schmidt@example.com",
        "yes",
    )
    assert proposal["outcome"] == "confirm", proposal
    assert names(proposal)[-1] == MODIFY
    assert model.calls[0].tool_choice == MODIFY
    assert done["outcome"] == "done"
    changed = await order(parley, store, "#W1000002")
    assert changed.status == "pending (item modified)"
    assert [item.item_id for item in changed.items] == ["8100000032"]


async def test_an_order_that_can_no_longer_change_is_declined_without_the_model(
    parley: Parley, store: str, scripted: Callable[..., FakeChatModel]
) -> None:
    model = scripted()  # any call fails the test
    (reply,) = await talk(
        parley,
        store,
        "swap-processed",
        "I want to exchange the garden lantern in order #W1000003 for the 60cm one. "
        "lucas.martin@example.com",
    )
    assert reply["outcome"] == "declined"
    assert names(reply) == ["find_user_id_by_email", "get_order_details"]
    assert model.calls == []


async def test_a_proposed_exchange_the_shopper_revises_is_proposed_again(
    parley: Parley, store: str, scripted: Callable[..., FakeChatModel]
) -> None:
    """Neither yes nor no to a proposal ("rather in black") revises it; nothing runs until yes."""
    model = scripted(
        tool_call(EXCHANGE, item_ids=[OAK_LAMP], new_item_ids=[BLACK_LAMP]),
        tool_call(EXCHANGE, item_ids=[OAK_LAMP], new_item_ids=[BLACK_LAMP]),
    )
    first, revised = await talk(
        parley,
        store,
        "swap-revise",
        "Kann ich die Schreibtischlampe aus #W1000007 umtauschen? maria.garcia@example.com",
        "Lieber in Schwarz",
    )
    assert first["outcome"] == "confirm"
    assert revised["intent"] == "exchange" and revised["outcome"] == "confirm"
    assert EXCHANGE in names(revised) and "confirm_action" not in names(revised)
    second_call = model.calls[1]
    assert "Lieber in Schwarz" in second_call.prompt
    assert "Schreibtischlampe" in second_call.prompt  # the earlier request comes along
    assert (await order(parley, store, "#W1000007")).status == "delivered"

    (done,) = await talk(parley, store, "swap-revise", "ja")
    assert done["outcome"] == "done" and names(done) == ["confirm_action"]
    assert (await order(parley, store, "#W1000007")).exchange_new_items == [BLACK_LAMP]


async def test_another_order_after_a_proposed_exchange_is_not_taken_as_a_revision(
    parley: Parley, store: str, scripted: Callable[..., FakeChatModel]
) -> None:
    model = scripted(tool_call(EXCHANGE, item_ids=[OAK_LAMP], new_item_ids=[BLACK_LAMP]))
    proposal, status = await talk(
        parley,
        store,
        "swap-moved-on",
        "I'd like to exchange the desk lamp from order #W1000007 for the black one. "
        "maria.garcia@example.com",
        "Where is my other order #W1000003",
    )
    assert proposal["outcome"] == "confirm"
    assert status["intent"] != "exchange" and EXCHANGE not in names(status)
    assert len(model.calls) == 1
