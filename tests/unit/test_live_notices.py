"""The live chat's notices exist in the widget's languages, and a tap on Confirm/Cancel writes
words the pipeline reads as a plain yes/no (the single-use confirmation of a typed yes)."""

from __future__ import annotations

import pytest

from bot.agent.extract import confirmation
from bot.live.notices import notice, notice_languages
from tests.languages import PROMISED


def test_every_widget_language_has_every_notice() -> None:
    assert set(PROMISED) <= notice_languages()
    for language in notice_languages():
        assert "3" in notice(language, "position", position=3)
        assert "2026-12-08 09:00 Asia/Tokyo" in notice(
            language, "back_at", when="2026-12-08 09:00 Asia/Tokyo"
        )
        assert "a@b.example" in notice(language, "contact_saved", email="a@b.example")


@pytest.mark.parametrize("language", sorted(notice_languages()))
def test_confirm_and_cancel_words_are_a_plain_yes_and_no(language: str) -> None:
    assert confirmation(notice(language, "yes")) is True
    assert confirmation(notice(language, "no")) is False


def test_an_unknown_language_falls_back_to_english() -> None:
    assert notice("xx", "position", position=1) == "You are number 1 in the queue."
