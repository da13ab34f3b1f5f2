"""Ingestion and retrieval of merchants' documents in any language (does not import `bot`).

`prepare_document` reads and chunks a file, an `Embedder` turns chunks into vectors, and a
`KnowledgeIndex` stores them per store and answers `search(store_id, query)`.
"""

from knowledge.documents import Chunk, LoadedDocument, Section
from knowledge.embeddings import Embedder, make_embedder
from knowledge.errors import (
    IndexUnavailable,
    KnowledgeError,
    NeedsColumnMapping,
    UnreadableDocument,
)
from knowledge.index import (
    ChromaIndex,
    IndexedDocument,
    KnowledgeIndex,
    Passage,
    SearchResult,
    VectorIndex,
    connect_index,
    open_client,
)
from knowledge.ingestion import PreparedDocument, content_hash, prepare_document
from knowledge.loaders import MAX_FILE_BYTES, load_document

__all__ = [
    "MAX_FILE_BYTES",
    "ChromaIndex",
    "Chunk",
    "Embedder",
    "IndexUnavailable",
    "IndexedDocument",
    "KnowledgeError",
    "KnowledgeIndex",
    "LoadedDocument",
    "NeedsColumnMapping",
    "Passage",
    "PreparedDocument",
    "SearchResult",
    "Section",
    "UnreadableDocument",
    "VectorIndex",
    "connect_index",
    "content_hash",
    "load_document",
    "make_embedder",
    "open_client",
    "prepare_document",
]
