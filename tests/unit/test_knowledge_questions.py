"""Questions a passage answers: reading the model's reply, naming chunks, mixing vectors."""

from __future__ import annotations

import numpy as np

from knowledge.documents import Chunk
from knowledge.embeddings import normalise
from knowledge.questions import (
    MAX_QUESTIONS,
    QUESTION_WEIGHT,
    mixed_rows,
    parse_questions,
    question_key,
    question_messages,
    question_text,
    question_vector,
    with_questions,
)


def chunk(text: str, section: tuple[str, ...] = ("Returns",)) -> Chunk:
    return Chunk(
        id="c1", document="policies.md", section=section, text=text, language="en", ordinal=0
    )


def test_list_marks_numbering_and_quotes_are_dropped() -> None:
    reply = (
        "1. How long do I have to return an item?\n"
        "2) Is return shipping free?\n"
        "- “Where do I get the label?”\n"
    )
    assert parse_questions(reply) == [
        "How long do I have to return an item?",
        "Is return shipping free?",
        "Where do I get the label?",
    ]


def test_repeats_short_lines_and_extra_questions_are_dropped() -> None:
    reply = "\n".join(
        [
            "Here are three questions:",
            "Wie lange dauert die Lieferung?",
            "Wie lange dauert die Lieferung?",
            "",
            "Q1: Mit welchem Dienst wird versendet?",
            "配送には何日かかりますか？",
            "Wer zahlt den Versand?",
        ]
    )
    assert parse_questions(reply) == [
        "Wie lange dauert die Lieferung?",
        "Mit welchem Dienst wird versendet?",
        "配送には何日かかりますか？",
    ]
    assert MAX_QUESTIONS == 3


def test_an_empty_reply_gives_no_questions() -> None:
    assert parse_questions("") == []
    assert parse_questions("\n  \n-\n") == []


def test_the_key_follows_what_is_embedded() -> None:
    same = question_key(chunk("Returns are free."), "Policies")
    assert same == question_key(chunk("Returns are free."), "Policies")
    assert same != question_key(chunk("Returns are free!"), "Policies")
    assert same != question_key(chunk("Returns are free."), "Other title")
    assert len(same) == 24


def test_the_model_is_asked_about_the_passage_under_its_title_and_section() -> None:
    assert question_text("Free within 30 days.", "Policies", "Returns") == (
        "Policies > Returns\nFree within 30 days."
    )
    assert question_text("Free.", "Returns", "Returns") == "Returns\nFree."
    assert question_text("Free.") == "Free."
    messages = question_messages("x" * 5000)
    assert len(str(messages[1].content)) == 1500
    assert "questions" in str(messages[0].content)


def test_mixing_moves_the_vector_toward_its_questions_and_keeps_unit_length() -> None:
    rng = np.random.default_rng(7)
    passages = normalise(rng.normal(size=(3, 16)))
    asked = normalise(rng.normal(size=(2, 16)))
    mean = question_vector(asked)
    assert mean.shape == (16,)
    assert np.isclose(np.linalg.norm(mean), 1.0)

    mixed = mixed_rows(passages, [mean, None, None])

    assert np.allclose(np.linalg.norm(mixed, axis=1), 1.0, atol=1e-6)
    assert np.allclose(mixed[1:], passages[1:])
    assert float(mixed[0] @ mean) > float(passages[0] @ mean)
    expected = (passages[0] + QUESTION_WEIGHT * mean) / np.linalg.norm(
        passages[0] + QUESTION_WEIGHT * mean
    )
    assert np.allclose(mixed[0], expected, atol=1e-6)
    assert np.allclose(with_questions(passages[:1], mean[None, :])[0], expected, atol=1e-6)
