"""Which language a text is written in: the one detector of Parley (script first).

`LanguageIdentifier.preferring(store languages)` reads a shopper's message among every language
lingua knows (75): script first (Hangul is Korean, kana is Japanese, Thai is Thai: no statistics
needed), then the letters (ї is Ukrainian, ș is Romanian), then fastText's compact model
among the languages left, lingua's trigrams among fastText's few likeliest when it is unsure,
and the words of a code-switched message (`knowledge.language_ranking`), the store's languages
winning what is still close. `LanguageIdentifier(languages)` reads a text only among the
given languages with lingua (a reply among the shopper's language and English). Very short
messages ("ok", "ja", "#W0000001", an emoji) keep the conversation's language, and the
conversation's language also wins a close call, so code-switching does not flip it back and
forth. `detect_language` tags a
document or a chunk being indexed, and says "und" when a text is too short to tell.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Self

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from knowledge import language_ranking
from knowledge.errors import UnsupportedLanguage

DEFAULT_LANGUAGES = (
    "en", "de", "fr", "es", "it", "pt", "nl", "sv", "da", "nb", "fi", "pl", "cs", "ja", "zh",
    "ko", "ar", "ru", "tr", "el", "hi", "th", "vi", "uk", "ro", "hu", "he", "id",
)  # fmt: skip
UNKNOWN = "und"
"""BCP 47's "undetermined": too little text to tell."""
_MIN_LETTERS = 6
_lock = threading.Lock()
"""One document detection at a time (ingestion threads share the detector)."""


def detect_language(
    text: str,
    languages: Iterable[str] = DEFAULT_LANGUAGES,
    default: str = UNKNOWN,
) -> str:
    """ISO 639-1 code of `text`'s language among `languages`, or `default` when unsure."""
    allowed = tuple(sorted(set(languages)))
    if len(allowed) == 1:
        return allowed[0]
    letters = sum(1 for char in text if char.isalpha())
    if letters < _MIN_LETTERS:
        return default
    known = frozenset(code for code in allowed if hasattr(IsoCode639_1, code.upper()))
    with _lock:
        detector = _detector(known if len(known) >= 2 else frozenset({"en", "de"}), preload=False)
        values = detector.compute_language_confidence_values(text[:2000])
    if not values:
        return default
    best = values[0]
    if best.value < 0.25 and letters < 40:
        return default
    return str(best.language.iso_code_639_1.name.lower())


# The scripts a language is written in; every lingua language not listed is written in Latin.
_SCRIPTS: dict[str, frozenset[str]] = {
    "ar": frozenset({"arabic"}),
    "fa": frozenset({"arabic"}),
    "ur": frozenset({"arabic"}),
    "he": frozenset({"hebrew"}),
    "el": frozenset({"greek"}),
    "ru": frozenset({"cyrillic"}),
    "uk": frozenset({"cyrillic"}),
    "be": frozenset({"cyrillic"}),
    "bg": frozenset({"cyrillic"}),
    "mk": frozenset({"cyrillic"}),
    "kk": frozenset({"cyrillic"}),
    "mn": frozenset({"cyrillic"}),
    "sr": frozenset({"cyrillic", "latin"}),
    "zh": frozenset({"han"}),
    "ja": frozenset({"han", "kana"}),
    "ko": frozenset({"hangul", "han"}),
    "th": frozenset({"thai"}),
    "hi": frozenset({"devanagari"}),
    "mr": frozenset({"devanagari"}),
    "bn": frozenset({"bengali"}),
    "gu": frozenset({"gujarati"}),
    "pa": frozenset({"gurmukhi"}),
    "ta": frozenset({"tamil"}),
    "te": frozenset({"telugu"}),
    "ka": frozenset({"georgian"}),
    "hy": frozenset({"armenian"}),
}
_LATIN = frozenset({"latin"})

# One ideograph, kana or Hangul syllable carries about as much as a short Latin word.
_SCRIPT_WEIGHT = {"han": 3, "kana": 3, "hangul": 3}

# Order numbers, prices, links and addresses say nothing about the language. An email is
# matched by its ASCII characters only: in Japanese or Chinese it is often glued to the
# sentence before it ("返品したいです。anna@example.com"), which must stay.
_NOISE = re.compile(
    r"https?://\S+|www\.\S+|[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"
    r"|[#@]?[A-Za-z0-9_\-./]*\d[A-Za-z0-9_\-./]*",
    re.IGNORECASE,
)

_SHORT_WORDS = 1
"""A message of this many words or fewer keeps the conversation's language."""
_SHORT_WEIGHT = 4
"""...and so does one with fewer than this many script-weighted letters."""
_CLOSE_CALL = 0.4
"""The conversation's language is kept while its confidence is at least this share of the top."""
_CLOSE_CALL_WORDS = 5
"""Close calls are only given to the conversation's language for messages shorter than this."""
_MIXED_BELOW = 0.7
_MIXED_WORDS = 6
"""A message this long whose top language is below that confidence may be code-switched:
it is split into runs and the language with the most words wins."""
_OVERTURN = 2 / 3
"""A surer read of a message (of every language) yields to the words only when this share of
them is in another language: "Quick question, Rückgabe ist kostenlos? Is return shipping free
within the EU?" is English, "kurze Frage: the first inspection for my new bike, ist die
kostenlos?" is still German (an English phrase in a German question)."""


@dataclass(frozen=True)
class LanguageGuess:
    """The language of one message: an ISO 639-1 code, how sure, and whether it was carried over."""

    code: str
    confidence: float
    carried: bool
    """True when the message was too short or too close to call and kept the conversation's."""


@lru_cache(maxsize=1)
def supported_languages() -> frozenset[str]:
    """Every ISO 639-1 code the detector can tell apart."""
    return frozenset(language.iso_code_639_1.name.lower() for language in Language.all())


_KNOWN_SCRIPTS = frozenset(
    {"latin", "cyrillic", "arabic", "hebrew", "greek", "thai", "devanagari", "bengali"}
    | {"gujarati", "gurmukhi", "tamil", "telugu", "georgian", "armenian"}
)


def language_scripts(code: str) -> frozenset[str]:
    """The scripts `code` is written in (Latin for every language not listed otherwise)."""
    return _SCRIPTS.get(code, _LATIN)


def script_runs(text: str) -> list[tuple[str, str]]:
    """The text's letters as (script, run) pairs: maximal stretches of one script, so a Thai
    sentence with a Chinese word in it gives the Chinese word as a run of its own."""
    runs: list[tuple[str, str]] = []
    script: str | None = None
    start = 0
    for position, char in enumerate(text):
        current = _script_of(char)
        if current is None and (char.isalpha() or unicodedata.category(char) in ("Mn", "Mc")):
            # Scripts no store language uses (Lao, Khmer...) are runs too; vowel and tone
            # marks (Thai, Devanagari) belong to their script, generic accents to the letter.
            first = unicodedata.name(char, "").split(" ", 1)[0].lower()
            current = script if first in ("combining", "") else first
        if current != script:
            if script is not None:
                runs.append((script, text[start:position]))
            script, start = current, position
    if script is not None:
        runs.append((script, text[start:]))
    return runs


def script_weight(script: str, run: str) -> int:
    """How much a run of letters weighs: an ideograph or syllable about as much as a word."""
    return len(run) * _SCRIPT_WEIGHT.get(script, 1)


def _script_of(char: str) -> str | None:
    code = ord(char)
    if 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF or 0xFF66 <= code <= 0xFF9D:
        return "kana"
    if 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
        return "hangul"
    if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF:
        return "han"
    if not char.isalpha():
        return None
    try:
        name = unicodedata.name(char)
    except ValueError:
        return None
    first = name.split(" ", 1)[0].lower()
    if first == "cjk":
        return "han"
    return first if first in _KNOWN_SCRIPTS else None


@lru_cache(maxsize=32)
def _detector(codes: frozenset[str], *, preload: bool = True) -> LanguageDetector:
    """Building a detector and loading its models takes seconds: once per language set.

    Messages need an answer at once, so their detectors load every model up front; documents
    are read in the background and load models as they need them (`preload=False`)."""
    isos = [getattr(IsoCode639_1, code.upper()) for code in sorted(codes)]
    builder = LanguageDetectorBuilder.from_iso_codes_639_1(*isos)
    if preload:
        builder = builder.with_preloaded_language_models()
    return builder.build()


_SWITCH_SURE = 0.9
"""A short message leaves the conversation's language only when the detector is this sure."""

# Cyrillic letters each language writes: a letter outside a language's alphabet rules it out
# (і and ї are Ukrainian, ы is not; ѓ and ќ are Macedonian); statistics miss that on short text.
_RUSSIAN = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
_CYRILLIC_ALPHABETS = {
    "ru": frozenset(_RUSSIAN),
    "uk": frozenset("абвгґдеєжзиіїйклмнопрстуфхцчшщьюя"),
    "be": frozenset("абвгдеёжзійклмнопрстуўфхцчшыьэюя"),
    "bg": frozenset("абвгдежзийклмнопрстуфхцчшщъьюя"),
    "mk": frozenset("абвгдѓежзѕијклљмнњопрстќуфхцчџш"),
    "sr": frozenset("абвгдђежзијклљмнњопрстћуфхцчџш"),
    "kk": frozenset(_RUSSIAN + "әғқңөұүһі"),
    "mn": frozenset(_RUSSIAN + "өү"),
}

# Letters beyond a-z each Latin-script language writes. Two or more words with a letter outside
# a language's set rule it out ("Det här är ett rent bedrägeri" is not Italian, "Vă rog să mă
# transferați" is not Albanian); one such word may be a name or a loanword ("Łódź", "café").
_LATIN_LETTERS = {
    "en": "", "id": "", "ms": "", "la": "", "tl": "",
    "de": "äöüß", "sv": "åäöé", "da": "æøåé", "nb": "æøåéèóòâô", "nn": "æøåéèóòâô",
    "fi": "äöåšž", "is": "áéíóúýþæöð", "fr": "àâæçéèêëîïôœùûüÿ", "es": "áéíóúüñ",
    "pt": "áâãàçéêíóôõúü", "it": "àèéìíîòóùú", "ca": "àçéèíïòóúü", "ro": "ăâîșțşţ",
    "pl": "ąćęłńóśźż", "cs": "áčďéěíňóřšťúůýž", "sk": "áäčďéíĺľňóôŕšťúýž",
    "sl": "čšžćđ", "hr": "čćđšž", "bs": "čćđšž", "hu": "áéíóöőúüű", "tr": "çğıöşüâîû",
    "az": "çəğıöşü", "et": "äöõüšž", "lv": "āčēģīķļņšūž", "lt": "ąčęėįšųūž",
    "nl": "éëïóöüèáà", "sq": "çë", "eu": "ñ", "af": "êëéèîïôûŉ", "ga": "áéíóú",
    "cy": "âêîôûŵŷáéíóúàèìòùäëïöü", "eo": "ĉĝĥĵŝŭ", "mi": "āēīōū", "st": "š", "tn": "êô",
    "yo": "áàéèẹíìóòọṣúù", "so": "", "sw": "", "zu": "", "xh": "", "ts": "", "lg": "", "sn": "",
    "vi": "àáâãèéêìíòóôõùúýăđĩũơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ",
}  # fmt: skip
_LATIN_SETS = {code: frozenset(letters) for code, letters in _LATIN_LETTERS.items()}
_FOREIGN_WORDS = 2

_DEFAULT = "en"
"""The language of a message without a letter, when the store prefers none."""


class LanguageIdentifier:
    """Detects message languages for one store; cheap to create, detectors are shared.

    `LanguageIdentifier(languages)` reads a text only among `languages`;
    `LanguageIdentifier.preferring(languages)` reads it among every language, preferring those."""

    def __init__(
        self, languages: Iterable[str], *, only: bool = True, code_switching: bool = True
    ) -> None:
        codes = [code.strip().lower() for code in languages if code.strip()]
        if not codes and only:
            raise UnsupportedLanguage("a store needs at least one language")
        unknown = sorted(set(codes) - supported_languages())
        if unknown:
            raise UnsupportedLanguage(f"unsupported language codes: {', '.join(unknown)}")
        self.languages = tuple(dict.fromkeys(codes))
        """The store's languages, first one the default (empty: no preference)."""
        self.only = only
        """True when a text is read only among `languages`, not among every language."""
        self.code_switching = code_switching
        """False for a text one writer wrote in one language (a bot's reply, as a scorer reads
        it): the split into runs of two languages only settles a close call of the whole text
        ("Le recomendamos descalcificar el hervidor..." read .50 Portuguese, .49 Spanish) and
        never overturns a clear lead (lingua's split cut "...send back a rain jacket you
        haven't worn", read .44 English, .07 Swedish, into English and seven Swedish words)."""

    @classmethod
    def preferring(cls, languages: Iterable[str] = ()) -> Self:
        """An identifier that reads every language, `languages` winning close calls."""
        return cls(languages, only=False)

    def warm_up(self) -> None:
        """Build and load the detector now rather than on the first message."""
        if not self.only:
            language_ranking.load()
        elif len(self.languages) > 1:
            _detector(frozenset(self.languages))

    def detect(self, text: str, conversation_language: str | None = None) -> LanguageGuess:
        """The language of `text`, keeping `conversation_language` for very short messages."""
        readable = supported_languages() if not self.only else self.languages
        current = conversation_language if conversation_language in readable else None
        fallback = current or (self.languages[0] if self.languages else _DEFAULT)
        cleaned = _NOISE.sub(" ", text)
        weights: Counter[str] = Counter()
        words = 0
        for token in cleaned.split():
            token_scripts = [script for char in token if (script := _script_of(char))]
            if token_scripts:
                words += 1
            for script in token_scripts:
                weights[script] += _SCRIPT_WEIGHT.get(script, 1)
        if not weights:
            return LanguageGuess(fallback, 0.0, carried=True)

        candidates = _by_alphabet(cleaned, self._candidates(weights))
        total = sum(weights.values())
        short = (words <= _SHORT_WORDS and not _is_cjk(weights)) or total < _SHORT_WEIGHT
        if current and words < _CLOSE_CALL_WORDS and _only_names(cleaned):
            # "Anna Schmidt, PLZ 10115" or "Yuki Tanaka 53000" in a Japanese conversation: a
            # name answering what the bot asked says nothing about the language, whatever
            # its script; statistics read such names as Turkish or Vietnamese.
            return LanguageGuess(current, 0.0, carried=True)
        if current and short and (current in candidates or not candidates):
            return LanguageGuess(current, 0.0, carried=True)
        if not candidates:
            candidates = self.languages or (fallback,)
        if len(candidates) == 1:
            return LanguageGuess(candidates[0], 1.0, carried=False)

        ranked = self._ranked(cleaned, candidates)
        if not ranked:
            return LanguageGuess(current or _preferred(candidates, self.languages), 0.0, True)
        top, top_confidence = ranked[0]
        mixed = None
        confidences = dict(ranked)
        if words >= _MIXED_WORDS and (top_confidence < _MIXED_BELOW or not self.only):
            mixed = self._dominant(cleaned, top, _OVERTURN if top_confidence >= _MIXED_BELOW else 0)
            if mixed and not self.code_switching:
                close = confidences.get(mixed[0][0], 0.0) >= _CLOSE_CALL * top_confidence
                mixed = mixed if close else None
            if mixed:
                top, top_confidence = mixed[0]
        if current and current == top and words < _CLOSE_CALL_WORDS:
            return LanguageGuess(current, top_confidence, carried=True)
        if current and current != top and words < _CLOSE_CALL_WORDS:
            current_confidence = confidences.get(current, 0.0)
            if current_confidence >= _CLOSE_CALL * top_confidence or (
                not self.only and current in candidates and top_confidence < _SWITCH_SURE
            ):
                return LanguageGuess(current, current_confidence, carried=True)
        if self.only:
            return LanguageGuess(top, top_confidence, carried=False)
        also = (current, *self.languages) if current else self.languages
        settled = mixed or language_ranking.settle(cleaned, ranked, also)
        code, confidence = language_ranking.with_preference(settled, self.languages)
        return LanguageGuess(code, confidence, carried=False)

    def _ranked(self, text: str, candidates: tuple[str, ...]) -> list[tuple[str, float]]:
        """Candidates with their confidence, best first (empty when nothing can tell)."""
        allowed = frozenset(candidates)
        if self.only:
            values = _detector(allowed).compute_language_confidence_values(text)
            ranked = [(v.language.iso_code_639_1.name.lower(), v.value) for v in values]
        else:
            ranked = language_ranking.rank_languages(text, language_ranking.RANKED)
        return [(code, value) for code, value in ranked if code in allowed and value > 0]

    def _dominant(self, text: str, top: str, needed: float) -> list[tuple[str, float]] | None:
        """For a longer message in two languages or more: its languages by the share of the
        words written in them, when most (and at least `needed`) are not in `top`; else None."""
        if self.only:
            runs = _detector(frozenset(self.languages)).detect_multiple_languages_of(text)
            sections = [(s.language.iso_code_639_1.name.lower(), s.word_count) for s in runs]
        else:
            sections = language_ranking.clause_languages(text, supported_languages())
        shares = language_ranking.by_words(sections)
        if len(shares) < 2 or dict(shares).get(top, 0.0) == shares[0][1] or shares[0][1] < needed:
            # One language only is not code-switching, only a second opinion ("I need to
            # cancel an order" as Italian); a tie goes to the whole text's best guess.
            return None
        return shares

    def _candidates(self, weights: Counter[str]) -> tuple[str, ...]:
        """The languages (the store's, or every one) written in the message's dominant script."""
        readable = sorted(supported_languages()) if not self.only else self.languages
        if "kana" in weights and "ja" in readable:
            return ("ja",)
        if "hangul" in weights and "ko" in readable:
            return ("ko",)
        dominant = weights.most_common(1)[0][0]
        if dominant == "han" and "zh" in readable:
            return ("zh",)  # Japanese is written with kana between its ideographs
        return tuple(code for code in readable if dominant in _SCRIPTS.get(code, _LATIN))


def _by_alphabet(text: str, candidates: tuple[str, ...]) -> tuple[str, ...]:
    """The candidates whose alphabet fits the text's letters (all of them when none does)."""
    lowered = text.lower()
    letters = {char for char in lowered if "\u0400" <= char <= "\u04ff"}
    if letters:
        kept = tuple(
            code
            for code in candidates
            if code not in _CYRILLIC_ALPHABETS or letters <= _CYRILLIC_ALPHABETS[code]
        )
        return kept or candidates
    words = [
        extra
        for word in lowered.split()
        if (extra := {char for char in word if char.isalpha() and not char.isascii()})
    ]
    if len(words) < _FOREIGN_WORDS:
        return candidates
    kept = tuple(
        code
        for code in candidates
        if code not in _LATIN_SETS
        or sum(not extra <= _LATIN_SETS[code] for extra in words) < _FOREIGN_WORDS
    )
    return kept or candidates


def _preferred(candidates: tuple[str, ...], preferred: tuple[str, ...]) -> str:
    """The first preferred language among the candidates, else the first candidate."""
    return next((code for code in preferred if code in candidates), candidates[0])


_ABBREVIATION_LETTERS = 4
"""An all-capitals word this short (PLZ, CP, ZIP, NIP) is a label, not a sentence."""
_POSTAL_LABELS = frozenset(
    {"zip", "zipcode", "code", "postcode", "postal", "plz", "cp", "cap", "código", "kod"}
)
"""Words shoppers put before a zip code, in lower case."""


def _only_names(text: str) -> bool:
    """True when every word is capitalised like a name or is a short abbreviation."""
    tokens = [token.strip(".,;:!?()[]\"'") for token in text.split()]
    lettered = [
        token
        for token in tokens
        if any(char.isalpha() for char in token) and token.lower() not in _POSTAL_LABELS
    ]
    if not lettered:
        return False
    for token in lettered:
        letters = [char for char in token if char.isalpha()]
        if all(char.lower() == char.upper() for char in letters):
            return False  # a script without capitals (CJK, Thai, Arabic) proves nothing here
        if token[0].isupper() and (token[1:].islower() or not token[1:]):
            continue
        if token.isupper() and len(letters) <= _ABBREVIATION_LETTERS:
            continue
        return False
    return True


def _is_cjk(weights: Counter[str]) -> bool:
    return any(script in weights for script in _SCRIPT_WEIGHT)
