"""What a shopper's question asks for: an amount, a duration, a percentage, an address, a
contact, a weight, a temperature, a price, a discount, a count, or nothing the code can name
(`asked.json`)."""

from __future__ import annotations

import json
import re
from enum import StrEnum
from functools import lru_cache
from importlib import resources

from bot.domain.text import normalise_text


class Asked(StrEnum):
    """The kind of fact a question wants; `ANYTHING` when the words name none."""

    WEIGHT = "weight"
    TEMPERATURE = "temperature"
    CONTACT = "contact"
    ADDRESS = "address"
    PERCENT = "percent"
    DURATION = "duration"
    AMOUNT = "amount"
    DISCOUNT = "discount"
    PRICE = "price"
    COUNT = "count"
    ANYTHING = "anything"

    @property
    def required(self) -> bool:
        """Whether an answer must state this kind of fact: a count may be spelled out ("three
        shops"), a discount asked about may be a free service rather than a figure, a price
        named in a yes-or-no question is not asked for, and a question of no kind may be
        answered by any sentence."""
        return self not in (Asked.COUNT, Asked.DISCOUNT, Asked.PRICE, Asked.ANYTHING)


@lru_cache(maxsize=1)
def _data() -> dict[str, list[str]]:
    raw = resources.files("bot.agent.facts").joinpath("asked.json").read_text(encoding="utf-8")
    data: dict[str, list[str]] = json.loads(raw)
    return data


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[Asked, re.Pattern[str]]]:
    return [
        (Asked(kind), re.compile("|".join(expressions)))
        for kind, expressions in _data().items()
        if not kind.startswith("_")
    ]


@lru_cache(maxsize=2)
def _words(key: str) -> re.Pattern[str]:
    return re.compile("|".join(_data()[key]))


_QUESTIONS = re.compile(r"[?？؟]")


def asked_for(question: str) -> Asked:
    """The kind of fact `question` asks for, in any of the languages `asked.json` lists; a
    message asking several questions asks for no one kind."""
    if len(_QUESTIONS.findall(question)) > 1:
        return Asked.ANYTHING
    text = normalise_text(question)
    kinds = [kind for kind, pattern in _patterns() if pattern.search(text)]
    how_much = bool(_words("_how_much").search(text))
    first = kinds[0] if kinds else Asked.ANYTHING
    asks_quantity = first in (Asked.AMOUNT, Asked.COUNT, Asked.ANYTHING) and how_much
    if asks_quantity and _words("_time").search(text):
        return Asked.DURATION  # "how much time do I have", "ile mam czasu"
    if first is Asked.PRICE and (how_much or Asked.COUNT in kinds):
        return Asked.AMOUNT  # a fee asked how much of: "phí ... là bao nhiêu", "运费是多少"
    return first
