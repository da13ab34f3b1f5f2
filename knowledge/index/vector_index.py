"""The index on a backend's collections (Chroma by default, memory for tests): writes and the
candidates of a search, which `knowledge.index.ranking` ranks.

Each store has its own collections, so one store can never see another's chunks, and a small
manifest collection naming each document's live version: new chunks are written first, the
manifest flips, old chunks go last, and searches keep only hits of the live version. The codes
each chunk quotes (SKUs, order numbers) are code rows (`knowledge.index.codes`), so the
exact-token channel is an indexed lookup rather than a full-text scan of every chunk.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import anyio
import numpy as np

from knowledge.embeddings import Embedder, Vectors
from knowledge.errors import IndexUnavailable
from knowledge.index._base import Backend, Collection, IndexedDocument, SearchResult
from knowledge.index.codes import CodeIndex, CodeRow, CollectionCodes
from knowledge.index.hubness import AskedQuestions
from knowledge.index.lexical import code_key, exact_tokens, passage_codes
from knowledge.index.question_cache import QuestionCache, WrittenQuestions
from knowledge.index.ranking import Candidate, rank
from knowledge.index.sections import CANDIDATES
from knowledge.questions import mixed_rows, question_key, question_text

T = TypeVar("T")
EXACT_LIMIT = 20
"""Passages the exact-token channel adds per code of the query."""


class VectorIndex:
    """`KnowledgeIndex` on a backend, with the fused embedder and an exact-token channel."""

    def __init__(
        self,
        backend: Backend,
        embedder: Embedder,
        *,
        candidates: int = CANDIDATES,
        codes: CodeIndex | None = None,
    ) -> None:
        self.backend = backend
        self.embedder = embedder
        self.candidates = candidates
        self.codes: CodeIndex = codes or CollectionCodes(backend)
        """Code lookup: a SQLite file beside embedded data, else a collection of the backend
        (on a Chroma server, shared by every worker host)."""
        self.questions = QuestionCache(backend, embedder)
        self.hub_weight = 0.0
        """The hub penalty's weight (`knowledge.index.hubness`): 0 here, so an index built
        directly ranks by similarity alone; the service sets `PARLEY_RETRIEVAL__HUB_WEIGHT`
        (`HUB_WEIGHT` by default). No question is kept while it is 0."""
        self.asked = AskedQuestions(backend)
        """Reference questions per store and language, for the hub penalty
        (`knowledge.index.hubness`); the service sets its seed."""

    def collection(self, store_id: str, kind: str = "chunks") -> Collection:
        """The store's `chunks`, `manifest` (live version per document), `codes`, `questions`
        or `asked` collection; blocking."""
        _require_store(store_id)
        return self.backend.collection(store_id, kind)

    def close(self) -> None:
        """Release the backend's connections and files."""
        self.codes.close()
        self.backend.close()

    async def _run(self, work: Callable[[], T]) -> T:
        try:
            return await anyio.to_thread.run_sync(work)
        except IndexUnavailable:
            raise
        except Exception as error:  # backends raise many types; all mean the index failed.
            raise IndexUnavailable(f"vector index error: {error}") from error

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
        chunks = self.collection(store_id)
        manifest = self.collection(store_id, "manifest")
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
        batch = self.backend.batch_size()
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
            self.collection(store_id, "manifest").delete(ids=[document_id])
            chunks = self.collection(store_id)
            stored = chunks.get(where={"document_id": document_id}, include=["metadatas"])
            chunks.delete(where={"document_id": document_id})
            self.codes.drop_document(store_id, document_id)
            keys = [str(m["question_key"]) for m in stored["metadatas"] if m.get("question_key")]
            self.questions.drop(store_id, keys)

        await self._run(work)

    async def drop_store(self, store_id: str) -> None:
        """Delete every chunk of a store."""
        _require_store(store_id)

        def work() -> None:
            self.codes.drop_store(store_id)
            self.backend.drop_store(store_id)
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
        chunks = self.collection(store_id)
        manifest = self.collection(store_id, "manifest")
        query_vector = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        extra = ["embeddings"] if self.hub_weight else []  # the hub penalty reads them
        try:
            found = chunks.query(
                query_embeddings=query_vector,
                n_results=max(k, self.candidates),
                include=["documents", "metadatas", "distances", *extra],
            )
        except Exception as error:  # Chroma refuses to query an empty collection
            if "empty" in str(error).lower() or "contigious" in str(error).lower():
                return SearchResult([], 0.0)
            raise
        dense_done = time.perf_counter()
        hits: dict[str, Candidate] = {}
        for record_id, text, meta, distance, embedding in zip(
            found["ids"][0],
            found["documents"][0],
            found["metadatas"][0],
            found["distances"][0],
            found["embeddings"][0] if extra else [None] * len(found["ids"][0]),
            strict=True,
        ):
            hits[record_id] = Candidate(text, dict(meta), 1.0 - float(distance), False, embedding)
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
        references = self.asked.references(store_id, language) if self.hub_weight else None
        ranked = rank(
            query,
            live_hits,
            k=k,
            language=language,
            references=references,
            hub_weight=self.hub_weight,
        )
        finished = time.perf_counter()
        timings["live"] = _ms(finished - exact_done)
        return SearchResult(
            ranked.passages,
            ranked.confidence,
            {"index": _ms(finished - started), **timings},
            ranked.lead,
        )

    def _exact(self, store_id: str, keys: list[str], query_vector: Vectors) -> dict[str, Candidate]:
        """Chunks quoting any of the codes `keys`, scored by their cosine to the query: the code
        lookup, then the chunks by id."""
        chunk_ids = self.codes.lookup(store_id, keys, EXACT_LIMIT)
        if not chunk_ids:
            return {}
        exact = self.collection(store_id).get(
            ids=chunk_ids, include=["documents", "metadatas", "embeddings"]
        )
        hits: dict[str, Candidate] = {}
        for record_id, text, meta, embedding in zip(
            exact["ids"], exact["documents"], exact["metadatas"], exact["embeddings"], strict=True
        ):
            score = float(np.dot(np.asarray(embedding, dtype=np.float32), query_vector))
            hits[record_id] = Candidate(text, dict(meta), score, True, embedding)
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
                self.collection(store_id).update(
                    ids=ids, embeddings=np.asarray(vectors), metadatas=metadatas
                )
            return len(ids)

        return await self._run(work)

    def _live_chunks(self, store_id: str, document_id: str, include: list[str]) -> Any:
        live = self.collection(store_id, "manifest").get(ids=[document_id], include=["metadatas"])
        if not live["ids"]:
            return {"ids": [], **{field: [] for field in include}}
        version = live["metadatas"][0]["version"]
        return self.collection(store_id).get(
            where={"$and": [{"document_id": document_id}, {"version": version}]},
            include=include,
        )

    async def count(self, store_id: str) -> int:
        """Chunks of live document versions."""

        def work() -> int:
            manifest = self.collection(store_id, "manifest").get(include=["metadatas"])
            total = 0
            chunks = self.collection(store_id)
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
            got = self.collection(store_id).get(where={"document_id": document_id}, include=[])
            return sorted(got["ids"])

        return await self._run(work)

    async def ping(self) -> None:
        """Raise `IndexUnavailable` unless the backend answers."""
        await self._run(self.backend.ping)


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
