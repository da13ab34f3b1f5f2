"""What the live chat itself tells a shopper (queue place, support hours), from `notices.json`."""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from importlib.resources import files


@cache
def _catalogue() -> dict[str, dict[str, str]]:
    raw: dict[str, dict[str, str]] = json.loads(
        files("bot.live").joinpath("notices.json").read_text(encoding="utf-8")
    )
    return {language: texts for language, texts in raw.items() if not language.startswith("_")}


def notice_languages() -> frozenset[str]:
    """Languages the notices are written in."""
    return frozenset(_catalogue())


def notice(language: str | None, key: str, **values: object) -> str:
    """The notice `key` in `language` (English when that language has none), filled in."""
    texts = _catalogue().get(language or "en") or _catalogue()["en"]
    return (texts.get(key) or _catalogue()["en"][key]).format(**values)


def when(moment: datetime) -> str:
    """A time a person is back, as the store's clock shows it (`2026-12-08 09:00 Europe/Berlin`)."""
    zone = getattr(moment.tzinfo, "key", None) or moment.strftime("%Z")
    return f"{moment:%Y-%m-%d %H:%M} {zone}".strip()
