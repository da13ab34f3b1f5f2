"""Ingestion jobs on Redis through arq: one process queues, another consumes; progress and
per-file errors are in the database either way. A job whose worker stopped (killed or shut
down) is resumed by the next worker after the files it recorded, and no file is indexed twice."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from bot.jobs import ArqQueue, Job, JobRef
from bot.knowledge_base import Upload
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


def hang_on_third_file(parley: Parley) -> asyncio.Event:
    """Make the index hang forever on the third file it is given; the event says it got there."""
    reached = asyncio.Event()
    real = parley.index.replace_document_vectors
    calls = 0

    async def replace(*args: Any, **kwargs: Any) -> int:
        nonlocal calls
        calls += 1
        if calls == 3:
            reached.set()
            await asyncio.Event().wait()
        return await real(*args, **kwargs)

    parley.index.replace_document_vectors = replace  # type: ignore[method-assign]
    return reached


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
    parley.runner.queue = producer
    await consumer.start(parley.runner.run_job)
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


async def test_arq_workers_resume_a_job_whose_worker_died(parley: Parley, tmp_path: Path) -> None:
    queue = ArqQueue(REDIS_URL, queue_name=f"parley:test:{uuid.uuid4().hex}")
    parley.runner.queue = queue
    try:
        job = await submit_files(parley, "arq-resumed", tmp_path, enqueue=False)
        # A worker that claimed the job and died before its first file: no heartbeat since.
        assert await parley.knowledge.jobs.claim(job.id, "dead-host:1:x", lease_s=60)
        parley.runner.lease_s = 0.5
        await asyncio.sleep(0.6)
        await parley.knowledge.start_worker()
        finished = await wait_done(parley, "arq-resumed", job.id)
        assert finished.attempts == 2
        await assert_each_file_indexed_once(parley, "arq-resumed", finished)
    finally:
        await parley.runner.close()
        await queue.close()


async def test_arq_workers_resume_a_job_handed_back_at_a_shutdown(
    parley: Parley, tmp_path: Path
) -> None:
    name = f"parley:test:{uuid.uuid4().hex}"
    first = ArqQueue(REDIS_URL, queue_name=name)
    parley.runner.queue = first
    reached = hang_on_third_file(parley)  # until the worker shuts down
    second = ArqQueue(REDIS_URL, queue_name=name)
    try:
        with mock.patch("bot.knowledge_base.ingestion.EMBED_BATCH_FILES", 2):
            job = await submit_files(parley, "arq-restarted", tmp_path, enqueue=True)
            await asyncio.wait_for(reached.wait(), timeout=60)
        await first.close()
        left = await parley.knowledge.job("arq-restarted", job.id)
        assert (left.state, left.processed) == ("queued", 2)

        parley.runner.queue = second
        await parley.knowledge.start_worker()
        finished = await wait_done(parley, "arq-restarted", job.id)
        await assert_each_file_indexed_once(parley, "arq-restarted", finished)
    finally:
        await parley.runner.close()
        await first.close()
        await second.close()


async def test_redis_queue_answers_ping(parley: Parley) -> None:
    await parley.jobs.ping()


# -- resuming after a stop -------------------------------------------------------------------

FILES = [
    (f"topic-{n}.md", f"# Topic {n}\n\nParcel rule {n}: item NL-{n:04d} ships in {n} days.\n")
    for n in range(6)
]

# A worker process that indexes two files per batch and hangs for good right after the fifth
# file reached the index (its row and the job's progress not yet written), like a process that
# dies mid-file; the test kills it there.
_DYING_WORKER = """
import asyncio, sys
import bot.knowledge_base.ingestion
from bot.jobs import JobRef
from bot.settings import Settings
from bot.wiring import open_parley

bot.knowledge_base.ingestion.EMBED_BATCH_FILES = 2

async def main():
    parley = await open_parley(Settings())
    index = parley.knowledge.index
    real = index.replace_document_vectors
    calls = 0

    async def replace(*args, **kwargs):
        nonlocal calls
        stored = await real(*args, **kwargs)
        calls += 1
        if calls == 5:
            print("stalled", flush=True)
            await asyncio.Event().wait()
        return stored

    index.replace_document_vectors = replace
    await parley.runner.run(JobRef(sys.argv[1], sys.argv[2]))

asyncio.run(main())
"""


def in_process_settings(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        llm="none",
        log_json=False,
        retrieval=RetrievalSettings(embedder="hashing"),
    )


async def submit_files(parley: Parley, store: str, folder: Path, *, enqueue: bool) -> Job:
    await parley.stores.create(store)
    uploads = []
    for name, text in FILES:
        path = folder / name
        path.write_text(text)
        uploads.append(Upload(name, path, path.stat().st_size))
    job, _ = await parley.knowledge.submit(store, uploads, enqueue=enqueue)
    return job


async def assert_each_file_indexed_once(parley: Parley, store: str, job: Job) -> None:
    assert job.state == "done" and job.processed == len(FILES) and job.errors == []
    results = job.payload["results"]
    assert [r["file"] for r in results] == [name for name, _ in FILES]
    assert {r["status"] for r in results} == {"indexed"}
    for document in await parley.knowledge.list(store):
        assert document.status == "indexed" and document.version == 1
        chunk_ids = await parley.index.document_chunks(store, document.id)
        assert chunk_ids and all(i.startswith(f"{document.id}:1:") for i in chunk_ids)
    assert await parley.index.count(store) == len(FILES)
    for number in (0, 4, 5):
        found = await parley.knowledge.search(store, f"NL-{number:04d}", k=1)
        assert found.passages[0].document == f"topic-{number}.md"


async def test_a_job_whose_worker_was_killed_is_resumed_by_the_next_worker(
    data_dir: Path, tmp_path: Path
) -> None:
    settings = in_process_settings(data_dir)
    parley = await open_parley(settings)
    try:
        job = await submit_files(parley, "resumed-shop", tmp_path, enqueue=False)
    finally:
        await parley.close()
    env = {
        **os.environ,
        "PARLEY_DATA_DIR": str(data_dir),
        "PARLEY_LLM": "none",
        "PARLEY_RETRIEVAL__EMBEDDER": "hashing",
        "PARLEY_LOG_JSON": "false",
    }
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _DYING_WORKER, job.id, "resumed-shop",
        env=env, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert worker.stdout is not None
        line = await asyncio.wait_for(worker.stdout.readline(), timeout=120)
        assert line.strip() == b"stalled"
    finally:
        worker.kill()
        await worker.wait()

    parley = await open_parley(settings)
    try:
        left = await parley.knowledge.job("resumed-shop", job.id)
        assert (left.state, left.processed, left.attempts) == ("running", 4, 1)
        parley.runner.lease_s = 0.5  # the dead worker's heartbeat goes stale at once
        await parley.knowledge.start_worker()
        finished = await wait_done(parley, "resumed-shop", job.id)
        assert finished.attempts == 2
        await assert_each_file_indexed_once(parley, "resumed-shop", finished)
    finally:
        await parley.close()


async def test_a_job_stopped_by_a_shutdown_goes_on_in_the_next_process(
    data_dir: Path, tmp_path: Path
) -> None:
    settings = in_process_settings(data_dir)
    parley = await open_parley(settings)
    reached = hang_on_third_file(parley)  # until the process shuts down
    try:
        with mock.patch("bot.knowledge_base.ingestion.EMBED_BATCH_FILES", 2):
            job = await submit_files(parley, "restarted-shop", tmp_path, enqueue=True)
            await asyncio.wait_for(reached.wait(), timeout=60)
    finally:
        await parley.close()

    parley = await open_parley(settings)
    try:
        left = await parley.knowledge.job("restarted-shop", job.id)
        assert (left.state, left.processed) == ("queued", 2)  # handed back at the shutdown
        await parley.knowledge.start_worker()
        finished = await wait_done(parley, "restarted-shop", job.id)
        await assert_each_file_indexed_once(parley, "restarted-shop", finished)
    finally:
        await parley.close()


async def test_two_workers_never_run_the_same_job(data_dir: Path, tmp_path: Path) -> None:
    first = await open_parley(in_process_settings(data_dir))
    second = await open_parley(in_process_settings(data_dir))
    try:
        job = await submit_files(first, "claimed-shop", tmp_path, enqueue=False)
        assert await first.runner.jobs.claim(job.id, first.runner.worker_id, lease_s=60)
        assert not await second.runner.jobs.claim(job.id, second.runner.worker_id, lease_s=60)
        assert await second.runner.resume_jobs() == []  # its heartbeat is fresh
        ran = await second.runner.run(JobRef(job.id, "claimed-shop"))
        assert ran.state == "running" and ran.processed == 0  # left to the first worker
    finally:
        await second.close()
        await first.close()


async def test_a_new_upload_or_reindex_embeds_only_what_changed(
    data_dir: Path, tmp_path: Path
) -> None:
    parley = await open_parley(in_process_settings(data_dir))
    embedded: list[str] = []
    embedder = parley.index.embedder
    real = embedder.embed_passages

    def counting(texts: Any) -> Any:
        embedded.extend(texts)
        return real(texts)

    embedder.embed_passages = counting  # type: ignore[method-assign]
    try:
        await parley.stores.create("edited-shop")
        path = tmp_path / "care.md"
        sections = ["Wash at 30 degrees.", "Do not tumble dry.", "Iron on low heat."]
        path.write_text(
            "# Care\n\n" + "\n\n".join(f"## Step {n}\n{t}" for n, t in enumerate(sections))
        )
        first = await parley.knowledge.ingest_paths("edited-shop", [path])
        assert first.payload["results"][0]["chunks"] == 3 and len(embedded) == 3

        embedded.clear()
        path.write_text(path.read_text().replace("Iron on low heat.", "Never iron the print."))
        second = await parley.knowledge.ingest_paths("edited-shop", [path])
        result = second.payload["results"][0]
        assert (result["status"], result["chunks"], result["reused_vectors"]) == ("indexed", 3, 2)
        assert len(embedded) == 1 and "Never iron the print." in embedded[0]
        found = await parley.knowledge.search("edited-shop", "Never iron the print", k=1)
        assert found.passages[0].text.endswith("Never iron the print.")

        embedded.clear()
        document = (await parley.knowledge.list("edited-shop"))[0]
        job = await parley.knowledge.reindex("edited-shop", document.id, enqueue=False)
        again = await parley.runner.run(JobRef(job.id, "edited-shop"))
        assert again.payload["results"][0]["reused_vectors"] == 3 and embedded == []
        assert await parley.index.count("edited-shop") == 3
    finally:
        await parley.close()


async def test_a_job_that_keeps_killing_its_workers_fails_instead_of_looping(
    data_dir: Path, tmp_path: Path
) -> None:
    parley = await open_parley(in_process_settings(data_dir))
    try:
        job = await submit_files(parley, "poisoned-shop", tmp_path, enqueue=False)
        for number in range(3):  # three workers took it and died without a trace
            assert await parley.knowledge.jobs.claim(job.id, f"dead:{number}", lease_s=0)
        parley.runner.lease_s = 0.01
        await asyncio.sleep(0.05)
        assert await parley.runner.resume_jobs() == []
        failed = await parley.knowledge.job("poisoned-shop", job.id)
        assert failed.state == "failed"
        assert [e["code"] for e in failed.errors] == ["stalled"]
        assert "3 times" in failed.errors[0]["message"]
    finally:
        await parley.close()


async def test_warm_up_loads_the_encoders_the_language_detector_and_the_reference_questions(
    parley: Parley,
) -> None:
    from knowledge.language import _detector

    embedder = parley.index.embedder
    loaded: list[str] = []
    real_passages, real_queries = embedder.embed_passages, embedder.embed_queries

    def passages(texts: Any) -> Any:
        loaded.append("passages")
        return real_passages(texts)

    def queries(texts: Any) -> Any:
        loaded.append("queries")
        return real_queries(texts)

    _detector.cache_clear()
    with (
        mock.patch.object(embedder, "embed_passages", passages),
        mock.patch.object(embedder, "embed_queries", queries),
    ):
        await parley.knowledge.warm_up()
    # Then the hub penalty's seed: embedded now, or read from the cache an earlier run left.
    assert loaded[:2] == ["passages", "queries"] and set(loaded[2:]) <= {"queries"}
    assert _detector.cache_info().currsize == 1
    assert parley.index.asked._seed is not None
    seed_vectors, seed_languages = parley.index.asked._seed
    assert len(seed_vectors) == len(seed_languages) > 1000
    assert {"ar", "de", "th", "vi", "zh"} <= set(seed_languages)
