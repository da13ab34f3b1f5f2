"""The widget speaks every language the store's shoppers are promised, with nothing missing."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.languages import PROMISED

STRINGS = json.loads(
    (Path(__file__).resolve().parents[2] / "widget" / "strings.json").read_text(encoding="utf-8")
)
RIGHT_TO_LEFT = {"ar", "he", "fa", "ur"}


def test_every_promised_language_and_the_right_to_left_ones_are_there() -> None:
    assert set(PROMISED) | RIGHT_TO_LEFT <= set(STRINGS)


def test_every_language_has_every_text_with_the_same_placeholders() -> None:
    english = STRINGS["en"]
    for language, texts in STRINGS.items():
        assert set(texts) - {"dir"} == set(english), language
        assert texts["lang"] == language
        for key, text in english.items():
            assert texts[key].strip(), (language, key)
            placeholders = set(re.findall(r"\{(\w+)\}", text))
            assert set(re.findall(r"\{(\w+)\}", texts[key])) == placeholders, (language, key)


def test_right_to_left_languages_say_so() -> None:
    for language, texts in STRINGS.items():
        assert texts.get("dir", "ltr") == ("rtl" if language in RIGHT_TO_LEFT else "ltr")
