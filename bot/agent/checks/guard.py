"""Checks on what the bot is about to say and on the passages it may quote.

A reply that fails here is not sent: the pipeline falls back to a quoted passage or a person.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.agent.phrases import alternatives
from bot.agent.prompts import without_citations
from bot.domain.text import normalise_text
from knowledge.language import language_scripts, script_runs, script_weight

# Instructions aimed at the assistant, in passages, order notes or a shopper's message. Phrases
# in the sixteen shop languages (`phrases.json`, "injection"); a passage carrying one is data
# that tries to steer the bot.
# The general form is a verb of ignoring and, a few words later, the bot's instructions or
# rules (the verb last in Japanese, Korean and Turkish), so "ignore all the previous
# instructions" is caught as well as "ignore the instructions". Verbs of forgetting only with
# a qualifier: "don't forget to read the instructions" is ordinary text in a shop's documents.
_INJECTION = re.compile(alternatives("injection"), re.IGNORECASE)

# Outcomes nobody may promise: a dispute's result, money beyond what the tools did.
_FORBIDDEN = re.compile(alternatives("promises"), re.IGNORECASE)


# A small model writing Thai (or another script it saw little of) sometimes slips into Chinese
# or Cyrillic mid-sentence, or into English, or emits broken characters. Words the passages
# contain (product names, brands, a quoted term) are fine in any script; beyond them, another
# non-Latin script is not tolerated at all and Latin only as a small share of the reply.
_STRAY_SCRIPT_WEIGHT = 2
"""Unexplained letters of another non-Latin script up to this weight (one stray letter) pass."""
_LATIN_SHARE = 0.25
"""Unexplained Latin letters in a reply in a non-Latin language may be up to this share..."""
_COPIED_LATIN_SHARE = 0.45
"""...and all Latin letters up to this one: names are short, a copied English sentence is not."""
# Thai vowel and tone marks must follow a consonant (or another mark); a leading vowel must be
# followed by one; two tone marks never stand together. Otherwise the word is broken.
_BROKEN_THAI = re.compile(
    r"(?<![\u0e01-\u0e2e\u0e31\u0e34-\u0e3a\u0e47-\u0e4e])[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]"
    r"|[\u0e48-\u0e4b]{2}|[\u0e40-\u0e44](?![\u0e01-\u0e2e])"
)


def script_problem(reply: str, language: str, sources: Iterable[str] = ()) -> str | None:
    """Why `reply` is not cleanly written in `language`'s script, or None when it is.

    `sources` (the cited passages, document and section names) explain words in other
    scripts: a product or brand name copied from them is not a slip."""
    if "\ufffd" in reply:
        return "reply contains broken characters"
    if language == "th" and _BROKEN_THAI.search(reply):
        return "reply contains broken Thai words"
    allowed = language_scripts(language)
    known = " ".join(sources).casefold()
    total = stray = latin = copied = 0
    strays: list[str] = []
    for script, run in script_runs(without_citations(reply)):
        weight = script_weight(script, run)
        total += weight
        if script == "latin" and script not in allowed:
            copied += weight
        if script in allowed or run.casefold() in known:
            continue
        strays.append(run)
        if script == "latin":
            latin += weight
        else:
            stray += weight
    if stray > _STRAY_SCRIPT_WEIGHT:
        return f"reply mixes in another script: {' '.join(strays)[:40]!r}"
    if (latin and latin > _LATIN_SHARE * total) or copied > _COPIED_LATIN_SHARE * total:
        return "reply is largely in Latin letters"
    return None


_ECHO_MIN_CHARACTERS = 6


def repeats_question(reply: str, question: str) -> bool:
    """True when the reply says nothing but (a part of) the shopper's own question: a small
    model sometimes echoes a question it cannot answer, in the right language and script."""
    said = _letters_and_digits(without_citations(reply))
    return len(said) >= _ECHO_MIN_CHARACTERS and said in _letters_and_digits(question)


def _letters_and_digits(text: str) -> str:
    return "".join(char for char in text.casefold() if char.isalnum())


def looks_like_injection(text: str) -> bool:
    """True when the text tries to give the assistant instructions, however its letters are
    written (zero-width characters, look-alikes, full-width forms are undone first)."""
    return _INJECTION.search(normalise_text(text)) is not None


@dataclass(frozen=True)
class Verdict:
    """Whether a reply may be sent, and if not, why."""

    ok: bool
    reason: str = ""


def check_reply(
    reply: str,
    *,
    expected_language: str,
    detected_language: str | None,
    performed_refund: bool = False,
    sources: Iterable[str] = (),
) -> Verdict:
    """A reply must be non-empty, in the shopper's language and its script (words of `sources`
    aside), free of injected instructions and of promises the tools did not make."""
    text = reply.strip()
    if not text:
        return Verdict(False, "empty reply")
    if "NO_ANSWER" in text:
        return Verdict(False, "the model found no answer in the passages")
    if detected_language is not None and detected_language != expected_language:
        return Verdict(False, f"reply in {detected_language}, shopper writes {expected_language}")
    problem = script_problem(text, expected_language, sources)
    if problem is not None:
        return Verdict(False, problem)
    if looks_like_injection(text):
        return Verdict(False, "reply repeats an injected instruction")
    found = _FORBIDDEN.search(normalise_text(text))
    if found and not performed_refund:
        return Verdict(False, f"reply promises what no tool did: {found.group(0)!r}")
    return Verdict(True)
