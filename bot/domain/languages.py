"""The languages a store answers in when its policy names none."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_LANGUAGES = (
    "en", "de", "fr", "es", "it", "pt", "nl", "pl", "ru", "tr", "ar", "zh", "ja", "ko", "th", "vi",
)  # fmt: skip
"""The sixteen languages Parley's word lists, replies and router exemplars are written in."""


def store_languages(policy: Mapping[str, Any]) -> list[str]:
    """The languages a store's policy document lists, or the defaults when it lists none."""
    return list(policy.get("languages") or DEFAULT_LANGUAGES)
