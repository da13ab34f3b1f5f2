"""The documents of a store's knowledge base as rows: what was uploaded, its status and version."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.storage.database import Database
from bot.storage.tables import DocumentRow


@dataclass(frozen=True)
class Document:
    """A document of a store's knowledge base as the admin pages list it."""

    id: str
    name: str
    kind: str | None
    size: int
    language: str | None
    status: str
    """`pending`, `indexed` or `failed`."""
    error: str | None
    chunk_count: int
    version: int
    updated_at: datetime | None = None
    content_hash: str | None = None
    """Of the indexed version's bytes: an identical upload is not indexed again."""

    def view(self) -> dict[str, Any]:
        """JSON for the API."""
        return {
            "id": self.id,
            "name": self.name,
            "type": self.kind,
            "size": self.size,
            "language": self.language,
            "status": self.status,
            "error": self.error,
            "chunks": self.chunk_count,
            "version": self.version,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


@dataclass(frozen=True)
class IndexedVersion:
    """What indexing a new version of a document records on its row."""

    version: int
    content_hash: str
    size: int
    kind: str
    language: str | None
    chunk_count: int
    warnings: list[str]


def _document(row: DocumentRow) -> Document:
    return Document(
        id=row.id,
        name=row.name,
        kind=row.content_type,
        size=row.size,
        language=row.language,
        status=row.status,
        error=row.error,
        chunk_count=row.chunk_count,
        version=row.version,
        updated_at=row.updated_at,
        content_hash=row.content_hash,
    )


class DocumentRepository:
    """Document rows; every read and write is scoped to a store."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def list(self, store_id: str) -> list[Document]:
        """The store's documents, by name."""
        async with self.database.session() as session:
            rows = await session.scalars(
                sa.select(DocumentRow)
                .where(DocumentRow.store_id == store_id)
                .order_by(DocumentRow.name)
            )
            return [_document(row) for row in rows]

    async def find(self, store_id: str, document_id: str) -> Document | None:
        """One document of this store, or None."""
        async with self.database.session() as session:
            row = await session.get(DocumentRow, document_id)
            return _document(row) if row is not None and row.store_id == store_id else None

    async def named(self, store_id: str, name: str, size: int) -> Document:
        """The store's document of that name; a new pending one (version 0) if there is none."""
        async with self.database.session() as session:
            row = await session.scalar(
                sa.select(DocumentRow).where(
                    DocumentRow.store_id == store_id, DocumentRow.name == name
                )
            )
            if row is None:
                row = DocumentRow(
                    id=str(uuid.uuid4()),
                    store_id=store_id,
                    name=name,
                    size=size,
                    status="pending",
                    chunk_count=0,
                    version=0,
                )
                session.add(row)
                await session.flush()
            return _document(row)

    async def twin(self, store_id: str, digest: str, document_id: str) -> Document | None:
        """Another indexed document of the store with the same content, if any."""
        async with self.database.session() as session:
            twin: DocumentRow | None = await session.scalar(
                sa.select(DocumentRow)
                .where(
                    DocumentRow.store_id == store_id,
                    DocumentRow.content_hash == digest,
                    DocumentRow.status == "indexed",
                    DocumentRow.id != document_id,
                )
                .limit(1)
            )
            return None if twin is None else _document(twin)

    async def mark_indexed(self, store_id: str, document_id: str, indexed: IndexedVersion) -> bool:
        """Record a new indexed version; False when the row was deleted meanwhile."""
        async with self.database.session() as session:
            row = await session.get(DocumentRow, document_id)
            if row is None or row.store_id != store_id:
                return False
            row.status = "indexed"
            row.version = indexed.version
            row.content_hash = indexed.content_hash
            row.size = indexed.size
            row.content_type = indexed.kind
            row.language = indexed.language
            row.chunk_count = indexed.chunk_count
            row.error = "; ".join(indexed.warnings) or None
            return True

    async def mark_failed(self, store_id: str, document_id: str, message: str) -> None:
        """Record that the last upload of the document failed."""
        async with self.database.session() as session:
            row = await session.get(DocumentRow, document_id)
            if row is None or row.store_id != store_id:
                return
            # An indexed version stays live and searchable; only a never-indexed one fails.
            if row.version == 0:
                row.status = "failed"
            row.error = message if row.version == 0 else f"the last upload failed: {message}"

    async def drop(self, store_id: str, document_id: str) -> None:
        """Delete the row."""
        async with self.database.session() as session:
            await session.execute(
                sa.delete(DocumentRow).where(
                    DocumentRow.id == document_id, DocumentRow.store_id == store_id
                )
            )
