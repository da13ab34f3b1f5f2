"""Address and payment changes through the tools made for them, and refunds only where the
policy sends them: the order's payment method or the account's gift card. A refund asked to go
anywhere else is refused with the reason, never turned into another action."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from bot.agent.flows.proposal import propose
from bot.agent.intents import Intent
from bot.agent.phrases import mentions
from bot.agent.replies import refused_because, say
from bot.agent.state import Decision, Memory, Turn
from bot.agent.turn import Outcome
from bot.domain.orders import Address, CreditCard, Customer, GiftCard, Order, PayPal
from bot.domain.text import normalise_text

Change = Literal["refund_elsewhere", "payment", "address"]

# A card or account number typed in the chat: twelve or more digits, spaces or dashes between.
_LONG_NUMBER = re.compile(r"(?:\d[ -]?){12,}")
_ZIP = re.compile(r"(?<![\d#Ww])(\d{3}-\d{4}|\d{4} ?[A-Z]{2}(?![\w])|\d{4,7})(?!\d)")
"""Postcodes: Japanese 123-4567, Dutch 1234 AB, and four to seven digits."""
# A street: capitalised words (with the small words streets have) ending in a house number.
_STREET = re.compile(
    r"(?:[A-ZÀ-ÞА-ЯЁ][\w'.-]*\s+(?:(?:de|del|la|di|da|dos|van|der|von|du|le|of)\s+)*)+"
    r"\d+[A-Za-z]?"
)


def requested_change(text: str) -> Change | None:
    """Which change of an order or account the message asks for, if one."""
    if mentions("payment_change", text):
        return "payment"
    if mentions("refund_elsewhere", text) or _LONG_NUMBER.search(text):
        return "refund_elsewhere"
    if mentions("address_change", text):
        return "address"
    return None


async def refund_refused(turn: Turn, intent: Intent) -> Decision:
    """A refund asked to go where the policy does not send refunds: no, with the reason."""
    reply = refused_because(turn.language, "refund_destination")
    return turn.result(reply, intent, Outcome.DECLINED), Memory()


async def change_payment(
    turn: Turn, intent: Intent, memory: Memory, order: Order, customer: Customer
) -> Decision:
    """Pay a pending order with another method already on the account."""
    method = _saved_method(turn.text, customer, exclude=order.paid_with())
    hidden = any(
        isinstance(saved, CreditCard) and not saved.last_four
        for saved in customer.payment_methods.values()
    )
    if method is None and hidden and not _LONG_NUMBER.search(turn.text):
        # The tools show a card's digits only to a shopper verified strongly enough to
        # write: the card cannot be matched before that proof.
        reply = (
            f"{refused_because(turn.language, 'not_verified')} {say(turn.language, 'ask_identity')}"
        )
        return turn.result(reply, intent, Outcome.NEEDS_INFO), Memory(order_id=order.order_id)
    if method is None or _LONG_NUMBER.search(turn.text):
        reply = refused_because(turn.language, "new_payment_method")
        return turn.result(reply, intent, Outcome.DECLINED), Memory(order_id=order.order_id)
    arguments = {"order_id": order.order_id, "payment_method_id": method}
    return await propose(turn, intent, memory, "modify_pending_order_payment", arguments)


def _saved_method(text: str, customer: Customer, exclude: str) -> str | None:
    plain = normalise_text(text)
    for method in customer.payment_methods.values():
        if method.id == exclude:
            continue
        if isinstance(method, PayPal) and "paypal" in plain:
            return method.id
        if isinstance(method, GiftCard) and mentions("gift_card", text):
            return method.id
        if isinstance(method, CreditCard) and method.last_four and method.last_four in plain:
            return method.id
    return None


async def change_address(
    turn: Turn, intent: Intent, memory: Memory, order: Order | None, customer: Customer
) -> Decision:
    """Deliver a pending order to another address, or make it the account's default."""
    current = order.address if order is not None else customer.address
    address = parse_address(turn.text, current)
    if address is None:
        memory.awaiting = "address"
        return turn.result(say(turn.language, "ask_address"), intent, Outcome.NEEDS_INFO), memory
    fields = address.model_dump(mode="json")
    if order is not None:
        arguments = {"order_id": order.order_id, **fields}
        return await propose(turn, intent, memory, "modify_pending_order_address", arguments)
    arguments = {"user_id": customer.user_id, **fields}
    return await propose(turn, intent, memory, "modify_user_address", arguments)


@dataclass(frozen=True)
class _AddressForm:
    """`Street 12, 12345 City[, Country]` as written, before the country is settled."""

    street: str
    postcode: str
    city: str
    country: str


def _address_form(text: str) -> _AddressForm | None:
    for order_token in re.findall(r"#?[Ww]\d{7}|\S+@\S+", text):
        text = text.replace(order_token, " ")
    parts = [part.strip() for part in re.split(r"[,，、\n]", text) if part.strip()]
    for index, part in enumerate(parts):
        zip_found = _ZIP.search(part)
        if zip_found is None or index == 0:
            continue
        streets = _STREET.findall(parts[index - 1])
        if not streets:
            continue
        city = _one_script((part[: zip_found.start()] + part[zip_found.end() :]).strip(" ."))
        if not city and index + 1 < len(parts):
            city = parts[index + 1].strip(" .")
        if not city:
            continue
        after = parts[index + 1 :] if part[zip_found.end() :].strip() else parts[index + 2 :]
        country = after[0].strip(" .") if after and not any(c.isdigit() for c in after[0]) else ""
        return _AddressForm(streets[-1].strip(), zip_found.group(1), city, country)
    return None


def holds_address(text: str) -> bool:
    """True when the message holds a street with a number, a postcode and a city."""
    return _address_form(text) is not None


def parse_address(text: str, current: Address) -> Address | None:
    """`Street 12, 12345 City[, Country]` from the message; None when it holds no such form.
    In the same city the state and country stay the current address's; in another city the
    country must be given, unless the postcode has the current one's distinctive form (letters
    or a dash: "3511 GB" beside "1012 LG"), which only one country writes."""
    form = _address_form(text)
    if form is None:
        return None
    same_city = normalise_text(form.city) == normalise_text(current.city)
    shape = _shape(form.postcode)
    same_country = shape == _shape(current.zip) and not shape.isdigit()
    if not (form.country or same_city or same_country):
        return None  # another city and no country: ask rather than guess one
    return Address(
        address1=form.street,
        address2="",
        city=form.city,
        state=current.state if same_city else "",
        country=form.country or current.country,
        zip=form.postcode,
    )


def _shape(postcode: str) -> str:
    """A postcode's form ("1234 AB" -> "9999AA", "123-4567" -> "999-9999")."""
    return re.sub(r"\d", "9", re.sub(r"[A-Za-z]", "A", postcode.replace(" ", "")))


def _one_script(words: str) -> str:
    """The leading words written in the script of the first letter: "Salzburg로 바꿔 주세요"
    is the city Salzburg, then Korean words about it."""
    script = ""
    for index, char in enumerate(words):
        if not char.isalpha():
            continue
        name = unicodedata.name(char, "").split(" ")[0]
        if not script:
            script = name
        elif name != script:
            return words[:index].strip(" .,")
    return words
