"""The answer veto: an answer that stands only on the passage floors (the search not confident,
the question asking for no kind of fact its sentence states, the sentence alone not close
enough) is put to the chat model, and its no hands off; outside that grey band, or without a
verdict, the floors decide alone and the model is not asked."""

from __future__ import annotations

import re
import zlib

import numpy as np
import pytest

from bot.agent.intents import Intent
from bot.agent.pipeline import TurnPipeline
from bot.agent.ports import Vector
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
    text="We rent bikes and e-bikes in our shops in Innsbruck and Bolzano.",
    language="en",
    score=0.0,
)
PRICES = Passage(
    chunk_id="c2",
    document_id="d1",
    document="rental.md",
    section="Prices",
    text="A trekking bike from our Innsbruck shop costs 29 € a day.",
    language="en",
    score=0.0,
)
GROUP_RIDES = "Do you organise group rides in Bolzano?"
RENT_PRICE = "How much does a trekking bike from Innsbruck cost?"


def words_vector(texts: list[str]) -> Vector:
    """Unit bag-of-words vectors: similarity is the words two texts share."""
    vectors = np.zeros((len(texts), 512), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in re.findall(r"\w+", text.lower()):
            vectors[row, zlib.crc32(word.encode()) % 512] += 1.0
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    result: Vector = vectors / np.maximum(norms, 1e-9)
    return result


# Word shares and bag-of-words similarities: every passage here meets the passage floors, the
# calibrated confidence (the best word share) never does, and no sentence is close enough on
# its own; sentences stating the asked kind of fact are.
GREY = AnswerFloors(
    confidence=0.95,
    other_language=0.1,
    same_language=0.1,
    sentence_other_language=0.99,
    sentence_same_language=0.99,
    sentence_typed_other_language=0.1,
    sentence_typed_same_language=0.1,
    sentence_backing=0.05,
)


def pipeline(model: FakeChatModel, floors: AnswerFloors, *, veto: bool = True) -> TurnPipeline:
    conversations = MemoryConversations()
    conversations.start(STORE, "t1")
    return TurnPipeline(
        conversations=conversations,
        stores=MemoryPolicies({STORE: {"languages": ["en"]}}),
        retriever=WordIndex([RENTAL, PRICES]),
        router=KeywordRouter({"bike": Intent.FAQ, "ride": Intent.FAQ}),
        tools=MemoryOrders(conversations),
        llm=model,
        llm_timeout_s=5.0,
        floors=floors,
        veto_answers=veto,
        embed=words_vector,
    )


def test_the_grey_band_is_the_passage_floors_alone() -> None:
    floors = AnswerFloors(confidence=0.75, other_language=0.765, same_language=0.8)
    grey = {"confidence": 0.5, "sentence_language": "de", "language": "fr", "typed": False}
    assert floors.leans_on_passage(similarity=0.79, **grey)
    assert not floors.leans_on_passage(similarity=0.81, **grey)  # the sentence answers alone
    assert not floors.leans_on_passage(similarity=0.79, **{**grey, "typed": True})
    assert not floors.leans_on_passage(similarity=0.79, **{**grey, "confidence": 0.8})
    assert not floors.leans_on_passage(similarity=None, **grey)  # no embedder: no similarity


async def test_a_no_in_the_grey_band_hands_off() -> None:
    model = FakeChatModel(script=[reply("no")])  # nothing scripted for wording an answer
    result = await pipeline(model, GREY).handle(STORE, "t1", GROUP_RIDES)
    assert result.outcome is Outcome.HANDOFF
    assert result.citations == []
    assert len(model.calls) == 1
    assert "group rides" in model.calls[0].prompt
    assert "We rent bikes" in model.calls[0].prompt


@pytest.mark.parametrize("said", ["yes", "It depends."])
async def test_a_yes_or_no_verdict_leaves_the_answer(said: str) -> None:
    answer = "We rent bikes in Innsbruck and Bolzano [1]."
    model = FakeChatModel(script=[reply(said), reply(answer)])
    result = await pipeline(model, GREY).handle(STORE, "t1", GROUP_RIDES)
    assert result.outcome is Outcome.ANSWERED
    assert result.reply == answer


async def test_an_answer_stating_the_kind_of_fact_asked_for_is_not_put_to_the_model() -> None:
    answer = "A trekking bike from Innsbruck costs 29 € a day [1]."
    model = FakeChatModel(script=[reply(answer)])  # a veto call would take this reply
    result = await pipeline(model, GREY).handle(STORE, "t1", RENT_PRICE)
    assert result.outcome is Outcome.ANSWERED
    assert "29 €" in result.reply
    assert len(model.calls) == 1


async def test_a_confident_search_is_not_put_to_the_model() -> None:
    confident = AnswerFloors(
        confidence=0.1, other_language=0.1, same_language=0.1, sentence_backing=0.05
    )
    answer = "We rent bikes in Innsbruck and Bolzano [1]."
    model = FakeChatModel(script=[reply(answer)])
    result = await pipeline(model, confident).handle(STORE, "t1", GROUP_RIDES)
    assert result.outcome is Outcome.ANSWERED
    assert len(model.calls) == 1


async def test_without_the_veto_the_floors_answer() -> None:
    answer = "We rent bikes in Innsbruck and Bolzano [1]."
    model = FakeChatModel(script=[reply(answer)])
    result = await pipeline(model, GREY, veto=False).handle(STORE, "t1", GROUP_RIDES)
    assert result.outcome is Outcome.ANSWERED
    assert len(model.calls) == 1
