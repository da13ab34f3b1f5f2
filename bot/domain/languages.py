"""The languages a store prefers; a store whose policy names none serves every language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_LANGUAGES = (
    "en", "de", "fr", "es", "it", "pt", "nl", "pl", "ru", "tr", "ar", "zh", "ja", "ko", "th", "vi",
)  # fmt: skip
"""The sixteen languages Parley's word lists, replies and router exemplars are written in."""


def store_languages(policy: Mapping[str, Any]) -> list[str]:
    """The languages a store's policy document lists, empty when it lists none.

    They are a preference, not a limit: a shopper's message is read among every language the
    detector knows, and these win its close calls (`knowledge.language`)."""
    return [str(code) for code in policy.get("languages") or ()]
