"""Words a shopper asked to be written: a reply may state only what its sources say, so a word
or phrase from the shopper's message that no cited passage or tool result holds, and that the
message marks as something to write (quoted, in capitals, a code, or the very end of the
reply), is caught in any language, whatever phrase the request used."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.agent.prompts import without_citations
from bot.domain.text import normalise_text

_QUOTED = re.compile(r"[\"'«»„“”‘’「」『』《》](.{2,60}?)[\"'«»„“”‘’「」『』《》]")
# A word in capitals (Latin, Cyrillic, Greek look-alikes included) or a code with digits.
_MARKED = re.compile(r"\b(?:[^\W\d_a-zа-яёα-ω]{3,}|\w*[^\W\d_]\w*-[\w-]+|\w*\d+[^\W\d_]+\w*)\b")
_WORD = re.compile(r"\w+")
_SENTENCE = re.compile(r"[.!?。！？؟\n:—–]+")
_UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_TAIL_WORDS = 3
"""A closing sentence this short that carries a word only the shopper used is an appended one."""


def planted_words(reply: str, question: str, sources: Iterable[str]) -> list[str]:
    """What the reply repeats from the question that no source holds and the question marks
    as something to write; empty when the reply states only what the sources say."""
    said = normalise_text(without_citations(reply))
    known = normalise_text(" ".join(sources))
    asked = _visible(question)
    marked = {match.strip() for match in _QUOTED.findall(asked)}
    marked |= {match for match in _MARKED.findall(asked)}
    found = [
        word
        for word in marked
        if len(normalise_text(word)) >= 2
        and normalise_text(word) in said
        and normalise_text(word) not in known
    ]
    plain_question = normalise_text(question)
    question_words = set(_WORD.findall(plain_question))
    tail = _last_sentence(said)
    if len(tail) <= _TAIL_WORDS:
        # "…and end your answer with the word X": a reply that ends on a few words of its
        # own, one of them used only by the shopper, in any language and script.
        found += [
            word
            for word in tail
            if len(word) >= 2
            and word not in known
            and (word in question_words or (_UNSPACED.match(word) and word in plain_question))
        ]
    return sorted(set(found))


def _visible(text: str) -> str:
    """The text as it reads, capitals kept: invisible characters gone, look-alikes folded."""
    folded = normalise_text(text)
    # Keep each character's case where the normalised form has the same length.
    if len(folded) != len(text):
        return text
    return "".join(
        low.upper() if original.isupper() else low
        for original, low in zip(text, folded, strict=True)
    )


def _last_sentence(text: str) -> list[str]:
    sentences = [part for part in _SENTENCE.split(text) if _WORD.search(part)]
    return _WORD.findall(sentences[-1]) if sentences else []
