"""The index on Chroma: embedded (PersistentClient) by default, a Chroma server by URL.

Each store has its own collection, so one store can never see another's chunks, and a small
manifest collection naming each document's live version: new chunks are written first, the
manifest flips, old chunks go last, and searches keep only hits of the live version. A third
collection maps the codes each chunk quotes (SKUs, order numbers) to the chunk, so the exact-token
channel is an indexed metadata lookup rather than a full-text scan of every chunk.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple, TypeVar
from urllib.parse import urlparse

import anyio
import numpy as np

from knowledge.confidence import confidence
from knowledge.embeddings import Embedder, Vectors
from knowledge.errors import IndexUnavailable
from knowledge.index._base import IndexedDocument, Passage, SearchResult
from knowledge.index.hubness import AskedQuestions, hub_penalty
from knowledge.index.languages import language_bonus
from knowledge.index.lexical import (
    CodeIndex,
    CodeRow,
    SqliteCodes,
    code_key,
    exact_tokens,
    passage_codes,
)
from knowledge.index.neutral import neutral_bonus
from knowledge.index.question_cache import QuestionCache, WrittenQuestions
from knowledge.index.sections import CANDIDATES, rank_by_section
from knowledge.questions import QUESTION_LIFT, mixed_rows, question_key, question_text

T = TypeVar("T")
EXACT_BONUS = 0.2
"""Added to a passage's score when it contains a code from the query verbatim."""
EXACT_LIMIT = 20
"""Passages the exact-token channel adds per code of the query."""
_SAFE = re.compile(r"[^a-zA-Z0-9_-]")
_SUFFIXES = {
    "chunks": "",
    "manifest": "-docs",
    "codes": "-codes",
    "questions": "-questions",
    "asked": "-asked",
}
CODES_FILE = "parley-codes.sqlite3"


def open_client(url: str | None, path: Path | None) -> Any:
    """A Chroma HttpClient for `url`, else a PersistentClient in `path`."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    if url:
        parsed = urlparse(url)
        if not parsed.hostname:
            raise IndexUnavailable(f"the Chroma URL is not a URL: {url!r}")
        return chromadb.HttpClient(
            host=parsed.hostname,
            port=parsed.port or 8000,
            ssl=parsed.scheme == "https",
            settings=settings,
        )
    if path is None:
        raise IndexUnavailable("an embedded index needs a folder")
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


def collection_name(embedder_name: str, store_id: str, suffix: str = "") -> str:
    """A valid Chroma name (3–512 of [a-zA-Z0-9._-]) unique to store and model."""
    digest = hashlib.sha256(f"{store_id}\x1f{embedder_name}".encode()).hexdigest()[:12]
    readable = _SAFE.sub("_", store_id)[:40]
    model = _SAFE.sub("_", embedder_name)[:40]
    return f"kb-{readable}-{model}-{digest}{suffix}"


class ChromaIndex:
    """`KnowledgeIndex` on Chroma with the fused embedder and an exact-token channel."""

    def __init__(
        self,
        client: Any,
        embedder: Embedder,
        *,
        candidates: int = CANDIDATES,
        connect: Callable[[], Any] | None = None,
        codes: CodeIndex | None = None,
    ) -> None:
        self._client = client
        self._connect = connect
        self.embedder = embedder
        self.candidates = candidates
        self._collections: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.codes: CodeIndex = codes or ChromaCodes(self)
        """Code lookup: a SQLite file beside embedded data, else a collection on the server
        (shared by every worker host)."""
        self.questions = QuestionCache(self)
        self.hub_weight = 0.0
        """The hub penalty's weight (`knowledge.index.hubness`): 0 here, so an index built
        directly ranks by similarity alone; the service sets `PARLEY_RETRIEVAL__HUB_WEIGHT`
        (`HUB_WEIGHT` by default). No question is kept while it is 0."""
        self.asked = AskedQuestions(self)
        """Reference questions per store and language, for the hub penalty
        (`knowledge.index.hubness`); the service sets its seed."""

    @classmethod
    def lazy(cls, url: str | None, path: Path | None, embedder: Embedder) -> ChromaIndex:
        """An index that connects on first use, so a server that is down at start-up shows in
        readiness checks instead of stopping the process."""
        codes = SqliteCodes(path / CODES_FILE) if not url and path is not None else None
        return cls(None, embedder, connect=lambda: open_client(url, path), codes=codes)

    @classmethod
    def embedded(cls, path: Path, embedder: Embedder, **options: Any) -> ChromaIndex:
        """An index in `path` (PersistentClient) with its codes in a SQLite file beside it."""
        return cls(
            open_client(None, path), embedder, codes=SqliteCodes(path / CODES_FILE), **options
        )

    @property
    def client(self) -> Any:
        """The Chroma client, connected on first use."""
        with self._lock:
            if self._client is None:
                if self._connect is None:
                    raise IndexUnavailable("the index is closed")
                try:
                    self._client = self._connect()
                except IndexUnavailable:
                    raise
                except Exception as error:  # chromadb raises ValueError, httpx errors, ...
                    raise IndexUnavailable(f"cannot reach the vector index: {error}") from error
            return self._client

    def close(self) -> None:
        """Release the client's connections and files."""
        with self._lock:
            client, self._client = self._client, None
            self._collections.clear()
        if isinstance(self.codes, SqliteCodes):
            self.codes.close()
        if client is None:
            return
        _close_http_sessions(client)

    # -- plumbing ---------------------------------------------------------------------------
    async def _run(self, work: Callable[[], T]) -> T:
        try:
            return await anyio.to_thread.run_sync(work)
        except IndexUnavailable:
            raise
        except Exception as error:  # chromadb raises many types; all mean the index failed.
            raise IndexUnavailable(f"vector index error: {error}") from error

    def _collection(self, store_id: str, kind: str = "chunks") -> Any:
        """The store's `chunks`, `manifest` (live version per document) or `codes` collection."""
        _require_store(store_id)
        name = collection_name(self.embedder.name, store_id, _SUFFIXES[kind])
        client = self.client
        with self._lock:
            collection = self._collections.get(name)
            if collection is None:
                collection = client.get_or_create_collection(
                    name,
                    embedding_function=None,
                    configuration={"hnsw": {"space": "cosine", "ef_search": 100}},
                    metadata={"store_id": store_id, "embedder": self.embedder.name},
                )
                self._collections[name] = collection
            return collection

    def _forget(self, store_id: str) -> None:
        with self._lock:
            self._collections.clear()

    # -- writes -----------------------------------------------------------------------------
    async def replace_document(self, store_id: str, document: IndexedDocument) -> int:
        """Embed (section-aware), write the new version, flip the manifest, delete older ones."""
        _require_store(store_id)
        from knowledge.ingestion import embed_documents  # ingestion builds on the index package

        pairs = [(document.chunks, document.title)]
        embedded = await anyio.to_thread.run_sync(
            lambda: embed_documents(pairs, self.embedder.embed_passages)[0]
        )
        return await self.replace_document_vectors(store_id, document, embedded.vectors)

    async def replace_document_vectors(
        self, store_id: str, document: IndexedDocument, vectors: Vectors
    ) -> int:
        """`replace_document` with passage vectors already computed (bulk loads, benchmarks)."""
        _require_store(store_id)
        return await self._run(lambda: self._replace(store_id, document, vectors))

    def _replace(self, store_id: str, document: IndexedDocument, vectors: Vectors) -> int:
        chunks = self._collection(store_id)
        manifest = self._collection(store_id, "manifest")
        ids = [f"{document.document_id}:{document.version}:{c.id}" for c in document.chunks]
        # Questions the model wrote for an unchanged passage of an earlier version come back.
        keys = [question_key(c, document.title) for c in document.chunks]
        written = self.questions.lookup(store_id, keys)
        vectors = mixed_rows(vectors, [_vector(written.get(key)) for key in keys])
        metadatas: list[dict[str, Any]] = [
            {
                "document_id": document.document_id,
                "document": document.name,
                "title": document.title,
                "section": chunk.section_title,
                "language": chunk.language,
                "version": document.version,
                "ordinal": chunk.ordinal,
                "chunk_id": chunk.id,
                "question_key": key,
                "questions": _asked(written.get(key)),
            }
            for chunk, key in zip(document.chunks, keys, strict=True)
        ]
        if document.vector_keys is not None:
            for meta, key in zip(metadatas, document.vector_keys, strict=True):
                meta["vector_key"] = key
        code_rows = [
            CodeRow(key, record_id, document.document_id, document.version)
            for record_id, chunk in zip(ids, document.chunks, strict=True)
            for key in passage_codes(chunk.text)
        ]
        batch = max(1, min(5000, int(self.client.get_max_batch_size())))
        for start in range(0, len(ids), batch):
            chunks.upsert(
                ids=ids[start : start + batch],
                embeddings=vectors[start : start + batch],
                documents=[c.text for c in document.chunks[start : start + batch]],
                metadatas=metadatas[start : start + batch],
            )
        self.codes.add(store_id, code_rows)
        manifest.upsert(
            ids=[document.document_id],
            embeddings=[[1.0]],
            metadatas=[{"version": document.version, "name": document.name}],
        )
        older = {
            "$and": [{"document_id": document.document_id}, {"version": {"$ne": document.version}}]
        }
        chunks.delete(where=older)
        self.codes.drop_other_versions(store_id, document.document_id, document.version)
        return len(ids)

    async def delete_document(self, store_id: str, document_id: str) -> None:
        """Hide the document at once (manifest), then delete its vectors."""
        _require_store(store_id)

        def work() -> None:
            self._collection(store_id, "manifest").delete(ids=[document_id])
            chunks = self._collection(store_id)
            stored = chunks.get(where={"document_id": document_id}, include=["metadatas"])
            chunks.delete(where={"document_id": document_id})
            self.codes.drop_document(store_id, document_id)
            keys = [str(m["question_key"]) for m in stored["metadatas"] if m.get("question_key")]
            self.questions.drop(store_id, keys)

        await self._run(work)

    async def drop_store(self, store_id: str) -> None:
        """Delete every chunk of a store."""

        def work() -> None:
            self.codes.drop_store(store_id)
            for suffix in _SUFFIXES.values():
                name = collection_name(self.embedder.name, store_id, suffix)
                try:
                    self.client.delete_collection(name)
                except Exception as error:  # missing collection: nothing to drop
                    if "does not exist" not in str(error).lower():
                        raise
            self._forget(store_id)
            self.asked.forget(store_id)

        await self._run(work)

    # -- reads ------------------------------------------------------------------------------
    async def search(
        self, store_id: str, query: str, *, k: int = 5, language: str | None = None
    ) -> SearchResult:
        """Embed the query off the event loop, then `search_vector`."""
        _require_store(store_id)
        started = time.perf_counter()
        vector = await anyio.to_thread.run_sync(self.embedder.embed_queries, [query])
        embedded = time.perf_counter()
        result = await self.search_vector(store_id, query, vector[0], k=k, language=language)
        result.timings_ms["embed"] = round((embedded - started) * 1000, 3)
        return result

    async def search_vector(
        self,
        store_id: str,
        query: str,
        vector: Vectors,
        *,
        k: int = 5,
        language: str | None = None,
    ) -> SearchResult:
        """Dense candidates plus exact-token matches, restricted to live document versions."""
        _require_store(store_id)
        return await self._run(
            lambda: self.search_sync(store_id, query, vector, k=k, language=language)
        )

    def search_sync(
        self,
        store_id: str,
        query: str,
        vector: Vectors,
        *,
        k: int = 5,
        language: str | None = None,
    ) -> SearchResult:
        """The blocking search (benchmarks call it directly to time the index alone)."""
        started = time.perf_counter()
        chunks = self._collection(store_id)
        manifest = self._collection(store_id, "manifest")
        query_vector = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        extra = ["embeddings"] if self.hub_weight else []  # the hub penalty reads them
        try:
            found = chunks.query(
                query_embeddings=query_vector,
                n_results=max(k, self.candidates),
                include=["documents", "metadatas", "distances", *extra],
            )
        except Exception as error:
            if "empty" in str(error).lower() or "contigious" in str(error).lower():
                return SearchResult([], 0.0)
            raise
        dense_done = time.perf_counter()
        hits: dict[str, _Hit] = {}
        for record_id, text, meta, distance, embedding in zip(
            found["ids"][0],
            found["documents"][0],
            found["metadatas"][0],
            found["distances"][0],
            found["embeddings"][0] if extra else [None] * len(found["ids"][0]),
            strict=True,
        ):
            hits[record_id] = _Hit(text, dict(meta), 1.0 - float(distance), False, embedding)
        missing: list[str] = []
        for token in exact_tokens(query):
            quoting = [record_id for record_id, hit in hits.items() if token in hit.text]
            if quoting:  # the dense candidates already hold it: no lookup needed
                for record_id in quoting:
                    hits[record_id] = hits[record_id]._replace(exact=True)
            else:
                missing.append(code_key(token))
        if missing:
            for record_id, hit in self._exact(store_id, missing, query_vector[0]).items():
                hits[record_id] = hit
        exact_done = time.perf_counter()
        timings = {"dense": _ms(dense_done - started), "exact": _ms(exact_done - dense_done)}
        if not hits:
            return SearchResult([], 0.0, {"index": _ms(exact_done - started), **timings})
        document_ids = sorted({hit.meta["document_id"] for hit in hits.values()})
        live = manifest.get(ids=document_ids, include=["metadatas"])
        versions = {
            doc_id: meta["version"]
            for doc_id, meta in zip(live["ids"], live["metadatas"], strict=True)
        }
        live_hits = [
            hit
            for hit in hits.values()
            if versions.get(str(hit.meta["document_id"])) == hit.meta["version"]
        ]
        passages = [
            Passage(
                chunk_id=str(hit.meta["chunk_id"]),
                document_id=str(hit.meta["document_id"]),
                document=str(hit.meta["document"]),
                section=str(hit.meta.get("section") or ""),
                text=hit.text,
                language=str(hit.meta.get("language") or ""),
                score=round(_plain(hit.score, hit.meta) + (EXACT_BONUS if hit.exact else 0.0), 6),
                exact_match=hit.exact,
            )
            for hit in live_hits
        ]
        # A passage quoting the query's code verbatim (SKU, order number) is what was asked about;
        # numbers and Latin-script names the question shares with a candidate, in any language,
        # move it up among the others, and so does being in another language than the question
        # (`knowledge.index.languages`); one near every question is moved down
        # (`knowledge.index.hubness`).
        shared = neutral_bonus(query, [p.text for p in passages])
        crossing = language_bonus([p.language for p in passages], language)
        hubs = [0.0] * len(live_hits)
        if self.hub_weight:
            references = self.asked.references(store_id, language)
            candidates = np.asarray([hit.vector for hit in live_hits])
            hubs = hub_penalty(candidates, references, self.hub_weight)
        plain = [a + b for a, b in zip(shared, crossing, strict=True)]
        # Whether the store can answer is read, as the answer floors were chosen, on the order
        # without the hub penalty; the penalty only decides which passage is cited first.
        deciding = rank_by_section(passages, bonus=plain)
        if any(hubs):
            bonus = [a + b for a, b in zip(plain, hubs, strict=True)]
            passages = rank_by_section(passages, bonus=bonus)
        else:
            passages = deciding
        top = passages[:k]
        raw_scores = [p.score - (EXACT_BONUS if p.exact_match else 0.0) for p in deciding[:2]]
        sure = confidence(raw_scores, exact_match=bool(deciding and deciding[0].exact_match))
        finished = time.perf_counter()
        timings["live"] = _ms(finished - exact_done)
        lead = deciding[0] if deciding else None
        return SearchResult(top, sure, {"index": _ms(finished - started), **timings}, lead)

    def _exact(self, store_id: str, keys: list[str], query_vector: Vectors) -> dict[str, _Hit]:
        """Chunks quoting any of the codes `keys`, scored by their cosine to the query: the code
        lookup, then the chunks by id."""
        chunk_ids = self.codes.lookup(store_id, keys, EXACT_LIMIT)
        if not chunk_ids:
            return {}
        exact = self._collection(store_id).get(
            ids=chunk_ids, include=["documents", "metadatas", "embeddings"]
        )
        hits: dict[str, _Hit] = {}
        for record_id, text, meta, embedding in zip(
            exact["ids"], exact["documents"], exact["metadatas"], exact["embeddings"], strict=True
        ):
            score = float(np.dot(np.asarray(embedding, dtype=np.float32), query_vector))
            hits[record_id] = _Hit(text, dict(meta), score, True, embedding)
        return hits

    async def remember_question(self, store_id: str, vector: Vectors, language: str) -> bool:
        """Keep a shopper's question as one of the store's reference questions for the hub
        penalty (`knowledge.index.hubness`); False when the same question is kept already or
        the penalty is off."""
        _require_store(store_id)
        if not self.hub_weight:
            return False
        return await self._run(lambda: self.asked.remember(store_id, vector, language))

    async def stored_vectors(self, store_id: str, document_id: str) -> dict[str, Vectors]:
        """The live version's reusable vectors of a document, by `vector_key`."""

        def work() -> dict[str, Vectors]:
            got = self._live_chunks(store_id, document_id, ["metadatas", "embeddings"])
            return {  # a vector with questions mixed in is not the text's embedding alone
                str(meta["vector_key"]): np.asarray(vector, dtype=np.float32)
                for meta, vector in zip(got["metadatas"], got["embeddings"], strict=True)
                if meta.get("vector_key") and int(meta.get("questions") or 0) <= 0
            }

        return await self._run(work)

    # -- questions (`knowledge.questions`) ------------------------------------------------
    async def unasked_chunks(self, store_id: str, document_id: str) -> dict[str, str]:
        """The live version's chunks the model has not written questions for yet, as chunk key
        -> the text to ask about (title and section, then the passage)."""

        def work() -> dict[str, str]:
            got = self._live_chunks(store_id, document_id, ["documents", "metadatas"])
            return {
                str(meta["question_key"]): question_text(
                    text, str(meta.get("title") or ""), str(meta.get("section") or "")
                )
                for text, meta in zip(got["documents"], got["metadatas"], strict=True)
                if meta.get("question_key") and not meta.get("questions")
            }

        return await self._run(work)

    async def cached_questions(
        self, store_id: str, keys: Sequence[str]
    ) -> dict[str, WrittenQuestions]:
        """Questions already written for these chunk keys (by any document of the store)."""
        return await self._run(lambda: self.questions.lookup(store_id, keys))

    async def add_questions(
        self, store_id: str, document_id: str, written: dict[str, WrittenQuestions]
    ) -> int:
        """Keep the questions and mix them into the live version's chunks they were written
        for; returns how many chunks changed."""

        def work() -> int:
            self.questions.add(store_id, written)
            got = self._live_chunks(store_id, document_id, ["metadatas", "embeddings"])
            ids: list[str] = []
            vectors: list[Vectors] = []
            metadatas: list[dict[str, Any]] = []
            for record_id, meta, vector in zip(
                got["ids"], got["metadatas"], got["embeddings"], strict=True
            ):
                found = written.get(str(meta.get("question_key")))
                if found is None or meta.get("questions"):
                    continue
                ids.append(record_id)
                vectors.append(mixed_rows(np.asarray([vector]), [_vector(found)])[0])
                metadatas.append({**meta, "questions": _asked(found)})
            if ids:
                self._collection(store_id).update(
                    ids=ids, embeddings=np.asarray(vectors), metadatas=metadatas
                )
            return len(ids)

        return await self._run(work)

    def _live_chunks(self, store_id: str, document_id: str, include: list[str]) -> Any:
        live = self._collection(store_id, "manifest").get(ids=[document_id], include=["metadatas"])
        if not live["ids"]:
            return {"ids": [], **{field: [] for field in include}}
        version = live["metadatas"][0]["version"]
        return self._collection(store_id).get(
            where={"$and": [{"document_id": document_id}, {"version": version}]},
            include=include,
        )

    async def count(self, store_id: str) -> int:
        """Chunks of live document versions."""

        def work() -> int:
            manifest = self._collection(store_id, "manifest").get(include=["metadatas"])
            total = 0
            chunks = self._collection(store_id)
            for doc_id, meta in zip(manifest["ids"], manifest["metadatas"], strict=True):
                got = chunks.get(
                    where={"$and": [{"document_id": doc_id}, {"version": meta["version"]}]},
                    include=[],
                )
                total += len(got["ids"])
            return total

        return await self._run(work)

    async def document_chunks(self, store_id: str, document_id: str) -> list[str]:
        """Ids of the chunks stored for a document, every version (tests, diagnostics)."""

        def work() -> list[str]:
            got = self._collection(store_id).get(where={"document_id": document_id}, include=[])
            return sorted(got["ids"])

        return await self._run(work)

    async def ping(self) -> None:
        """Raise `IndexUnavailable` unless Chroma answers its heartbeat."""
        await self._run(lambda: self.client.heartbeat())


def _close_http_sessions(client: Any) -> None:
    # chromadb 1.x stops a released HttpClient's systems without closing their httpx sessions,
    # and one system (made while validating the tenant) is never referenced; close them all.
    from chromadb.api.shared_system_client import SharedSystemClient

    before = dict(SharedSystemClient._identifier_to_system)
    client.close()
    referenced = SharedSystemClient._identifier_to_refcount
    for identifier, system in before.items():
        if referenced.get(identifier):
            continue
        for component in list(getattr(system, "_instances", {}).values()):
            session = getattr(component, "_session", None)
            if session is not None and hasattr(session, "close"):
                session.close()


class _Hit(NamedTuple):
    """A candidate chunk of a search: its text, metadata, cosine to the query, whether it
    quotes the query's code, and its vector."""

    text: str
    meta: dict[str, Any]
    score: float
    exact: bool
    vector: Any


def _plain(similarity: float, meta: dict[str, Any]) -> float:
    """A chunk's similarity on the scale of chunks without questions, which the confidence
    curve and the answer floors were fitted on (`QUESTION_LIFT`)."""
    return similarity - QUESTION_LIFT if int(meta.get("questions") or 0) > 0 else similarity


def _vector(written: WrittenQuestions | None) -> Vectors | None:
    return None if written is None else written.vector


def _asked(written: WrittenQuestions | None) -> int:
    """A chunk's `questions` metadata: 0 not asked yet, -1 asked and none written, else how
    many were mixed into its vector."""
    if written is None:
        return 0
    return len(written.questions) if written.vector is not None else -1


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _require_store(store_id: str) -> None:
    if not store_id:
        raise ValueError("store_id is required: every index call names its store")


class ChromaCodes:
    """Codes as rows of a third collection per store (record id `chunk|code`): what a Chroma
    server shares between worker hosts; a metadata filter, slower than `SqliteCodes`."""

    def __init__(self, index: ChromaIndex) -> None:
        self._index = index

    def _codes(self, store_id: str) -> Any:
        return self._index._collection(store_id, "codes")

    def add(self, store_id: str, rows: Sequence[CodeRow]) -> None:
        """Upsert the rows in batches (the one-number vector is a placeholder)."""
        codes = self._codes(store_id)
        batch = max(1, min(5000, int(self._index.client.get_max_batch_size())))
        for start in range(0, len(rows), batch):
            part = rows[start : start + batch]
            codes.upsert(
                ids=[f"{row.chunk}|{row.code}" for row in part],
                embeddings=[[1.0]] * len(part),
                metadatas=[
                    {
                        "code": row.code,
                        "chunk": row.chunk,
                        "document_id": row.document_id,
                        "version": row.version,
                    }
                    for row in part
                ],
            )

    def drop_other_versions(self, store_id: str, document_id: str, version: int) -> None:
        """Delete the document's rows of other versions."""
        self._codes(store_id).delete(
            where={"$and": [{"document_id": document_id}, {"version": {"$ne": version}}]}
        )

    def drop_document(self, store_id: str, document_id: str) -> None:
        """Delete the document's rows."""
        self._codes(store_id).delete(where={"document_id": document_id})

    def drop_store(self, store_id: str) -> None:
        """Nothing to do: the codes collection goes with the store's other collections."""

    def lookup(self, store_id: str, keys: Sequence[str], limit: int) -> list[str]:
        """Chunk record ids for the keys (at most `limit` per key)."""
        where: dict[str, Any] = {"code": keys[0]} if len(keys) == 1 else {"code": {"$in": keys}}
        found = self._codes(store_id).get(
            where=where, limit=limit * len(keys), include=["metadatas"]
        )
        return list(dict.fromkeys(str(meta["chunk"]) for meta in found["metadatas"]))


def passage_rows(passages: Sequence[Passage]) -> list[dict[str, Any]]:
    """Passages as plain dicts (API and CLI output)."""
    return [
        {
            "chunk_id": p.chunk_id,
            "document_id": p.document_id,
            "document": p.document,
            "section": p.section,
            "language": p.language,
            "score": round(p.score, 4),
            "text": p.text,
        }
        for p in passages
    ]
