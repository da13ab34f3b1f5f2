"""Ingestion jobs on Redis through arq: one process queues, another consumes; progress and
per-file errors are in the database either way."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.documents import Upload
from bot.jobs import ArqQueue, Job
from bot.settings import RetrievalSettings, Settings
from bot.wiring import Parley, open_parley
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.integration


@pytest.fixture
async def parley(data_dir: Path) -> AsyncIterator[Parley]:
    settings = Settings(
        data_dir=data_dir,
        llm="none",
        redis_url=REDIS_URL,
        retrieval=RetrievalSettings(embedder="hashing"),
    )
    opened = await open_parley(settings)
    try:
        yield opened
    finally:
        await opened.close()


async def wait_done(parley: Parley, store: str, job_id: str) -> Job:
    for _ in range(400):
        job = await parley.knowledge.job(store, job_id)
        if job.state in ("done", "failed"):
            return job
        await asyncio.sleep(0.05)
    raise AssertionError("the arq worker did not run the job")


async def test_a_job_queued_by_one_process_runs_in_another(parley: Parley, tmp_path: Path) -> None:
    assert isinstance(parley.jobs, ArqQueue)
    queue_name = f"parley:test:{uuid.uuid4().hex}"
    producer = ArqQueue(REDIS_URL, consume=False, queue_name=queue_name)
    consumer = ArqQueue(REDIS_URL, queue_name=queue_name)
    parley.knowledge.queue = producer
    await consumer.start(parley.knowledge.run_job)
    try:
        await parley.stores.create("redis-shop")
        good = tmp_path / "faq.csv"
        good.write_text("question,answer\nDo you ship to Chile?,Yes, in 7 days.\n")
        bad = tmp_path / "empty.md"
        bad.write_bytes(b"")
        job, documents = await parley.knowledge.submit(
            "redis-shop",
            [Upload("faq.csv", good, good.stat().st_size), Upload("empty.md", bad, 0)],
        )
        assert job.store_id == "redis-shop" and len(documents) == 2
        finished = await wait_done(parley, "redis-shop", job.id)
        assert finished.state == "done" and finished.processed == 2
        assert [(e["file"], e["message"]) for e in finished.errors] == [
            ("empty.md", "the file is empty")
        ]
        found = await parley.knowledge.search("redis-shop", "ship to Chile")
        assert found.passages[0].document == "faq.csv"
    finally:
        await consumer.close()
        await producer.close()


async def test_redis_queue_answers_ping(parley: Parley) -> None:
    await parley.jobs.ping()
