"""A store's language identifier: the knowledge package's detector, with a store's language
list that the detector cannot read reported as the store's configuration error."""

from __future__ import annotations

from collections.abc import Iterable

from bot.domain.errors import ConfigurationError
from knowledge.errors import UnsupportedLanguage
from knowledge.language import LanguageGuess, supported_languages
from knowledge.language import LanguageIdentifier as _Detector

__all__ = ["LanguageGuess", "LanguageIdentifier", "supported_languages"]


class LanguageIdentifier(_Detector):
    """`knowledge.language.LanguageIdentifier` for a store: bad codes are a `ConfigurationError`."""

    def __init__(
        self, languages: Iterable[str], *, only: bool = True, code_switching: bool = True
    ) -> None:
        try:
            super().__init__(languages, only=only, code_switching=code_switching)
        except UnsupportedLanguage as error:
            raise ConfigurationError(error.message) from error
