"""A dedicated arq worker process: `arq bot.jobs.worker.WorkerSettings` (needs PARLEY_REDIS_URL).

API processes consume jobs too; run this to add ingestion capacity without serving HTTP.
"""

from __future__ import annotations

from typing import Any

from bot.jobs._base import JobRef
from bot.jobs.arq import QUEUE_NAME, redis_settings
from bot.settings import Settings


def worker_settings(settings: Settings) -> dict[str, Any]:
    """What arq reads to run Parley's jobs: Redis from `settings`, Parley opened once per
    worker on the same settings."""

    async def startup(ctx: dict[str, Any]) -> None:
        from bot.wiring import open_parley

        parley = await open_parley(settings)
        ctx["parley"] = parley
        # Jobs a stopped worker left behind go back on the queue (now and every lease).
        parley.runner.start_sweeper()

    return {
        "functions": [run_parley_job],
        "queue_name": QUEUE_NAME,
        "on_startup": startup,
        "on_shutdown": shutdown,
        "max_jobs": 1,
        "max_tries": 1,
        "job_timeout": 3600,
        "redis_settings": redis_settings(settings.redis_url or "redis://127.0.0.1:6379/0"),
    }


async def shutdown(ctx: dict[str, Any]) -> None:
    """Close what the startup opened."""
    parley = ctx.get("parley")
    if parley is not None:
        await parley.close()


async def run_parley_job(ctx: dict[str, Any], job_id: str, store_id: str) -> None:
    """Run one job (of any registered kind); its name is `bot.jobs.arq.TASK`, what API
    processes enqueue."""
    await ctx["parley"].runner.run(JobRef(job_id=job_id, store_id=store_id))


def __getattr__(name: str) -> Any:
    # `arq bot.jobs.worker.WorkerSettings` looks the name up as it starts: the environment is
    # read then, once, and never when this module is imported.
    if name == "WorkerSettings":
        return worker_settings(Settings())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
