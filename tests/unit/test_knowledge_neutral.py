"""The language-neutral lexical channel: numbers and Latin-script words a question shares with a
passage in another language move that passage up, in the index and in the XQuAD-R recipe."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from evals.xquad import Neutral, pool_ranking
from knowledge import ChromaIndex, IndexedDocument, load_document, open_client
from knowledge.chunking import chunk_document
from knowledge.embeddings import Vectors, normalise
from knowledge.index._base import Passage
from knowledge.index.neutral import (
    NEUTRAL_WEIGHT,
    neutral_bonus,
    neutral_scores,
    neutral_tokens,
)
from knowledge.index.sections import CANDIDATES, rank_by_section

QUESTION = "¿Cuántos puntos permitió la defensa de los Panthers en 2015?"
RIGHT = "The Panthers defence gave up just 308 points in 2015."
WRONG = "The Broncos defence gave up few points last season."


def test_neutral_tokens_are_numbers_in_any_script_and_whole_latin_words() -> None:
    assert neutral_tokens("Super Bowl 50 was played in 2016 for $1,000.") == {
        "super", "bowl", "#50", "was", "played", "#2016", "for", "#1000",
    }  # fmt: skip
    # German thousands, Arabic-Indic digits and a year glued to a Chinese character all agree.
    assert neutral_tokens("1.000") == neutral_tokens("١٠٠٠") == {"#1000"}
    assert neutral_tokens("2015年") == {"#2015"}
    # Words of another script give nothing, not a Latin fragment ("Var" of "Varşova").
    assert neutral_tokens("Varşova'nın Việt ist") == {"ist"}


def test_a_token_every_candidate_holds_weighs_nothing() -> None:
    query = frozenset({"panthers", "#2015"})
    candidates = [frozenset({"panthers", "#2015"}), frozenset({"panthers"}), frozenset()]
    scores = neutral_scores(query, candidates)
    assert scores[0] == 1.0
    assert 0 < scores[1] < scores[0] and scores[2] == 0.0
    # A word all candidates share counts for little beside one that tells them apart.
    shared = neutral_scores(
        frozenset({"the", "panthers"}),
        [frozenset({"the", "panthers"}), frozenset({"the"}), frozenset({"the"})],
    )
    assert shared[0] == 1.0 and shared[1] == shared[2] < 0.2
    assert neutral_scores(frozenset(), candidates) == [0.0, 0.0, 0.0]


def _passage(chunk_id: str, text: str, score: float) -> Passage:
    return Passage(chunk_id, chunk_id, f"{chunk_id}.md", "", text, "en", score)


def test_the_bonus_brings_the_passage_sharing_the_question_s_name_and_year_first() -> None:
    passages = [_passage("wrong", WRONG, 0.803), _passage("right", RIGHT, 0.800)]
    plain = [p.chunk_id for p in rank_by_section(passages)]
    assert plain == ["wrong", "right"]
    bonus = neutral_bonus(QUESTION, [p.text for p in passages])
    assert bonus[1] > bonus[0] == 0.0
    ranked = rank_by_section(passages, bonus=bonus)
    assert [p.chunk_id for p in ranked] == ["right", "wrong"]
    assert ranked[0].score == 0.80  # scores stay the plain similarities


class LeaningEmbedder:
    """Two dimensions: every query is (1, 0); a passage naming the Broncos sits a little closer
    to it than the others, so the dense ranking alone puts the wrong passage first."""

    name = "leaning"
    dim = 2

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return normalise([[1.0, 0.30 if "Broncos" in text else 0.305] for text in texts])

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return normalise([[1.0, 0.0] for _ in texts])


def _document(document_id: str, text: str) -> IndexedDocument:
    loaded = load_document(f"{document_id}.md", text.encode())
    chunks = chunk_document(loaded, ["en", "es"])
    return IndexedDocument(document_id, f"{document_id}.md", loaded.title, 1, chunks)


async def test_the_index_search_uses_the_channel_across_languages(tmp_path: Path) -> None:
    index = ChromaIndex(open_client(None, tmp_path / "chroma"), LeaningEmbedder())
    await index.replace_document("s", _document("wrong", f"# Season\n\n{WRONG}\n"))
    await index.replace_document("s", _document("right", f"# Defence\n\n{RIGHT}\n"))
    result = await index.search("s", QUESTION, k=2)
    assert [p.text for p in result.passages] == [RIGHT, WRONG]
    assert result.passages[0].score < result.passages[1].score  # dense alone disagreed


def test_the_eval_re_scores_only_each_question_s_top_candidates() -> None:
    passages = CANDIDATES + 5
    scores = np.linspace(0.9, 0.5, passages, dtype=np.float32).reshape(1, -1)
    tokens: list[frozenset[str]] = [frozenset()] * passages
    tokens[CANDIDATES + 2] = frozenset({"panthers"})  # beyond the candidates: no bonus
    tokens[3] = frozenset({"panthers"})
    neutral = Neutral([frozenset({"panthers"})], tokens, NEUTRAL_WEIGHT)
    sections = np.arange(passages)
    ranking = pool_ranking(scores, np.array([0]), np.arange(passages), sections, 0.0, neutral)
    added = ranking[0] - scores[0].astype(np.float64)
    assert added[3] > 0.0
    assert np.allclose(np.delete(added, 3), 0.0, atol=1e-7)
