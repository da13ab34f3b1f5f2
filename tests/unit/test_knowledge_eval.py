"""`parley eval retrieval` wiring: the XQuAD-R scorer imported from its folder, pools scored per
question language, figures written to JSON (a small slice with the model-free encoder)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from evals.xquad import evaluate, run_retrieval_eval
from knowledge.embeddings import HashingEmbedder
from knowledge.index._base import Passage
from knowledge.index.sections import rank_by_section, section_boosted
from tests.conftest import EVAL_DIR

XQUAD = EVAL_DIR / "xquad_r"


def test_eval_scores_every_pool_per_language_and_writes_json(tmp_path: Path) -> None:
    lines: list[str] = []
    out = tmp_path / "retrieval.json"
    results = run_retrieval_eval(
        XQUAD, out, echo=lines.append, limit=4, embedder_spec="hashing", cache_dir=None
    )
    written = json.loads(out.read_text())
    assert written["pools"].keys() == {"en", "de", "all", "same"}
    en = written["pools"]["en"]
    assert set(en["per_lang"]) == {"ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh"}
    assert "en" not in en["scored_langs"]
    for row in en["per_lang"].values():
        assert 0.0 <= row["R@1"] <= row["R@5"] <= row["R@10"] <= 1.0
    # Character trigrams match a language with itself only: same-language recall stays high.
    assert written["pools"]["same"]["overall"]["R@10"] > 0.8
    assert results["summary"]["worst_gap_points"] > 10
    assert any(line.startswith("== pool all") for line in lines)
    assert written["calibration"]["n"] == 2 * 4 * 11


def test_a_missing_eval_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no XQuAD-R data"):
        run_retrieval_eval(tmp_path, tmp_path / "out.json", echo=lambda _: None)


def _passage(chunk: str, section: str, score: float, exact: bool = False) -> Passage:
    return Passage(
        chunk_id=chunk,
        document_id="doc" if section else chunk,
        document="policy.md",
        section=section,
        text=chunk,
        language="en",
        score=score,
        exact_match=exact,
    )


def test_section_ranking_keeps_the_best_passage_first_and_brings_its_section_next() -> None:
    passages = [
        _passage("other", "Shipping", 0.70),
        _passage("best", "Returns", 0.80),
        _passage("sibling", "Returns", 0.55),
        _passage("loose-a", "", 0.75),
        _passage("loose-b", "", 0.74),
        _passage("code", "Warranty", 0.30, exact=True),
    ]
    ranked = [p.chunk_id for p in rank_by_section(passages, boost=2.0)]
    # The quoted code first, then the best match, then its section ahead of better-scoring
    # passages elsewhere; chunks outside any section are not boosted by each other.
    assert ranked == ["code", "best", "loose-a", "loose-b", "sibling", "other"]
    ranked_more = [p.chunk_id for p in rank_by_section(passages, boost=20.0)]
    assert ranked_more[:3] == ["code", "best", "sibling"]
    assert [p.chunk_id for p in rank_by_section(passages, boost=0.0)] == [
        "code", "best", "loose-a", "loose-b", "other", "sibling",
    ]  # fmt: skip


def test_section_boosted_scores_add_the_best_score_of_each_section() -> None:
    scores = np.array([[0.5, 0.9, 0.4, 0.6], [0.1, 0.2, 0.3, 0.0]])
    boosted = section_boosted(scores, np.array([0, 1, 1, 2]), boost=2.0)
    assert np.allclose(boosted, [[1.5, 2.7, 2.2, 1.8], [0.3, 0.8, 0.9, 0.0]])
    assert np.array_equal(boosted.argmax(axis=1), scores.argmax(axis=1))


def test_section_boost_never_changes_the_first_passage_on_the_eval(tmp_path: Path) -> None:
    runs = {
        boost: evaluate(
            XQUAD, embedder=HashingEmbedder(), section_boost=boost, pools=("en", "same"),
            limit=6, cache_dir=None, echo=lambda _: None,
        )
        for boost in (0.0, 2.0)
    }  # fmt: skip
    for pool in ("en", "same"):
        plain, boosted = runs[0.0]["pools"][pool], runs[2.0]["pools"][pool]
        assert boosted["overall"]["R@1"] == plain["overall"]["R@1"]
    assert runs[2.0]["recipe"]["section_boost"] == 2.0


def test_a_questions_hub_references_never_include_its_own_group() -> None:
    from evals.xquad import HeldOut
    from knowledge.embeddings import normalise

    asked = normalise(np.asarray([[1, 0, 0], [0.6, 0.8, 0], [0, 0, 1]], dtype=np.float32))
    questions = [
        {"lang": "de", "group": "g000"},
        {"lang": "de", "group": "g001"},
        {"lang": "th", "group": "g002"},
    ]
    hubs = HeldOut(asked, questions, np.zeros((0, 0), np.float32), [], weight=0.5)
    # The candidate is question 0's own vector: only the odd group's German question (cosine
    # .6) may stand for other shoppers when question 0 is ranked; question 1 sees question 0's.
    penalty = hubs.penalty(np.arange(3), asked[:1])
    assert np.allclose(penalty[:, 0], [-0.5 * 0.6, -0.5 * 1.0, 0.0])
    assert (
        not HeldOut(asked, questions, asked, ["de"] * 3, weight=0.0)
        .penalty(np.arange(3), asked)
        .any()
    )


def test_the_hub_penalty_is_part_of_the_recipe_when_on() -> None:
    runs = {
        weight: evaluate(
            XQUAD, embedder=HashingEmbedder(), pools=("en",), limit=6, cache_dir=None,
            echo=lambda _: None, hub_weight=weight, seed=[("de", "Wie lange dauert es?")],
        )
        for weight in (0.0, 0.5)
    }  # fmt: skip
    assert runs[0.5]["recipe"]["hub_penalty"]["weight"] == 0.5
    assert runs[0.5]["recipe"]["hub_penalty"]["seed_questions"] == 1
    assert runs[0.0]["pools"]["en"]["overall"] != runs[0.5]["pools"]["en"]["overall"]
