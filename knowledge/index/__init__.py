"""The knowledge index: protocol, the index on a backend's collections, ranking, code rows.

`connect_index(url, path, embedder)` picks the backend (Chroma by default, memory by URL);
`ChromaIndex` is the index on a Chroma client, for callers that hold one.
"""

from knowledge.index._backends.chroma import ChromaIndex, collection_name, open_client
from knowledge.index._base import (
    Backend,
    Collection,
    IndexedDocument,
    KnowledgeIndex,
    Passage,
    SearchResult,
)
from knowledge.index.backends import MEMORY_SCHEME, connect_index
from knowledge.index.lexical import exact_tokens
from knowledge.index.ranking import passage_rows
from knowledge.index.vector_index import VectorIndex

__all__ = [
    "MEMORY_SCHEME",
    "Backend",
    "ChromaIndex",
    "Collection",
    "IndexedDocument",
    "KnowledgeIndex",
    "Passage",
    "SearchResult",
    "VectorIndex",
    "collection_name",
    "connect_index",
    "exact_tokens",
    "open_client",
    "passage_rows",
]
