"""The vector index protocol (every call names the store, and a store sees only its chunks),
and the backend protocol the index is written on: named record sets per store."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from knowledge.documents import Chunk
from knowledge.embeddings import Vectors


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with what a citation needs."""

    chunk_id: str
    document_id: str
    document: str
    section: str
    text: str
    language: str
    score: float
    """Fused cosine similarity, plus the lexical bonus when an exact token matched."""
    exact_match: bool = False


@dataclass(frozen=True)
class SearchResult:
    """Ranked passages and how sure the index is that the first one answers the question."""

    passages: list[Passage]
    confidence: float
    """Calibrated probability that the top passage is the right one (0 when nothing matched)."""
    timings_ms: dict[str, float] = field(default_factory=dict)
    lead: Passage | None = None
    """The passage whether to answer is decided on (with `confidence`): the first one before the
    hub penalty re-ranked them (`knowledge.index.hubness`), which only chooses which passage is
    cited first. None means the first of `passages`."""

    def deciding(self, usable: Callable[[Passage], bool]) -> Passage | None:
        """The passage the answer floors read: the lead when `usable` (the caller drops some,
        such as passages that carry instructions), else the first usable passage."""
        if self.lead is not None and usable(self.lead):
            return self.lead
        return next((passage for passage in self.passages if usable(passage)), None)


@dataclass(frozen=True)
class IndexedDocument:
    """What the index needs to store one version of a document."""

    document_id: str
    name: str
    title: str
    version: int
    chunks: Sequence[Chunk]
    vector_keys: Sequence[str] | None = None
    """Per chunk, the key under which a later version may reuse its vector (see
    `knowledge.ingestion.embed_documents`); None when the vectors are not reusable."""


class KnowledgeIndex(Protocol):
    """Stores chunk vectors per store and searches them; blocking work runs off the loop."""

    async def replace_document(self, store_id: str, document: IndexedDocument) -> int:
        """Index a new version of a document; searches see the old or the new one, never both
        nor neither. Returns the number of chunks stored."""
        ...

    async def delete_document(self, store_id: str, document_id: str) -> None:
        """Remove a document and its vectors from the store's index."""
        ...

    async def search(
        self, store_id: str, query: str, *, k: int = 5, language: str | None = None
    ) -> SearchResult:
        """The `k` best passages of this store for `query`, in any language; `language`, the
        question's, lets passages in other languages make up the embedding's bias for it."""
        ...

    async def search_vector(
        self,
        store_id: str,
        query: str,
        vector: Vectors,
        *,
        k: int = 5,
        language: str | None = None,
    ) -> SearchResult:
        """Like `search` with the query already embedded (benchmarks, batch evaluation)."""
        ...

    async def remember_question(self, store_id: str, vector: Vectors, language: str) -> bool:
        """Keep a shopper's question (its query vector) among the store's reference questions,
        which rank down passages that sit near any question; False when already kept."""
        ...

    async def count(self, store_id: str) -> int:
        """Chunks currently visible to searches of this store."""
        ...

    async def ping(self) -> None:
        """Raise `IndexUnavailable` unless the index answers."""
        ...


class Collection(Protocol):
    """One record set of a store (its chunks, the manifest of live versions, codes, questions):
    ids with a vector, an optional text and flat metadata. The subset of a Chroma collection's
    API the index uses; `where` filters are Chroma's (`{"k": v}`, `$ne`, `$in`, `$and`), and
    results are Chroma's column dicts (`ids`, then each `include`d column)."""

    name: str

    def get(
        self,
        ids: Sequence[str] | None = None,
        where: Mapping[str, Any] | None = None,
        limit: int | None = None,
        include: Sequence[str] = ("metadatas", "documents"),
    ) -> Mapping[str, Any]:
        """The records with these ids and/or matching `where`."""
        ...

    def add(self, ids: Sequence[str], embeddings: Any, metadatas: Any = None) -> None:
        """Insert new records."""
        ...

    def upsert(
        self, ids: Sequence[str], embeddings: Any, metadatas: Any = None, documents: Any = None
    ) -> None:
        """Insert or replace records."""
        ...

    def update(self, ids: Sequence[str], embeddings: Any = None, metadatas: Any = None) -> None:
        """Change vectors and/or metadata of existing records."""
        ...

    def delete(
        self, ids: Sequence[str] | None = None, where: Mapping[str, Any] | None = None
    ) -> None:
        """Remove the records with these ids and/or matching `where`."""
        ...

    def query(
        self, query_embeddings: Any, n_results: int, include: Sequence[str]
    ) -> Mapping[str, Any]:
        """The `n_results` records nearest each query vector by cosine (columns nested per
        query, `distances` = 1 - cosine)."""
        ...


class Backend(Protocol):
    """Where an index keeps its records: a store's collections by kind (`chunks`, `manifest`,
    `codes`, `questions`, `asked`); blocking, so the index calls it from a thread."""

    def collection(self, store_id: str, kind: str) -> Collection:
        """The store's collection of that kind, created on first use."""
        ...

    def drop_store(self, store_id: str) -> None:
        """Delete every collection of the store."""
        ...

    def batch_size(self) -> int:
        """How many records one write may carry."""
        ...

    def ping(self) -> None:
        """Raise unless the backend answers."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...
