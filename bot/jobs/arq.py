"""Jobs on Redis through arq: any process can enqueue, every consuming process can run them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from bot.domain.errors import ServiceUnavailable
from bot.jobs._base import JobHandler, JobRef

log = logging.getLogger(__name__)
QUEUE_NAME = "parley:jobs"
TASK = "run_parley_job"


def redis_settings(url: str) -> Any:
    """arq's connection settings from a `redis://` URL."""
    from arq.connections import RedisSettings

    return RedisSettings.from_dsn(url)


class ArqQueue:
    """Enqueues into arq; `start` also runs an arq worker inside this process."""

    def __init__(self, url: str, *, consume: bool = True, queue_name: str = QUEUE_NAME) -> None:
        self.url = url
        self.consume = consume
        self.queue_name = queue_name
        self._pool: Any = None
        self._worker: Any = None
        self._task: asyncio.Task[None] | None = None

    async def _redis(self) -> Any:
        if self._pool is None:
            from arq import create_pool

            try:
                self._pool = await create_pool(
                    redis_settings(self.url), default_queue_name=self.queue_name
                )
            except (OSError, ConnectionError) as error:
                raise ServiceUnavailable(f"job queue (Redis) unreachable: {error}") from error
        return self._pool

    async def enqueue(self, job: JobRef) -> None:
        """Put the job on the shared Redis queue (the job id doubles as arq's, so no duplicates)."""
        pool = await self._redis()
        queue_id = f"{job.job_id}:{job.resume}" if job.resume else job.job_id
        await pool.enqueue_job(TASK, job.job_id, job.store_id, _job_id=queue_id)

    async def start(self, handler: JobHandler) -> None:
        """Consume jobs in this process too, unless `consume` is off."""
        if not self.consume or self._task is not None:
            return
        from arq.worker import Worker, func

        async def run(_ctx: dict[str, Any], job_id: str, store_id: str) -> None:
            await handler(JobRef(job_id=job_id, store_id=store_id))

        self._worker = Worker(
            functions=[func(run, name=TASK, max_tries=1)],  # type: ignore[arg-type]
            queue_name=self.queue_name,
            redis_pool=await self._redis(),
            handle_signals=False,
            max_jobs=1,
            job_timeout=3600,
            poll_delay=0.2,
            log_results=False,
        )
        self._task = asyncio.create_task(self._worker.async_run(), name="parley-arq-worker")

    async def ping(self) -> None:
        """Raise `ServiceUnavailable` unless Redis answers."""
        pool = await self._redis()
        try:
            await pool.ping()
        except (OSError, ConnectionError) as error:
            raise ServiceUnavailable(f"job queue (Redis) unreachable: {error}") from error

    async def close(self) -> None:
        """Stop the in-process worker and close the pool."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._worker is not None:
            try:
                await self._worker.close()
            except asyncio.CancelledError:
                # arq's close waits for its job tasks, which the cancelled loop may have
                # cancelled; only a cancellation of this very task must go on.
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise
            except Exception:  # a worker that cannot close cleanly is dropped all the same
                log.exception("closing the arq worker failed")
            self._worker = None
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None
