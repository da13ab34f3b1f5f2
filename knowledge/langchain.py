"""LangChain adapters: any Parley embedder as `Embeddings`, a store's index as a retriever."""

from __future__ import annotations

from typing import Any

import anyio
from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from knowledge.embeddings import Embedder
from knowledge.index import SearchResult, VectorIndex


class ParleyEmbeddings(Embeddings):
    """A Parley `Embedder` for LangChain; the async methods run the model in a thread."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Passage vectors."""
        return [[float(x) for x in row] for row in self.embedder.embed_passages(texts)]

    def embed_query(self, text: str) -> list[float]:
        """A query vector."""
        return [float(x) for x in self.embedder.embed_queries([text])[0]]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Passage vectors, off the event loop."""
        return await anyio.to_thread.run_sync(self.embed_documents, texts)

    async def aembed_query(self, text: str) -> list[float]:
        """A query vector, off the event loop."""
        return await anyio.to_thread.run_sync(self.embed_query, text)


class KnowledgeRetriever(BaseRetriever):
    """One store's passages as LangChain `Document`s, with citation fields in the metadata."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: VectorIndex
    store_id: str
    k: int = 5
    language: str | None = None
    """The questions' language, when the chain knows it: passages in other languages then get
    the cross-language offset the bot's own searches use (`knowledge.index.languages`)."""

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        vector = self.index.embedder.embed_queries([query])[0]
        found = self.index.search_sync(
            self.store_id, query, vector, k=self.k, language=self.language
        )
        return _documents(found)

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun
    ) -> list[Document]:
        found = await self.index.search(self.store_id, query, k=self.k, language=self.language)
        return _documents(found)


def _documents(result: SearchResult) -> list[Document]:
    out = []
    for passage in result.passages:
        metadata: dict[str, Any] = {
            "document": passage.document,
            "document_id": passage.document_id,
            "section": passage.section,
            "language": passage.language,
            "score": passage.score,
            "chunk_id": passage.chunk_id,
            "confidence": result.confidence,
        }
        out.append(Document(page_content=passage.text, metadata=metadata, id=passage.chunk_id))
    return out
