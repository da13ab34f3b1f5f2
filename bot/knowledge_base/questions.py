"""The `questions` job: after indexing, the chat model writes the questions each new chunk
answers, and their vector is mixed into the chunk's (`knowledge.questions`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import anyio

from bot.jobs import Job, JobRef, JobRepository, JobRun, JobRunner, Requeue
from knowledge.index import VectorIndex
from knowledge.index.question_cache import WrittenQuestions
from knowledge.questions import question_vector

log = logging.getLogger(__name__)

QuestionWriter = Callable[[str], list[str]]
"""Blocking: the questions a passage answers, written by the chat model (`knowledge.questions`)."""
QUESTIONS_JOB = "questions"
QUESTIONS_FLUSH = 8
"""Chunks whose questions are written to the index together: a stopped job loses at most these."""
QUESTIONS_SLICE = 24
"""Chunks a `questions` job asks the model about (about a minute with the local model) before
it goes to the back of the queue, so an upload made meanwhile is indexed first."""


class QuestionsJob:
    """Queues and runs `questions` jobs for documents an ingestion job indexed."""

    def __init__(
        self, index: VectorIndex, runner: JobRunner, writer: QuestionWriter | None = None
    ) -> None:
        self.index = index
        self.runner = runner
        self.jobs: JobRepository = runner.jobs
        self.writer = writer
        """With a chat model: after indexing, a `questions` job has it write the questions each
        new chunk answers. None: questions are off."""

    async def queue(
        self, store_id: str, documents: Sequence[Mapping[str, Any]], *, enqueue: bool = True
    ) -> Job:
        """A job that has the chat model write questions for the documents' new chunks
        (`documents`: results of an ingestion job, with `document_id` and `file`). Not queued
        (`enqueue=False`, the CLI): a worker's sweeper takes it up after its lease."""
        files = [{"document_id": d["document_id"], "name": d["file"]} for d in documents]
        job = await self.jobs.create(store_id, QUESTIONS_JOB, len(files), {"files": files})
        if enqueue:
            await self.runner.enqueue(JobRef(job.id, store_id))
        return job

    async def run_queued(self, store_id: str) -> list[Job]:
        """Run the store's queued `questions` jobs in this process now (the CLI's and the
        evaluations' stores, which have no worker)."""
        queued = [
            job
            for job in await self.jobs.recent(store_id)
            if job.kind == QUESTIONS_JOB and job.state == "queued"
        ]
        return [await self.runner.run(JobRef(job.id, store_id)) for job in reversed(queued)]

    async def run(self, run: JobRun) -> Requeue | None:
        """The job's handler. Each document's chunks without questions get them; questions
        already written for an identical passage are reused. A model failure stops that document
        (its chunks keep their own vectors and stay searchable) and the job goes on with the
        next. In a worker, the job asks about `QUESTIONS_SLICE` chunks, then returns `Requeue`."""
        job = run.job
        files: list[dict[str, Any]] = job.payload.get("files", [])
        results: list[dict[str, Any]] = list(job.payload.get("results", []))
        errors = list(job.errors)
        budget = QUESTIONS_SLICE if run.in_worker else None
        for entry in files[len(results) :]:
            result, asked = await self._write_questions(job.store_id, entry, budget)
            budget = None if budget is None else budget - asked
            counts: dict[str, int] = job.payload.setdefault("asked", {})
            document_id = str(entry["document_id"])
            counts[document_id] = counts.get(document_id, 0) + asked
            if result is None:  # the slice ended inside this document
                await run.record(len(results), errors, results)
                return Requeue("the slice ended inside a document")
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
            await run.record(len(results), errors, results)
            await run.report([result])
            if budget is not None and budget <= 0 and len(results) < len(files):
                return Requeue("the slice ended")
        failed_all = bool(results) and len(errors) == len(results)
        await run.finish("failed" if failed_all else "done")
        return None

    async def _write_questions(
        self, store_id: str, entry: Mapping[str, Any], budget: int | None
    ) -> tuple[dict[str, Any] | None, int]:
        """Questions for one document's chunks that have none, and how many chunks the model
        was asked about; the result is None when `budget` ran out first."""
        document_id = str(entry["document_id"])
        result: dict[str, Any] = {"file": entry["name"], "document_id": document_id}
        writer = self.writer
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
