"""The translation engine with the scripted model: a translation that loses a fact of the
original is never sent, and every failure passes the original through with its reason."""

from __future__ import annotations

import pytest

from bot.agent.extract import find_codes, find_emails, find_urls
from bot.agent.models.calls import ChatModel
from bot.translation import Outcome, lost_facts, translate
from tests.fakes import FakeChatModel, reply

ORIGINAL = "Meine Bestellung #W1234567 über 12,90 € ist nicht angekommen, Mail: yuki@example.com"


def _model(*answers: object, delay_s: float = 0.0, timeout_s: float = 5.0) -> ChatModel:
    return ChatModel(FakeChatModel(script=list(answers), delay_s=delay_s), timeout_s)


async def test_a_faithful_translation_is_sent_and_the_prompt_names_both_languages() -> None:
    english = "My order #W1234567 for €12.90 has not arrived, mail: yuki@example.com"
    model = _model(reply(f' "{english}" '))

    result = await translate(model, ORIGINAL, "de", "en")

    assert result.outcome is Outcome.OK and result.ok and result.reason is None
    assert result.text == english and result.original == ORIGINAL
    assert isinstance(model.llm, FakeChatModel)
    prompt = model.llm.calls[0].prompt
    assert "from German into English" in prompt and ORIGINAL in prompt


@pytest.mark.parametrize(
    ("written", "lost"),
    [
        ("My order #W1234567 has not arrived, mail: yuki@example.com", "12,90"),
        ("My order #W1234567 for €13.90 has not arrived, mail: yuki@example.com", "+13.90"),
        ("My order #W1234567 for 12.90 zł has not arrived, mail: yuki@example.com", "EUR"),
        ("My order for €12.90 has not arrived, mail: yuki@example.com", "#W1234567"),
        (
            "My order #W1234567 for €12.90 has not arrived, mail: yuki@example.org",
            "yuki@example.com",
        ),
    ],
)
async def test_a_translation_that_drops_or_changes_a_fact_is_refused(
    written: str, lost: str
) -> None:
    result = await translate(_model(reply(written)), ORIGINAL, "de", "en")

    assert result.outcome is Outcome.DROPPED_TOKEN and not result.ok
    assert result.text == ORIGINAL  # the original goes out, not the wrong figure
    assert lost in result.dropped
    assert result.reason is not None and lost in result.reason
    assert result.candidate == written


async def test_a_timeout_passes_the_original_through() -> None:
    result = await translate(
        _model(reply("late"), delay_s=0.5, timeout_s=0.05), ORIGINAL, "de", "en"
    )

    assert result.outcome is Outcome.TIMEOUT
    assert result.text == ORIGINAL and result.reason == (
        "the translation took too long, so the original is shown"
    )


async def test_a_failing_model_or_an_empty_answer_passes_the_original_through() -> None:
    failed = await translate(_model(RuntimeError("connection reset")), ORIGINAL, "de", "en")
    empty = await translate(_model(reply("  ")), ORIGINAL, "de", "en")

    assert failed.outcome is Outcome.FAILED and failed.text == ORIGINAL
    assert empty.outcome is Outcome.FAILED and empty.text == ORIGINAL


async def test_without_a_model_the_text_passes_through_with_the_reason() -> None:
    result = await translate(ChatModel(None, 5.0), ORIGINAL, "de", "en")

    assert result.outcome is Outcome.NO_MODEL and result.text == ORIGINAL
    assert result.reason is not None and "translation is off" in result.reason


async def test_the_same_language_needs_no_model() -> None:
    result = await translate(_model(), ORIGINAL, "de", "de")  # no answer scripted: not called

    assert result.ok and result.text == ORIGINAL


def test_the_facts_a_translation_must_keep() -> None:
    message = (
        "Tracking 1Z999AA10123456784 for item NL-4410, see https://shop.example/t?id=AB12. "
        "Write to Yuki@Example.com"
    )
    assert find_codes(message) == ["1Z999AA10123456784", "NL-4410"]
    assert find_urls(message) == ["https://shop.example/t?id=AB12"]
    assert find_emails(message) == ["Yuki@Example.com"]
    japanese = (
        "追跡番号1Z999AA10123456784、商品NL-4410、https://shop.example/t?id=AB12 をご覧ください。"
        "yuki@example.comまで"
    )
    assert lost_facts(message, japanese) == []
    assert lost_facts(message, japanese.replace("NL-4410", "NL-4411")) == ["NL-4410"]
    assert lost_facts("Returns within 30 days", "30日以内に返品できます") == []
    assert lost_facts("Who did they beat in 2015?", "Кого они победили в 2015 году?") == []
    assert lost_facts("A 3-year warranty", "3ヶ月の保証") == ["3 year", "+3 month"]
    assert lost_facts("Returns within 30 days", "30週間以内に返品できます") == [
        "30 day",
        "+30 week",
    ]
