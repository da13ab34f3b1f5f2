"""Whether a translation or restating turned a deadline into a delay: the sentences tie a figure
to a bound ("within 7 days", "innerhalb von 14 Tagen") and the new text ties a figure to a time
after which something happens ("7 दिनों के बाद", "after 14 days"). The figures survive such a
change, so the figure checks cannot see it; read in code from per-language words
(`deadlines.json`), only next to a figure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from bot.agent.facts.polarity import cue_pattern, word_lists
from bot.domain.text import normalise_text

NEAR = 25
"""Characters between a cue and a figure for the cue to speak of that figure ("within 10 business
days", "7 दिनों के भीतर"); the answering sentences are read this loosely for both kinds, so any
"after" near their figures leaves the check out..."""
BESIDE = 8
"""...while a delay in the new text counts only right beside its figure ("after 7 days",
"7 दिनों के बाद", "7天后"): "die Lieferung nach Österreich: 1–2 Werktage" (German "nach" is also
"to") is no delay."""
_FIGURE = re.compile(r"\d+")


def _words() -> dict[str, dict[str, list[str]]]:
    return word_lists("deadlines")


@lru_cache(maxsize=128)
def _cues(kind: str, language: str) -> re.Pattern[str] | None:
    words = _words()[kind].get(language)
    if not words:
        return None
    return re.compile("|".join(cue_pattern(normalise_text(word), language) for word in words))


def _ties(text: str, kind: str, language: str, near: int = NEAR) -> bool:
    """Whether `text` holds a cue of `kind` within `near` characters of a figure."""
    cues = _cues(kind, language)
    if cues is None:
        return False
    plain = normalise_text(text)
    figures = [(found.start(), found.end()) for found in _FIGURE.finditer(plain)]
    for cue in cues.finditer(plain):
        for start, end in figures:
            if 0 <= start - cue.end() <= near or 0 <= cue.start() - end <= near:
                return True
    return False


def turns_deadline_into_delay(
    sentences: Sequence[str], source: str, text: str, language: str
) -> bool:
    """Whether `text` (in `language`) says "after" next to a figure, and "within" next to none,
    where `sentences` (in `source`) bound a figure ("within") and say no "after" next to one: a
    Hindi translation of "within 7 days" read "after 7 days". "配送后60天内" ("within 60 days
    after delivery") keeps its bound. Languages without words here are never flagged."""
    stated = " ".join(sentences)
    if not _ties(stated, "within", source) or _ties(stated, "after", source):
        return False
    return _ties(text, "after", language, BESIDE) and not _ties(text, "within", language)
