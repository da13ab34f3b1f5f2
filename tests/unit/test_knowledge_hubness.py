"""The hub penalty (`knowledge.index.hubness`): a passage near every question is ranked down."""

from __future__ import annotations

import numpy as np

from knowledge.embeddings import normalise
from knowledge.index.hubness import hub_penalty, hub_scores, pick_references


def unit(*rows: list[float]) -> np.ndarray:
    return normalise(np.asarray(rows, dtype=np.float32))


def test_hub_score_is_the_mean_similarity_to_the_nearest_references() -> None:
    candidates = unit([1, 0, 0], [0, 1, 0])
    references = unit([1, 0, 0], [1, 1, 0], [0, 0, 1])
    scores = hub_scores(candidates, references, neighbours=2)
    half = float(np.sqrt(0.5))
    assert np.allclose(scores, [(1 + half) / 2, (half + 0) / 2])
    # Fewer references than neighbours: all of them; none: no penalty at all.
    assert np.allclose(hub_scores(candidates, references, neighbours=9), [(1 + half) / 3, half / 3])
    assert hub_penalty(candidates, np.zeros((0, 0), np.float32)) == [0.0, 0.0]


def test_a_passage_close_to_every_question_loses_to_the_one_that_answers() -> None:
    # The shopper's question is a little nearer the generic passage than the answer, as
    # multilingual embeddings put short generic sentences near many questions.
    generic, answer = unit([0.8, 0.6, 0.0]), unit([0.6, 0.0, 0.8])
    question = unit([0.85, 0.35, 0.45])[0]
    assert float(generic[0] @ question) > float(answer[0] @ question)
    others = unit([0.7, 0.7, 0.1], [0.9, 0.4, 0.0], [0.6, 0.8, 0.0], [0.8, 0.5, 0.2])
    candidates = np.vstack([generic, answer])
    penalty = hub_penalty(candidates, others, weight=0.5, neighbours=3)
    ranked = candidates @ question + np.asarray(penalty)
    assert ranked[1] > ranked[0]
    assert hub_penalty(candidates, others, weight=0.0) == [0.0, 0.0]


def test_references_are_those_in_the_questions_language_unless_it_has_too_few() -> None:
    vectors = unit([1, 0], [0, 1], [1, 1], [1, -1])
    languages = ["de", "de", "de", "th"]
    assert len(pick_references(vectors, languages, "de", 3)) == 3
    assert len(pick_references(vectors, languages, "th", 3)) == 4  # too few in Thai: all
    assert len(pick_references(vectors, languages, None, 3)) == 4
