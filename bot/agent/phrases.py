"""The word lists of `phrases.json`, compiled: what the flows look for in a shopper's words."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Literal

from bot.domain.text import normalise_text, without_arabic_marks

Phrase = Literal[
    "mistake",
    "chargeback",
    "question_openers",
    "question_particles",
    "yes",
    "no",
    "but",
    "name_intros",
    "zip_labels",
    "injection",
    "promises",
    "price_words",
    "price_words_unsegmented",
    "polite",
    "changes",
    "misuse",
    "for_someone_else",
    "address_change",
    "payment_change",
    "refund_elsewhere",
    "gift_card",
    "whole_order",
    "undecided",
]


@lru_cache(maxsize=1)
def _lists() -> dict[str, dict[str, list[str]]]:
    raw = resources.files("bot.agent").joinpath("phrases.json").read_text(encoding="utf-8")
    data: dict[str, dict[str, list[str]]] = json.loads(raw)
    return {key: value for key, value in data.items() if not key.startswith("_")}


_A_FEW_WORDS = r"\W+(?:\w+\W+){0,4}?"
"""What "<a few words>" in an expression stands for: up to four words in between."""


def alternatives(phrase: Phrase) -> str:
    """Every language's expressions for `phrase` as one regular-expression alternation."""
    joined = "|".join(expression for words in _lists()[phrase].values() for expression in words)
    # The text is matched in `normalise_text`'s form, Arabic vowel marks dropped: so are they here.
    return without_arabic_marks(joined).replace("<a few words>", _A_FEW_WORDS)


def words(phrase: Phrase) -> frozenset[str]:
    """Every language's plain words for `phrase` (compared whole, not as expressions)."""
    return frozenset(
        without_arabic_marks(word) for listed in _lists()[phrase].values() for word in listed
    )


@lru_cache(maxsize=8)
def _pattern(phrase: Phrase) -> re.Pattern[str]:
    return re.compile(alternatives(phrase), re.IGNORECASE)


def mentions(phrase: Phrase, text: str) -> bool:
    """True when `text` holds one of `phrase`'s expressions, in any language, however its
    letters are written (the text is normalised first)."""
    return _pattern(phrase).search(normalise_text(text)) is not None


@lru_cache(maxsize=1)
def _question() -> re.Pattern[str]:
    return re.compile(
        rf"[?？؟]|^\s*(?:{alternatives('question_openers')})\b"
        rf"|(?:{alternatives('question_particles')})",
        re.IGNORECASE,
    )


def asks_question(text: str) -> bool:
    """A question mark, a question word first, or a question particle anywhere."""
    return _question().search(normalise_text(text)) is not None
