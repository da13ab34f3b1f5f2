"""Forbidden claims: a promise or statement the bot must not make, caught only where it is
made, not where it is denied ("I can't promise you'll get your money back" is careful).

A reply is split into sentences; a claim counts in a sentence without a negation cue of the
case's language (`negation.json`, a small list per language). Both sides are compared in
`normalise_text` form.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from bot.domain.text import normalise_text

_CUES_FILE = Path(__file__).with_name("negation.json")
_UNSPACED = frozenset({"zh", "ja", "ko", "th"})
"""Languages whose words are not separated by spaces: cues match anywhere in a sentence."""
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|[。！？；\n]+|[؟۔।]\s*")


@lru_cache(maxsize=64)
def negation(language: str) -> re.Pattern[str] | None:
    """One pattern for the language's negation cues (None: no list for that language)."""
    cues: dict[str, list[str]] = json.loads(_CUES_FILE.read_text(encoding="utf-8"))
    words = cues.get(language)
    if not words:
        return None
    parts = []
    for cue in words:
        body = re.escape(normalise_text(cue.strip("*")))
        if language in _UNSPACED:
            parts.append(body)
            continue
        left = "" if cue.startswith("*") else r"(?<!\w)"
        right = "" if cue.endswith("*") else r"(?!\w)"
        parts.append(f"{left}{body}{right}")
    return re.compile("|".join(parts))


def sentences(text: str) -> list[str]:
    """The reply cut at sentence ends (Latin, CJK, Arabic and Devanagari punctuation, lines)."""
    return [part for part in _SENTENCE_END.split(text) if part and part.strip()]


def claims_made(reply: str, claims: Sequence[str], language: str) -> list[str]:
    """The claims `reply` makes in a sentence of its own that does not negate them."""
    if not claims:
        return []
    cues = negation(language)
    wanted = [(claim, normalise_text(claim)) for claim in claims]
    made: list[str] = []
    for sentence in sentences(reply):
        plain = normalise_text(sentence)
        if cues is not None and cues.search(plain):
            continue
        made.extend(claim for claim, form in wanted if form in plain and claim not in made)
    return made
