"""Embedding providers: the fused default across languages, sentence-transformers from a local
folder, fusion arithmetic, and the LangChain adapters."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from knowledge import ChromaIndex, IndexedDocument, load_document, make_embedder, open_client
from knowledge.chunking import chunk_document
from knowledge.embeddings import (
    E5Embedder,
    FusedEmbedder,
    HashingEmbedder,
    UseEmbedder,
    Vectors,
    normalise,
)
from knowledge.langchain import KnowledgeRetriever, ParleyEmbeddings

PASSAGES = [
    "Returns: you can send any item back within 30 days of delivery for a full refund.",
    "Shipping: we deliver to 30 countries; parcels arrive in 3 to 5 business days.",
    "Care: clean the water bottle by hand with warm soapy water.",
]
QUESTIONS = {
    "de": ("Wie lange habe ich Zeit, einen Artikel zurückzuschicken?", 0),
    "ja": ("商品は何日以内に返品できますか?", 0),
    "es": ("¿Cuánto tarda el envío de un paquete?", 1),
    "fr": ("Comment nettoyer la gourde ?", 2),
}


class Fixed:
    """An encoder returning given vectors."""

    def __init__(self, name: str, vectors: list[list[float]]) -> None:
        self.name = name
        self.dim = len(vectors[0])
        self._vectors = normalise(vectors)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return self._vectors[: len(texts)]

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self._vectors[: len(texts)]


def test_fused_cosine_is_the_weighted_mean_of_the_parts() -> None:
    a = Fixed("a", [[1, 0], [0.6, 0.8]])
    b = Fixed("b", [[1, 0, 0], [0, 1, 0]])
    fused = FusedEmbedder([(a, 3.0), (b, 1.0)])
    assert fused.dim == 5 and fused.name == "a75+b25"
    vectors = fused.embed_passages(["x", "y"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    assert float(vectors[0] @ vectors[1]) == pytest.approx(0.75 * 0.6 + 0.25 * 0.0, abs=1e-6)


def test_the_default_fused_embedder_matches_questions_across_languages() -> None:
    embedder = make_embedder("fused")
    assert embedder.dim == 384 + 512
    passages = embedder.embed_passages(PASSAGES)
    queries = embedder.embed_queries([question for question, _ in QUESTIONS.values()])
    best = (queries @ passages.T).argmax(axis=1)
    assert list(best) == [answer for _, answer in QUESTIONS.values()]


def test_use_stays_out_of_questions_in_languages_it_was_not_trained_on() -> None:
    e5, use = E5Embedder(), UseEmbedder()
    fused = FusedEmbedder([(e5, 0.9), (use, 0.1)])
    questions = [
        "Πόσο καιρό έχω για να επιστρέψω ένα προϊόν;",  # el
        "मैं कितने दिनों में सामान लौटा सकता हूँ?",  # hi
        "Tôi có bao lâu để trả lại một món hàng?",  # vi
        "Wie lange habe ich Zeit, einen Artikel zurückzuschicken?",  # de: USE knows German
    ]
    norms = np.linalg.norm(use.embed_queries(questions), axis=1)
    assert list(np.round(norms, 3)) == [0.0, 0.0, 0.0, 1.0]
    passages = fused.embed_passages(PASSAGES)
    scores = fused.embed_queries(questions) @ passages.T
    e5_scores = e5.embed_queries(questions) @ e5.embed_passages(PASSAGES).T
    # Without a USE vector the fused cosine is e5's alone (scaled by √0.9: the unit query lies
    # wholly in e5's block, the passage only partly).
    assert np.allclose(scores[:3], np.sqrt(0.9) * e5_scores[:3], atol=1e-5)
    assert not np.allclose(scores[3], np.sqrt(0.9) * e5_scores[3], atol=1e-3)
    assert list(scores.argmax(axis=1)) == [0, 0, 0, 0]


def test_a_loaded_embedder_leaves_numpy_on_one_blas_thread() -> None:
    # Two BLAS threads stall every small product of a turn on a busy 2-core machine
    # (`knowledge.embeddings._base.one_blas_thread`).
    from threadpoolctl import threadpool_info

    make_embedder("fused").embed_queries(["Wie lange dauert der Versand?"])
    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert blas and all(pool["num_threads"] == 1 for pool in blas)


def test_sentence_transformers_provider_loads_the_packaged_model_offline() -> None:
    embedder = make_embedder("st:packaged")
    assert embedder.dim == 384
    passages = embedder.embed_passages(PASSAGES)
    query = embedder.embed_queries(["How do I wash my bottle?"])
    assert int((query @ passages.T).argmax()) == 2
    with pytest.raises(FileNotFoundError):
        make_embedder("st:/nonexistent/model")


def test_unknown_embedder_spec_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown embedder"):
        make_embedder("openai:text-embedding-3")


async def test_langchain_embeddings_and_retriever(tmp_path: Path) -> None:
    embeddings = ParleyEmbeddings(HashingEmbedder())
    vectors = embeddings.embed_documents(["a lamp", "a bottle"])
    assert len(vectors) == 2 and len(vectors[0]) == 512
    assert await embeddings.aembed_query("a lamp") == pytest.approx(vectors[0])

    index = ChromaIndex(open_client(None, tmp_path / "chroma"), HashingEmbedder())
    loaded = load_document("lamps.md", b"# Lamps\n\n## Desk\nThe NL-4410 desk lamp dims.\n")
    await index.replace_document(
        "shop", IndexedDocument("d1", "lamps.md", loaded.title, 1, chunk_document(loaded, ["en"]))
    )
    retriever = KnowledgeRetriever(index=index, store_id="shop", k=1)
    [found] = await retriever.ainvoke("desk lamp NL-4410")
    assert found.page_content == "The NL-4410 desk lamp dims."
    assert found.metadata["document"] == "lamps.md"
    assert found.metadata["section"] == "Lamps > Desk"
    [again] = retriever.invoke("desk lamp NL-4410")
    assert again.id == found.id
    other = KnowledgeRetriever(index=index, store_id="someone-else", k=3)
    assert await other.ainvoke("desk lamp NL-4410") == []
