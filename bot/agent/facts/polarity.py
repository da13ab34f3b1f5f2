"""Whether a reply says the opposite of its answering sentences: a "yes" to what they deny, a
"no" to what their own "yes" affirms, or one of their clauses with its negation dropped or added.
Read in code from per-language words (`polarity.json`), so a small model's fluent but inverted
restating ("Oui, vous pouvez payer à la livraison" from "Nous ne proposons pas le paiement à la
livraison") is quoted instead of sent."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

from bot.domain.text import normalise_text

_UNSPACED = frozenset({"zh", "ja", "ko", "th"})
"""Languages written without spaces between words: cues match anywhere, clauses are not compared."""
_SAME_CLAUSE = 0.75
"""Two clauses say the same thing when their shared words make up this much of each."""
_SHARED_WORDS = 2
_STEM = 5
_OPENER_END = r"\s*[,.!:;،؛、，。！：；—–-]"
_LEAD = re.compile(r"^[\W_]+")
_CLAUSE_END = re.compile(r"[,;:.!?()\[\]\"«»“”—–؛،؟।]+")
_MARKS = "\u0300-\u036f\u064b-\u065f\u0670\u0900-\u0dff"
"""Combining marks Python's \\w leaves out: accents, Arabic vowels, and the vowel signs of the
Indic scripts (whose blocks are taken whole), so "न" at the end of "भुगतान" is no word of its own."""
_LETTER = rf"[^\W_{_MARKS}]|[{_MARKS}]"
_WORD = re.compile(rf"(?:(?!\d){_LETTER})+")


@lru_cache(maxsize=4)
def word_lists(name: str) -> dict[str, dict[str, list[str]]]:
    """The cue words of this package's `name`.json, by kind and language (keys that start
    with `_` are notes)."""
    raw = resources.files("bot.agent.facts").joinpath(f"{name}.json").read_text(encoding="utf-8")
    data: dict[str, dict[str, list[str]]] = json.loads(raw)
    return {kind: words for kind, words in data.items() if not kind.startswith("_")}


def _words() -> dict[str, dict[str, list[str]]]:
    return word_lists("polarity")


def cue_pattern(word: str, language: str) -> str:
    """A regular expression for one cue word of `language`: whole words, except where a `*`
    lets it end or begin a longer one; anywhere in languages written without spaces."""
    body = re.escape(word.strip("*"))
    if language in _UNSPACED:
        return body
    start = "" if word.startswith("*") else rf"(?<![\w{_MARKS}])"
    end = "" if word.endswith("*") else rf"(?![\w{_MARKS}])"
    return f"{start}{body}{end}"


@lru_cache(maxsize=64)
def _denial(language: str) -> re.Pattern[str] | None:
    cues = _words()["not"].get(language)
    if not cues:
        return None
    return re.compile("|".join(cue_pattern(normalise_text(cue), language) for cue in cues))


@lru_cache(maxsize=128)
def _opener(kind: str, language: str) -> re.Pattern[str] | None:
    words = _words()[kind].get(language)
    if not words:
        return None
    longest_first = sorted((normalise_text(word) for word in words), key=len, reverse=True)
    return re.compile(f"^(?:{'|'.join(map(re.escape, longest_first))}){_OPENER_END}")


def _normalised(text: str) -> str:
    return normalise_text(text).replace("\u2019", "'")


def denies(text: str, language: str) -> bool:
    """Whether `text` holds one of `language`'s negation cues ("not", "ne ... pas", "nicht")."""
    pattern = _denial(language)
    return pattern is not None and pattern.search(_normalised(text)) is not None


def _costless(text: str, language: str) -> bool:
    """Whether `text` denies a charge ("no charge", "aucuns frais"): it says a thing is free,
    which a "yes, it is free" restates."""
    text = _normalised(text)
    return any(normalise_text(phrase) in text for phrase in _words()["free"].get(language, []))


def _opens_with(kind: str, text: str, language: str) -> bool:
    pattern = _opener(kind, language)
    return pattern is not None and pattern.match(_LEAD.sub("", _normalised(text))) is not None


def _clauses(text: str, language: str) -> list[tuple[set[str], bool]]:
    """Each clause of `text` as its longer words (cut to a stem) and whether it denies."""
    pattern = _denial(language)
    found = []
    for clause in _CLAUSE_END.split(_normalised(text)):
        cues = set(pattern.findall(clause)) if pattern is not None else set()
        words = {
            word[:_STEM] for word in _WORD.findall(clause) if len(word) >= 4 and word not in cues
        }
        if words:
            found.append((words, bool(cues)))
    return found


def _turned_clause(reply: str, sentences: Sequence[str], language: str) -> bool:
    """Whether a clause of the reply says what a clause of the sentences says, with the
    negation dropped or added."""
    said = [clause for sentence in sentences for clause in _clauses(sentence, language)]
    for words, denied in _clauses(reply, language):
        for other, other_denied in said:
            shared = len(words & other)
            if (
                denied != other_denied
                and shared >= _SHARED_WORDS
                and shared >= _SAME_CLAUSE * max(len(words), len(other))
            ):
                return True
    return False


def _answered_denies(reply: str, sentences: Sequence[str], language: str) -> bool:
    """Whether the sentence a "yes" answers denies more than a charge: among sentences that deny
    and sentences that affirm ("We accept PayPal. We do not accept cheques."), the one sharing
    the most words with the reply (names and figures cross languages); when none shares more,
    any that denies, as quoting is the safe side."""
    denying = [
        denies(sentence, language) and not _costless(sentence, language) for sentence in sentences
    ]
    if not any(denying) or all(denying):
        return any(denying)
    words = _stems(reply)
    shared = [len(words & _stems(sentence)) for sentence in sentences]
    best = max(shared)
    return any(deny for deny, count in zip(denying, shared, strict=True) if count == best)


def _stems(text: str) -> set[str]:
    return {word[:_STEM] for word in _WORD.findall(_normalised(text)) if len(word) >= 4}


def contradicts(
    reply: str, sentences: Sequence[str], language: str, sentences_language: str = ""
) -> bool:
    """Whether `reply` (in `language`) says the opposite of `sentences` (in `sentences_language`,
    the same when empty): it opens with "yes" and denies nothing while they deny (other than a
    charge: "no fee" says free); it opens with "no" where they open with "yes"; or, in one
    language, it turns one of their clauses around."""
    source = sentences_language or language
    # A small model sometimes answers in the document's language or in English instead.
    written_in = dict.fromkeys([language, source, "en"])
    says_yes = any(_opens_with("yes", reply, code) for code in written_in)
    says_no = any(_opens_with("no", reply, code) for code in written_in)
    reply_denies = any(denies(reply, code) for code in written_in)
    if says_yes and not reply_denies and _answered_denies(reply, sentences, source):
        return True
    they_deny = any(denies(sentence, source) for sentence in sentences)
    they_say_yes = any(_opens_with("yes", sentence, source) for sentence in sentences)
    if they_say_yes and not they_deny and says_no:
        return True
    if source == language and language not in _UNSPACED:
        return _turned_clause(reply, sentences, language)
    return False
