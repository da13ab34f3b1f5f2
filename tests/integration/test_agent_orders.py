"""Shopper conversations about orders through the whole pipeline, with no chat model (`none`):
verification, order status, someone else's order, a cancellation with confirmation, a refused
return, a chargeback threat, a request for a person. Real SQLite, Chroma and embedding models."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.demo.seed import demo_files
from bot.domain import OwnerState
from bot.settings import Settings
from bot.shopper import ask
from bot.tools.tau2_files import import_file
from bot.wiring import Parley, open_parley
from tests.conftest import CACHE_DIR

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]
STORE = "nordlicht"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def parley(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Parley]:
    data_dir: Path = tmp_path_factory.mktemp("agent") / "parley"
    settings = Settings(data_dir=data_dir, cache_dir=CACHE_DIR, llm="none", log_json=False)
    opened = await open_parley(settings)
    await opened.stores.create(STORE)
    await import_file(opened.orders, STORE, demo_files() / "orders.json")
    try:
        yield opened
    finally:
        await opened.close()


async def talk(parley: Parley, session: str, *messages: str) -> list[dict[str, Any]]:
    return [await ask(parley, STORE, message, session) for message in messages]


async def test_order_status_needs_verification_first(parley: Parley) -> None:
    first, second = await talk(
        parley, "status-de", "Wo ist meine Bestellung #W1000001?", "anna.schmidt@example.com"
    )
    assert first["outcome"] == "needs_info" and first["language"] == "de"
    assert first["intent"] == "order_status"
    assert "E-Mail" in first["reply"]
    assert first["tool_calls"] == []

    assert second["outcome"] == "answered"
    assert second["language"] == "de"
    assert "#W1000001" in second["reply"] and "zugestellt" in second["reply"]
    assert "DE4410000001" in second["reply"]
    names = [(call["name"], call["status"]) for call in second["tool_calls"]]
    assert names == [("find_user_id_by_email", "ok"), ("get_order_details", "ok")]


async def test_someone_elses_order_is_not_shown(parley: Parley) -> None:
    _, reply = await talk(
        parley,
        "nosy",
        "What is the status of order #W1000003? My email is anna.schmidt@example.com",
        "And order #W1000003?",
    )
    assert reply["outcome"] == "declined"
    assert "Lyon" not in reply["reply"] and "Garden Lantern" not in reply["reply"]
    assert reply["tool_calls"][-1]["status"].startswith("error")


async def test_cancellation_runs_only_after_the_shoppers_yes(parley: Parley) -> None:
    (proposal,) = await talk(
        parley,
        "cancel-es",
        "Quiero cancelar el pedido #W1000002, mi correo es anna.schmidt@example.com",
    )
    assert proposal["outcome"] == "confirm" and proposal["language"] == "es"
    assert "#W1000002" in proposal["reply"]
    async with parley.orders.session(STORE) as session:
        assert (await session.order("#W1000002")).status == "pending"

    (done,) = await talk(parley, "cancel-es", "sí")

    assert done["outcome"] == "done"
    assert [call["name"] for call in done["tool_calls"]] == ["confirm_action"]
    async with parley.orders.session(STORE) as session:
        assert (await session.order("#W1000002")).status == "cancelled"


async def test_a_no_changes_nothing(parley: Parley) -> None:
    proposal, kept = await talk(
        parley,
        "cancel-no",
        "Please cancel order #W1000006, I am somchai.b@example.com",
        "no",
    )
    assert proposal["outcome"] == "confirm"
    assert kept["outcome"] == "answered" and kept["tool_calls"] == []
    async with parley.orders.session(STORE) as session:
        assert (await session.order("#W1000006")).status == "pending"


async def test_a_return_the_policy_refuses_is_declined_with_the_reason(parley: Parley) -> None:
    (reply,) = await talk(
        parley,
        "return-pending",
        "I want to return order #W1000003, my email is lucas.martin@example.com",
    )
    assert reply["intent"] == "return"
    assert reply["outcome"] == "declined"
    assert "delivered" in reply["reply"].lower()


async def test_a_chargeback_threat_opens_a_case_and_goes_to_a_person(parley: Parley) -> None:
    (reply,) = await talk(
        parley,
        "chargeback",
        "I never received order #W1000004 and I will file a chargeback with my bank! "
        "lucas.martin@example.com",
    )
    assert reply["intent"] == "dispute"
    assert reply["outcome"] == "handoff"
    assert reply["handoff"] == {"state": "queued", "reason": "dispute"}
    assert any(
        call["name"] == "open_dispute" and call["status"] == "ok" for call in reply["tool_calls"]
    )


async def test_a_request_for_a_person_hands_off_and_the_bot_then_stays_quiet(
    parley: Parley,
) -> None:
    first, second = await talk(parley, "human-th", "ขอคุยกับเจ้าหน้าที่หน่อยค่ะ", "สถานะคำสั่งซื้อของฉันคืออะไร")
    assert first["language"] == "th"
    assert first["outcome"] == "handoff"
    assert first["handoff"] == {"state": "queued", "reason": "shopper_asked"}
    assert second["outcome"] == "handoff" and second["tool_calls"] == []
    conversation = await parley.conversations.named(STORE, "human-th")
    assert conversation.state is OwnerState.QUEUED


async def test_the_same_session_name_in_another_store_is_another_conversation(
    parley: Parley,
) -> None:
    await parley.stores.create("other-shop")
    (reply,) = [await ask(parley, "other-shop", "Where is my order #W1000001?", "status-de")]
    assert reply["outcome"] == "needs_info"


async def test_a_refund_above_the_stores_limit_goes_to_a_person(parley: Parley) -> None:
    await parley.stores.create("strict-shop")
    await import_file(parley.orders, "strict-shop", demo_files() / "orders.json")
    await parley.stores.set_policy("strict-shop", {"auto_approve_refund_limit": "50.00"})
    reply = await ask(
        parley,
        "strict-shop",
        "I want to return my whole order #W1000001, email anna.schmidt@example.com",
        "big-return",
    )
    assert reply["intent"] == "return"
    assert reply["outcome"] == "handoff"
    assert reply["handoff"] == {"state": "queued", "reason": "above_limit"}


async def test_a_cancellation_is_proposed_and_done_entirely_in_the_shoppers_language(
    parley: Parley,
) -> None:
    await parley.stores.create("de-shop")
    await import_file(parley.orders, "de-shop", demo_files() / "orders.json")
    proposal = await ask(
        parley,
        "de-shop",
        "Bitte stornieren Sie meine Bestellung #W1000006, ich bin somchai.b@example.com",
        "cancel-de",
    )
    assert proposal["outcome"] == "confirm" and proposal["language"] == "de"
    text = proposal["reply"]
    assert "Stornierung der Bestellung #W1000006 (nicht mehr benötigt)" in text
    assert "Erstattung" in text
    assert not [word for word in ("Cancel", "Refund", "card ending", "no longer") if word in text]

    done = await ask(parley, "de-shop", "ja", "cancel-de")
    assert done["outcome"] == "done"
    assert done["reply"].startswith("Erledigt. Stornierung der Bestellung #W1000006")
    async with parley.orders.session("de-shop") as session:
        assert (await session.order("#W1000006")).status == "cancelled"


async def test_a_refusal_is_explained_in_the_shoppers_language(parley: Parley) -> None:
    (reply,) = await talk(
        parley,
        "return-pending-de",
        "Ich möchte die Bestellung #W1000003 zurückgeben, meine E-Mail: lucas.martin@example.com",
    )
    assert reply["outcome"] == "declined"
    assert "Nur zugestellte Bestellungen können zurückgegeben werden" in reply["reply"]
    assert "#W1000003" in reply["reply"]
    assert "Non-delivered" not in reply["reply"]
    # The tool's English message stays for logs and agents.
    assert "Non-delivered order cannot be returned" in reply["tool_calls"][-1]["status"]
