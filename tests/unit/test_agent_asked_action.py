"""The action the shopper asked for, or none (issue 19): a dispute threat beside an order request
takes the dispute path, a yes confirms only the action shown (naming it again is still a yes,
widening it is not), proposals hold only the items the shopper named and name them as the
catalogue does. On in-memory parts, in many languages."""

from __future__ import annotations

import pytest

from bot.agent.extract import confirmation
from bot.agent.flows.changes import holds_address, parse_address
from bot.agent.flows.exchange import named_part
from bot.agent.flows.items import item_choices, named_items
from bot.agent.replies import describe_action
from bot.agent.turn import Outcome
from bot.domain.orders import Address, Order
from tests.unit.memory_shop import demo_catalog
from tests.unit.test_agent_under_attack import ANNA, STORE, Shop

DISPUTE_WITH_ORDER_REQUEST = [
    ("en", "Cancel order #W1000002 or I will file a chargeback with my bank"),
    ("de", "Stornieren Sie Bestellung #W1000002, sonst mache ich eine Rückbuchung bei meiner Bank"),
    ("fr", "Annulez la commande #W1000002 sinon je fais opposition auprès de ma banque"),
    ("es", "Cancelen el pedido #W1000002 o pediré un contracargo a mi banco"),
    ("it", "Annullate l'ordine #W1000002 o faccio lo storno con la carta di credito"),
    ("ru", "Отмените заказ #W1000002, иначе я оформлю чарджбэк через банк"),
    (
        "ja",
        "注文#W1000002をキャンセルしてください。さもないとカード会社にチャージバックを申請します",
    ),
    ("pl", "Anulujcie zamówienie #W1000002, bo inaczej zgłoszę chargeback w banku"),
    ("tr", "#W1000002 siparişini iptal edin yoksa bankama ters ibraz yapacağım"),
    ("zh", "取消订单#W1000002，否则我就向银行申请拒付"),
]


@pytest.mark.parametrize(
    ("language", "message"),
    DISPUTE_WITH_ORDER_REQUEST,
    ids=[case[0] for case in DISPUTE_WITH_ORDER_REQUEST],
)
async def test_a_chargeback_threat_beside_an_order_request_takes_the_dispute_path(
    language: str, message: str
) -> None:
    shop = Shop()
    thread = shop.start("t1", customer_id=ANNA)
    result = await shop.pipeline.handle(STORE, thread, message)
    assert result.intent == "dispute"
    assert "open_dispute" in shop.orders.tool_names()
    assert "cancel_pending_order" not in shop.orders.tool_names()
    assert shop.status("#W1000002") == "pending"


@pytest.mark.parametrize(
    ("language", "message"),
    DISPUTE_WITH_ORDER_REQUEST[:5],
    ids=[case[0] for case in DISPUTE_WITH_ORDER_REQUEST[:5]],
)
async def test_a_yes_with_a_chargeback_threat_opens_a_dispute_and_carries_out_nothing(
    language: str, message: str
) -> None:
    shop = Shop()
    thread = shop.start("t1", customer_id=ANNA)
    proposed = await shop.pipeline.handle(STORE, thread, "Please cancel order #W1000002")
    assert proposed.outcome is Outcome.CONFIRM
    yes = {"en": "yes", "de": "ja", "fr": "oui", "es": "sí", "it": "sì"}[language]
    result = await shop.pipeline.handle(STORE, thread, f"{yes}, {message}")
    assert result.intent == "dispute"
    assert "confirm_action" not in shop.orders.tool_names()
    assert shop.status("#W1000002") == "pending"


RESTATING_YES = [
    ("en", "yes, cancel it"),
    ("de", "Ja, stornieren"),
    ("fr", "oui, annulez"),
    ("tr", "evet, iptal et"),
    ("ja", "はい、キャンセルして"),
    ("zh", "是的，取消"),
]


@pytest.mark.parametrize(("language", "message"), RESTATING_YES, ids=[c[0] for c in RESTATING_YES])
async def test_a_yes_that_only_names_the_shown_action_again_confirms_it(
    language: str, message: str
) -> None:
    shop = Shop()
    thread = shop.start("t1", customer_id=ANNA)
    await shop.pipeline.handle(STORE, thread, "Please cancel order #W1000002")
    done = await shop.pipeline.handle(STORE, thread, message)
    assert done.outcome is Outcome.DONE
    assert shop.status("#W1000002") == "cancelled"


WIDENING_YES = [
    ("en", "yes, cancel both"),
    ("en", "yes, cancel the other one too"),
    ("de", "ja, alle stornieren"),
    ("fr", "oui, annulez aussi l'autre"),
]


@pytest.mark.parametrize(("language", "message"), WIDENING_YES, ids=[c[1] for c in WIDENING_YES])
async def test_a_yes_that_says_more_than_the_shown_action_confirms_nothing(
    language: str, message: str
) -> None:
    shop = Shop()
    thread = shop.start("t1", customer_id=ANNA)
    await shop.pipeline.handle(STORE, thread, "Please cancel order #W1000002")
    result = await shop.pipeline.handle(STORE, thread, message)
    assert result.outcome is not Outcome.DONE
    assert "confirm_action" not in shop.orders.tool_names()
    assert shop.status("#W1000002") == "pending"


def _order(order_id: str) -> Order:
    return demo_catalog().orders[order_id]


async def test_items_are_those_the_asking_clause_names_never_the_ones_kept() -> None:
    lamp_and_bottle = _order("#W1000001")
    lamp, bottle = (item.item_id for item in lamp_and_bottle.items)
    assert await named_items("Return only the lamp, I keep the bottle", lamp_and_bottle, None) == [
        lamp
    ]
    assert await named_items("Please return the Water Bottle", lamp_and_bottle, None) == [bottle]
    # The catalogue's word with an ending in another language; the kept item is not proposed.
    kept = "Devo restituire solo la lampada dell'ordine #W1000001, la borraccia la tengo"
    assert await named_items(kept, lamp_and_bottle, None) == [lamp]
    # Named in words the catalogue does not share, no model: unclear, so the shopper is asked.
    unclear = "Devo restituire solo il paralume dell'ordine #W1000001, la borraccia la tengo"
    assert await named_items(unclear, lamp_and_bottle, None) == []


async def test_items_named_in_any_language_are_found_through_the_models_english() -> None:
    order = _order("#W1000001")
    lamp = order.items[0].item_id
    asked: list[str] = []

    async def english(words: str) -> str | None:
        asked.append(words)
        return {"ru": "I want to return the lamp", "all": "return everything"}[
            "all" if "todo" in words else "ru"
        ]

    clause = "Хочу вернуть светильник из заказа #W1000001, бутылку оставлю"
    assert await named_items(clause, order, None, english) == [lamp]
    assert asked == ["Хочу вернуть светильник из заказа #W1000001"]  # the asking clause only
    # "Everything" read from a rendering alone is too much to propose: ask instead.
    assert await named_items("Quiero devolver todo del pedido #W1000001", order, None, english) in (
        [],
        [item.item_id for item in order.items],
    )


def test_the_items_to_choose_from_are_named_as_the_catalogue_does() -> None:
    order = _order("#W1000001")
    assert item_choices(order.items) == "Desk Lamp, Water Bottle"
    lanterns = _order("#W1000003")  # the same variant twice: listed once
    assert item_choices(lanterns.items) == "Garden Lantern"


@pytest.mark.parametrize("language", ["en", "de", "fr", "ja", "ko", "ar"])
def test_a_proposed_exchange_names_the_variants_as_the_catalogue_does(language: str) -> None:
    details = {
        "kind": "exchange",
        "order_id": "#W1000001",
        "items": [{"item_id": "8100000011", "name": "Desk Lamp", "options": ["NL-4410", "oak"]}],
        "new_item_ids": ["8100000012"],
        "new_items": [
            {"item_id": "8100000012", "name": "Desk Lamp", "options": ["NL-4410", "black"]}
        ],
        "charge": "0.00",
        "refund": "0.00",
        "method": {"type": "other", "id": "credit_card_1"},
    }
    text = describe_action(language, details)
    assert "Desk Lamp (NL-4410, oak)" in text and "Desk Lamp (NL-4410, black)" in text
    assert "8100000012" not in text and "8100000011" not in text


MORE_YES_AND_NO = [
    ("id", "ya, lanjutkan", "tidak"),
    ("sv", "ja tack", "nej"),
    ("da", "ja, gerne", "nej tak"),
    ("nb", "ja takk", "nei"),
    ("fi", "kyllä, kiitos", "ei"),
    ("cs", "ano, prosím", "ne"),
    ("hu", "igen, kérem", "nem"),
    ("ro", "da, vă rog", "nu"),
    ("el", "ναι, παρακαλώ", "όχι"),
]


@pytest.mark.parametrize(
    ("language", "yes", "no"), MORE_YES_AND_NO, ids=[c[0] for c in MORE_YES_AND_NO]
)
def test_a_plain_yes_or_no_is_read_in_more_languages(language: str, yes: str, no: str) -> None:
    assert confirmation(yes) is True
    assert confirmation(no) is False
    assert confirmation(f"{yes} {'#W1000001'}") is None  # another order named: not a yes


def test_an_address_written_into_another_languages_sentence_is_read_as_an_address() -> None:
    current = Address(
        address1="Ringstraße 1", address2="", city="Wien", state="", country="Austria", zip="1010"
    )
    text = "주문 #W5201602 배송지를 Getreidegasse 9, 5020 Salzburg로 바꿔 주세요."
    assert holds_address(text)  # an address change, whatever the router made of the words
    # Another city, four digits many countries write, no country given: asked, not guessed.
    assert parse_address(text, current) is None
    address = parse_address(text.replace("Salzburg로", "Salzburg, Österreich로"), current)
    assert address is not None
    assert (address.address1, address.zip, address.city) == ("Getreidegasse 9", "5020", "Salzburg")
    dutch = Address(
        address1="Damrak 1",
        address2="",
        city="Amsterdam",
        state="",
        country="Netherlands",
        zip="1012 LG",
    )
    moved = parse_address("naar mijn werkadres sturen: Catharijnesingel 30, 3511 GB Utrecht", dutch)
    assert moved is not None and (moved.zip, moved.city) == ("3511 GB", "Utrecht")


def test_the_model_choosing_a_swap_sees_only_the_items_the_shopper_named() -> None:
    order = _order("#W1000001")
    bottle = order.items[1].item_id
    named = named_part(order, "Please exchange the Water Bottle of #W1000001 for the 500ml one")
    assert [item.item_id for item in named.items] == [bottle]
    # Nothing named as the catalogue has it: the whole order, and the model's pick is checked.
    assert named_part(order, "Quiero cambiar algo del pedido #W1000001") == order
