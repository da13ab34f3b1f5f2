"""The in-process job worker: an asyncio task draining a queue, one job at a time."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.jobs._base import JobHandler, JobRef

log = logging.getLogger(__name__)


class InProcessQueue:
    """Runs jobs in this process; their state lives in the database, so a restart can resume."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[JobRef] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._handler: JobHandler | None = None

    async def enqueue(self, job: JobRef) -> None:
        """Queue a job for this process's worker."""
        await self._queue.put(job)

    async def start(self, handler: JobHandler) -> None:
        """Start the worker task (once)."""
        self._handler = handler
        if self._task is None:
            self._task = asyncio.create_task(self._work(), name="parley-jobs")

    async def _work(self) -> None:
        assert self._handler is not None
        while True:
            job = await self._queue.get()
            try:
                await self._handler(job)
            except Exception:  # the handler records failures; this keeps the worker alive
                log.exception("job %s failed", job.job_id)
            finally:
                self._queue.task_done()

    async def drain(self) -> None:
        """Wait until every queued job has run (tests, CLI)."""
        await self._queue.join()

    async def ping(self) -> None:
        """Always ready."""

    async def close(self) -> None:
        """Cancel the worker task."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
