"""English renderings of questions: what counts as usable, and how the retrieval eval mixes them
into the question vectors and keeps them across runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bot.agent.models.translation import usable
from evals.xquad import Rendering, fused_vectors
from knowledge.embeddings import HashingEmbedder, normalise


def test_a_rendering_is_one_clean_line_or_nothing() -> None:
    assert usable("Wie lange dauert der Versand?", ' "How long does\n shipping take?" ') == (
        "How long does shipping take?"
    )
    assert usable("Wie lange dauert der Versand?", "   ") is None
    assert usable("How long?", "How long?") is None  # the question itself
    rambling = "To create a real number field, you need to follow these steps: " * 4
    assert usable("Q에 대해 무엇을 완성하면 실수체가 됩니까?", rambling) is None


def test_the_eval_mixes_renderings_into_non_english_questions_and_keeps_them(
    tmp_path: Path,
) -> None:
    questions = [
        {"lang": "de", "question": "Wie lange dauert der Versand?"},
        {"lang": "en", "question": "How long does shipping take?"},
        {"lang": "vi", "question": "Giao hàng mất bao lâu?"},
    ]
    parts = [(HashingEmbedder(), 1.0)]
    texts = [q["question"] for q in questions]
    plain = normalise(fused_vectors(parts, "query", texts, "query", None))
    asked: list[str] = []

    def render(text: str) -> str | None:
        asked.append(text)
        return None if text.startswith("Giao") else "How long does delivery take?"

    rendering = Rendering(render, "test", 0.5)
    mixed = rendering.mixed_in(plain, questions, parts, tmp_path, lambda line: None)
    assert asked == [questions[0]["question"], questions[2]["question"]]  # never English
    assert not np.allclose(mixed[0], plain[0])
    assert np.allclose(mixed[1], plain[1]) and np.allclose(mixed[2], plain[2])
    assert np.isclose(np.linalg.norm(mixed[0]), 1.0)
    again = Rendering(render, "test", 0.5).mixed_in(plain, questions, parts, tmp_path, print)
    assert len(asked) == 2  # read back from the cache, not rendered again
    assert np.allclose(again, mixed)
