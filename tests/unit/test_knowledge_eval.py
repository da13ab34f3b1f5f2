"""`parley eval retrieval` wiring: the XQuAD-R scorer imported from its folder, pools scored per
question language, figures written to JSON (a small slice with the model-free encoder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.evaluation.xquad import run_retrieval_eval
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
