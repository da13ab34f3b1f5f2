"""Merchants' documents over HTTP: 202 with a job, progress and per-file errors, replace,
delete, reindex, and one store never touching another's documents."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.api import create_app
from bot.jobs import InProcessQueue
from bot.settings import RetrievalSettings, Settings
from bot.wiring import Parley, open_parley
from tests.asgi import asgi_client
from tests.unit.knowledge_files import docx_file, encrypted_pdf, text_pdf, zip_bomb_docx

pytestmark = pytest.mark.integration

RETURNS = b"# Returns\n\n## Return window\nYou can return any item within 30 days of delivery.\n"
RETURNS_V2 = b"# Returns\n\n## Return window\nYou can return any item within 60 days of delivery.\n"
FAQ_CSV = b"question,answer\nDo you ship to Norway?,Yes - in 3 to 5 days.\n"


@pytest.fixture
def hashing_settings(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        llm="none",
        log_json=False,
        retrieval=RetrievalSettings(embedder="hashing"),
    )


@pytest.fixture
async def parley(hashing_settings: Settings) -> AsyncIterator[Parley]:
    opened = await open_parley(hashing_settings)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def client(hashing_settings: Settings, parley: Parley) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(create_app(hashing_settings, parley)) as http:
        yield http


async def merchant(parley: Parley, store: str) -> dict[str, str]:
    created = await parley.stores.create(store)
    return {"authorization": f"Bearer {created.secret_key}"}


async def finished(client: httpx.AsyncClient, job_id: str, auth: dict[str, str]) -> dict[str, Any]:
    for _ in range(600):
        body: dict[str, Any] = (await client.get(f"/api/v1/jobs/{job_id}", headers=auth)).json()
        if body["state"] in ("done", "failed"):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


async def upload(
    client: httpx.AsyncClient, auth: dict[str, str], files: list[tuple[str, bytes]]
) -> httpx.Response:
    return await client.post(
        "/api/v1/documents",
        headers=auth,
        files=[("files", (name, data)) for name, data in files],
    )


async def test_bad_files_fail_alone_and_the_good_ones_are_indexed(
    client: httpx.AsyncClient, parley: Parley
) -> None:
    auth = await merchant(parley, "nordlicht")
    first = await upload(client, auth, [("returns.md", RETURNS)])
    assert first.status_code == 202
    await finished(client, first.json()["job_id"], auth)

    files = [
        ("faq.csv", FAQ_CSV),
        ("care.docx", docx_file("Care", [("Bottles", ["Wash bottles by hand."])])),
        ("empty.txt", b""),
        ("locked.pdf", encrypted_pdf(["Secret"])),
        ("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog"),
        ("bomb.docx", zip_bomb_docx()),
        ("quotes.csv", b'question,answer\n"Broken "quote,"x"\n'),
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64),
        ("scan.pdf", text_pdf([[]])),
        ("returns.md", b""),  # a bad re-upload must not lose the indexed version
    ]
    response = await upload(client, auth, files)
    assert response.status_code == 202
    body = response.json()
    assert body["job"]["total"] == len(files) and body["job"]["state"] == "queued"
    job = await finished(client, body["job_id"], auth)
    assert job["state"] == "done" and job["processed"] == len(files)
    reasons = {error["file"]: error["message"] for error in job["errors"]}
    assert set(reasons) == {
        "empty.txt", "locked.pdf", "broken.pdf", "bomb.docx", "quotes.csv", "photo.png",
        "scan.pdf", "returns.md",
    }  # fmt: skip
    assert "password" in reasons["locked.pdf"]
    assert "zip bomb" in reasons["bomb.docx"]
    assert "line 2" in reasons["quotes.csv"]
    assert "unsupported file type" in reasons["photo.png"]
    assert reasons["empty.txt"] == "the file is empty"

    listed = (await client.get("/api/v1/documents", headers=auth)).json()["documents"]
    status = {doc["name"]: doc["status"] for doc in listed}
    assert status["faq.csv"] == status["care.docx"] == status["returns.md"] == "indexed"
    assert status["locked.pdf"] == "failed"
    returns = next(doc for doc in listed if doc["name"] == "returns.md")
    assert returns["version"] == 1 and "last upload failed" in returns["error"]

    found = await parley.knowledge.search("nordlicht", "return an item within 30 days")
    assert found.passages[0].document == "returns.md"
    bottles = await parley.knowledge.search("nordlicht", "wash bottles by hand")
    assert bottles.passages[0].section == "Bottles"
    assert bottles.passages[0].document == "care.docx"


async def test_a_file_over_the_size_limit_is_refused(
    client: httpx.AsyncClient, parley: Parley
) -> None:
    auth = await merchant(parley, "bigfiles")
    parley.knowledge.max_bytes = 1024 * 1024
    big = b"x" * (1024 * 1024 + 10)
    response = await upload(client, auth, [("huge.txt", big), ("faq.csv", FAQ_CSV)])
    job = await finished(client, response.json()["job_id"], auth)
    assert [error["file"] for error in job["errors"]] == ["huge.txt"]
    assert "too big" in job["errors"][0]["message"]
    assert job["files"][1]["status"] == "indexed"


async def test_reupload_replaces_identical_content_is_skipped_delete_and_reindex(
    client: httpx.AsyncClient, parley: Parley
) -> None:
    auth = await merchant(parley, "shop")
    job = await finished(
        client, (await upload(client, auth, [("returns.md", RETURNS)])).json()["job_id"], auth
    )
    document_id = job["files"][0]["document_id"]

    again = await finished(
        client,
        (await upload(client, auth, [("returns.md", RETURNS), ("copy.md", RETURNS)])).json()[
            "job_id"
        ],
        auth,
    )
    assert [f["status"] for f in again["files"]] == ["unchanged", "duplicate"]
    names = [
        d["name"] for d in (await client.get("/api/v1/documents", headers=auth)).json()["documents"]
    ]
    assert names == ["returns.md"]

    replaced = await finished(
        client, (await upload(client, auth, [("returns.md", RETURNS_V2)])).json()["job_id"], auth
    )
    assert replaced["files"][0]["document_id"] == document_id
    texts = [p.text for p in (await parley.knowledge.search("shop", "return days", k=5)).passages]
    assert texts == ["You can return any item within 60 days of delivery."]
    assert len(await parley.index.document_chunks("shop", document_id)) == 1

    reindex = await client.post(f"/api/v1/documents/{document_id}/reindex", headers=auth)
    assert reindex.status_code == 202
    redone = await finished(client, reindex.json()["job_id"], auth)
    assert redone["state"] == "done" and redone["files"][0]["status"] == "indexed"
    listed = (await client.get("/api/v1/documents", headers=auth)).json()["documents"]
    assert listed[0]["version"] == 3

    deleted = await client.delete(f"/api/v1/documents/{document_id}", headers=auth)
    assert deleted.status_code == 200
    assert await parley.index.document_chunks("shop", document_id) == []
    assert (await parley.knowledge.search("shop", "return days")).passages == []
    gone = await client.delete(f"/api/v1/documents/{document_id}", headers=auth)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"


async def test_stores_cannot_see_each_others_documents_or_jobs(
    client: httpx.AsyncClient, parley: Parley
) -> None:
    alpha, beta = await merchant(parley, "alpha"), await merchant(parley, "beta")
    job = await finished(
        client, (await upload(client, alpha, [("returns.md", RETURNS)])).json()["job_id"], alpha
    )
    document_id = job["files"][0]["document_id"]
    assert (await client.get(f"/api/v1/jobs/{job['id']}", headers=beta)).status_code == 404
    assert (await client.get("/api/v1/documents", headers=beta)).json() == {"documents": []}
    assert (
        await client.delete(f"/api/v1/documents/{document_id}", headers=beta)
    ).status_code == 404
    search = await client.get("/api/v1/documents/search", params={"q": "return"}, headers=beta)
    assert search.json()["passages"] == []
    unauthenticated = await client.get("/api/v1/documents")
    assert unauthenticated.status_code == 401


async def test_upload_without_files_is_a_clear_error(
    client: httpx.AsyncClient, parley: Parley
) -> None:
    auth = await merchant(parley, "nofiles")
    response = await client.post("/api/v1/documents", headers=auth, data={"x": "1"})
    assert response.status_code == 422
    assert "files" in response.json()["error"]["message"]


async def test_the_in_process_worker_is_the_default(parley: Parley) -> None:
    assert isinstance(parley.jobs, InProcessQueue)


async def test_an_upload_is_followed_by_its_questions_job_when_a_model_writes_them(
    client: httpx.AsyncClient, parley: Parley
) -> None:
    asked: list[str] = []

    def writer(text: str) -> list[str]:  # the model boundary, scripted
        asked.append(text)
        return ["How long do I have to return an item?", "Can I return things I bought?"]

    parley.knowledge.question_writer = writer
    auth = await merchant(parley, "questions-shop")
    other = await merchant(parley, "other-shop")
    files = {"files": ("returns.md", RETURNS, "text/markdown")}
    posted = (await client.post("/api/v1/documents", files=files, headers=auth)).json()
    assert (await finished(client, posted["job_id"], auth))["state"] == "done"

    for _ in range(600):
        jobs = (await client.get("/api/v1/jobs", headers=auth)).json()["jobs"]
        if jobs[0]["kind"] == "questions" and jobs[0]["state"] == "done":
            break
        await asyncio.sleep(0.05)
    assert [job["kind"] for job in jobs] == ["questions", "ingest"]
    assert jobs[0]["files"][0]["file"] == "returns.md"
    assert jobs[0]["files"][0]["asked"] == 1 and len(asked) == 1
    assert "Return window" in asked[0]
    assert (await client.get("/api/v1/jobs", headers=other)).json()["jobs"] == []
