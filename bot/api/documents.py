"""Merchant endpoints for the knowledge base: upload, list, delete, reindex, job progress."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse

from bot.api.deps import MerchantStoreDep, ParleyDep
from bot.domain.errors import ParleyError
from bot.domain.languages import store_languages
from bot.knowledge_base import Upload

router = APIRouter(prefix="/api/v1", tags=["documents"])
_SPOOL_CHUNK = 1024 * 1024


class EmptyUpload(ParleyError):
    """A documents upload without any file."""

    code = "invalid_request"
    status = 422


@router.post("/documents", status_code=202)
async def upload_documents(
    parley: ParleyDep,
    store: MerchantStoreDep,
    files: Annotated[list[UploadFile], File(description="One or more documents.")],
    question_column: Annotated[str | None, Form(description="FAQ tables: questions.")] = None,
    answer_column: Annotated[str | None, Form(description="FAQ tables: answers.")] = None,
    category_column: Annotated[str | None, Form(description="FAQ tables: sections.")] = None,
) -> JSONResponse:
    """Accept many files and answer at once with the ingestion job; `GET /jobs/{id}` tracks it."""
    if not files:
        raise EmptyUpload("send at least one file in the `files` field")
    limit = parley.knowledge.max_bytes
    with tempfile.TemporaryDirectory(prefix="parley-upload-") as folder:
        uploads = [
            await _spool(upload, Path(folder) / f"{number:04d}", limit)
            for number, upload in enumerate(files)
        ]
        columns = {
            key: value
            for key, value in (
                ("question", question_column),
                ("answer", answer_column),
                ("category", category_column),
            )
            if value
        }
        job, documents = await parley.knowledge.submit(store, uploads, columns=columns or None)
    return JSONResponse(
        {
            "job_id": job.id,
            "documents": [document.view() for document in documents],
            "job": job.view(),
        },
        status_code=202,
    )


async def _spool(upload: UploadFile, target: Path, limit: int) -> Upload:
    """Copy an upload to disk, stopping at the size limit (the job then reports the file)."""
    size = 0
    with target.open("wb") as out:
        while chunk := await upload.read(_SPOOL_CHUNK):
            size += len(chunk)
            if size <= limit:
                await anyio.to_thread.run_sync(out.write, chunk)
    if size > limit:  # keep nothing of it; the job reports the file as too big
        await anyio.to_thread.run_sync(target.write_bytes, b"")
    return Upload(name=upload.filename or "document", path=target, size=size)


@router.get("/documents")
async def list_documents(parley: ParleyDep, store: MerchantStoreDep) -> dict[str, Any]:
    """The store's documents with their status, language and chunk count."""
    documents = await parley.knowledge.list(store)
    return {"documents": [document.view() for document in documents]}


@router.delete("/documents/{document_id}")
async def delete_document(
    document_id: str, parley: ParleyDep, store: MerchantStoreDep
) -> dict[str, Any]:
    """Delete a document and its vectors."""
    await parley.knowledge.delete(store, document_id)
    return {"deleted": document_id}


@router.post("/documents/{document_id}/reindex", status_code=202)
async def reindex_document(
    document_id: str, parley: ParleyDep, store: MerchantStoreDep
) -> JSONResponse:
    """Read the stored original again and replace the document's chunks."""
    job = await parley.knowledge.reindex(store, document_id)
    return JSONResponse({"job_id": job.id, "job": job.view()}, status_code=202)


@router.get("/jobs")
async def list_jobs(parley: ParleyDep, store: MerchantStoreDep) -> dict[str, Any]:
    """The store's recent jobs, newest first: ingestion, reindexing and the `questions` job
    that follows an ingestion when a chat model writes questions."""
    return {"jobs": [job.view() for job in await parley.knowledge.jobs.recent(store)]}


@router.get("/jobs/{job_id}")
async def get_job(job_id: str, parley: ParleyDep, store: MerchantStoreDep) -> dict[str, Any]:
    """`{state, processed, total, errors}` of a job of this store."""
    job = await parley.knowledge.job(store, job_id)
    return job.view()


@router.get("/documents/search")
async def search_documents(
    q: str, parley: ParleyDep, store: MerchantStoreDep, k: int = 5
) -> dict[str, Any]:
    """Try retrieval as the bot sees it: passages with document, section, language, score."""
    from knowledge.index import passage_rows

    languages = store_languages(await parley.stores.policy(store))
    result = await parley.knowledge.search(store, q, k=max(1, min(k, 20)), languages=languages)
    return {"passages": passage_rows(result.passages), "confidence": result.confidence}
