"""Language identification (lingua), restricted to the languages a store expects."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

DEFAULT_LANGUAGES = (
    "en", "de", "fr", "es", "it", "pt", "nl", "sv", "da", "nb", "fi", "pl", "cs", "ja", "zh",
    "ko", "ar", "ru", "tr", "el", "hi", "th", "vi", "uk", "ro", "hu", "he", "id",
)  # fmt: skip
UNKNOWN = "und"
"""BCP 47's "undetermined": too little text to tell."""
_MIN_LETTERS = 6
_lock = threading.Lock()


@lru_cache(maxsize=16)
def _detector(languages: tuple[str, ...]) -> Any:
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = [
        getattr(IsoCode639_1, code.upper())
        for code in languages
        if hasattr(IsoCode639_1, code.upper())
    ]
    if len(codes) < 2:
        codes = [IsoCode639_1.EN, IsoCode639_1.DE]
    return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()


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
    with _lock:
        detector = _detector(allowed)
        values = detector.compute_language_confidence_values(text[:2000])
    if not values:
        return default
    best = values[0]
    if best.value < 0.25 and letters < 40:
        return default
    return str(best.language.iso_code_639_1.name.lower())
