"""The file ingestion job (`ingest` and `reindex`): read, chunk and embed a job's files in
batches, write each to the index and its document row; each file succeeds or fails alone."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import anyio

from bot.domain.errors import NotFound, ParleyError
from bot.jobs import JobRun, Requeue
from bot.knowledge_base.originals import Originals
from bot.knowledge_base.questions import QuestionsJob
from bot.storage.documents import DocumentRepository, IndexedVersion
from knowledge import (
    IndexedDocument,
    KnowledgeError,
    UnreadableDocument,
    content_hash,
    prepare_document,
)
from knowledge.index import VectorIndex
from knowledge.ingestion import EmbeddedDocument, PreparedDocument, embed_documents
from knowledge.loaders import too_big_message

log = logging.getLogger(__name__)

INGEST_JOB = "ingest"
"""Files uploaded or pointed at: they are spooled per job and dropped when it ends."""
REINDEX_JOB = "reindex"
"""A document's stored original, read again."""
EMBED_BATCH_CHUNKS = 128
"""Chunks of a job's files embedded in one go: small files fill whole encoder batches, and
the progress row is written every few seconds rather than after every file."""
EMBED_BATCH_FILES = 32
_INTERNAL = ("an internal error stopped indexing this file", "internal")


@dataclass
class _Outcome:
    result: dict[str, Any]
    error: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Pending:
    """A file of the batch being built: decided already (`outcome`), or read and chunked and
    waiting for its vectors (`prepared`)."""

    entry: dict[str, Any]
    outcome: _Outcome | None = None
    prepared: PreparedDocument | None = None
    version: int = 0
    digest: str = ""
    size: int = 0
    duplicate_of_batch: bool = False


class FileIngestion:
    """Runs `ingest` and `reindex` jobs. A failed file never touches what is already indexed:
    the old version stays searchable."""

    def __init__(
        self,
        documents: DocumentRepository,
        index: VectorIndex,
        originals: Originals,
        questions: QuestionsJob,
        *,
        max_bytes: int,
    ) -> None:
        self.documents = documents
        self.index = index
        self.originals = originals
        self.questions = questions
        self.max_bytes = max_bytes

    async def run(self, run: JobRun) -> Requeue | None:
        """The job's handler: the files not recorded yet, in batches; then the questions job
        for the indexed ones when questions are on."""
        job = run.job
        files: list[dict[str, Any]] = job.payload.get("files", [])
        results: list[dict[str, Any]] = list(job.payload.get("results", []))
        errors = list(job.errors)
        columns = job.payload.get("columns") or None
        batch: list[_Pending] = []

        async def flush() -> None:
            outcomes = await self._index_batch(job.store_id, batch)
            batch.clear()
            for outcome in outcomes:
                results.append(outcome.result)
                if outcome.error:
                    errors.append(outcome.error)
            # One progress write per batch: what a resumed job skips, what the admin sees.
            await run.record(len(results), errors, results)
            await run.report([outcome.result for outcome in outcomes])

        for entry in files[len(results) :]:
            if any(pending.entry["document_id"] == entry["document_id"] for pending in batch):
                await flush()  # the same document twice in one job: versions in order
            pending = await self._prepare_file(job.store_id, entry, columns, batch)
            if pending.duplicate_of_batch:
                await flush()  # its twin is in this batch: index that one first, then compare
                pending = await self._prepare_file(job.store_id, entry, columns, batch)
            batch.append(pending)
            waiting = sum(len(p.prepared.chunks) for p in batch if p.prepared is not None)
            if waiting >= EMBED_BATCH_CHUNKS or len(batch) >= EMBED_BATCH_FILES:
                await flush()
        if batch:
            await flush()
        failed_all = bool(results) and len(errors) == len(results)
        await run.finish("failed" if failed_all else "done")
        if job.kind == INGEST_JOB:
            await self.originals.drop_spooled(job.id)
        indexed = [r for r in results if r.get("status") == "indexed"]
        if indexed and self.questions.writer is not None:
            await self.questions.queue(job.store_id, indexed, enqueue=run.in_worker)
        return None

    async def _attempt(
        self,
        store_id: str,
        entry: dict[str, Any],
        work: Callable[[], Awaitable[_Outcome | None]],
    ) -> _Outcome | None:
        """Run one file's step; a failure becomes that file's outcome and touches nothing else."""
        try:
            if entry.get("error"):
                raise UnreadableDocument(str(entry["error"]))
            return await work()
        except (KnowledgeError, ParleyError) as error:
            return await self._failed(store_id, entry, error.message, error.code)
        except Exception:  # one file's crash must not lose the others; the log keeps the trace
            log.exception("indexing %s failed", entry["name"])
            return await self._failed(store_id, entry, *_INTERNAL)

    async def _failed(
        self, store_id: str, entry: dict[str, Any], message: str, code: str
    ) -> _Outcome:
        name = str(entry["name"])
        document_id = str(entry["document_id"])
        await self.documents.mark_failed(store_id, document_id, message)
        return _Outcome(
            result={"file": name, "document_id": document_id, "status": "failed", "error": message},
            error={"file": name, "document_id": document_id, "code": code, "message": message},
        )

    async def _prepare_file(
        self,
        store_id: str,
        entry: dict[str, Any],
        columns: Mapping[str, str] | None,
        batch: Sequence[_Pending],
    ) -> _Pending:
        """Read, check and chunk one file; its vectors come with its batch's."""
        pending = _Pending(entry)

        async def work() -> _Outcome | None:
            name = str(entry["name"])
            document_id = str(entry["document_id"])
            blob = Path(str(entry["blob"]))
            size = (await anyio.to_thread.run_sync(blob.stat)).st_size
            if size > self.max_bytes:
                raise UnreadableDocument(too_big_message(size, self.max_bytes))
            data = await anyio.to_thread.run_sync(blob.read_bytes)
            digest = content_hash(data)
            current = await self.documents.find(store_id, document_id)
            if current is None:
                raise NotFound(f"document {name!r} was deleted before it was indexed")
            base = {"file": name, "document_id": document_id}
            if not entry.get("force"):
                if current.status == "indexed" and current.content_hash == digest:
                    return _Outcome({**base, "status": "unchanged", "chunks": current.chunk_count})
                if any(p.digest == digest and p.prepared is not None for p in batch):
                    pending.duplicate_of_batch = True
                    return None
                twin = await self.documents.twin(store_id, digest, document_id)
                if twin is not None:
                    if current.version == 0:
                        await self.documents.drop(store_id, document_id)
                    note = (
                        f"identical to {twin.name!r}, which is already indexed; not indexed twice"
                    )
                    return _Outcome(
                        {**base, "status": "duplicate", "duplicate_of": twin.id, "note": note}
                    )
            pending.prepared = await anyio.to_thread.run_sync(
                lambda: prepare_document(
                    name, data, columns=columns or None, max_bytes=self.max_bytes
                )
            )
            pending.version = current.version + 1
            pending.digest = digest
            pending.size = size
            return None

        pending.outcome = await self._attempt(store_id, entry, work)
        if pending.outcome is not None:
            pending.prepared = None
        return pending

    async def _index_batch(self, store_id: str, batch: Sequence[_Pending]) -> list[_Outcome]:
        """Embed the batch's prepared files in one go, then write each to the index and its row."""
        ready = [p for p in batch if p.outcome is None and p.prepared is not None]
        documents = [(p.prepared.chunks, p.prepared.loaded.title) for p in ready if p.prepared]
        embed = self.index.embedder.embed_passages
        embedded: list[EmbeddedDocument] = []
        if documents:
            try:
                # A new version of a document re-embeds only the passages that changed.
                known = [
                    await self.index.stored_vectors(store_id, str(p.entry["document_id"]))
                    if p.version > 1
                    else {}
                    for p in ready
                ]
                embedded = await anyio.to_thread.run_sync(
                    lambda: embed_documents(documents, embed, known)
                )
            except Exception:  # the encoder broke: every file of the batch fails alike
                log.exception("embedding %d files failed", len(ready))
                for pending in ready:
                    pending.outcome = await self._failed(store_id, pending.entry, *_INTERNAL)
        for pending, passages in zip(ready, embedded, strict=False):
            pending.outcome = await self._attempt(
                store_id, pending.entry, partial(self._store, store_id, pending, passages)
            )
        outcomes = [pending.outcome for pending in batch]
        assert all(outcomes), "every file of a batch has an outcome"
        return [outcome for outcome in outcomes if outcome is not None]

    async def _store(
        self, store_id: str, pending: _Pending, embedded: EmbeddedDocument
    ) -> _Outcome:
        entry, prepared = pending.entry, pending.prepared
        assert prepared is not None
        name = str(entry["name"])
        document_id = str(entry["document_id"])
        count = await self.index.replace_document_vectors(
            store_id,
            IndexedDocument(
                document_id=document_id,
                name=name,
                title=prepared.loaded.title,
                version=pending.version,
                chunks=prepared.chunks,
                vector_keys=embedded.keys,
            ),
            embedded.vectors,
        )
        await self.originals.keep(Path(str(entry["blob"])), store_id, document_id)
        indexed = IndexedVersion(
            version=pending.version,
            content_hash=pending.digest,
            size=pending.size,
            kind=prepared.loaded.kind,
            language=prepared.language,
            chunk_count=count,
            warnings=prepared.warnings,
        )
        if not await self.documents.mark_indexed(store_id, document_id, indexed):
            # deleted while we indexed: take the chunks back out
            await self.index.delete_document(store_id, document_id)
            raise NotFound(f"document {name!r} was deleted while it was indexed")
        return _Outcome(
            {
                "file": name,
                "document_id": document_id,
                "status": "indexed",
                "type": prepared.loaded.kind,
                "chunks": count,
                "reused_vectors": embedded.reused,
                "language": prepared.language,
                "warnings": prepared.warnings,
            }
        )
