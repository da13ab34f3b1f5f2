"""Model-free handoff cues: anger, legal or safety topics, payment disputes, asking for a person.

Each detector reads the message with the multilingual lexicon in `lexicon.json` (plus punctuation
and capitals for anger) and returns a `HandoffSignal` carrying the `HandoffReason` to record, or
None. They cost microseconds and do not depend on the LLM, so a handoff never waits for a model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

from bot.domain.conversation import HandoffReason

Cue = Literal[
    "human", "dispute", "cancel", "exchange", "return", "anger_strong", "anger_mild", "legal_safety"
]
CUES: tuple[Cue, ...] = (
    "human",
    "dispute",
    "cancel",
    "exchange",
    "return",
    "anger_strong",
    "anger_mild",
    "legal_safety",
)

# Written without spaces between words: a cue may start anywhere (Arabic: clitics such as و, ب, ال).
# Hebrew too: its prepositions and articles are written onto the word (במשטרה, לבנק).
_UNSEGMENTED = frozenset({"ar", "he", "zh", "ja", "th"})

# Languages so close that the detector takes one for the other in a short message (Indonesian
# as Malay, Danish as Norwegian, Czech as Slovak or Polish, Ukrainian as Russian): a cue is
# looked for in the detected language's relatives too, so a misread never silences it.
_RELATIVES: dict[str, tuple[str, ...]] = {
    "id": ("ms",),
    "ms": ("id",),
    "da": ("nb", "nn", "sv"),
    "nb": ("da", "nn", "sv"),
    "nn": ("nb", "da", "sv"),
    "sv": ("da", "nb"),
    "cs": ("sk",),
    "sk": ("cs",),
    "pl": ("cs", "sk"),
    "uk": ("ru",),
    "ru": ("uk",),
    "be": ("uk", "ru"),
    "bg": ("uk", "ru"),
    "mk": ("uk", "ru"),
    "mr": ("hi",),
    "ne": ("hi",),
    "ur": ("fa", "ar"),
}

_ANGER_THRESHOLD = 2.0
"""Strong anger: a strong word alone, or a milder word with shouting (`!!`, capitals, 😡)."""
_SHOUT_RUN = re.compile(r"[!！]{2,}|[?？][!！]|[!！][?？]")
_ANGRY_EMOJI = re.compile("[\U0001f620\U0001f621\U0001f92c\U0001f624\U0001f595]")
_MIN_CAPS_LETTERS = 8
_CAPS_RATIO = 0.7


@dataclass(frozen=True)
class HandoffSignal:
    """A reason to hand the thread to a person, with the words that triggered it."""

    reason: HandoffReason
    evidence: str


class Lexicon:
    """Compiled cue patterns per language; `match` finds a cue in any of the given languages."""

    def __init__(self, patterns: dict[str, dict[str, list[str]]]) -> None:
        self._compiled: dict[str, dict[str, re.Pattern[str]]] = {}
        for cue in CUES:
            by_language = patterns.get(cue, {})
            self._compiled[cue] = {
                language: _compile(language, expressions)
                for language, expressions in by_language.items()
                if expressions
            }
        self.languages = frozenset(
            language for by_language in self._compiled.values() for language in by_language
        )

    def match(self, cue: Cue, text: str, languages: Iterable[str] | None = None) -> str | None:
        """The first text in `text` matching `cue` in one of `languages` (all when None)."""
        normalised = normalise(text)
        compiled = self._compiled[cue]
        chosen = compiled.keys() if languages is None else _with_english(languages)
        for language in chosen:
            pattern = compiled.get(language)
            if pattern is None:
                continue
            found = pattern.search(normalised)
            if found:
                return found.group(0)
        return None

    def count(self, cue: Cue, text: str, languages: Iterable[str] | None = None) -> int:
        """How many distinct `cue` matches `text` holds across `languages` (all when None)."""
        normalised = normalise(text)
        compiled = self._compiled[cue]
        chosen = compiled.keys() if languages is None else _with_english(languages)
        found: set[str] = set()
        for language in chosen:
            pattern = compiled.get(language)
            if pattern is not None:
                found.update(match.group(0) for match in pattern.finditer(normalised))
        return len(found)


def _with_english(languages: Iterable[str]) -> list[str]:
    """Shoppers mix English words ("cancel", "refund") into every language; close relatives
    (`_RELATIVES`) are read too."""
    chosen = list(languages)
    related = [relative for language in chosen for relative in _RELATIVES.get(language, ())]
    return list(dict.fromkeys([*chosen, *related, "en"]))


def _compile(language: str, expressions: list[str]) -> re.Pattern[str]:
    start = "" if language in _UNSEGMENTED else r"(?<!\w)"
    alternatives = "|".join(f"(?:{expression})" for expression in expressions)
    return re.compile(f"{start}(?:{alternatives})", re.IGNORECASE)


def normalise(text: str) -> str:
    """Lower-case with Turkish dotted capital I folded to a plain i, full-width marks kept."""
    return text.replace("İ", "i").lower()


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The lexicon shipped with Parley (`bot/agent/lexicon.json`), loaded once."""
    raw = resources.files("bot.agent").joinpath("lexicon.json").read_text(encoding="utf-8")
    data = json.loads(raw)
    return Lexicon({key: value for key, value in data.items() if not key.startswith("_")})


def anger_score(text: str, languages: Iterable[str] | None = None) -> float:
    """How angry a message reads: 2 per strong word, 1 per mild word, 1 each for shouting cues."""
    lexicon = default_lexicon()
    langs = None if languages is None else list(languages)
    score = 2.0 * lexicon.count("anger_strong", text, langs)
    score += 1.0 * lexicon.count("anger_mild", text, langs)
    if _SHOUT_RUN.search(text):
        score += 1.0
    if _ANGRY_EMOJI.search(text):
        score += 1.0
    cased = [char for char in text if char.isalpha() and char.lower() != char.upper()]
    if len(cased) >= _MIN_CAPS_LETTERS:
        upper = sum(1 for char in cased if char.isupper())
        if upper / len(cased) >= _CAPS_RATIO:
            score += 1.0
    return score


def detect_anger(text: str, languages: Iterable[str] | None = None) -> HandoffSignal | None:
    """Strong anger (see `anger_score`), or None for calm or mildly annoyed messages."""
    langs = None if languages is None else list(languages)
    score = anger_score(text, langs)
    if score < _ANGER_THRESHOLD:
        return None
    lexicon = default_lexicon()
    word = lexicon.match("anger_strong", text, langs) or lexicon.match("anger_mild", text, langs)
    return HandoffSignal(
        HandoffReason.ANGER, f"anger score {score:g}" + (f": {word}" if word else "")
    )


def detect_legal_or_safety(
    text: str, languages: Iterable[str] | None = None
) -> HandoffSignal | None:
    """A lawyer, the police, an injury, a fire, an allergic reaction...: a person must answer."""
    found = default_lexicon().match("legal_safety", text, languages)
    return HandoffSignal(HandoffReason.LEGAL_OR_SAFETY, found) if found else None


def detect_human_request(text: str, languages: Iterable[str] | None = None) -> HandoffSignal | None:
    """The shopper asks for a person, an agent or a manager."""
    found = default_lexicon().match("human", text, languages)
    return HandoffSignal(HandoffReason.SHOPPER_ASKED, found) if found else None


def detect_dispute(text: str, languages: Iterable[str] | None = None) -> HandoffSignal | None:
    """A chargeback or payment-dispute threat, a double or unauthorised charge."""
    found = default_lexicon().match("dispute", text, languages)
    return HandoffSignal(HandoffReason.DISPUTE, found) if found else None


def handoff_signals(text: str, languages: Iterable[str] | None = None) -> list[HandoffSignal]:
    """Every handoff cue in `text`, most pressing first (safety, dispute, person, anger)."""
    langs = None if languages is None else list(languages)
    detectors = (detect_legal_or_safety, detect_dispute, detect_human_request, detect_anger)
    return [signal for detector in detectors if (signal := detector(text, langs)) is not None]
