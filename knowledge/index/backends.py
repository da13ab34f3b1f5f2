"""Which backend an index URL names: `memory://` keeps the index in this process (tests), an
`http(s)://` URL is a Chroma server, and no URL is embedded Chroma in the data dir (default)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from knowledge.embeddings import Embedder
from knowledge.index.vector_index import VectorIndex

MEMORY_SCHEME = "memory"


def connect_index(url: str | None, path: Path | None, embedder: Embedder) -> VectorIndex:
    """The index for `url` (see the module); Chroma connects on first use, so a server that is
    down at start-up shows in readiness checks instead of stopping the process."""
    if url and urlparse(url).scheme == MEMORY_SCHEME:
        from knowledge.index._backends.memory import MemoryIndex

        return MemoryIndex(embedder)
    from knowledge.index._backends.chroma import ChromaIndex

    return ChromaIndex.lazy(url, path, embedder)
