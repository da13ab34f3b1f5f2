"""The job runner: claims a job, keeps its lease with heartbeats, hands it to the handler wiring
registered for its kind, and resumes jobs a stopped process left behind. It knows no job kinds."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.jobs._base import JobQueue, JobRef
from bot.jobs.repository import Job, JobLost, JobRepository

log = logging.getLogger(__name__)

LEASE_SECONDS = 60.0
"""A job whose worker sent no heartbeat for this long is taken over by another worker."""
MAX_ATTEMPTS = 3

ProgressCallback = Callable[[Job, dict[str, Any]], Awaitable[None]]
"""Called after each item of a job (a file, a document) with the job so far and that item's
result."""


@dataclass(frozen=True)
class Requeue:
    """What a handler returns to stop for now and go to the back of the queue (its progress is
    recorded already): the runner hands the job back and queues it behind what came meanwhile."""

    reason: str = ""


Handler = Callable[["JobRun"], Awaitable[Requeue | None]]
"""Runs one claimed job: records its progress through the `JobRun` and finishes it, or returns
`Requeue` to go on later."""


@dataclass
class JobRun:
    """One run of a job by this worker: the job as claimed, and where its handler records."""

    job: Job
    worker: str
    in_worker: bool
    """True when a queue worker of this process runs it (so a long job may return `Requeue`);
    False for a job run in place by the CLI or an evaluation, which goes to its end."""
    repository: JobRepository
    on_progress: ProgressCallback | None = None

    async def record(
        self, processed: int, errors: list[dict[str, Any]], results: list[dict[str, Any]]
    ) -> None:
        """Record how far the job got; raises `JobLost` when another worker holds it."""
        await self.repository.progress(
            self.job.id, processed, errors, results, payload=self.job.payload, worker=self.worker
        )

    async def report(self, results: Sequence[dict[str, Any]]) -> None:
        """Tell the caller of `JobRunner.run` (the CLI's progress bar) about finished items."""
        if self.on_progress is None:
            return
        now = await self.repository.get(self.job.store_id, self.job.id)
        for result in results:
            await self.on_progress(now, result)

    async def finish(self, state: str) -> None:
        """Mark the job done or failed; raises `JobLost` when another worker holds it."""
        await self.repository.finish(self.job.id, state, worker=self.worker)


def worker_name() -> str:
    """This process, as job rows name the worker holding them."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class JobRunner:
    """Runs the jobs of every kind registered with it, one claim per job across all workers."""

    def __init__(
        self, repository: JobRepository, queue: JobQueue, *, lease_s: float = LEASE_SECONDS
    ) -> None:
        self.jobs = repository
        self.queue = queue
        self.lease_s = lease_s
        self.worker_id = worker_name()
        self._handlers: dict[str, Handler] = {}
        self._consuming = False
        self._sweeper: asyncio.Task[None] | None = None

    def register(self, kind: str, handler: Handler) -> None:
        """Run jobs of `kind` with `handler` (wiring registers each kind once)."""
        self._handlers[kind] = handler

    @property
    def consuming(self) -> bool:
        """Whether this process consumes the queue (it queued work, or it is a worker)."""
        return self._consuming

    async def enqueue(self, ref: JobRef) -> None:
        """Queue a job; the process that queues work also consumes it (arq spreads it over every
        such process)."""
        self._consuming = True
        await self.queue.start(self.run_job)
        await self.queue.enqueue(ref)

    async def run_job(self, ref: JobRef) -> None:
        """The queue's handler: run the job; its outcome is in its row."""
        await self.run(ref)

    async def run(self, ref: JobRef, *, on_progress: ProgressCallback | None = None) -> Job:
        """Run a job with its kind's handler.

        The job is claimed first, so two workers never run it at once; a resumed job starts
        after the items it already recorded. While it runs a heartbeat keeps the claim; if this
        process dies, another takes the job over once the heartbeat is `lease_s` old.
        """
        job = await self.jobs.get(ref.store_id, ref.job_id)
        if job.state in ("done", "failed"):
            return job
        if not await self.jobs.claim(job.id, self.worker_id, lease_s=self.lease_s):
            return await self.jobs.get(job.store_id, job.id)  # another worker is on it
        job = await self.jobs.get(job.store_id, job.id)
        run = JobRun(job, self.worker_id, self._consuming, self.jobs, on_progress)
        keep_alive = asyncio.create_task(self._keep_alive(job.id), name=f"parley-job-{job.id}")
        try:
            handler = self._handlers.get(job.kind)
            if handler is None:
                await self._unknown(run)
            elif isinstance(await handler(run), Requeue):
                await self._requeue(job)
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

    async def _unknown(self, run: JobRun) -> None:
        # A job no handler was registered for cannot run in any worker wired like this one.
        log.error("no handler for job %s of kind %r", run.job.id, run.job.kind)
        error = {"file": None, "code": "unknown_kind", "message": f"no {run.job.kind!r} jobs"}
        results = list(run.job.payload.get("results", []))
        await run.record(run.job.processed, [*run.job.errors, error], results)
        await run.finish("failed")

    async def _keep_alive(self, job_id: str) -> None:
        while True:
            await asyncio.sleep(self.lease_s / 4)
            try:
                if not await self.jobs.heartbeat(job_id, self.worker_id):
                    return  # finished, released or taken over
            except Exception:  # a database hiccup: the next beat may get through
                log.exception("heartbeat of job %s failed", job_id)

    async def _requeue(self, job: Job) -> None:
        """Hand the job back and queue it behind what came in meanwhile (its next slice)."""
        await self.jobs.release(job.id, self.worker_id)
        stopped = await self.jobs.get(job.store_id, job.id)
        await self.queue.enqueue(JobRef(job.id, job.store_id, resume=stopped.stop_mark))

    async def start(self) -> None:
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
        for `lease_s`); it goes on after its recorded items. A job that stopped its worker
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
