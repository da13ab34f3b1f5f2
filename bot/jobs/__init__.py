"""Background jobs: a runner that knows no job kinds (wiring registers a handler per kind), in
process by default, arq on Redis by URL."""

from bot.jobs._base import JobHandler, JobQueue, JobRef
from bot.jobs.arq import ArqQueue
from bot.jobs.memory import InProcessQueue
from bot.jobs.repository import Job, JobLost, JobRepository
from bot.jobs.runner import Handler, JobRun, JobRunner, ProgressCallback, Requeue

__all__ = [
    "ArqQueue",
    "Handler",
    "InProcessQueue",
    "Job",
    "JobHandler",
    "JobLost",
    "JobQueue",
    "JobRef",
    "JobRepository",
    "JobRun",
    "JobRunner",
    "ProgressCallback",
    "Requeue",
    "make_queue",
]


def make_queue(redis_url: str | None) -> JobQueue:
    """arq on Redis when `PARLEY_REDIS_URL` is set, else the in-process worker."""
    if redis_url:
        return ArqQueue(redis_url)
    return InProcessQueue()
