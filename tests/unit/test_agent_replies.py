"""Fixed replies about actions and refusals are written entirely in the shopper's language:
rendered from the tools' details and the errors' codes, never from their English texts."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib.resources import files
from typing import Any

import pytest

from bot.agent.extract import confirmation
from bot.agent.language import LanguageIdentifier
from bot.agent.replies import (
    amount,
    describe_action,
    english_fallback,
    refusal,
    refusal_reason,
    reply_languages,
    say,
)
from bot.domain.errors import ParleyError
from bot.domain.orders import (
    InvalidRequest,
    ItemNotFound,
    NotYourOrder,
    OrderNotFound,
    UserNotFound,
    WrongStatus,
)
from bot.domain.policy import AboveRefundLimit, OutsideReturnWindow, StorePolicy
from bot.storage.order_actions import ActionExpired

LANGUAGES = [
    "en", "de", "fr", "es", "it", "pt", "nl", "pl", "sv", "ru",
    "uk", "tr", "ar", "zh", "ja", "ko", "th", "vi", "id", "hi",
    "cs", "da", "el", "fi", "hu", "ro",
]  # fmt: skip
VISA = {"type": "credit_card", "id": "credit_card_1", "brand": "visa", "last_four": "4242"}
GIFT = {"type": "gift_card", "id": "gift_card_9"}
ACTIONS: dict[str, dict[str, Any]] = {
    "cancel": {
        "kind": "cancel",
        "order_id": "#W1000002",
        "reason": "no longer needed",
        "refunds": [{"amount": "89.50", "method": VISA}],
    },
    "return": {
        "kind": "return",
        "order_id": "#W1000001",
        "items": [{"item_id": "1234567890", "name": "Desk Lamp"}],
        "refund": "149.00",
        "method": GIFT,
    },
    "exchange": {
        "kind": "exchange",
        "order_id": "#W1000004",
        "items": [{"item_id": "1234567890", "name": "Desk Lamp"}],
        "new_item_ids": ["9876543210"],
        "charge": "12.00",
        "refund": "0.00",
        "method": VISA,
    },
    "modify_items": {
        "kind": "modify_items",
        "order_id": "#W1000006",
        "items": [{"item_id": "1234567890", "name": "Kettle"}],
        "new_item_ids": ["9876543210"],
        "charge": "0.00",
        "refund": "5.00",
        "method": GIFT,
    },
    "order_address": {
        "kind": "order_address",
        "order_id": "#W1000006",
        "address": "Hauptstr. 5, Berlin, 10115, DE",
    },
    "order_payment": {
        "kind": "order_payment",
        "order_id": "#W1000006",
        "amount": "42.00",
        "method": GIFT,
        "old_method": VISA,
    },
    "user_address": {"kind": "user_address", "address": "Hauptstr. 5, Berlin, 10115, DE"},
}
# Words of the English texts that must not leak into another language's reply.
ENGLISH = ("Cancellation", "Refund", "refund", "no longer needed", "card ending", "order ")


def _errors() -> list[ParleyError]:
    policy = StorePolicy(return_window_days=30, auto_approve_refund_limit=Decimal("50.00"))
    errors: list[ParleyError] = [
        WrongStatus(
            "Non-pending order cannot be cancelled",
            details={"action": "cancel", "order_id": "#W1000001", "status": "delivered"},
        ),
        WrongStatus(
            "Non-delivered order cannot be returned",
            details={"action": "return", "order_id": "#W1000006", "status": "pending"},
        ),
        OrderNotFound(),
        UserNotFound(),
        NotYourOrder(),
        InvalidRequest("Payment method should be the original payment method"),
        ItemNotFound("Some item not found"),
        ActionExpired("the action expired"),
    ]
    now = datetime(2026, 11, 24, tzinfo=UTC)
    for check in (
        lambda: policy.check_refund(Decimal("120.00")),
        lambda: policy.check_return_window(now - timedelta(days=45), now),
    ):
        try:
            check()
        except (AboveRefundLimit, OutsideReturnWindow) as error:
            errors.append(error)
    return errors


@pytest.fixture(scope="module")
def identify() -> LanguageIdentifier:
    identifier = LanguageIdentifier(LANGUAGES)
    identifier.warm_up()
    return identifier


def test_every_language_writes_every_action_and_refusal() -> None:
    assert set(LANGUAGES) <= reply_languages()
    for language in LANGUAGES:
        for kind, details in ACTIONS.items():
            text = describe_action(language, details)
            assert "{" not in text and "}" not in text, (language, kind, text)
        for error in _errors():
            text = refusal(language, error)
            assert "{" not in text and "}" not in text, (language, error.code, text)


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_actions_are_described_without_english(language: str) -> None:
    for kind, details in ACTIONS.items():
        text = describe_action(language, details)
        leaked = [word for word in ENGLISH if word in text]
        assert not leaked, (kind, text)
        if "order_id" in details:
            assert details["order_id"] in text


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_refusals_never_show_the_tools_english_message(language: str) -> None:
    for error in _errors():
        text = refusal(language, error)
        assert error.message not in text, (error.code, text)
        assert not [word for word in ("order", "Order", "not found") if word in text], text


@pytest.mark.parametrize("language", LANGUAGES)
def test_action_and_refusal_replies_read_as_the_shoppers_language(
    identify: LanguageIdentifier, language: str
) -> None:
    texts = [
        describe_action(language, ACTIONS["cancel"]),
        describe_action(language, ACTIONS["return"]),
    ]
    texts += [refusal(language, error) for error in _errors()[:2]]
    for text in texts:
        assert identify.detect(text).code == language, text


def test_refusals_carry_the_facts_of_the_error() -> None:
    wrong, *_ = _errors()
    assert refusal_reason("de", wrong) == (
        "Nur Bestellungen, die noch nicht bearbeitet werden, können storniert werden, "
        "und die Bestellung #W1000001 ist zugestellt."
    )
    above = next(e for e in _errors() if isinstance(e, AboveRefundLimit))
    assert "120,00" in refusal_reason("fr", above)
    window = next(e for e in _errors() if isinstance(e, OutsideReturnWindow))
    assert "2026-10-10" in refusal_reason("ja", window) and "30" in refusal_reason("ja", window)


def test_an_error_without_a_text_of_its_own_gets_the_generic_refusal() -> None:
    class Unforeseen(ParleyError):
        code = "something_new"

    text = refusal_reason("it", Unforeseen("Something entirely new went wrong"))
    assert text == refusal_reason("it", ParleyError("x"))
    assert "wrong" not in text
    # A known code raised without the details its text quotes falls back the same way.
    assert refusal_reason("es", WrongStatus("Non-pending order cannot be modified")) == (
        refusal_reason("es", ParleyError("x"))
    )


def test_amounts_follow_the_languages_decimal_mark() -> None:
    assert amount("de", "89.5") == "89,50"
    assert amount("en", "89.5") == "89.50"
    assert amount("ja", Decimal("1200")) == "1200.00"
    assert "89,50" in describe_action("de", ACTIONS["cancel"])
    assert "Visa" in describe_action("de", ACTIONS["cancel"])


def test_english_fixed_text_for_a_language_without_replies_is_explained() -> None:
    assert "sk" not in reply_languages()
    reply = say("sk", "handoff")
    assert reply == say("en", "handoff")
    fallback = english_fallback("sk", reply)
    assert fallback is not None
    assert fallback["language"] == "en" and fallback["shopper_language"] == "sk"
    assert fallback["texts"] == "handoff"
    # Filled-in texts are recognised by their fixed stretches.
    refused = refusal("sk", _errors()[0])
    found = english_fallback("sk", refused)
    assert found is not None and "refusals.wrong_status_cancel" in found["texts"]


def test_no_fallback_is_noted_when_the_language_has_its_replies_or_the_model_wrote() -> None:
    assert english_fallback("sv", say("sv", "handoff")) is None
    assert english_fallback("sk", "Lehota na vrátenie je 30 dní od doručenia.") is None


def _flattened(texts: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    found: dict[str, str] = {}
    for key, value in texts.items():
        if isinstance(value, Mapping):
            found.update(_flattened(value, f"{prefix}{key}."))
        else:
            found[f"{prefix}{key}"] = str(value)
    return found


def test_every_language_has_every_fixed_text_with_the_same_placeholders() -> None:
    catalogue = json.loads(files("bot.agent").joinpath("replies.json").read_text("utf-8"))
    english = _flattened(catalogue["en"])
    assert set(LANGUAGES) <= reply_languages()
    for language in reply_languages():
        texts = _flattened(catalogue[language])
        assert set(texts) == set(english), (language, set(texts) ^ set(english))
        for key, text in english.items():
            assert texts[key].strip(), (language, key)
            # A language may name a value twice (Hindi repeats the old payment method).
            wanted = set(re.findall(r"\{(\w*)\}", text))
            assert set(re.findall(r"\{(\w*)\}", texts[key])) == wanted, (language, key)


@pytest.mark.parametrize(("language", "yes", "no"), [
    ("cs", "„ano“", "„ne“"), ("da", "»ja«", "»nej«"), ("el", "«ναι»", "«όχι»"),
    ("fi", "”kyllä”", "”ei”"), ("hu", "„igen”", "„nem”"), ("ro", "„da”", "„nu”"),
])  # fmt: skip
def test_the_confirmation_asks_for_the_words_that_confirm_and_refuse(
    language: str, yes: str, no: str
) -> None:
    asked = say(language, "confirm", summary="")
    assert yes in asked and no in asked
    assert confirmation(yes.strip("„“”»«")) is True
    assert confirmation(no.strip("„“”»«")) is False
    assert amount(language, "89.5") == "89,50"
