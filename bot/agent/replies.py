"""The pipeline's fixed replies in the shopper's language, from `replies.json`."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any


@cache
def _catalogue() -> dict[str, dict[str, Any]]:
    raw: dict[str, dict[str, Any]] = json.loads(
        files("bot.agent").joinpath("replies.json").read_text(encoding="utf-8")
    )
    return {language: texts for language, texts in raw.items() if not language.startswith("_")}


def reply_languages() -> frozenset[str]:
    """Languages every fixed reply is written in."""
    return frozenset(_catalogue())


def say(language: str, key: str, **values: object) -> str:
    """The reply `key` in `language` (English when that language has none), filled in."""
    texts = _catalogue().get(language) or _catalogue()["en"]
    template = str(texts.get(key) or _catalogue()["en"][key])
    return template.format(**values)


def status_name(language: str, status: str) -> str:
    """An order status as a shopper reads it in their language."""
    texts = _catalogue().get(language) or _catalogue()["en"]
    statuses: dict[str, str] = texts["statuses"]
    return statuses.get(status, status)
