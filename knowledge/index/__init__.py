"""The knowledge index: protocol, Chroma implementation, exact-token channel."""

from knowledge.index._base import IndexedDocument, KnowledgeIndex, Passage, SearchResult
from knowledge.index.chroma import ChromaIndex, collection_name, open_client, passage_rows
from knowledge.index.lexical import exact_tokens

__all__ = [
    "ChromaIndex",
    "IndexedDocument",
    "KnowledgeIndex",
    "Passage",
    "SearchResult",
    "collection_name",
    "exact_tokens",
    "open_client",
    "passage_rows",
]
