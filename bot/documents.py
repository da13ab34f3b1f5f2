"""A store's knowledge base: uploaded documents, their ingestion jobs, and search over them."""

from __future__ import annotations

import logging
import shutil
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import sqlalchemy as sa

from bot.domain.errors import NotFound, ParleyError
from bot.jobs import Job, JobQueue, JobRef, JobRepository
from bot.storage.database import Database
from bot.storage.tables import DocumentRow
from knowledge import (
    MAX_FILE_BYTES,
    ChromaIndex,
    IndexedDocument,
    KnowledgeError,
    SearchResult,
    UnreadableDocument,
    content_hash,
    prepare_document,
)
from knowledge.loaders import too_big_message

log = logging.getLogger(__name__)

ProgressCallback = Callable[[Job, dict[str, Any]], Awaitable[None]]
"""Called after each file of a job with the job so far and that file's result."""


@dataclass(frozen=True)
class Upload:
    """A file received from a merchant, already on disk (the API spools it, the CLI points)."""

    name: str
    path: Path
    size: int


@dataclass(frozen=True)
class Document:
    """A document of a store's knowledge base as the admin pages list it."""

    id: str
    name: str
    kind: str | None
    size: int
    language: str | None
    status: str
    """`pending`, `indexed` or `failed`."""
    error: str | None
    chunk_count: int
    version: int
    updated_at: datetime | None = None

    def view(self) -> dict[str, Any]:
        """JSON for the API."""
        return {
            "id": self.id,
            "name": self.name,
            "type": self.kind,
            "size": self.size,
            "language": self.language,
            "status": self.status,
            "error": self.error,
            "chunks": self.chunk_count,
            "version": self.version,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


def _document(row: DocumentRow) -> Document:
    return Document(
        id=row.id,
        name=row.name,
        kind=row.content_type,
        size=row.size,
        language=row.language,
        status=row.status,
        error=row.error,
        chunk_count=row.chunk_count,
        version=row.version,
        updated_at=row.updated_at,
    )


@dataclass
class _Outcome:
    result: dict[str, Any]
    error: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class KnowledgeBase:
    """Documents in the database, chunks in the index, originals in the data dir for reindexing.

    A failed file never touches what is already indexed: the old version stays searchable.
    """

    def __init__(
        self,
        database: Database,
        index: ChromaIndex,
        queue: JobQueue,
        data_dir: Path,
        *,
        max_bytes: int = MAX_FILE_BYTES,
    ) -> None:
        self.database = database
        self.index = index
        self.queue = queue
        self.jobs = JobRepository(database)
        self.data_dir = data_dir
        self.max_bytes = max_bytes

    # -- uploads and jobs --------------------------------------------------------------------
    async def submit(
        self,
        store_id: str,
        uploads: Sequence[Upload],
        *,
        columns: Mapping[str, str] | None = None,
        enqueue: bool = True,
    ) -> tuple[Job, list[Document]]:
        """Keep the files, create their documents and an ingestion job, and queue it."""
        job_id = str(uuid.uuid4())
        folder = self.data_dir / "uploads" / job_id
        files: list[dict[str, Any]] = []
        documents: dict[str, Document] = {}
        for number, upload in enumerate(uploads):
            name = _clean_name(upload.name)
            entry: dict[str, Any] = {"name": name, "size": upload.size}
            if upload.size > self.max_bytes:
                entry["error"] = too_big_message(upload.size, self.max_bytes)
            else:
                blob = folder / f"{number:04d}"
                await anyio.to_thread.run_sync(_copy, upload.path, blob)
                entry["blob"] = str(blob)
            document = await self._document_for(store_id, name, upload.size)
            entry["document_id"] = document.id
            documents[document.id] = document
            files.append(entry)
        payload: dict[str, Any] = {"files": files, "columns": dict(columns or {})}
        job = await self.jobs.create(store_id, "ingest", len(files), payload, job_id=job_id)
        if enqueue:
            await self._enqueue(JobRef(job.id, store_id))
        return job, list(documents.values())

    async def reindex(self, store_id: str, document_id: str, *, enqueue: bool = True) -> Job:
        """Queue a job that reads the document's stored original again and replaces its chunks."""
        document = await self.get(store_id, document_id)
        original = self._original(store_id, document_id)
        if not original.exists():
            raise NotFound(f"the original file of {document.name!r} is no longer stored")
        files = [
            {
                "name": document.name,
                "size": document.size,
                "blob": str(original),
                "document_id": document_id,
                "force": True,
            }
        ]
        job = await self.jobs.create(store_id, "reindex", 1, {"files": files, "columns": {}})
        if enqueue:
            await self._enqueue(JobRef(job.id, store_id))
        return job

    async def ingest_paths(
        self,
        store_id: str,
        paths: Sequence[Path],
        *,
        on_progress: ProgressCallback | None = None,
    ) -> Job:
        """Ingest files from disk in this process, now (the CLI and the demo seed)."""
        uploads = [Upload(path.name, path, path.stat().st_size) for path in paths]
        job, _ = await self.submit(store_id, uploads, enqueue=False)
        return await self.run(JobRef(job.id, store_id), on_progress=on_progress)

    async def run(self, ref: JobRef, *, on_progress: ProgressCallback | None = None) -> Job:
        """Run an ingestion or reindex job file by file; each file succeeds or fails alone."""
        job = await self.jobs.get(ref.store_id, ref.job_id)
        if job.state in ("done", "failed"):
            return job
        await self.jobs.start(job.id)
        columns = job.payload.get("columns") or None
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for processed, entry in enumerate(job.payload.get("files", []), 1):
            outcome = await self._ingest_file(job.store_id, entry, columns)
            results.append(outcome.result)
            if outcome.error:
                errors.append(outcome.error)
            await self.jobs.progress(job.id, processed, errors, results)
            if on_progress is not None:
                await on_progress(await self.jobs.get(job.store_id, job.id), outcome.result)
        failed_all = bool(results) and len(errors) == len(results)
        await self.jobs.finish(job.id, "failed" if failed_all else "done")
        if job.kind == "ingest":
            await anyio.to_thread.run_sync(
                lambda: shutil.rmtree(self.data_dir / "uploads" / job.id, ignore_errors=True)
            )
        return await self.jobs.get(job.store_id, job.id)

    async def _enqueue(self, ref: JobRef) -> None:
        # The process that queues work also consumes it; arq spreads it over every such process.
        await self.queue.start(self.run_job)
        await self.queue.enqueue(ref)

    async def run_job(self, ref: JobRef) -> None:
        """The queue's handler: run the job; its outcome is in its row."""
        await self.run(ref)

    async def job(self, store_id: str, job_id: str) -> Job:
        """A job of this store."""
        return await self.jobs.get(store_id, job_id)

    async def _ingest_file(
        self, store_id: str, entry: dict[str, Any], columns: Mapping[str, str] | None
    ) -> _Outcome:
        name = str(entry["name"])
        document_id = str(entry["document_id"])
        try:
            if entry.get("error"):
                raise UnreadableDocument(str(entry["error"]))
            return await self._index_file(store_id, entry, columns)
        except (KnowledgeError, ParleyError) as error:
            message = error.message
            code = error.code
        except Exception:  # one file's crash must not lose the others; the log keeps the trace
            log.exception("indexing %s failed", name)
            message, code = "an internal error stopped indexing this file", "internal"
        await self._mark_failed(store_id, document_id, message)
        return _Outcome(
            result={"file": name, "document_id": document_id, "status": "failed", "error": message},
            error={"file": name, "document_id": document_id, "code": code, "message": message},
        )

    async def _index_file(
        self, store_id: str, entry: dict[str, Any], columns: Mapping[str, str] | None
    ) -> _Outcome:
        name = str(entry["name"])
        document_id = str(entry["document_id"])
        blob = Path(str(entry["blob"]))
        size = (await anyio.to_thread.run_sync(blob.stat)).st_size
        if size > self.max_bytes:
            raise UnreadableDocument(too_big_message(size, self.max_bytes))
        data = await anyio.to_thread.run_sync(blob.read_bytes)
        digest = content_hash(data)
        current = await self._row(store_id, document_id)
        if current is None:
            raise NotFound(f"document {name!r} was deleted before it was indexed")
        base = {"file": name, "document_id": document_id}
        if not entry.get("force"):
            if current.status == "indexed" and current.content_hash == digest:
                return _Outcome({**base, "status": "unchanged", "chunks": current.chunk_count})
            twin = await self._twin(store_id, digest, document_id)
            if twin is not None:
                if current.version == 0:
                    await self._drop_row(store_id, document_id)
                note = f"identical to {twin.name!r}, which is already indexed; not indexed twice"
                return _Outcome(
                    {**base, "status": "duplicate", "duplicate_of": twin.id, "note": note}
                )
        prepared = await anyio.to_thread.run_sync(
            lambda: prepare_document(name, data, columns=columns or None, max_bytes=self.max_bytes)
        )
        version = current.version + 1
        count = await self.index.replace_document(
            store_id,
            IndexedDocument(
                document_id=document_id,
                name=name,
                title=prepared.loaded.title,
                version=version,
                chunks=prepared.chunks,
            ),
        )
        original = self._original(store_id, document_id)
        if blob != original:
            await anyio.to_thread.run_sync(_copy, blob, original)
        async with self.database.session() as session:
            row = await session.get(DocumentRow, document_id)
            if row is None:  # deleted while we indexed: take the chunks back out
                await self.index.delete_document(store_id, document_id)
                raise NotFound(f"document {name!r} was deleted while it was indexed")
            row.status = "indexed"
            row.version = version
            row.content_hash = digest
            row.size = size
            row.content_type = prepared.loaded.kind
            row.language = prepared.language
            row.chunk_count = count
            row.error = "; ".join(prepared.warnings) or None
        return _Outcome(
            {
                **base,
                "status": "indexed",
                "type": prepared.loaded.kind,
                "chunks": count,
                "language": prepared.language,
                "warnings": prepared.warnings,
            }
        )

    # -- documents -------------------------------------------------------------------------
    async def list(self, store_id: str) -> list[Document]:
        """The store's documents, by name."""
        async with self.database.session() as session:
            rows = await session.scalars(
                sa.select(DocumentRow)
                .where(DocumentRow.store_id == store_id)
                .order_by(DocumentRow.name)
            )
            return [_document(row) for row in rows]

    async def get(self, store_id: str, document_id: str) -> Document:
        """One document of this store, or `NotFound`."""
        row = await self._row(store_id, document_id)
        if row is None:
            raise NotFound(f"document {document_id} not found")
        return _document(row)

    async def delete(self, store_id: str, document_id: str) -> None:
        """Remove a document, its vectors and its stored original."""
        document = await self.get(store_id, document_id)
        await self.index.delete_document(store_id, document.id)
        await self._drop_row(store_id, document.id)
        original = self._original(store_id, document.id)
        await anyio.to_thread.run_sync(lambda: original.unlink(missing_ok=True))

    async def search(self, store_id: str, query: str, *, k: int = 5) -> SearchResult:
        """The store's best passages for a question in any language."""
        return await self.index.search(store_id, query, k=k)

    # -- rows ------------------------------------------------------------------------------
    async def _document_for(self, store_id: str, name: str, size: int) -> Document:
        async with self.database.session() as session:
            row = await session.scalar(
                sa.select(DocumentRow).where(
                    DocumentRow.store_id == store_id, DocumentRow.name == name
                )
            )
            if row is None:
                row = DocumentRow(
                    id=str(uuid.uuid4()),
                    store_id=store_id,
                    name=name,
                    size=size,
                    status="pending",
                    chunk_count=0,
                    version=0,
                )
                session.add(row)
                await session.flush()
            return _document(row)

    async def _row(self, store_id: str, document_id: str) -> DocumentRow | None:
        async with self.database.session() as session:
            row = await session.get(DocumentRow, document_id)
            return row if row is not None and row.store_id == store_id else None

    async def _twin(self, store_id: str, digest: str, document_id: str) -> DocumentRow | None:
        async with self.database.session() as session:
            twin: DocumentRow | None = await session.scalar(
                sa.select(DocumentRow)
                .where(
                    DocumentRow.store_id == store_id,
                    DocumentRow.content_hash == digest,
                    DocumentRow.status == "indexed",
                    DocumentRow.id != document_id,
                )
                .limit(1)
            )
            return twin

    async def _mark_failed(self, store_id: str, document_id: str, message: str) -> None:
        async with self.database.session() as session:
            row = await session.get(DocumentRow, document_id)
            if row is None or row.store_id != store_id:
                return
            # An indexed version stays live and searchable; only a never-indexed one fails.
            if row.version == 0:
                row.status = "failed"
            row.error = message if row.version == 0 else f"the last upload failed: {message}"

    async def _drop_row(self, store_id: str, document_id: str) -> None:
        async with self.database.session() as session:
            await session.execute(
                sa.delete(DocumentRow).where(
                    DocumentRow.id == document_id, DocumentRow.store_id == store_id
                )
            )

    def _original(self, store_id: str, document_id: str) -> Path:
        return self.data_dir / "documents" / store_id / document_id


def _clean_name(name: str) -> str:
    cleaned = Path(name.replace("\\", "/")).name.strip()
    return cleaned[:500] or "document"


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(source, tmp)
    tmp.replace(target)
