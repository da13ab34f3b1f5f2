"""The index on a real Chroma server (`chroma run` from the chromadb package), by URL."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.settings import RetrievalSettings, Settings
from bot.wiring import open_parley
from knowledge import ChromaIndex, IndexedDocument, load_document, open_client
from knowledge.chunking import chunk_document
from knowledge.embeddings import HashingEmbedder

pytestmark = pytest.mark.integration
CHROMA = Path(sys.executable).parent / "chroma"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    folder = tmp_path_factory.mktemp("chroma-server")
    server = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the Chroma server did not start")
            time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


def document(document_id: str, name: str, text: str, version: int) -> IndexedDocument:
    loaded = load_document(name, text.encode())
    return IndexedDocument(document_id, name, loaded.title, version, chunk_document(loaded, ["en"]))


async def test_server_index_isolates_stores_and_replaces_versions(chroma_url: str) -> None:
    index = ChromaIndex(open_client(chroma_url, None), HashingEmbedder())
    try:
        await check_server_index(index)
    finally:
        index.close()


async def check_server_index(index: ChromaIndex) -> None:
    await index.ping()
    await index.replace_document(
        "alpha", document("d1", "returns.md", "# Returns\n\nReturns within 30 days.\n", 1)
    )
    await index.replace_document(
        "beta", document("d9", "lamps.md", "# Lamps\n\nThe NL-4410 desk lamp dims.\n", 1)
    )
    await index.replace_document(
        "alpha", document("d1", "returns.md", "# Returns\n\nReturns within 60 days.\n", 2)
    )
    alpha = await index.search("alpha", "returns within days NL-4410", k=10)
    assert [p.text for p in alpha.passages] == ["Returns within 60 days."]
    beta = await index.search("beta", "NL-4410", k=10)
    assert [p.text for p in beta.passages] == ["The NL-4410 desk lamp dims."]
    assert beta.passages[0].exact_match
    await index.delete_document("alpha", "d1")
    assert await index.document_chunks("alpha", "d1") == []


async def test_parley_uses_the_server_when_the_url_is_set(chroma_url: str, data_dir: Path) -> None:
    settings = Settings(
        data_dir=data_dir,
        llm="none",
        chroma_url=chroma_url,
        retrieval=RetrievalSettings(embedder="hashing"),
    )
    parley = await open_parley(settings)
    try:
        assert (await parley.readiness())["index"] == "ok"
        await parley.stores.create("served")
        source = data_dir / "faq.csv"
        source.write_text("question,answer\nDo you ship to Japan?,Yes.\n")
        job = await parley.knowledge.ingest_paths("served", [source])
        assert job.state == "done" and not job.errors
        found = await parley.knowledge.search("served", "ship to Japan")
        assert found.passages[0].document == "faq.csv"
    finally:
        await parley.close()
    assert not (data_dir / "chroma").exists()


async def test_an_unreachable_server_makes_readiness_fail(data_dir: Path) -> None:
    settings = Settings(
        data_dir=data_dir,
        llm="none",
        chroma_url=f"http://127.0.0.1:{free_port()}",
        retrieval=RetrievalSettings(embedder="hashing"),
    )
    parley = await open_parley(settings)
    try:
        checks = await parley.readiness()
        assert checks["index"].startswith("vector index unreachable")
    finally:
        await parley.close()
