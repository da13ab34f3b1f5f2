"""Handoff signals: anger, legal or safety topics, disputes, asking for a person; 16 languages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.agent.signals import (
    anger_score,
    detect_anger,
    detect_dispute,
    detect_human_request,
    detect_legal_or_safety,
    handoff_signals,
)
from bot.domain.conversation import HandoffReason

DATA = Path(__file__).parents[1] / "data"
LANGUAGES = [
    "en", "de", "fr", "es", "it", "pt", "nl", "pl",
    "ru", "tr", "ar", "zh", "ja", "ko", "th", "vi",
]  # fmt: skip


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return {key: value for key, value in data.items() if not key.startswith("_")}


SIGNALS = _load("signals.json")
INTENTS = _load("intent_eval.json")


def _cases(data: dict[str, Any], kind: str) -> list[Any]:
    return [
        pytest.param(language, text, id=f"{language}-{i}")
        for language in LANGUAGES
        for i, text in enumerate(data[language][kind])
    ]


def test_every_language_has_signal_messages() -> None:
    assert sorted(SIGNALS) == sorted(LANGUAGES)


@pytest.mark.parametrize(("language", "text"), _cases(SIGNALS, "legal_safety"))
def test_legal_and_safety_topics_hand_off(language: str, text: str) -> None:
    signal = detect_legal_or_safety(text, [language])
    assert signal is not None
    assert signal.reason is HandoffReason.LEGAL_OR_SAFETY
    assert signal.evidence


@pytest.mark.parametrize(("language", "text"), _cases(SIGNALS, "angry"))
def test_strong_anger_hands_off(language: str, text: str) -> None:
    signal = detect_anger(text, [language])
    assert signal is not None
    assert signal.reason is HandoffReason.ANGER


@pytest.mark.parametrize(("language", "text"), _cases(SIGNALS, "mild"))
def test_mild_disappointment_is_noticed_but_not_handed_off(language: str, text: str) -> None:
    assert anger_score(text, [language]) >= 1
    assert detect_anger(text, [language]) is None
    assert handoff_signals(text, [language]) == []


@pytest.mark.parametrize(("language", "text"), _cases(INTENTS, "human"))
def test_requests_for_a_person_are_recognised(language: str, text: str) -> None:
    signal = detect_human_request(text, [language])
    assert signal is not None
    assert signal.reason is HandoffReason.SHOPPER_ASKED


@pytest.mark.parametrize(("language", "text"), _cases(INTENTS, "dispute"))
def test_chargeback_threats_are_disputes(language: str, text: str) -> None:
    signal = detect_dispute(text, [language])
    assert signal is not None
    assert signal.reason is HandoffReason.DISPUTE


CALM_KINDS = ("faq", "order_status", "exchange", "modify_order", "greeting")


@pytest.mark.parametrize(
    ("language", "text"),
    [case for kind in CALM_KINDS for case in _cases(INTENTS, kind)],
)
def test_ordinary_questions_raise_no_handoff(language: str, text: str) -> None:
    assert handoff_signals(text, [language]) == []


def test_shouting_turns_a_mild_complaint_into_anger() -> None:
    assert detect_anger("this is ridiculous", ["en"]) is None
    assert detect_anger("this is ridiculous!!!", ["en"]) is not None
    assert detect_anger("WHERE IS MY ORDER, THIS IS RIDICULOUS", ["en"]) is not None
    assert detect_anger("where is my order 😡 ridiculous", ["en"]) is not None


def test_capitals_in_a_short_code_are_not_shouting() -> None:
    assert anger_score("Order W1234567 OK", ["en"]) == 0


def test_words_inside_other_words_do_not_fire() -> None:
    # "scam" inside Italian "scambiarlo" (to exchange it); "court" inside "courtesy".
    assert detect_anger("possiamo scambiarlo?", None) is None
    assert detect_legal_or_safety("thanks for the courtesy call", ["en"]) is None


def test_without_a_language_every_lexicon_is_searched() -> None:
    signal = detect_legal_or_safety("充电器着火了")
    assert signal is not None and signal.reason is HandoffReason.LEGAL_OR_SAFETY


def test_signals_are_ordered_most_pressing_first() -> None:
    text = "Ridiculous!!! I want a manager, the heater caught fire, I will file a chargeback"
    reasons = [signal.reason for signal in handoff_signals(text, ["en"])]
    assert reasons == [
        HandoffReason.LEGAL_OR_SAFETY,
        HandoffReason.DISPUTE,
        HandoffReason.SHOPPER_ASKED,
        HandoffReason.ANGER,
    ]
