"""A store's knowledge base: uploaded documents, their ingestion jobs, and search over them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import sqlalchemy as sa

from bot.domain.errors import NotFound, ParleyError
from bot.jobs import Job, JobLost, JobQueue, JobRef, JobRepository
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
from knowledge.index.question_cache import WrittenQuestions
from knowledge.ingestion import EmbeddedDocument, PreparedDocument, embed_documents
from knowledge.language import UNKNOWN, detect_language
from knowledge.loaders import too_big_message
from knowledge.questions import question_vector

log = logging.getLogger(__name__)

ProgressCallback = Callable[[Job, dict[str, Any]], Awaitable[None]]
"""Called after each file of a job with the job so far and that file's result."""
QuestionWriter = Callable[[str], list[str]]
"""Blocking: the questions a passage answers, written by the chat model (`knowledge.questions`)."""
QUESTIONS_JOB = "questions"
QUESTIONS_FLUSH = 8
"""Chunks whose questions are written to the index together: a stopped job loses at most these."""
QUESTIONS_SLICE = 24
"""Chunks a `questions` job asks the model about (about a minute with the local model) before
it goes to the back of the queue, so an upload made meanwhile is indexed first."""
EMBED_BATCH_CHUNKS = 128
"""Chunks of a job's files embedded in one go: small files fill whole encoder batches, and
the progress row is written every few seconds rather than after every file."""
EMBED_BATCH_FILES = 32
LEASE_SECONDS = 60.0
"""A job whose worker sent no heartbeat for this long is taken over by another worker."""
MAX_ATTEMPTS = 3
_INTERNAL = ("an internal error stopped indexing this file", "internal")


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


def worker_name() -> str:
    """This process, as job rows name the worker holding them."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


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
        lease_s: float = LEASE_SECONDS,
        question_writer: QuestionWriter | None = None,
    ) -> None:
        self.database = database
        self.index = index
        self.queue = queue
        self.jobs = JobRepository(database)
        self.data_dir = data_dir
        self.max_bytes = max_bytes
        self.lease_s = lease_s
        self.worker_id = worker_name()
        self.question_writer = question_writer
        """With a chat model: after indexing, a `questions` job has it write the questions each
        new chunk answers, and mixes them into the chunk's vector (`knowledge.questions`)."""
        self._consuming = False
        self._sweeper: asyncio.Task[None] | None = None

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
        """Run an ingestion or reindex job; each file succeeds or fails alone.

        The job is claimed first, so two workers never run it at once; a resumed job starts
        after the files it already recorded. While it runs a heartbeat keeps the claim; if this
        process dies, another takes the job over once the heartbeat is `lease_s` old.
        """
        job = await self.jobs.get(ref.store_id, ref.job_id)
        if job.state in ("done", "failed"):
            return job
        if not await self.jobs.claim(job.id, self.worker_id, lease_s=self.lease_s):
            return await self.jobs.get(job.store_id, job.id)  # another worker is on it
        job = await self.jobs.get(job.store_id, job.id)
        keep_alive = asyncio.create_task(self._keep_alive(job.id), name=f"parley-job-{job.id}")
        try:
            if job.kind == QUESTIONS_JOB:
                await self._run_questions(job, on_progress)
            else:
                await self._run_files(job, on_progress)
        except JobLost:
            log.warning("job %s was taken over by another worker; this one stops", job.id)
        except asyncio.CancelledError:
            # A shutdown: hand the job back now rather than after the lease runs out.
            await asyncio.shield(self.jobs.release(job.id, self.worker_id))
            raise
        finally:
            keep_alive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keep_alive
        return await self.jobs.get(job.store_id, job.id)

    async def _keep_alive(self, job_id: str) -> None:
        while True:
            await asyncio.sleep(self.lease_s / 4)
            try:
                if not await self.jobs.heartbeat(job_id, self.worker_id):
                    return  # finished, released or taken over
            except Exception:  # a database hiccup: the next beat may get through
                log.exception("heartbeat of job %s failed", job_id)

    async def _run_files(self, job: Job, on_progress: ProgressCallback | None) -> None:
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
            await self.jobs.progress(
                job.id, len(results), errors, results, payload=job.payload, worker=self.worker_id
            )
            if on_progress is not None:
                now = await self.jobs.get(job.store_id, job.id)
                for outcome in outcomes:
                    await on_progress(now, outcome.result)

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
        await self.jobs.finish(job.id, "failed" if failed_all else "done", worker=self.worker_id)
        if job.kind == "ingest":
            await anyio.to_thread.run_sync(
                lambda: shutil.rmtree(self.data_dir / "uploads" / job.id, ignore_errors=True)
            )
        indexed = [r for r in results if r.get("status") == "indexed"]
        if indexed and self.question_writer is not None:
            await self.queue_questions(job.store_id, indexed, enqueue=self._consuming)

    # -- questions -------------------------------------------------------------------------
    async def queue_questions(
        self, store_id: str, documents: Sequence[Mapping[str, Any]], *, enqueue: bool = True
    ) -> Job:
        """A job that has the chat model write questions for the documents' new chunks
        (`documents`: results of an ingestion job, with `document_id` and `file`). Not queued
        (`enqueue=False`, the CLI): a worker's sweeper takes it up after `lease_s`."""
        files = [{"document_id": d["document_id"], "name": d["file"]} for d in documents]
        job = await self.jobs.create(store_id, QUESTIONS_JOB, len(files), {"files": files})
        if enqueue:
            await self._enqueue(JobRef(job.id, store_id))
        return job

    async def write_queued_questions(self, store_id: str) -> list[Job]:
        """Run the store's queued `questions` jobs in this process now (the CLI's and the
        evaluations' stores, which have no worker)."""
        queued = [
            job
            for job in await self.jobs.recent(store_id)
            if job.kind == QUESTIONS_JOB and job.state == "queued"
        ]
        return [await self.run(JobRef(job.id, store_id)) for job in reversed(queued)]

    async def _run_questions(self, job: Job, on_progress: ProgressCallback | None) -> None:
        """Each document's chunks without questions get them; questions already written for an
        identical passage are reused. A model failure stops that document (its chunks keep
        their own vectors and stay searchable) and the job goes on with the next. In a worker,
        the job asks about `QUESTIONS_SLICE` chunks, then goes to the back of the queue."""
        files: list[dict[str, Any]] = job.payload.get("files", [])
        results: list[dict[str, Any]] = list(job.payload.get("results", []))
        errors = list(job.errors)
        budget = QUESTIONS_SLICE if self._consuming else None
        for entry in files[len(results) :]:
            result, asked = await self._write_questions(job.store_id, entry, budget)
            budget = None if budget is None else budget - asked
            counts: dict[str, int] = job.payload.setdefault("asked", {})
            document_id = str(entry["document_id"])
            counts[document_id] = counts.get(document_id, 0) + asked
            if result is None:  # the slice ended inside this document
                await self.jobs.progress(
                    job.id,
                    len(results),
                    errors,
                    results,
                    payload=job.payload,
                    worker=self.worker_id,
                )
                await self._requeue(job)
                return
            result["asked"] = counts[document_id]
            results.append(result)
            if result["status"] == "failed":
                errors.append(
                    {
                        "file": entry["name"],
                        "document_id": entry["document_id"],
                        "code": "questions_failed",
                        "message": result["error"],
                    }
                )
            await self.jobs.progress(
                job.id, len(results), errors, results, payload=job.payload, worker=self.worker_id
            )
            if on_progress is not None:
                await on_progress(await self.jobs.get(job.store_id, job.id), result)
            if budget is not None and budget <= 0 and len(results) < len(files):
                await self._requeue(job)
                return
        failed_all = bool(results) and len(errors) == len(results)
        await self.jobs.finish(job.id, "failed" if failed_all else "done", worker=self.worker_id)

    async def _requeue(self, job: Job) -> None:
        """Hand the job back and queue it behind what came in meanwhile (its next slice)."""
        await self.jobs.release(job.id, self.worker_id)
        stopped = await self.jobs.get(job.store_id, job.id)
        await self.queue.enqueue(JobRef(job.id, job.store_id, resume=stopped.stop_mark))

    async def _write_questions(
        self, store_id: str, entry: Mapping[str, Any], budget: int | None
    ) -> tuple[dict[str, Any] | None, int]:
        """Questions for one document's chunks that have none, and how many chunks the model
        was asked about; the result is None when `budget` ran out first."""
        document_id = str(entry["document_id"])
        result: dict[str, Any] = {"file": entry["name"], "document_id": document_id}
        writer = self.question_writer
        unasked = await self.index.unasked_chunks(store_id, document_id)
        known = await self.index.cached_questions(store_id, list(unasked))
        if known:
            await self.index.add_questions(store_id, document_id, known)
        todo = [key for key in unasked if key not in known]
        written: dict[str, WrittenQuestions] = {}
        asked = 0
        try:
            for key in todo:
                if budget is not None and asked >= budget:
                    break
                if writer is None:
                    raise RuntimeError("no chat model is configured")
                questions = await anyio.to_thread.run_sync(writer, unasked[key])
                vectors = None
                if questions:
                    embedded = await anyio.to_thread.run_sync(
                        self.index.embedder.embed_queries, questions
                    )
                    vectors = question_vector(embedded)
                written[key] = WrittenQuestions(questions, vectors)
                asked += 1
                if len(written) >= QUESTIONS_FLUSH:
                    await self.index.add_questions(store_id, document_id, written)
                    written = {}
        except Exception as error:  # the model broke or timed out: this document stops here
            log.warning("writing questions for %s failed: %s", entry["name"], error)
            message = f"the chat model could not write questions: {error}"[:300]
            return {**result, "status": "failed", "error": message, "asked": asked}, asked
        finally:
            if written:
                await self.index.add_questions(store_id, document_id, written)
        if asked < len(todo):
            return None, asked
        done = {"status": "done", "chunks": len(unasked), "reused": len(known), "asked": asked}
        return {**result, **done}, asked

    async def warm_up(self) -> None:
        """Load the encoders and the language detector now (`parley serve` and `parley worker`
        call this at start), so the first upload or question does not wait seconds for them."""

        def load() -> None:
            detect_language("Which language is this sentence written in?")
            self.index.embedder.embed_passages(["warm-up"])
            self.index.embedder.embed_queries(["warm-up"])
            self.index.asked.warm_up()

        await anyio.to_thread.run_sync(load)

    async def start_worker(self) -> None:
        """Consume jobs in this process and take over those a stopped process left behind."""
        self._consuming = True
        await self.queue.start(self.run_job)
        self.start_sweeper()

    def start_sweeper(self) -> None:
        """Look for left-behind jobs now and every `lease_s` (a dedicated arq worker calls only
        this: its own worker consumes the queue)."""
        self._consuming = True
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep(), name="parley-job-sweeper")

    async def _sweep(self) -> None:
        while True:
            try:
                await self.resume_jobs()
            except Exception:  # the database may be away for a moment; try again next round
                log.exception("looking for jobs to resume failed")
            await asyncio.sleep(self.lease_s)

    async def resume_jobs(self) -> list[Job]:
        """Queue again every job left queued or running by a process that stopped (no heartbeat
        for `lease_s`); it goes on after its recorded files. A job that stopped its worker
        `MAX_ATTEMPTS` times fails instead, so one poisonous file cannot crash workers forever."""
        resumed: list[Job] = []
        for job in await self.jobs.resumable(lease_s=self.lease_s):
            if job.attempts >= MAX_ATTEMPTS:
                message = f"indexing stopped {job.attempts} times without finishing; upload again"
                await self.jobs.abandon(job.id, message, lease_s=self.lease_s)
                continue
            await self.queue.enqueue(JobRef(job.id, job.store_id, resume=job.stop_mark))
            resumed.append(job)
        return resumed

    async def close(self) -> None:
        """Stop looking for jobs to resume (the queue is closed by its owner)."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None

    async def _enqueue(self, ref: JobRef) -> None:
        # The process that queues work also consumes it; arq spreads it over every such process.
        self._consuming = True
        await self.queue.start(self.run_job)
        await self.queue.enqueue(ref)

    async def run_job(self, ref: JobRef) -> None:
        """The queue's handler: run the job; its outcome is in its row."""
        await self.run(ref)

    async def job(self, store_id: str, job_id: str) -> Job:
        """A job of this store."""
        return await self.jobs.get(store_id, job_id)

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
        await self._mark_failed(store_id, document_id, message)
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
            current = await self._row(store_id, document_id)
            if current is None:
                raise NotFound(f"document {name!r} was deleted before it was indexed")
            base = {"file": name, "document_id": document_id}
            if not entry.get("force"):
                if current.status == "indexed" and current.content_hash == digest:
                    return _Outcome({**base, "status": "unchanged", "chunks": current.chunk_count})
                if any(p.digest == digest and p.prepared is not None for p in batch):
                    pending.duplicate_of_batch = True
                    return None
                twin = await self._twin(store_id, digest, document_id)
                if twin is not None:
                    if current.version == 0:
                        await self._drop_row(store_id, document_id)
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
        blob = Path(str(entry["blob"]))
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
        original = self._original(store_id, document_id)
        if blob != original:
            await anyio.to_thread.run_sync(_copy, blob, original)
        async with self.database.session() as session:
            row = await session.get(DocumentRow, document_id)
            if row is None:  # deleted while we indexed: take the chunks back out
                await self.index.delete_document(store_id, document_id)
                raise NotFound(f"document {name!r} was deleted while it was indexed")
            row.status = "indexed"
            row.version = pending.version
            row.content_hash = pending.digest
            row.size = pending.size
            row.content_type = prepared.loaded.kind
            row.language = prepared.language
            row.chunk_count = count
            row.error = "; ".join(prepared.warnings) or None
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
        """The store's best passages for a question in any language, ranked as the bot ranks
        them for a shopper writing that language."""
        language = await anyio.to_thread.run_sync(detect_language, query)
        return await self.index.search(
            store_id, query, k=k, language=None if language == UNKNOWN else language
        )

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
