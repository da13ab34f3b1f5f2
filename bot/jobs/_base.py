"""The job queue protocol: a job is a row in `jobs`; queues only carry its id and store."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class JobRef:
    """What travels through a queue: the job's id and the store it belongs to."""

    job_id: str
    store_id: str
    resume: str = ""
    """Empty when first queued; when a worker queues a stopped job again, names that stop
    (the same for every worker that notices it), so the job travels under a new queue id
    (arq keeps ids it has seen for a while and would drop a repeat)."""


JobHandler = Callable[[JobRef], Awaitable[None]]
"""Runs one job to its end, recording progress and errors in its row."""


class JobQueue(Protocol):
    """Hands jobs to a worker: this process (default) or arq workers on Redis."""

    async def enqueue(self, job: JobRef) -> None:
        """Schedule a job; returns at once."""
        ...

    async def start(self, handler: JobHandler) -> None:
        """Begin consuming jobs in this process with `handler`."""
        ...

    async def ping(self) -> None:
        """Raise `ServiceUnavailable` unless the queue can take jobs."""
        ...

    async def close(self) -> None:
        """Stop consuming; running jobs are finished or left for another worker."""
        ...
