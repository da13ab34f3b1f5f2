"""The cross-language offset: a passage in another language than the question's is ranked as if
its similarity were `CROSS_LANGUAGE_OFFSET` higher, in the index and in the XQuAD-R recipe;
the similarity a citation shows stays the plain one."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from evals.xquad import Neutral, pool_ranking
from knowledge import ChromaIndex, IndexedDocument, load_document, open_client
from knowledge.chunking import chunk_document
from knowledge.embeddings import Vectors, normalise
from knowledge.index.languages import CROSS_LANGUAGE_OFFSET, language_bonus
from knowledge.langchain import KnowledgeRetriever

GERMAN = "Innerhalb Deutschlands liefern wir in 2 bis 3 Werktagen aus."
ENGLISH = "You can send any item back within thirty days of delivery."
QUESTION = "Wie viele Tage habe ich Zeit, um etwas zurückzuschicken?"


def test_only_passages_in_another_known_language_gain() -> None:
    assert language_bonus(["de", "en", "", "fr"], "de") == [
        0.0, CROSS_LANGUAGE_OFFSET, 0.0, CROSS_LANGUAGE_OFFSET,
    ]  # fmt: skip
    assert language_bonus(["de", "en"], None) == [0.0, 0.0]
    assert language_bonus(["de", "en"], "de", offset=0.0) == [0.0, 0.0]


class SameLanguageLeaning:
    """Two dimensions: every query is (1, 0); the German passage sits a little closer to it
    than the English one, as e5 rates a same-language passage above the answer in another."""

    name = "leaning-de"
    dim = 2

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return normalise([[1.0, 0.300 if "Deutschlands" in text else 0.305] for text in texts])

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return normalise([[1.0, 0.0] for _ in texts])


def _document(document_id: str, text: str, language: str) -> IndexedDocument:
    loaded = load_document(f"{document_id}.md", text.encode())
    chunks = chunk_document(loaded, [language])
    return IndexedDocument(document_id, f"{document_id}.md", loaded.title, 1, chunks)


async def test_the_answer_in_another_language_outranks_a_near_same_language_passage(
    tmp_path: Path,
) -> None:
    index = ChromaIndex(open_client(None, tmp_path / "chroma"), SameLanguageLeaning())
    await index.replace_document("s", _document("versand", f"# Versand\n\n{GERMAN}\n", "de"))
    await index.replace_document("s", _document("returns", f"# Returns\n\n{ENGLISH}\n", "en"))
    unknown = await index.search("s", QUESTION, k=2)
    assert [p.language for p in unknown.passages] == ["de", "en"]
    german = await index.search("s", QUESTION, k=2, language="de")
    assert [p.language for p in german.passages] == ["en", "de"]
    # The citation keeps the plain similarity, lower than the passage it now ranks above.
    assert german.passages[0].score < german.passages[1].score
    # For a question in a third language both gain alike: the plain order stands.
    french = await index.search("s", QUESTION, k=2, language="fr")
    assert [p.language for p in french.passages] == ["de", "en"]


def test_the_eval_adds_the_offset_before_ranking_by_section() -> None:
    scores = np.array([[0.80, 0.79, 0.70]], dtype=np.float32)
    offsets = np.array([[0.0, CROSS_LANGUAGE_OFFSET, CROSS_LANGUAGE_OFFSET]])
    neutral = Neutral([frozenset()], [frozenset()] * 3, 0.0)
    plain = pool_ranking(scores, np.array([0]), np.arange(3), np.arange(3), 2.0, neutral)
    shifted = pool_ranking(scores, np.array([0]), np.arange(3), np.arange(3), 2.0, neutral, offsets)
    assert np.argmax(plain[0]) == 0 and np.argmax(shifted[0]) == 1


async def test_the_langchain_retriever_ranks_as_the_bot_for_its_language(tmp_path: Path) -> None:
    index = ChromaIndex(open_client(None, tmp_path / "chroma"), SameLanguageLeaning())
    await index.replace_document("s", _document("versand", f"# Versand\n\n{GERMAN}\n", "de"))
    await index.replace_document("s", _document("returns", f"# Returns\n\n{ENGLISH}\n", "en"))
    german = KnowledgeRetriever(index=index, store_id="s", k=2, language="de")
    assert [d.metadata["language"] for d in await german.ainvoke(QUESTION)] == ["en", "de"]
    assert [d.metadata["language"] for d in german.invoke(QUESTION)] == ["en", "de"]
    unknown = KnowledgeRetriever(index=index, store_id="s", k=2)
    assert [d.metadata["language"] for d in unknown.invoke(QUESTION)] == ["de", "en"]
