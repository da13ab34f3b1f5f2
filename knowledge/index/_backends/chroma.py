"""The index's collections on Chroma: embedded (PersistentClient) by default, a Chroma server by
URL. Created without an embedding function: the index passes the vectors it computed."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from knowledge.embeddings import Embedder
from knowledge.errors import IndexUnavailable
from knowledge.index.codes import CodeIndex, SqliteCodes
from knowledge.index.sections import CANDIDATES
from knowledge.index.vector_index import VectorIndex

_SAFE = re.compile(r"[^a-zA-Z0-9_-]")
_SUFFIXES = {
    "chunks": "",
    "manifest": "-docs",
    "codes": "-codes",
    "questions": "-questions",
    "asked": "-asked",
}
CODES_FILE = "parley-codes.sqlite3"


def open_client(url: str | None, path: Path | None) -> Any:
    """A Chroma HttpClient for `url`, else a PersistentClient in `path`."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    if url:
        parsed = urlparse(url)
        if not parsed.hostname:
            raise IndexUnavailable(f"the Chroma URL is not a URL: {url!r}")
        return chromadb.HttpClient(
            host=parsed.hostname,
            port=parsed.port or 8000,
            ssl=parsed.scheme == "https",
            settings=settings,
        )
    if path is None:
        raise IndexUnavailable("an embedded index needs a folder")
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


def collection_name(embedder_name: str, store_id: str, suffix: str = "") -> str:
    """A valid Chroma name (3–512 of [a-zA-Z0-9._-]) unique to store and model."""
    digest = hashlib.sha256(f"{store_id}\x1f{embedder_name}".encode()).hexdigest()[:12]
    readable = _SAFE.sub("_", store_id)[:40]
    model = _SAFE.sub("_", embedder_name)[:40]
    return f"kb-{readable}-{model}-{digest}{suffix}"


class ChromaCollections:
    """A store's collections on a Chroma client, named per store and embedding model; the client
    connects on first use when it is given as `connect`."""

    def __init__(
        self, client: Any, embedder_name: str, connect: Callable[[], Any] | None = None
    ) -> None:
        self._client = client
        self._connect = connect
        self.embedder_name = embedder_name
        self._collections: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        """The Chroma client, connected on first use."""
        with self._lock:
            if self._client is None:
                if self._connect is None:
                    raise IndexUnavailable("the index is closed")
                try:
                    self._client = self._connect()
                except IndexUnavailable:
                    raise
                except Exception as error:  # chromadb raises ValueError, httpx errors, ...
                    raise IndexUnavailable(f"cannot reach the vector index: {error}") from error
            return self._client

    def collection(self, store_id: str, kind: str) -> Any:
        """The store's collection of that kind (cosine space), created on first use."""
        name = collection_name(self.embedder_name, store_id, _SUFFIXES[kind])
        client = self.client
        with self._lock:
            collection = self._collections.get(name)
            if collection is None:
                collection = client.get_or_create_collection(
                    name,
                    embedding_function=None,
                    configuration={"hnsw": {"space": "cosine", "ef_search": 100}},
                    metadata={"store_id": store_id, "embedder": self.embedder_name},
                )
                self._collections[name] = collection
            return collection

    def drop_store(self, store_id: str) -> None:
        """Delete every collection of the store."""
        for suffix in _SUFFIXES.values():
            name = collection_name(self.embedder_name, store_id, suffix)
            try:
                self.client.delete_collection(name)
            except Exception as error:  # missing collection: nothing to drop
                if "does not exist" not in str(error).lower():
                    raise
        with self._lock:
            self._collections.clear()

    def batch_size(self) -> int:
        """What the client takes in one write (at most 5,000)."""
        return max(1, min(5000, int(self.client.get_max_batch_size())))

    def ping(self) -> None:
        """Raise unless Chroma answers its heartbeat."""
        self.client.heartbeat()

    def close(self) -> None:
        """Release the client's connections and files."""
        with self._lock:
            client, self._client = self._client, None
            self._collections.clear()
        if client is not None:
            _close_http_sessions(client)


def _close_http_sessions(client: Any) -> None:
    # chromadb 1.x stops a released HttpClient's systems without closing their httpx sessions,
    # and one system (made while validating the tenant) is never referenced; close them all.
    from chromadb.api.shared_system_client import SharedSystemClient

    before = dict(SharedSystemClient._identifier_to_system)
    client.close()
    referenced = SharedSystemClient._identifier_to_refcount
    for identifier, system in before.items():
        if referenced.get(identifier):
            continue
        for component in list(getattr(system, "_instances", {}).values()):
            session = getattr(component, "_session", None)
            if session is not None and hasattr(session, "close"):
                session.close()


class ChromaIndex(VectorIndex):
    """The index on a Chroma client (what `connect_index` opens unless the URL says memory)."""

    def __init__(
        self,
        client: Any,
        embedder: Embedder,
        *,
        candidates: int = CANDIDATES,
        connect: Callable[[], Any] | None = None,
        codes: CodeIndex | None = None,
    ) -> None:
        super().__init__(
            ChromaCollections(client, embedder.name, connect),
            embedder,
            candidates=candidates,
            codes=codes,
        )

    @classmethod
    def lazy(cls, url: str | None, path: Path | None, embedder: Embedder) -> ChromaIndex:
        """An index that connects on first use, so a server that is down at start-up shows in
        readiness checks instead of stopping the process; embedded, its codes are in a SQLite
        file beside the data."""
        codes = SqliteCodes(path / CODES_FILE) if not url and path is not None else None
        return cls(None, embedder, connect=lambda: open_client(url, path), codes=codes)

    @classmethod
    def embedded(cls, path: Path, embedder: Embedder, **options: Any) -> ChromaIndex:
        """An index in `path` (PersistentClient) with its codes in a SQLite file beside it."""
        return cls(
            open_client(None, path), embedder, codes=SqliteCodes(path / CODES_FILE), **options
        )
