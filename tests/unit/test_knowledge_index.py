"""The index on embedded Chroma: tenant isolation, atomic replace, delete, exact tokens."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from knowledge import ChromaIndex, IndexedDocument, load_document, open_client
from knowledge.chunking import chunk_document
from knowledge.embeddings import HashingEmbedder, Vectors, normalise
from knowledge.index import collection_name, exact_tokens

RETURNS_V1 = "# Returns\n\nYou can return any item within 30 days of delivery.\n"
RETURNS_V2 = "# Returns\n\nYou can return any item within 60 days of delivery.\n"
LAMPS = (
    "# Lamps\n\n## Desk lamps\nThe NL-4410 desk lamp has a dimmable LED.\n\n"
    "## Floor lamps\nOur floor lamps come with a fabric shade.\n"
)


def document(document_id: str, name: str, text: str, version: int = 1) -> IndexedDocument:
    loaded = load_document(name, text.encode())
    return IndexedDocument(
        document_id, name, loaded.title, version, chunk_document(loaded, ["en", "de"])
    )


@pytest.fixture
def index(tmp_path: Path) -> ChromaIndex:
    return ChromaIndex(open_client(None, tmp_path / "chroma"), HashingEmbedder())


async def test_one_store_never_sees_another_stores_chunks(index: ChromaIndex) -> None:
    await index.replace_document("alpha", document("d1", "returns.md", RETURNS_V1))
    await index.replace_document("beta", document("d2", "lamps.md", LAMPS))
    alpha = await index.search("alpha", "return an item within 30 days", k=10)
    beta = await index.search("beta", "return an item within 30 days", k=10)
    assert {p.document for p in alpha.passages} == {"returns.md"}
    assert {p.document for p in beta.passages} == {"lamps.md"}
    assert (await index.search("gamma", "return")).passages == []
    with pytest.raises(ValueError, match="store_id"):
        await index.search("", "return")


def test_collection_names_are_valid_and_distinct() -> None:
    names = {collection_name("e5s60+usem340", store) for store in ("a", "A", "a b", "ä" * 80)}
    assert len(names) == 4
    for name in names:
        assert 3 <= len(name) <= 512 and all(c.isalnum() or c in "._-" for c in name)


async def test_search_returns_citations_with_section_language_and_confidence(
    index: ChromaIndex,
) -> None:
    await index.replace_document("s", document("d1", "lamps.md", LAMPS))
    result = await index.search("s", "floor lamps fabric shade", k=2)
    top = result.passages[0]
    assert top.document == "lamps.md"
    assert top.section == "Lamps > Floor lamps"
    assert top.language == "en"
    assert 0.0 < top.score <= 1.0
    assert 0.0 <= result.confidence <= 1.0
    assert "index" in result.timings_ms and "embed" in result.timings_ms


class _Proxy:
    """Runs a check before chosen collection calls, to look at the index mid-replace."""

    def __init__(self, inner: Any, before: dict[str, Any]) -> None:
        self._inner = inner
        self._before = before

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        hook = self._before.get(name)
        if hook is None:
            return attribute

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            hook()
            return attribute(*args, **kwargs)

        return wrapped


async def test_replace_is_atomic_for_searches(index: ChromaIndex) -> None:
    await index.replace_document("s", document("d1", "returns.md", RETURNS_V1, version=1))
    query = index.embedder.embed_queries(["return any item within days of delivery"])[0]
    seen: list[set[str]] = []

    def look() -> None:
        result = index.search_sync("s", "return within days", query, k=10)
        seen.append({p.text for p in result.passages})

    chunks = index._collection("s")
    manifest = index._collection("s", manifest=True)
    index._collections[chunks.name] = _Proxy(chunks, {"delete": look})
    index._collections[manifest.name] = _Proxy(manifest, {"upsert": look})
    await index.replace_document("s", document("d1", "returns.md", RETURNS_V2, version=2))
    look()
    old = "You can return any item within 30 days of delivery."
    new = "You can return any item within 60 days of delivery."
    # Before the manifest flips: only the old version; after: only the new one; never both.
    assert seen == [{old}, {new}, {new}]


async def test_delete_removes_the_vectors(index: ChromaIndex) -> None:
    await index.replace_document("s", document("d1", "returns.md", RETURNS_V1))
    await index.replace_document("s", document("d2", "lamps.md", LAMPS))
    assert await index.document_chunks("s", "d1")
    await index.delete_document("s", "d1")
    assert await index.document_chunks("s", "d1") == []
    result = await index.search("s", "return any item within 30 days", k=10)
    assert {p.document for p in result.passages} == {"lamps.md"}
    assert await index.count("s") == 2


class BlindEmbedder:
    """Vectors unrelated to meaning: dense retrieval alone cannot find anything."""

    name = "blind"
    dim = 64

    def _encode(self, texts: Sequence[str]) -> Vectors:
        rows = [
            np.frombuffer(hashlib.sha512(text.encode()).digest(), dtype=np.uint8)[:64]
            for text in texts
        ]
        return normalise(np.asarray(rows, dtype=np.float32) - 127.5)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts)


async def test_exact_tokens_are_found_when_embeddings_miss(tmp_path: Path) -> None:
    index = ChromaIndex(open_client(None, tmp_path / "chroma"), BlindEmbedder(), candidates=2)
    filler = "\n\n".join(f"## Item {n}\nA plain product number {n} description." for n in range(40))
    await index.replace_document("s", document("d0", "catalog.md", f"# Catalog\n\n{filler}"))
    await index.replace_document("s", document("d1", "lamps.md", LAMPS))
    result = await index.search("s", "Does the NL-4410 dim?", k=3)
    assert result.passages[0].text == "The NL-4410 desk lamp has a dimmable LED."
    assert result.passages[0].exact_match
    order = await index.search("s", "where is order #W0000001", k=3)
    assert not any(p.exact_match for p in order.passages)


def test_exact_tokens_are_codes_not_words() -> None:
    assert exact_tokens("Does the NL-4410 dim?") == ["NL-4410"]
    assert exact_tokens("order #W0000001 and SKU AB12") == ["#W0000001", "AB12"]
    assert exact_tokens("I want to return it within 30 days in 2024") == []


def test_confidence_rises_with_score_and_margin() -> None:
    from knowledge.confidence import confidence

    assert confidence([]) == 0.0
    weak, strong = confidence([0.80, 0.79]), confidence([0.88, 0.80])
    assert 0.0 < weak < strong < 1.0
    assert confidence([0.80, 0.79], exact_match=True) >= 0.9
