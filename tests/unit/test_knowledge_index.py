"""The index on embedded Chroma and on the memory backend: tenant isolation, atomic replace,
delete, exact tokens, and embedding a batch of documents at once."""

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
from knowledge.index import VectorIndex, collection_name, connect_index, exact_tokens
from knowledge.index.lexical import code_key, passage_codes
from knowledge.index.sections import passage_vectors
from knowledge.ingestion import embed_documents

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


@pytest.fixture(params=["chroma", "memory"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> VectorIndex:
    if request.param == "memory":
        return connect_index("memory://", None, HashingEmbedder())
    return ChromaIndex(open_client(None, tmp_path / "chroma"), HashingEmbedder())


async def test_one_store_never_sees_another_stores_chunks(index: VectorIndex) -> None:
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
    index: VectorIndex,
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


async def test_replace_is_atomic_for_searches(index: VectorIndex) -> None:
    await index.replace_document("s", document("d1", "returns.md", RETURNS_V1, version=1))
    query = index.embedder.embed_queries(["return any item within days of delivery"])[0]
    seen: list[set[str]] = []

    def look() -> None:
        result = index.search_sync("s", "return within days", query, k=10)
        seen.append({p.text for p in result.passages})

    proxies = {
        "chunks": _Proxy(index.collection("s"), {"delete": look}),
        "manifest": _Proxy(index.collection("s", "manifest"), {"upsert": look}),
    }
    real = index.collection

    def collection(store_id: str, kind: str = "chunks") -> Any:
        return proxies[kind] if store_id == "s" and kind in proxies else real(store_id, kind)

    index.collection = collection  # type: ignore[method-assign]
    await index.replace_document("s", document("d1", "returns.md", RETURNS_V2, version=2))
    look()
    old = "You can return any item within 30 days of delivery."
    new = "You can return any item within 60 days of delivery."
    # Before the manifest flips: only the old version; after: only the new one; never both.
    assert seen == [{old}, {new}, {new}]


async def test_delete_removes_the_vectors(index: VectorIndex) -> None:
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


def test_passage_codes_are_the_codes_and_their_code_like_parts() -> None:
    text = (
        "The NL-4410-B lamp (order #W0000001), model X200, since 2024, returns within 30 days. "
        "NL-7700のランプ"
    )
    keys = passage_codes(text)
    assert {"nl-4410-b", "nl-4410", "4410-b", "w0000001", "x200", "nl-7700"} <= set(keys)
    assert not {"2024", "30", "b", "nl"} & set(keys)
    assert code_key("#W0000001") == "w0000001" and code_key("nl_4410") == "nl-4410"
    assert exact_tokens("NL-7700は調光できますか") == ["NL-7700"]


@pytest.mark.parametrize("codes", ["sqlite file", "chroma collection", "memory collection"])
async def test_exact_codes_follow_the_live_version_and_stay_in_their_store(
    tmp_path: Path, codes: str
) -> None:
    index: VectorIndex
    if codes == "sqlite file":
        index = ChromaIndex.embedded(tmp_path / "chroma", BlindEmbedder(), candidates=1)
    elif codes == "chroma collection":
        index = ChromaIndex(open_client(None, tmp_path / "chroma"), BlindEmbedder(), candidates=1)
    else:
        index = connect_index("memory://", None, BlindEmbedder())
        index.candidates = 1
    filler = "\n\n".join(f"## Item {n}\nA plain product number {n} description." for n in range(30))
    await index.replace_document("s", document("d0", "catalog.md", f"# Catalog\n\n{filler}"))
    old = "# Lamps\n\nThe NL-1000 lamp is discontinued.\n"
    new = "# Lamps\n\nThe NL-2000 lamp replaces it.\n"
    await index.replace_document("s", document("d1", "lamps.md", old, version=1))
    found = await index.search("s", "is the nl-1000 still sold?", k=3)
    assert found.passages[0].text == "The NL-1000 lamp is discontinued."
    assert found.passages[0].exact_match

    await index.replace_document("s", document("d1", "lamps.md", new, version=2))
    gone = await index.search("s", "is the NL-1000 still sold?", k=3)
    assert not any(p.exact_match or "NL-1000" in p.text for p in gone.passages)
    there = await index.search("s", "NL-2000の在庫はありますか", k=3)
    assert there.passages[0].text == "The NL-2000 lamp replaces it."

    other = await index.search("t", "NL-2000", k=3)
    assert other.passages == []
    await index.delete_document("s", "d1")
    deleted = await index.search("s", "NL-2000", k=3)
    assert not any(p.exact_match for p in deleted.passages)
    await index.replace_document("s", document("d1", "lamps.md", new, version=3))
    await index.drop_store("s")
    assert (await index.search("s", "NL-2000", k=3)).passages == []
    index.close()


def test_documents_are_embedded_together_as_each_alone() -> None:
    embedder = HashingEmbedder()
    calls: list[list[str]] = []

    def counting(texts: Sequence[str]) -> Vectors:
        calls.append(list(texts))
        return embedder.embed_passages(texts)

    docs = [document("d1", "returns.md", RETURNS_V1), document("d2", "lamps.md", LAMPS)]
    docs.append(document("d3", "copy.md", RETURNS_V1))
    pairs = [(d.chunks, d.title) for d in docs]
    together = embed_documents(pairs, counting)
    assert len(calls) == 1  # one encoder call for every document of the batch
    assert len(calls[0]) == len(set(calls[0])) == 3  # the copy's text is embedded once
    for (chunks, title), embedded in zip(pairs, together, strict=True):
        alone = passage_vectors(chunks, title, embedder.embed_passages)
        assert np.allclose(embedded.vectors, alone, atol=1e-6)


def test_a_new_version_embeds_only_the_passages_that_changed() -> None:
    embedder = HashingEmbedder()
    calls: list[list[str]] = []

    def counting(texts: Sequence[str]) -> Vectors:
        calls.append(list(texts))
        return embedder.embed_passages(texts)

    old = document("d2", "lamps.md", LAMPS)
    first = embed_documents([(old.chunks, old.title)], counting)[0]
    assert first.keys is not None and first.reused == 0
    stored = dict(zip(first.keys, first.vectors, strict=True))
    edited = document("d2", "lamps.md", LAMPS.replace("fabric shade", "linen shade"), 2)
    second = embed_documents([(edited.chunks, edited.title)], counting, [stored])[0]
    assert second.reused == 1 and len(calls[-1]) == 1 and "linen shade" in calls[-1][0]
    fresh = passage_vectors(edited.chunks, edited.title, embedder.embed_passages)
    assert np.allclose(second.vectors, fresh, atol=1e-6)
