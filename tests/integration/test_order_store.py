"""The order store and tools on SQLite and PostgreSQL: exact import/export, identity and
ownership, confirmations, typed errors, races, transactions, audit, disputes, handoffs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.domain import NotVerified, OwnerState, Role
from bot.domain.credentials import identity_signature
from bot.domain.errors import Conflict, NotFound, ParleyError, Unauthorized
from bot.domain.orders import (
    CaseState,
    ConcurrentChange,
    InsufficientBalance,
    InvalidRequest,
    ItemNotFound,
    NotYourOrder,
    OrderNotFound,
    PaymentMethodNotFound,
    UserNotFound,
    WrongStatus,
    catalog_from_tau2,
    catalog_to_tau2,
)
from bot.domain.policy import (
    AboveRefundLimit,
    DisputeRouting,
    OutsideReturnWindow,
    StorePolicy,
    StrongerVerificationNeeded,
    Verification,
    VerificationNotAllowed,
    tau2_policy,
)
from bot.storage import Database, StoreRepository
from bot.storage.order_actions import ActionExpired, ActionNotFound, ActionUsed, AlreadyVerified
from bot.storage.orders import SqlOrderSession, SqlOrderStore
from bot.storage.tables import utcnow
from bot.tools import ToolContext, ToolServices, call_tool, confirm
from bot.tools.schemas import ConfirmArgs, ReturnArgs
from bot.tools.tau2_files import export_text
from bot.tools.writes import perform
from bot.wiring import tool_services

pytestmark = pytest.mark.integration

# Customers and orders of the τ² retail db.json used below.
ETHAN = "ethan_lopez_6291"  # pending #W6779827 paid 4079.45 by gift_card_7219486 (49.00 left)
ETHAN_PENDING = "#W6779827"
EMMA = "emma_santos_9753"  # delivered #W3113816 paid by credit_card_5869505
EMMA_DELIVERED = "#W3113816"


CUSTOMERS = (ETHAN, EMMA, "aarav_nguyen_7344")


@pytest.fixture
def db_document(eval_dir: Path) -> dict[str, Any]:
    """The whole catalogue, but only the customers these tests use (a faster import)."""
    data: dict[str, Any] = json.loads((eval_dir / "tau2_retail" / "db.json").read_text())
    users = {key: data["users"][key] for key in CUSTOMERS}
    orders = {key: order for key, order in data["orders"].items() if order["user_id"] in CUSTOMERS}
    return {"products": data["products"], "users": users, "orders": orders}


@pytest.fixture
async def services(database: Database, db_document: dict[str, Any]) -> AsyncIterator[ToolServices]:
    stores = StoreRepository(database)
    await stores.create("acme")
    await stores.create("globex")
    orders = SqlOrderStore(database)
    await orders.import_catalog("acme", catalog_from_tau2(db_document))
    yield tool_services(database, orders)


def shopper(
    services: ToolServices,
    customer: str | None = None,
    *,
    store: str = "acme",
    policy: StorePolicy | None = None,
    conversation: str | None = None,
) -> ToolContext:
    return ToolContext(
        services=services,
        store_id=store,
        policy=policy or StorePolicy(),
        customer_id=customer,
        conversation_id=conversation,
        # A customer given here signed in on the storefront: strong enough to write.
        verified_by={Verification.SIGNED.value} if customer else set(),
    )


async def order(services: ToolServices, order_id: str, store: str = "acme") -> dict[str, Any]:
    async with services.orders.session(store) as session:
        return (await session.order(order_id)).model_dump(mode="json")


async def balance(services: ToolServices, user_id: str, method_id: str) -> Decimal:
    async with services.orders.session("acme") as session:
        method = (await session.customer(user_id)).payment_methods[method_id]
    return Decimal(getattr(method, "balance", 0))


async def test_import_then_export_gives_the_same_document(
    services: ToolServices, eval_dir: Path
) -> None:
    original = (eval_dir / "tau2_retail" / "db.json").read_text()
    await services.orders.import_catalog("acme", catalog_from_tau2(json.loads(original)))
    text = await export_text(services.orders, "acme")
    assert json.loads(text) == json.loads(original)
    assert text == original  # byte for byte, floats such as 47.84 included


async def test_one_store_cannot_see_another_stores_orders(services: ToolServices) -> None:
    other = shopper(services, store="globex")
    with pytest.raises(UserNotFound):
        await call_tool(other, "find_user_id_by_email", {"email": "ethan.lopez8943@example.com"})
    other.customer_id = ETHAN  # even a forged identity finds nothing in another store
    with pytest.raises(OrderNotFound):
        await call_tool(other, "get_order_details", {"order_id": ETHAN_PENDING})
    with pytest.raises(OrderNotFound):
        await call_tool(
            other, "cancel_pending_order", {"order_id": ETHAN_PENDING, "reason": "no longer needed"}
        )
    assert json.loads(await export_text(services.orders, "globex")) == {
        "products": {},
        "users": {},
        "orders": {},
    }
    assert (await order(services, ETHAN_PENDING))["status"] == "pending"


async def test_order_data_needs_a_verified_identity(services: ToolServices) -> None:
    anonymous = shopper(services)
    with pytest.raises(NotVerified):
        await call_tool(anonymous, "get_order_details", {"order_id": ETHAN_PENDING})
    with pytest.raises(NotVerified):
        await call_tool(anonymous, "get_user_details", {"user_id": ETHAN})
    # The catalogue is public.
    product = await call_tool(anonymous, "get_product_details", {"product_id": "8310926033"})
    assert product["name"] == "Water Bottle"

    user_id = await call_tool(
        anonymous,
        "find_user_id_by_name_zip",
        {"first_name": "ethan", "last_name": "LOPEZ", "zip": "43275"},
    )
    assert user_id == ETHAN == anonymous.customer_id
    details = await call_tool(anonymous, "get_order_details", {"order_id": ETHAN_PENDING})
    assert details["payment_history"][0]["amount"] == 4079.45
    assert details["cancel_reason"] is None  # all optional τ² fields are shown


async def test_a_shopper_can_neither_see_nor_change_another_customers_orders(
    services: ToolServices,
) -> None:
    emma = shopper(services, EMMA)
    with pytest.raises(NotYourOrder):
        await call_tool(emma, "get_order_details", {"order_id": ETHAN_PENDING})
    with pytest.raises(NotYourOrder):
        await call_tool(emma, "get_user_details", {"user_id": ETHAN})
    with pytest.raises(NotYourOrder):
        await call_tool(
            emma, "cancel_pending_order", {"order_id": ETHAN_PENDING, "reason": "no longer needed"}
        )
    with pytest.raises(NotYourOrder):
        await call_tool(
            emma,
            "modify_user_address",
            {
                "user_id": ETHAN,
                "address1": "1 Evil St",
                "address2": "",
                "city": "X",
                "state": "Y",
                "country": "USA",
                "zip": "00000",
            },
        )
    # A proposal for Ethan cannot be confirmed by Emma either.
    ethan = shopper(services, ETHAN, policy=tau2_policy())
    pending = await call_tool(
        ethan, "cancel_pending_order", {"order_id": ETHAN_PENDING, "reason": "no longer needed"}
    )
    with pytest.raises(ActionNotFound):
        await confirm(emma, ConfirmArgs(action_id=pending["action_id"]))
    assert (await order(services, ETHAN_PENDING))["status"] == "pending"


async def test_verification_binds_the_conversation_to_one_customer(
    services: ToolServices,
) -> None:
    thread = await services.conversations.start("acme")
    first = await services.context("acme", conversation_id=thread.id)
    await call_tool(first, "find_user_id_by_email", {"email": "Ethan.Lopez8943@example.com"})

    again = await services.context("acme", conversation_id=thread.id)
    assert again.customer_id == ETHAN
    with pytest.raises(AlreadyVerified):
        await call_tool(again, "find_user_id_by_email", {"email": "emma.santos7683@example.com"})
    assert (await services.conversations.get("acme", thread.id)).customer_id == ETHAN


async def test_a_write_waits_for_confirmation_runs_once_and_is_audited(
    services: ToolServices,
) -> None:
    ethan = shopper(services, ETHAN, policy=tau2_policy())
    before = await balance(services, ETHAN, "gift_card_7219486")
    pending = await call_tool(
        ethan, "cancel_pending_order", {"order_id": ETHAN_PENDING, "reason": "ordered by mistake"}
    )
    assert pending["needs_confirmation"] is True
    assert "Cancel order #W6779827" in pending["summary"]
    assert "4079.45 to gift card gift_card_7219486" in pending["summary"]
    assert (await order(services, ETHAN_PENDING))["status"] == "pending"

    result = await confirm(ethan, ConfirmArgs(action_id=pending["action_id"]))
    assert result["status"] == "cancelled" and result["cancel_reason"] == "ordered by mistake"
    assert await balance(services, ETHAN, "gift_card_7219486") == before + Decimal("4079.45")
    with pytest.raises(ActionUsed):
        await confirm(ethan, ConfirmArgs(action_id=pending["action_id"]))

    entries = await services.audit.entries("acme", target=f"order:{ETHAN_PENDING}")
    assert [(e.actor, e.action) for e in entries] == [(f"shopper:{ETHAN}", "cancel_pending_order")]
    assert entries[0].before is not None and entries[0].after is not None
    assert entries[0].before["order"]["status"] == "pending"
    assert entries[0].after["order"]["status"] == "cancelled"


async def test_an_email_alone_reads_but_the_write_tools_refuse_its_yes(
    services: ToolServices,
) -> None:
    # Issue 21: the tools themselves refuse a write from someone who only knows the email,
    # and show them no card number, whatever flow or model calls them.
    thread = await services.conversations.start("acme")
    emma = shopper(services, policy=StorePolicy(return_window_days=None), conversation=thread.id)
    await call_tool(emma, "find_user_id_by_email", {"email": "emma.santos7683@example.com"})
    assert emma.verified_by == {Verification.EMAIL.value} and not emma.may_write
    account = await call_tool(emma, "get_user_details", {"user_id": EMMA})
    assert "6380" not in json.dumps(account) and "mastercard" not in json.dumps(account)
    assert (await order(services, EMMA_DELIVERED))["status"] == "delivered"  # reads work
    arguments = {
        "order_id": EMMA_DELIVERED,
        "item_ids": ["2206116040"],
        "payment_method_id": "credit_card_5869505",
    }
    pending = await call_tool(emma, "return_delivered_order_items", arguments)
    shown = json.dumps([pending["summary"], pending["details"]])
    assert "6380" not in shown and "mastercard" not in shown.lower()
    with pytest.raises(StrongerVerificationNeeded):
        await confirm(emma, ConfirmArgs(action_id=pending["action_id"]))
    with pytest.raises(StrongerVerificationNeeded):
        await perform(emma, "return_delivered_order_items", ReturnArgs.model_validate(arguments))
    assert (await order(services, EMMA_DELIVERED))["status"] == "delivered"

    emma.prove(Verification.CODE)  # the one-time code typed back (checked by the flow)
    account = await call_tool(emma, "get_user_details", {"user_id": EMMA})
    assert "6380" in json.dumps(account)
    # The refused yes did not use the action up.
    result = await confirm(emma, ConfirmArgs(action_id=pending["action_id"]))
    assert result["status"] == "return requested"


async def test_a_proposal_names_items_and_variants_as_the_catalogue_does(
    services: ToolServices,
) -> None:
    emma = shopper(services, EMMA, policy=StorePolicy(return_window_days=None))
    helmet = (await order(services, EMMA_DELIVERED))["items"][0]
    product = await call_tool(emma, "get_product_details", {"product_id": helmet["product_id"]})
    other = next(
        item_id
        for item_id, variant in product["variants"].items()
        if variant["available"] and item_id != helmet["item_id"]
    )
    pending = await call_tool(
        emma,
        "exchange_delivered_order_items",
        {
            "order_id": EMMA_DELIVERED,
            "item_ids": [helmet["item_id"]],
            "new_item_ids": [other],
            "payment_method_id": "credit_card_5869505",
        },
    )
    details = pending["details"]
    assert details["items"] == [
        {"item_id": helmet["item_id"], "name": "Cycling Helmet", "options": ["L", "blue", "high"]}
    ]
    wanted = list(product["variants"][other]["options"].values())
    assert details["new_items"] == [{"item_id": other, "name": "Cycling Helmet", "options": wanted}]
    assert f"Cycling Helmet ({', '.join(wanted)})" in pending["summary"]


async def test_a_confirmation_expires(services: ToolServices) -> None:
    now = utcnow()
    ethan = shopper(services, ETHAN, policy=tau2_policy())
    ethan.clock = lambda: now
    pending = await call_tool(
        ethan, "cancel_pending_order", {"order_id": ETHAN_PENDING, "reason": "no longer needed"}
    )
    ethan.clock = lambda: now + timedelta(minutes=16)
    with pytest.raises(ActionExpired):
        await confirm(ethan, ConfirmArgs(action_id=pending["action_id"]))
    assert (await order(services, ETHAN_PENDING))["status"] == "pending"


@pytest.mark.parametrize(
    ("tool", "arguments", "error", "message"),
    [
        (
            "get_order_details",
            {"order_id": "W6779827"},
            OrderNotFound,
            "Order not found",
        ),
        (
            "modify_pending_order_items",
            {
                "order_id": ETHAN_PENDING,
                "item_ids": ["1111111111"],
                "new_item_ids": ["2222222222"],
                "payment_method_id": "gift_card_7219486",
            },
            ItemNotFound,
            "1111111111 not found",
        ),
        (
            "modify_pending_order_payment",
            {"order_id": ETHAN_PENDING, "payment_method_id": "paypal_0000000"},
            PaymentMethodNotFound,
            "Payment method not found",
        ),
        (
            "modify_pending_order_payment",
            {"order_id": ETHAN_PENDING, "payment_method_id": "gift_card_7219486"},
            InvalidRequest,
            "The new payment method should be different from the current one",
        ),
        (
            "return_delivered_order_items",
            {
                "order_id": ETHAN_PENDING,
                "item_ids": ["7896397433"],
                "payment_method_id": "gift_card_7219486",
            },
            WrongStatus,
            "Non-delivered order cannot be returned",
        ),
        (
            "cancel_pending_order",
            {"order_id": ETHAN_PENDING, "reason": "changed my mind"},
            InvalidRequest,
            "Invalid reason",
        ),
    ],
)
async def test_bad_input_gets_a_typed_error_and_changes_nothing(
    services: ToolServices,
    tool: str,
    arguments: dict[str, Any],
    error: type[ParleyError],
    message: str,
) -> None:
    before = await export_text(services.orders, "acme")
    with pytest.raises(error) as raised:
        await call_tool(shopper(services, ETHAN), tool, arguments)
    assert raised.value.message == message
    assert await export_text(services.orders, "acme") == before


async def test_a_gift_card_without_enough_balance_cannot_pay(services: ToolServices) -> None:
    # Aarav's gift card holds 22.00, his pending order costs 591.95; Ethan's card holds 49.00.
    aarav = shopper(services, "aarav_nguyen_7344")
    with pytest.raises(InsufficientBalance) as raised:
        await call_tool(
            aarav,
            "modify_pending_order_payment",
            {"order_id": "#W2443586", "payment_method_id": "gift_card_2742113"},
        )
    assert raised.value.message == "Insufficient gift card balance to pay for the order"
    ethan = shopper(services, ETHAN)
    with pytest.raises(InsufficientBalance) as raised:
        await call_tool(
            ethan,
            "modify_pending_order_items",
            {
                "order_id": ETHAN_PENDING,
                "item_ids": ["7896397433"],  # 457.81
                "new_item_ids": ["2444431651"],  # 534.84: 77.03 more than the card holds
                "payment_method_id": "gift_card_7219486",
            },
        )
    assert raised.value.message == "Insufficient gift card balance to pay for the new item"


async def test_an_item_cannot_be_refunded_twice(services: ToolServices) -> None:
    emma = shopper(services, EMMA, policy=tau2_policy())
    arguments = {
        "order_id": EMMA_DELIVERED,
        "item_ids": ["2206116040"],
        "payment_method_id": "credit_card_5869505",
    }
    pending = await call_tool(emma, "return_delivered_order_items", arguments)
    assert "Refund 209.91" in pending["summary"]
    await confirm(emma, ConfirmArgs(action_id=pending["action_id"]))
    with pytest.raises(WrongStatus) as raised:
        await call_tool(emma, "return_delivered_order_items", arguments)
    assert raised.value.message == "Non-delivered order cannot be returned"


async def test_two_writes_racing_on_one_order_apply_exactly_one(services: ToolServices) -> None:
    # Either order of the two is invalid for the second one, so exactly one may succeed.
    ethan = shopper(services, ETHAN, policy=tau2_policy())
    cancel = await call_tool(
        ethan, "cancel_pending_order", {"order_id": ETHAN_PENDING, "reason": "no longer needed"}
    )
    swap = await call_tool(
        ethan,
        "modify_pending_order_items",
        {
            "order_id": ETHAN_PENDING,
            "item_ids": ["7896397433"],
            "new_item_ids": ["8068777068"],
            "payment_method_id": "credit_card_9789590",
        },
    )
    results = await asyncio.gather(
        confirm(ethan, ConfirmArgs(action_id=cancel["action_id"])),
        confirm(ethan, ConfirmArgs(action_id=swap["action_id"])),
        return_exceptions=True,
    )
    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) == 1, results
    assert isinstance(failures[0], WrongStatus | ConcurrentChange), failures[0]
    final = await order(services, ETHAN_PENDING)
    kinds = [entry["transaction_type"] for entry in final["payment_history"]]
    assert (final["status"], kinds) in (
        ("cancelled", ["payment", "refund"]),
        ("pending (item modified)", ["payment", "payment"]),
    )


async def test_a_failed_write_leaves_nothing_half_applied(
    services: ToolServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    ethan = shopper(services, ETHAN, policy=tau2_policy())
    before = await balance(services, ETHAN, "gift_card_7219486")
    pending = await call_tool(
        ethan, "cancel_pending_order", {"order_id": ETHAN_PENDING, "reason": "no longer needed"}
    )

    async def broken_audit(*_args: Any, **_kwargs: Any) -> None:
        raise ConcurrentChange()

    # The order and the gift card are saved before the audit entry; its failure rolls both back.
    monkeypatch.setattr(SqlOrderSession, "audit", broken_audit)
    with pytest.raises(ConcurrentChange):
        await confirm(ethan, ConfirmArgs(action_id=pending["action_id"]))
    assert (await order(services, ETHAN_PENDING))["status"] == "pending"
    assert await balance(services, ETHAN, "gift_card_7219486") == before


async def test_refund_limit_and_return_window_come_from_the_policy(
    services: ToolServices,
) -> None:
    strict = StorePolicy(auto_approve_refund_limit=Decimal("100"), return_window_days=30)
    with pytest.raises(AboveRefundLimit):
        await call_tool(
            shopper(services, ETHAN, policy=strict),
            "cancel_pending_order",
            {"order_id": ETHAN_PENDING, "reason": "no longer needed"},
        )
    async with services.orders.session("acme") as session:
        delivered = await session.order(EMMA_DELIVERED)
        delivered.delivered_at = utcnow() - timedelta(days=45)
        await session.save_order(delivered)
    with pytest.raises(OutsideReturnWindow):
        await call_tool(
            shopper(services, EMMA, policy=strict),
            "return_delivered_order_items",
            {
                "order_id": EMMA_DELIVERED,
                "item_ids": ["2206116040"],
                "payment_method_id": "credit_card_5869505",
            },
        )
    lenient = StorePolicy(auto_approve_refund_limit=Decimal("500"), return_window_days=60)
    pending = await call_tool(
        shopper(services, EMMA, policy=lenient),
        "return_delivered_order_items",
        {
            "order_id": EMMA_DELIVERED,
            "item_ids": ["2206116040"],
            "payment_method_id": "credit_card_5869505",
        },
    )
    assert pending["needs_confirmation"]


async def test_open_dispute_offers_first_opens_a_case_and_routes_to_a_person(
    services: ToolServices,
) -> None:
    thread = await services.conversations.start("acme")
    await services.conversations.append(
        "acme", thread.id, Role.SHOPPER, "I never got my office chair, I'll call my bank!"
    )
    emma = shopper(services, EMMA, conversation=thread.id)
    result = await call_tool(
        emma,
        "open_dispute",
        {"order_id": EMMA_DELIVERED, "reason": "chair never arrived", "kind": "chargeback"},
    )
    assert result["state"] == "awaiting_merchant" and result["routed_to_human"]
    assert [offer["remedy"] for offer in result["offers"]] == ["refund", "return", "replacement"]
    assert "cannot promise" in result["message"]
    assert result["amount"] == "1739.51"
    case = await services.cases.get("acme", result["case_id"])
    assert case.state is CaseState.AWAITING_MERCHANT and case.kind == "chargeback"
    assert case.evidence["payments"][0]["amount"] == 1739.51
    assert case.evidence["tracking"][0]["tracking_id"]
    assert case.evidence["conversation"][0]["text"].startswith("I never got")
    conversation = await services.conversations.get("acme", thread.id)
    assert conversation.state is OwnerState.QUEUED and conversation.handoff_reason == "dispute"
    assert [e.action for e in await services.audit.entries("acme")] == ["open_case", "hand_off"]
    assert "chair never arrived" in (await services.handoffs.latest("acme", thread.id) or "")

    won = await services.cases.move("acme", case.id, CaseState.WON, actor="agent:1")
    assert won.state is CaseState.WON
    with pytest.raises(Conflict):
        await services.cases.move("acme", case.id, CaseState.AWAITING_CUSTOMER, actor="agent:1")
    with pytest.raises(NotFound):
        await services.cases.move("globex", case.id, CaseState.LOST, actor="agent:1")
    moves = await services.audit.entries("acme", target=f"case:{case.id}")
    assert [(e.action, e.after) for e in moves] == [
        (
            "open_case",
            {"kind": "chargeback", "state": "awaiting_merchant", "order_id": EMMA_DELIVERED},
        ),
        ("move_case", {"state": "won"}),
    ]


async def test_a_dispute_can_wait_for_the_shopper_when_the_policy_says_so(
    services: ToolServices,
) -> None:
    thread = await services.conversations.start("acme")
    policy = StorePolicy(dispute_routing=DisputeRouting.CHARGEBACK_ONLY)
    ethan = shopper(services, ETHAN, policy=policy, conversation=thread.id)
    result = await call_tool(
        ethan,
        "open_dispute",
        {"order_id": ETHAN_PENDING, "reason": "charged twice", "amount": "100.00"},
    )
    assert result["state"] == "awaiting_customer" and not result["routed_to_human"]
    assert [offer["tool"] for offer in result["offers"]] == ["cancel_pending_order"]
    assert (await services.conversations.get("acme", thread.id)).state is OwnerState.BOT
    with pytest.raises(InvalidRequest):
        await call_tool(
            ethan, "open_dispute", {"order_id": ETHAN_PENDING, "reason": "x", "amount": "99999"}
        )


async def test_transfer_to_human_agents_queues_the_conversation(services: ToolServices) -> None:
    thread = await services.conversations.start("acme")
    ctx = shopper(services, conversation=thread.id)
    assert await call_tool(ctx, "transfer_to_human_agents", {"summary": "wants a person"}) == (
        "Transfer successful"
    )
    conversation = await services.conversations.get("acme", thread.id)
    assert conversation.state is OwnerState.QUEUED
    assert conversation.handoff_reason == "agent_transfer"
    assert await services.handoffs.latest("acme", thread.id) == "wants a person"
    entries = await services.audit.entries("acme", target=f"conversation:{thread.id}")
    assert [(e.action, e.before, e.after) for e in entries] == [
        (
            "hand_off",
            {"state": "bot"},
            {"state": "queued", "reason": "agent_transfer", "summary": "wants a person"},
        )
    ]
    # A second transfer while queued changes nothing and still succeeds.
    assert await call_tool(ctx, "transfer_to_human_agents", {"summary": "again"}) == (
        "Transfer successful"
    )


async def test_a_signed_widget_identity_verifies_the_shopper(services: ToolServices) -> None:
    secret = await services.stores.identity_secret("acme")
    thread = await services.conversations.start("acme")
    ctx = await services.context("acme", conversation_id=thread.id)
    with pytest.raises(Unauthorized):
        await ctx.verify_signed(ETHAN, identity_signature(ETHAN, "not the secret"), secret)
    assert ctx.customer_id is None
    await ctx.verify_signed(ETHAN, identity_signature(ETHAN, secret), secret)
    details = await call_tool(ctx, "get_order_details", {"order_id": ETHAN_PENDING})
    assert details["user_id"] == ETHAN
    assert (await services.conversations.get("acme", thread.id)).customer_id == ETHAN


async def test_one_action_confirmed_twice_at_once_runs_once(services: ToolServices) -> None:
    ethan = shopper(services, ETHAN, policy=tau2_policy())
    pending = await call_tool(
        ethan,
        "modify_pending_order_address",
        {
            "order_id": ETHAN_PENDING,
            "address1": "2 Side St",
            "address2": "",
            "city": "Austin",
            "state": "TX",
            "country": "USA",
            "zip": "73301",
        },
    )
    results = await asyncio.gather(
        confirm(ethan, ConfirmArgs(action_id=pending["action_id"])),
        confirm(ethan, ConfirmArgs(action_id=pending["action_id"])),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["ActionUsed", "dict"], results
    entries = await services.audit.entries("acme", target=f"order:{ETHAN_PENDING}")
    assert len(entries) == 1
    assert entries[0].after is not None
    assert entries[0].after["order"]["address"]["city"] == "Austin"


async def test_the_fast_export_is_the_same_document_as_the_records_give(
    services: ToolServices,
) -> None:
    ethan = shopper(services, ETHAN, policy=tau2_policy())
    ethan.tau2_compat = True
    swap = await call_tool(
        ethan,
        "modify_pending_order_items",
        {
            "order_id": ETHAN_PENDING,
            "item_ids": ["1323134954"],  # 236.95
            "new_item_ids": ["1349017811"],  # 226.05: an unrounded refund to the gift card
            "payment_method_id": "gift_card_7219486",
        },
    )
    await confirm(ethan, ConfirmArgs(action_id=swap["action_id"]))
    async with services.orders.session("acme") as session:
        delivered = await session.order(EMMA_DELIVERED)
        delivered.delivered_at = utcnow()
        await session.save_order(delivered)
    assert isinstance(services.orders, SqlOrderStore)
    fast = await services.orders.export_document("acme")
    slow = catalog_to_tau2(await services.orders.export_catalog("acme"))
    assert json.dumps(fast) == json.dumps(slow)


async def test_a_store_can_accept_only_its_own_signed_logins(services: ToolServices) -> None:
    policy = StorePolicy(verification=[Verification.SIGNED])
    ctx = shopper(services, policy=policy)
    with pytest.raises(VerificationNotAllowed):
        await call_tool(ctx, "find_user_id_by_email", {"email": "ethan.lopez8943@example.com"})
    with pytest.raises(VerificationNotAllowed):
        await call_tool(
            ctx,
            "find_user_id_by_name_zip",
            {"first_name": "Ethan", "last_name": "Lopez", "zip": "43275"},
        )
    assert ctx.customer_id is None
    secret = await services.stores.identity_secret("acme")
    await ctx.verify_signed(ETHAN, identity_signature(ETHAN, secret), secret)
    assert ctx.customer_id == ETHAN
