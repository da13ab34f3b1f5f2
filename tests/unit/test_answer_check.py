"""The answer check: when retrieval's calibrated confidence does not settle a question, the chat
model says in one word whether the chosen sentences answer it, and the code decides: a no hands
off (or answers from a close runner-up the model confirms), a yes answers sentences a little under
the similarity floors, and no verdict leaves the floors to decide."""

from __future__ import annotations

import pytest

from bot.agent.checks.answerable import check_messages, verdict
from bot.agent.intents import Intent
from bot.agent.pipeline import TurnPipeline
from bot.agent.turn import Outcome
from bot.domain.answering import AnswerFloors
from knowledge import Passage
from tests.fakes import FakeChatModel, reply
from tests.unit.memory_shop import (
    KeywordRouter,
    MemoryConversations,
    MemoryOrders,
    MemoryPolicies,
    WordIndex,
)

STORE = "bergwind"
RENTAL = Passage(
    chunk_id="c1",
    document_id="d1",
    document="rental.md",
    section="Where",
    text="Before 19:00 we rent bikes and e-bikes in our shops in Innsbruck and Bolzano.",
    language="en",
    score=0.0,
)
CANCELLING = Passage(
    chunk_id="c2",
    document_id="d1",
    document="rental.md",
    section="Booking",
    text="Rented bikes in Innsbruck and Bolzano are cancelled for free up to 24 hours before.",
    language="en",
    score=0.0,
)
ANSWER = "You can cancel a rented bike for free up to 24 hours before [1]."


def pipeline(
    model: FakeChatModel, passages: list[Passage], floors: AnswerFloors, *, check: bool = True
) -> TurnPipeline:
    conversations = MemoryConversations()
    conversations.start(STORE, "t1")
    return TurnPipeline(
        conversations=conversations,
        stores=MemoryPolicies({STORE: {"languages": ["en"]}}),
        retriever=WordIndex(passages),
        router=KeywordRouter({"bike": Intent.FAQ, "ride": Intent.FAQ}),
        tools=MemoryOrders(conversations),
        llm=model,
        llm_timeout_s=5.0,
        floors=floors,
        check_answers=check,
    )


# Word-share scores (`WordIndex`): the floors are met from .4 on, the calibrated confidence only
# at .95, so every answer below that is checked.
UNCALIBRATED = AnswerFloors(confidence=0.95, other_language=0.4, same_language=0.4)


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("yes", True),
        ("Yes.", True),
        ("**No**", False),
        ("no, it does not", False),
        ("Maybe", None),
        ("The text says 24 hours", None),
        ("", None),
    ],
)
def test_only_a_leading_yes_or_no_is_a_verdict(said: str, expected: bool | None) -> None:
    assert verdict(said) is expected


def test_the_prompt_carries_the_question_and_the_sentences_on_a_line_each() -> None:
    messages = check_messages("Organisez-vous des sorties ?", ["Noleggiamo bici.", "A\nBolzano."])
    assert "Question: Organisez-vous des sorties ?\n" in messages[-1].text
    assert "Text: Noleggiamo bici. A Bolzano.\n" in messages[-1].text


async def test_a_no_hands_off_a_question_the_sentences_do_not_answer() -> None:
    model = FakeChatModel(script=[reply("no")])  # nothing scripted for wording an answer
    turn = pipeline(model, [RENTAL], UNCALIBRATED)
    result = await turn.handle(
        STORE, "t1", "Do you rent guided group rides in Innsbruck and Bolzano?"
    )
    assert result.outcome is Outcome.HANDOFF
    assert result.citations == []
    assert len(model.calls) == 1
    assert "guided group rides" in model.calls[0].prompt
    assert "we rent bikes" in model.calls[0].prompt


async def test_after_a_no_a_close_runner_up_the_model_confirms_answers() -> None:
    model = FakeChatModel(script=[reply("no"), reply("yes"), reply(ANSWER)])
    turn = pipeline(model, [RENTAL, CANCELLING], UNCALIBRATED)
    result = await turn.handle(STORE, "t1", "How long before can I cancel bikes in Bolzano?")
    assert result.outcome is Outcome.ANSWERED
    assert [c.section for c in result.citations][:1] == ["Booking"]
    assert "24 hours" in result.reply
    assert "cancelled for free" in model.calls[1].prompt


async def test_a_yes_answers_a_sentence_just_under_the_floors() -> None:
    floors = AnswerFloors(
        confidence=0.95, other_language=0.99, same_language=0.99, sentence_checked=0.3
    )
    model = FakeChatModel(script=[reply("yes"), reply(ANSWER)])
    turn = pipeline(model, [CANCELLING], floors)
    result = await turn.handle(
        STORE, "t1", "How long before are rented bikes cancelled for free in Vienna?"
    )
    assert result.outcome is Outcome.ANSWERED
    assert result.reply == ANSWER


async def test_a_sentence_far_under_the_floors_is_not_put_to_the_model() -> None:
    floors = AnswerFloors(
        confidence=0.95, other_language=0.99, same_language=0.99, sentence_checked=0.9
    )
    model = FakeChatModel(script=[])
    turn = pipeline(model, [CANCELLING], floors)
    result = await turn.handle(
        STORE, "t1", "How long before are rented bikes cancelled for free in Vienna?"
    )
    assert result.outcome is Outcome.HANDOFF
    assert model.calls == []


async def test_without_a_verdict_the_floors_decide() -> None:
    model = FakeChatModel(script=[reply("It depends."), reply(ANSWER)])
    turn = pipeline(model, [CANCELLING], UNCALIBRATED)
    result = await turn.handle(
        STORE, "t1", "How long before are rented bikes cancelled for free in Vienna?"
    )
    assert result.outcome is Outcome.ANSWERED
    failing = FakeChatModel(script=[TimeoutError("slow"), reply(ANSWER)])
    turn = pipeline(failing, [CANCELLING], UNCALIBRATED)
    result = await turn.handle(
        STORE, "t1", "How long before are rented bikes cancelled for free in Vienna?"
    )
    assert result.outcome is Outcome.ANSWERED


async def test_a_calibrated_answer_or_a_pipeline_without_the_check_asks_nothing() -> None:
    calibrated = AnswerFloors(confidence=0.3, other_language=0.99, same_language=0.99)
    for floors, check in ((calibrated, True), (UNCALIBRATED, False)):
        model = FakeChatModel(script=[reply(ANSWER)])
        turn = pipeline(model, [CANCELLING], floors, check=check)
        result = await turn.handle(
            STORE, "t1", "How long before are rented bikes cancelled for free in Vienna?"
        )
        assert result.outcome is Outcome.ANSWERED
        assert len(model.calls) == 1  # the wording only


async def test_a_yes_alone_answers_no_yes_or_no_question_under_the_floors() -> None:
    # "Do you …?" asks for no kind of fact the sentence could be seen to state: under the
    # floors, a model's yes is not enough (it says yes to neighbouring topics).
    floors = AnswerFloors(
        confidence=0.95, other_language=0.99, same_language=0.99, sentence_checked=0.3
    )
    model = FakeChatModel(script=[reply("yes"), reply(ANSWER)])
    turn = pipeline(model, [CANCELLING], floors)
    result = await turn.handle(STORE, "t1", "Do you cancel rented bikes in Vienna for free?")
    assert result.outcome is Outcome.HANDOFF
    assert model.calls == []
