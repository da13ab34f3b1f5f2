"""The `questions` job: after indexing, the chat model writes the questions each chunk answers
and they are mixed into the chunk's vector (`knowledge.questions`).

The writer here is scripted: a test double at the model boundary, standing in for the chat
model (the real one is measured by `parley eval retrieval --questions local`). Everything else
is real: the database and embedded Chroma (with the small hashing embedder: these tests are
about what is stored where, not about recall).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import numpy as np
import pytest

from bot.jobs import Job, JobRef
from bot.knowledge_base import QUESTIONS_JOB, Upload
from bot.settings import RetrievalSettings, Settings
from bot.wiring import Parley, open_parley, question_writer
from knowledge.questions import question_vector, with_questions
from tests.conftest import CACHE_DIR

pytestmark = pytest.mark.integration

RETURNS = (
    "# Rücksendungen\n\nArtikel können innerhalb von 30 Tagen nach Erhalt kostenlos "
    "zurückgeschickt werden. Das Etikett liegt dem Paket bei.\n\n"
    "# Versand\n\nWir versenden mit DHL. Die Lieferung dauert zwei bis vier Werktage.\n"
)
WRITTEN = {
    "Artikel können": [
        "Wie lange kann ich einen Artikel zurückschicken?",
        "Ist die Rücksendung kostenlos?",
    ],
    "Wir versenden": ["Mit welchem Dienst wird versendet?", "Wie lange dauert die Lieferung?"],
}


class ScriptedWriter:
    """Writes the questions scripted for a passage (by a phrase it contains) and counts calls;
    `fail_on` makes it raise for passages containing that phrase, as a broken model would."""

    def __init__(self, written: dict[str, list[str]], fail_on: str | None = None) -> None:
        self.written = written
        self.fail_on = fail_on
        self.asked: list[str] = []

    def __call__(self, text: str) -> list[str]:
        self.asked.append(text)
        if self.fail_on and self.fail_on in text:
            raise RuntimeError("model server unreachable")
        for phrase, questions in self.written.items():
            if phrase in text:
                return list(questions)
        return []


async def open_store(data_dir: Path, embedder: str, *stores: str) -> Parley:
    settings = Settings(
        data_dir=data_dir,
        cache_dir=CACHE_DIR,
        llm="none",
        log_json=False,
        retrieval=RetrievalSettings(embedder=embedder),
    )
    parley = await open_parley(settings)
    for store in stores:
        await parley.stores.create(store)
    return parley


@pytest.fixture
async def hashing(data_dir: Path) -> AsyncIterator[Parley]:
    parley = await open_store(data_dir, "hashing", "shop-a", "shop-b")
    try:
        yield parley
    finally:
        await parley.close()


async def ingest(parley: Parley, store: str, path: Path) -> tuple[Job, Job]:
    """Index `path`, then run the questions job the ingestion queued (in this process)."""
    job = await parley.knowledge.ingest_paths(store, [path])
    assert job.state == "done", job.errors
    follow = [j for j in await parley.knowledge.jobs.recent(store) if j.kind == QUESTIONS_JOB]
    follow = [j for j in follow if j.state == "queued"]
    assert len(follow) == 1, follow
    done = await parley.runner.run(JobRef(follow[0].id, store))
    return job, done


async def chunk_meta(parley: Parley, store: str) -> list[dict[str, object]]:
    got = parley.index.collection(store).get(include=["metadatas"])
    return sorted((dict(m) for m in got["metadatas"]), key=lambda m: str(m["chunk_id"]))


def document(tmp_path: Path, text: str = RETURNS, name: str = "richtlinien.md") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


async def test_unchanged_passages_keep_their_questions_without_asking_again(
    hashing: Parley, tmp_path: Path
) -> None:
    store = "shop-a"
    writer = ScriptedWriter(WRITTEN)
    hashing.knowledge.question_writer = writer
    path = document(tmp_path)
    await ingest(hashing, store, path)
    assert len(writer.asked) == 2
    first = {m["question_key"]: m["questions"] for m in await chunk_meta(hashing, store)}

    changed = RETURNS.replace("zwei bis vier Werktage", "drei bis fünf Werktage")
    path.write_text(changed, encoding="utf-8")
    _, done = await ingest(hashing, store, path)

    assert len(writer.asked) == 3 and "drei bis fünf" in writer.asked[-1]
    assert done.view()["files"][0]["asked"] == 1
    metas = await chunk_meta(hashing, store)
    assert all(m["version"] == 2 for m in metas)
    assert [m["questions"] for m in metas] == [2, 2]
    assert sum(1 for m in metas if m["question_key"] in first) == 1


async def test_a_model_failure_fails_that_document_and_keeps_it_searchable(
    hashing: Parley, tmp_path: Path
) -> None:
    store = "shop-a"
    writer = ScriptedWriter(WRITTEN, fail_on="Wir versenden")
    hashing.knowledge.question_writer = writer
    broken = document(tmp_path)
    other = document(
        tmp_path, "# FAQ\n\nArtikel können auch im Laden umgetauscht werden.\n", "faq.md"
    )
    job = await hashing.knowledge.ingest_paths(store, [broken, other])
    assert job.state == "done"
    follow = next(j for j in await hashing.knowledge.jobs.recent(store) if j.kind == QUESTIONS_JOB)
    done = await hashing.runner.run(JobRef(follow.id, store))

    files = {f["file"]: f for f in done.view()["files"]}
    assert files["richtlinien.md"]["status"] == "failed"
    assert "model server unreachable" in files["richtlinien.md"]["error"]
    assert files["faq.md"]["status"] == "done"
    assert done.state == "done" and [e["file"] for e in done.errors] == ["richtlinien.md"]
    metas = {str(m["document"]) + str(m["ordinal"]): m for m in await chunk_meta(hashing, store)}
    assert sorted(m["questions"] for m in metas.values()) == [0, 2, 2]  # DHL chunk: not asked
    found = await hashing.knowledge.search(store, "DHL Lieferung Werktage")
    assert any("DHL" in p.text for p in found.passages)

    hashing.knowledge.question_writer = ScriptedWriter(WRITTEN)  # the model is back
    retry = await hashing.knowledge.queue_questions(
        store,
        [{"document_id": follow.payload["files"][0]["document_id"], "file": "x"}],
        enqueue=False,
    )
    again = await hashing.runner.run(JobRef(retry.id, store))
    assert again.view()["files"][0]["asked"] == 1
    assert all(m["questions"] == 2 for m in await chunk_meta(hashing, store))


async def test_one_store_never_reuses_or_sees_another_stores_questions(
    hashing: Parley, tmp_path: Path
) -> None:
    writer = ScriptedWriter(WRITTEN)
    hashing.knowledge.question_writer = writer
    path = document(tmp_path)
    await ingest(hashing, "shop-a", path)
    await ingest(hashing, "shop-b", path)

    assert len(writer.asked) == 4  # the same passages in shop-b are asked about again
    keys = [str(m["question_key"]) for m in await chunk_meta(hashing, "shop-a")]
    assert set(await hashing.index.cached_questions("shop-a", keys)) == set(keys)
    await hashing.index.drop_store("shop-b")
    assert await hashing.index.cached_questions("shop-b", keys) == {}
    assert set(await hashing.index.cached_questions("shop-a", keys)) == set(keys)


async def test_deleting_a_document_deletes_its_questions(hashing: Parley, tmp_path: Path) -> None:
    store = "shop-a"
    hashing.knowledge.question_writer = ScriptedWriter(WRITTEN)
    await ingest(hashing, store, document(tmp_path))
    keys = [str(m["question_key"]) for m in await chunk_meta(hashing, store)]
    documents = await hashing.knowledge.list(store)

    await hashing.knowledge.delete(store, documents[0].id)

    assert await hashing.index.cached_questions(store, keys) == {}


async def test_questions_vectors_are_not_reused_as_plain_embeddings(
    hashing: Parley, tmp_path: Path
) -> None:
    store = "shop-a"
    hashing.knowledge.question_writer = ScriptedWriter(WRITTEN)
    await ingest(hashing, store, document(tmp_path))
    document_id = (await hashing.knowledge.list(store))[0].id
    assert await hashing.index.stored_vectors(store, document_id) == {}


def test_questions_need_a_chat_model_and_the_setting(data_dir: Path) -> None:
    on: Callable[..., Settings] = lambda **kw: Settings(data_dir=data_dir, **kw)  # noqa: E731
    assert question_writer(on(llm="none")) is None
    assert (
        question_writer(on(llm="local", retrieval=RetrievalSettings(generate_questions=False)))
        is None
    )
    assert question_writer(on(llm="local")) is None  # off by default
    on_local = on(llm="local", retrieval=RetrievalSettings(generate_questions=True))
    assert question_writer(on_local) is not None


async def test_each_chunk_vector_becomes_its_own_mixed_with_its_questions(
    hashing: Parley, tmp_path: Path
) -> None:
    store = "shop-a"
    await hashing.knowledge.ingest_paths(store, [document(tmp_path)])
    got = hashing.index.collection(store).get(include=["embeddings", "metadatas", "documents"])
    plain = {
        str(m["question_key"]): np.asarray(v)
        for m, v in zip(got["metadatas"], got["embeddings"], strict=True)
    }
    assert all(m["questions"] == 0 for m in got["metadatas"])  # searchable before any question
    writer = ScriptedWriter(WRITTEN)
    hashing.knowledge.question_writer = writer
    document_id = str(got["metadatas"][0]["document_id"])
    job = await hashing.knowledge.queue_questions(
        store, [{"document_id": document_id, "file": "richtlinien.md"}], enqueue=False
    )
    done = await hashing.runner.run(JobRef(job.id, store))

    assert done.state == "done" and done.view()["files"][0]["asked"] == 2
    embed = hashing.index.embedder.embed_queries
    got = hashing.index.collection(store).get(include=["embeddings", "metadatas", "documents"])
    for meta, vector, text in zip(
        got["metadatas"], got["embeddings"], got["documents"], strict=True
    ):
        questions = next(q for phrase, q in WRITTEN.items() if phrase in text)
        key = str(meta["question_key"])
        expected = with_questions(plain[key][None, :], question_vector(embed(questions))[None, :])
        assert np.allclose(np.asarray(vector), expected[0], atol=1e-5)
        assert 0.5 < float(np.asarray(vector) @ plain[key]) < 0.9999
        assert meta["questions"] == len(questions)
        cached = await hashing.index.cached_questions(store, [key])
        assert cached[key].questions == questions


async def test_a_long_questions_job_lets_a_later_upload_through_first(
    hashing: Parley, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = "shop-a"
    monkeypatch.setattr("bot.knowledge_base.questions.QUESTIONS_SLICE", 1)  # one chunk per slice
    uploaded = threading.Event()
    seen: list[tuple[str, bool]] = []  # (passage heading, late.md indexed at that moment)
    chunks = hashing.index.collection(store)

    class Writer(ScriptedWriter):
        def __call__(self, text: str) -> list[str]:
            uploaded.wait(30)  # the merchant uploads while the first chunk is being asked
            late_there = bool(chunks.get(where={"document": "late.md"}, include=[])["ids"])
            seen.append((text.split("\n")[0], late_there))
            return super().__call__(text)

    hashing.knowledge.question_writer = Writer(WRITTEN)
    assert (await hashing.knowledge.ingest_paths(store, [document(tmp_path)])).state == "done"
    questions = await hashing.knowledge.jobs.recent(store)
    await hashing.knowledge.start_worker()
    await hashing.runner.queue.enqueue(JobRef(questions[0].id, store))
    for _ in range(600):
        if (await hashing.knowledge.job(store, questions[0].id)).state == "running":
            break
        await asyncio.sleep(0.01)
    late = document(tmp_path, "# Late\n\nGift cards never expire.\n", "late.md")
    upload, _ = await hashing.knowledge.submit(
        store, [Upload("late.md", late, late.stat().st_size)]
    )
    uploaded.set()
    for _ in range(600):
        jobs = await hashing.knowledge.jobs.recent(store)
        if len(jobs) == 4 and all(job.state == "done" for job in jobs):
            break
        await asyncio.sleep(0.05)

    assert [(job.kind, job.state) for job in jobs] == [
        ("questions", "done"),
        ("ingest", "done"),
        ("questions", "done"),
        ("ingest", "done"),
    ]
    assert jobs[1].id == upload.id
    assert seen == [("Rücksendungen", False), ("Rücksendungen > Versand", True), ("Late", True)]
    first = await hashing.knowledge.job(store, questions[0].id)
    assert first.attempts == 1 and first.view()["files"][0]["asked"] == 2
