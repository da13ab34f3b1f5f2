"""The job runner knows no job kinds: a job runs with the handler wiring registered for its kind,
goes to the back of the queue when the handler asks, and fails clearly when no handler is
registered. On a SQLite file and the in-process queue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.jobs import InProcessQueue, JobRef, JobRepository, JobRun, JobRunner, Requeue
from bot.storage import Database, StoreRepository, connect, migrate


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = await connect(f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}")
    try:
        await migrate(db)
        await StoreRepository(db).create("shop")
        yield db
    finally:
        await db.close()


@pytest.fixture
async def runner(database: Database) -> AsyncIterator[JobRunner]:
    queue = InProcessQueue()
    opened = JobRunner(JobRepository(database), queue)
    try:
        yield opened
    finally:
        await opened.close()
        await queue.close()


async def test_a_job_runs_with_the_handler_registered_for_its_kind(runner: JobRunner) -> None:
    seen: list[tuple[str, bool]] = []

    async def count_items(run: JobRun) -> Requeue | None:
        seen.append((run.job.kind, run.in_worker))
        await run.record(2, [], [{"item": 1}, {"item": 2}])
        await run.finish("done")
        return None

    runner.register("count", count_items)
    job = await runner.jobs.create("shop", "count", 2, {})
    finished = await runner.run(JobRef(job.id, "shop"))
    assert (finished.state, finished.processed, finished.attempts) == ("done", 2, 1)
    assert finished.payload["results"] == [{"item": 1}, {"item": 2}]
    assert seen == [("count", False)]  # run in place, not by a queue worker


async def test_a_job_that_asks_to_be_requeued_goes_on_in_its_next_run(runner: JobRunner) -> None:
    runs: list[int] = []

    async def in_slices(run: JobRun) -> Requeue | None:
        runs.append(run.job.processed)
        assert run.in_worker
        if run.job.processed == 0:
            await run.record(1, [], [{"slice": 1}])
            return Requeue("one slice per run")
        await run.record(2, [], [*run.job.payload["results"], {"slice": 2}])
        await run.finish("done")
        return None

    runner.register("sliced", in_slices)
    job = await runner.jobs.create("shop", "sliced", 2, {})
    await runner.enqueue(JobRef(job.id, "shop"))
    assert isinstance(runner.queue, InProcessQueue)
    await runner.queue.drain()
    finished = await runner.jobs.get("shop", job.id)
    assert runs == [0, 1]
    assert (finished.state, finished.processed) == ("done", 2)
    assert finished.attempts == 1  # handing a job back is not an attempt that failed


async def test_a_job_of_a_kind_nobody_registered_fails_with_the_reason(runner: JobRunner) -> None:
    job = await runner.jobs.create("shop", "translate", 1, {})
    finished = await runner.run(JobRef(job.id, "shop"))
    assert finished.state == "failed"
    assert [error["code"] for error in finished.errors] == ["unknown_kind"]
    assert "'translate'" in finished.errors[0]["message"]
