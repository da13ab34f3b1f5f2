"""Whether a model's answer may be sent: the guard, the grounding of its figures, and where a
growing answer's sentences end (a streamed answer is released one checked sentence at a time)."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import anyio

from bot.agent.checks.echo import planted_words
from bot.agent.checks.grounding import (
    price_answered_with_time,
    ungrounded_figures,
    unstated_identifiers,
)
from bot.agent.checks.guard import check_reply, repeats_question
from bot.agent.prompts import without_citations
from knowledge import Passage
from knowledge.language import LanguageIdentifier

log = logging.getLogger(__name__)

_SENTENCE_END = re.compile(r"[.!?؟](?:\s*\[\d+\])*(?=\s)|[。！？](?:\s*\[\d+\])*|\n")


async def passes_checks(
    reply: str,
    *,
    question: str,
    language: str,
    passages: list[Passage],
    identifier: LanguageIdentifier,
    facts: Sequence[str] | None = None,
    instruction: str = "",
) -> bool:
    """The guard's checks, and no figure (number with its unit, currency), e-mail address, web
    address or code that `facts` do not state: the sentences the reply restates (and the
    question), or else the passages, not merely somewhere in them.

    `identifier` reads the reply's language among the shopper's and English; `instruction` is
    what was cut from the shopper's message after `question` as aimed at the bot (its words
    asked to be written are looked for too)."""
    guess = await anyio.to_thread.run_sync(identifier.detect, reply, None)
    verdict = check_reply(
        reply,
        expected_language=language,
        detected_language=guess.code,
        sources=[text for p in passages for text in (p.text, p.document, p.section)],
    )
    if not verdict.ok:
        log.info("guard rejected the model's reply: %s", verdict.reason)
        return False
    if repeats_question(reply, question):
        log.info("model's reply only repeats the question: %r", reply[:40])
        return False
    asked = f"{question} {instruction}" if instruction else question
    planted = planted_words(reply, asked, [passage.text for passage in passages])
    if planted:
        log.info("model's reply repeats words only the shopper wrote: %s", planted)
        return False
    sources = list(facts) if facts is not None else [passage.text for passage in passages]
    ungrounded = ungrounded_figures(reply, sources)
    if ungrounded:
        log.info("model's reply states figures its sentences do not: %s", ungrounded)
        return False
    unstated = unstated_identifiers(reply, sources)
    if unstated:
        log.info("model's reply writes addresses or codes its sentences do not: %s", unstated)
        return False
    durations = price_answered_with_time(question, reply)
    if durations:
        log.info("model's reply gives durations for a price: %s", durations)
        return False
    return True


def sentences_end(text: str) -> int:
    """Where the last complete sentence of a growing answer ends (0 if none has yet).

    A full stop counts only once whitespace follows it, so "14.90" is never cut in two."""
    ends = [match.end() for match in _SENTENCE_END.finditer(text)]
    return ends[-1] if ends else 0


def says_something(text: str) -> bool:
    """More than citation marks and punctuation."""
    return any(char.isalnum() for char in without_citations(text))
