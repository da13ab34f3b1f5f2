"""The pipeline's fixed replies in the shopper's language, from `replies.json`.

Tools speak English (their summaries and error messages go to logs, the console and a chat
model); what a shopper reads is rendered here from the facts the tools return as data: a
proposed action's `details` and a refused call's error `code` and `details`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib.resources import files
from typing import Any

from bot.domain.errors import ParleyError


@cache
def _catalogue() -> dict[str, dict[str, Any]]:
    raw: dict[str, dict[str, Any]] = json.loads(
        files("bot.agent").joinpath("replies.json").read_text(encoding="utf-8")
    )
    return {language: texts for language, texts in raw.items() if not language.startswith("_")}


def reply_languages() -> frozenset[str]:
    """Languages every fixed reply is written in."""
    return frozenset(_catalogue())


def _texts(language: str) -> dict[str, Any]:
    return _catalogue().get(language) or _catalogue()["en"]


def _text(language: str, group: str, key: str) -> str:
    """One text of a group (`actions`, `refusals`...), English when the language lacks it."""
    found = _texts(language).get(group, {}).get(key)
    return str(found if found is not None else _catalogue()["en"][group][key])


def say(language: str, key: str, **values: object) -> str:
    """The reply `key` in `language` (English when that language has none), filled in."""
    texts = _texts(language)
    template = str(texts.get(key) or _catalogue()["en"][key])
    return template.format(**values)


def status_name(language: str, status: str) -> str:
    """An order status as a shopper reads it in their language."""
    statuses: dict[str, str] = _texts(language)["statuses"]
    return statuses.get(status, status)


# Languages that write 12,50 rather than 12.50.
_DECIMAL_COMMA = frozenset(
    {"de", "fr", "es", "it", "pt", "nl", "pl", "ru", "tr", "vi", "sv", "uk", "id"}
    | {"cs", "da", "el", "fi", "hu", "ro"}
)


def writes_decimal_comma(language: str) -> bool:
    """Whether `language` writes 12,50 rather than 12.50."""
    return language in _DECIMAL_COMMA


def amount(language: str, value: object) -> str:
    """A money amount (`"12.50"` from a tool) written the way the language writes decimals."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    text = f"{number:.2f}"
    return text.replace(".", ",") if language in _DECIMAL_COMMA else text


def payment_method(language: str, method: Mapping[str, Any]) -> str:
    """A payment method from a tool's details ("Visa card ending 1234") in the language."""
    kind = str(method.get("type") or "other")
    if kind not in _catalogue()["en"]["methods"]:
        kind = "other"
    brand = str(method.get("brand") or "").capitalize()
    return _text(language, "methods", kind).format(
        brand=brand, last_four=method.get("last_four", "")
    )


def _item_name(language: str, item: Mapping[str, Any]) -> str:
    """An item as the catalogue names it, product name and option values ("Kettle (1.5l,
    steel)"), never by its id alone."""
    name = str(item.get("name") or _text(language, "actions", "an_item"))
    options = ", ".join(str(value) for value in item.get("options") or [])
    return f"{name} ({options})" if options else name


def _items(language: str, items: Sequence[Mapping[str, Any]] | None) -> str:
    names = [_item_name(language, item) for item in items or []]
    separator = "、" if language in ("zh", "ja") else ", "
    return separator.join(names) or _text(language, "actions", "an_item")


def _price_difference(language: str, details: Mapping[str, Any]) -> str:
    charge = Decimal(str(details.get("charge") or "0"))
    refund = Decimal(str(details.get("refund") or "0"))
    if charge > 0:
        return _text(language, "actions", "you_pay").format(amount=amount(language, charge))
    if refund > 0:
        return _text(language, "actions", "you_get").format(amount=amount(language, refund))
    return _text(language, "actions", "no_difference")


def describe_action(language: str, details: Mapping[str, Any]) -> str:
    """A proposed write (a tool's `details`) as the shopper confirms it, in their language."""
    kind = str(details.get("kind"))
    method = payment_method(language, details.get("method") or {})
    values: dict[str, object] = {
        "order_id": details.get("order_id", ""),
        "items": _items(language, details.get("items")),
        "new_items": _items(language, details.get("new_items"))
        if details.get("new_items")
        else ", ".join(str(i) for i in details.get("new_item_ids") or []),
        "method": method,
        "address": details.get("address", ""),
    }
    if kind == "cancel":
        reason = str(details.get("reason") or "")
        values["reason"] = _texts(language).get("reasons", {}).get(reason, reason)
        refunds = [
            _text(language, "actions", "refund_to").format(
                amount=amount(language, refund.get("amount")),
                method=payment_method(language, refund.get("method") or {}),
            )
            for refund in details.get("refunds") or []
        ]
        values["refunds"] = ", ".join(refunds) or _text(language, "actions", "nothing_paid")
    elif kind == "return":
        values["amount"] = amount(language, details.get("refund"))
    elif kind in ("exchange", "modify_items"):
        values["money"] = _price_difference(language, details)
    elif kind == "order_payment":
        values["amount"] = amount(language, details.get("amount"))
        values["old_method"] = payment_method(language, details.get("old_method") or {})
    elif kind not in ("order_address", "user_address"):
        raise ValueError(f"no reply for an action of kind {kind!r}")
    return _text(language, "actions", kind).format(**values)


# Error codes whose details a shopper needs no more than "something does not match".
_MISMATCH = frozenset(
    {
        "invalid_request",
        "item_not_found",
        "variant_not_found",
        "product_not_found",
        "payment_method_not_found",
    }
)
_SAME_AS = {"action_not_found": "action_expired"}


def refusal_reason(language: str, error: ParleyError) -> str:
    """Why a tool call was refused, in the shopper's language, from the error's code and
    details; an error without a text of its own gets the generic refusal, never English."""
    code = _SAME_AS.get(error.code, error.code)
    details = dict(error.details)
    if code == "wrong_status":
        code = f"wrong_status_{details.get('action', 'modify')}"
        details["status"] = status_name(language, str(details.get("status", "")))
    elif code in ("above_refund_limit",):
        details["amount"] = amount(language, details.get("amount", ""))
    elif code in _MISMATCH:
        code = "mismatch"
    refusals: dict[str, str] = _catalogue()["en"]["refusals"]
    if code not in refusals:
        code = "generic"
    try:
        return _text(language, "refusals", code).format(**details)
    except (KeyError, IndexError):
        # An error raised without the details its text quotes: say what is sure.
        return _text(language, "refusals", "generic")


def refusal(language: str, error: ParleyError) -> str:
    """The whole reply to a refused tool call ("I can't do that: ..."), in the language."""
    return say(language, "refused", reason=refusal_reason(language, error))


def _fixed_texts(texts: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Every fixed text of a language by its dotted key ("refusals.generic")."""
    found: dict[str, str] = {}
    for key, value in texts.items():
        if isinstance(value, Mapping):
            found.update(_fixed_texts(value, f"{prefix}{key}."))
        else:
            found[f"{prefix}{key}"] = str(value)
    return found


_TELLING_LENGTH = 16
"""A stretch of a fixed text this long between placeholders is only ever found in that text."""


@cache
def _english_stretches() -> tuple[tuple[str, str], ...]:
    stretches: list[tuple[str, str]] = []
    for key, template in _fixed_texts(_catalogue()["en"]).items():
        for stretch in re.split(r"\{[^}]*\}", template):
            if len(stretch.strip()) >= _TELLING_LENGTH:
                stretches.append((key, stretch.strip()))
    return tuple(stretches)


def english_fallback(language: str, reply: str) -> dict[str, str] | None:
    """Why `reply` holds fixed text in English although the shopper writes `language`: None
    when the language has its fixed replies or the reply holds none of the English ones."""
    if language in _catalogue():
        return None
    keys = sorted({key for key, stretch in _english_stretches() if stretch in reply})
    if not keys:
        return None
    return {
        "language": "en",
        "shopper_language": language,
        "reason": f"no fixed replies are written in {language!r}; sent in English",
        "texts": ", ".join(keys),
    }


def refused_because(language: str, code: str) -> str:
    """The whole reply to a request refused in code (no tool raised), from a refusal's key."""
    return say(language, "refused", reason=_text(language, "refusals", code))
