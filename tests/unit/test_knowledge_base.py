"""The knowledge base as wiring builds it, on a SQLite file and the memory index
(`PARLEY_CHROMA_URL=memory://`): ingest, search, reindex and delete, each file on its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain.errors import NotFound
from bot.jobs import JobRef
from bot.settings import RetrievalSettings, Settings
from bot.wiring import Parley, open_parley
from knowledge.index import ChromaIndex


@pytest.fixture
async def parley(data_dir: Path) -> AsyncIterator[Parley]:
    settings = Settings(
        data_dir=data_dir,
        llm="none",
        chroma_url="memory://",
        retrieval=RetrievalSettings(embedder="hashing"),
    )
    opened = await open_parley(settings)
    try:
        await opened.stores.create("shop")
        yield opened
    finally:
        await opened.close()


async def test_files_are_indexed_searched_reindexed_and_deleted(
    parley: Parley, tmp_path: Path
) -> None:
    assert not isinstance(parley.index, ChromaIndex)
    shipping = tmp_path / "shipping.md"
    shipping.write_text("# Shipping\n\nParcels to Chile arrive in 7 days with tracking.\n")
    empty = tmp_path / "empty.md"
    empty.write_bytes(b"")
    job = await parley.knowledge.ingest_paths("shop", [shipping, empty])
    assert (job.state, job.processed) == ("done", 2)
    assert [(e["file"], e["message"]) for e in job.errors] == [("empty.md", "the file is empty")]
    documents = {document.name: document for document in await parley.knowledge.list("shop")}
    assert documents["shipping.md"].status == "indexed"
    assert documents["empty.md"].status == "failed"

    found = await parley.knowledge.search("shop", "How long does a parcel to Chile take?")
    assert found.passages[0].document == "shipping.md"
    assert (await parley.knowledge.search("other-shop", "Chile")).passages == []

    shipped = documents["shipping.md"]
    queued = await parley.knowledge.reindex("shop", shipped.id, enqueue=False)
    redone = await parley.runner.run(JobRef(queued.id, "shop"))
    assert redone.state == "done" and redone.payload["results"][0]["status"] == "indexed"
    assert (await parley.knowledge.get("shop", shipped.id)).version == 2

    await parley.knowledge.delete("shop", shipped.id)
    assert await parley.index.count("shop") == 0
    with pytest.raises(NotFound):
        await parley.knowledge.reindex("shop", shipped.id)
