"""A translation or restating that turns "within N days" into "after N days" is caught; faithful
ones, and sentences that themselves speak of a time after something, are not."""

from __future__ import annotations

import pytest

from bot.agent.facts import turns_deadline_into_delay

WITHIN_7 = ["You can cancel within 7 days of your purchase."]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("आप खरीद के 7 दिनों के बाद रद्द कर सकते हैं।", "hi"),
        ("Sie können nach 7 Tagen stornieren.", "de"),
        ("Vous pouvez annuler après 7 jours.", "fr"),
        ("Puede cancelar después de 7 días.", "es"),
        ("Вы можете отменить через 7 дней.", "ru"),
        ("购买7天后可以取消。", "zh"),
        ("購入から7日後にキャンセルできます。", "ja"),
        ("Anda dapat membatalkan setelah 7 hari.", "id"),
    ],
)
def test_a_deadline_read_as_a_delay_is_caught(text: str, language: str) -> None:
    assert turns_deadline_into_delay(WITHIN_7, "en", text, language)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("आप खरीद के 7 दिनों के भीतर रद्द कर सकते हैं।", "hi"),
        ("Sie können innerhalb von 7 Tagen stornieren.", "de"),
        ("Vous pouvez annuler dans un délai de 7 jours.", "fr"),
        ("Puede cancelar dentro de 7 días.", "es"),
        ("Вы можете отменить в течение 7 дней.", "ru"),
        # "after the purchase, within 7 days": the bound is kept beside the "after".
        ("购买后7天内可以取消。", "zh"),
        ("購入後7日以内にキャンセルできます。", "ja"),
        ("Anda dapat membatalkan dalam waktu 7 hari.", "id"),
        # No word for either: nothing to read, nothing flagged.
        ("You have 7 days to cancel.", "en"),
    ],
)
def test_a_faithful_deadline_is_not_caught(text: str, language: str) -> None:
    assert not turns_deadline_into_delay(WITHIN_7, "en", text, language)


def test_sentences_that_speak_of_a_time_after_something_are_not_read_as_a_deadline() -> None:
    # "Points expire after 24 months": "after" is what the document says.
    assert not turns_deadline_into_delay(
        ["Punkty wygasają po 24 miesiącach."], "pl", "Poin hangus setelah 24 bulan.", "id"
    )
    # "within 10 business days after the parcel arrives" holds both: left to the figure checks.
    assert not turns_deadline_into_delay(
        ["We refund within 10 business days after the parcel arrives."],
        "en",
        "पार्सल पहुँचने के 10 दिनों के बाद हम पैसे लौटाते हैं।",
        "hi",
    )


def test_a_cue_far_from_any_figure_says_nothing_of_it() -> None:
    sentences = ["Bis bald! Die Lieferung dauert 1–2 Werktage."]
    assert not turns_deadline_into_delay(sentences, "de", "La livraison prend 1–2 jours.", "fr")
    far = ["Returns are free within the EU. A bike collection costs 49 euros."]
    assert not turns_deadline_into_delay(far, "en", "Después de eso, cuesta 49 euros.", "es")


def test_a_word_for_after_that_also_means_to_is_no_delay_away_from_its_figure() -> None:
    within = ["Delivery to Austria takes at most 2 days: we deliver within 1–2 business days."]
    restated = "Die Lieferung nach Österreich dauert 1–2 Werktage."
    assert not turns_deadline_into_delay(within, "en", restated, "de")
    assert turns_deadline_into_delay(within, "en", "Lieferung erst nach 2 Werktagen.", "de")
