"""A store's knowledge base as the merchant sees it: submit, reindex, list, delete and search
documents; the jobs that index them run in `bot.knowledge_base.ingestion` and `.questions`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio

from bot.domain.errors import NotFound
from bot.jobs import Job, JobRef, JobRunner, ProgressCallback
from bot.knowledge_base.ingestion import INGEST_JOB, REINDEX_JOB, FileIngestion
from bot.knowledge_base.originals import Originals, Upload, clean_name
from bot.knowledge_base.questions import QuestionsJob, QuestionWriter
from bot.storage.database import Database
from bot.storage.documents import Document, DocumentRepository
from knowledge import MAX_FILE_BYTES, SearchResult
from knowledge.index import VectorIndex
from knowledge.language import LanguageIdentifier, detect_language
from knowledge.loaders import too_big_message


class KnowledgeBase:
    """Documents in the database, chunks in the index, originals in the data dir for reindexing.

    Its jobs run in `runner`, which wiring gives the handlers `ingestion` and `questions`.
    """

    def __init__(
        self,
        database: Database,
        index: VectorIndex,
        runner: JobRunner,
        data_dir: Path,
        *,
        max_bytes: int = MAX_FILE_BYTES,
        question_writer: QuestionWriter | None = None,
    ) -> None:
        self.index = index
        self.runner = runner
        self.jobs = runner.jobs
        self.documents = DocumentRepository(database)
        self.originals = Originals(data_dir)
        self.max_bytes = max_bytes
        self.questions = QuestionsJob(index, runner, question_writer)
        self.ingestion = FileIngestion(
            self.documents, index, self.originals, self.questions, max_bytes=max_bytes
        )

    @property
    def question_writer(self) -> QuestionWriter | None:
        """With a chat model: after indexing, a `questions` job has it write the questions each
        new chunk answers, and mixes them into the chunk's vector (`knowledge.questions`)."""
        return self.questions.writer

    @question_writer.setter
    def question_writer(self, writer: QuestionWriter | None) -> None:
        self.questions.writer = writer

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
        files: list[dict[str, Any]] = []
        documents: dict[str, Document] = {}
        for number, upload in enumerate(uploads):
            name = clean_name(upload.name)
            entry: dict[str, Any] = {"name": name, "size": upload.size}
            if upload.size > self.max_bytes:
                entry["error"] = too_big_message(upload.size, self.max_bytes)
            else:
                entry["blob"] = str(await self.originals.spool(job_id, number, upload))
            document = await self.documents.named(store_id, name, upload.size)
            entry["document_id"] = document.id
            documents[document.id] = document
            files.append(entry)
        payload: dict[str, Any] = {"files": files, "columns": dict(columns or {})}
        job = await self.jobs.create(store_id, INGEST_JOB, len(files), payload, job_id=job_id)
        if enqueue:
            await self.runner.enqueue(JobRef(job.id, store_id))
        return job, list(documents.values())

    async def reindex(self, store_id: str, document_id: str, *, enqueue: bool = True) -> Job:
        """Queue a job that reads the document's stored original again and replaces its chunks."""
        document = await self.get(store_id, document_id)
        original = self.originals.path(store_id, document_id)
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
        job = await self.jobs.create(store_id, REINDEX_JOB, 1, {"files": files, "columns": {}})
        if enqueue:
            await self.runner.enqueue(JobRef(job.id, store_id))
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
        return await self.runner.run(JobRef(job.id, store_id), on_progress=on_progress)

    async def queue_questions(
        self, store_id: str, documents: Sequence[Mapping[str, Any]], *, enqueue: bool = True
    ) -> Job:
        """A `questions` job for the documents an ingestion job indexed (`QuestionsJob.queue`)."""
        return await self.questions.queue(store_id, documents, enqueue=enqueue)

    async def write_queued_questions(self, store_id: str) -> list[Job]:
        """Run the store's queued `questions` jobs in this process now (`QuestionsJob`)."""
        return await self.questions.run_queued(store_id)

    async def job(self, store_id: str, job_id: str) -> Job:
        """A job of this store."""
        return await self.jobs.get(store_id, job_id)

    async def start_worker(self) -> None:
        """Consume the jobs that index documents in this process (`JobRunner.start`)."""
        await self.runner.start()

    async def warm_up(self) -> None:
        """Load the encoders and the language detector now (`parley serve` and `parley worker`
        call this at start), so the first upload or question does not wait seconds for them."""

        def load() -> None:
            detect_language("Which language is this sentence written in?")
            LanguageIdentifier.preferring(()).warm_up()  # shoppers' messages: every language
            self.index.embedder.embed_passages(["warm-up"])
            self.index.embedder.embed_queries(["warm-up"])
            self.index.asked.warm_up()

        await anyio.to_thread.run_sync(load)

    # -- documents -------------------------------------------------------------------------
    async def list(self, store_id: str) -> list[Document]:
        """The store's documents, by name."""
        return await self.documents.list(store_id)

    async def get(self, store_id: str, document_id: str) -> Document:
        """One document of this store, or `NotFound`."""
        document = await self.documents.find(store_id, document_id)
        if document is None:
            raise NotFound(f"document {document_id} not found")
        return document

    async def delete(self, store_id: str, document_id: str) -> None:
        """Remove a document, its vectors and its stored original."""
        document = await self.get(store_id, document_id)
        await self.index.delete_document(store_id, document.id)
        await self.documents.drop(store_id, document.id)
        await self.originals.drop(store_id, document.id)

    async def search(
        self,
        store_id: str,
        query: str,
        *,
        k: int = 5,
        languages: Sequence[str] = (),
    ) -> SearchResult:
        """The store's best passages for a question in any language, ranked as the bot ranks
        them for a shopper writing that language; the language is identified as the bot identifies
        a shopper's, among every language, the store's `languages` winning close calls."""
        identifier = LanguageIdentifier.preferring(languages)
        guess = await anyio.to_thread.run_sync(identifier.detect, query)
        return await self.index.search(store_id, query, k=k, language=guess.code)
