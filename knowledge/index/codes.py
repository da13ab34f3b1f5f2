"""The code rows of the lexical channel: which chunks quote which code (SKU, order number), per
store, so a search finds them by an indexed lookup rather than a scan of every chunk."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from knowledge.index._base import Backend


@dataclass(frozen=True)
class CodeRow:
    """One code a chunk quotes, with the document version the chunk belongs to."""

    code: str
    chunk: str
    """The chunk's record id in the index."""
    document_id: str
    version: int


class CodeIndex(Protocol):
    """Which chunks quote a code, per store; blocking (the index calls it from its threads)."""

    def add(self, store_id: str, rows: Sequence[CodeRow]) -> None:
        """Record the codes of a new document version (before it goes live)."""
        ...

    def drop_other_versions(self, store_id: str, document_id: str, version: int) -> None:
        """Forget every version of the document but `version` (after it went live)."""
        ...

    def drop_document(self, store_id: str, document_id: str) -> None:
        """Forget the document's codes."""
        ...

    def drop_store(self, store_id: str) -> None:
        """Forget every code of the store."""
        ...

    def lookup(self, store_id: str, keys: Sequence[str], limit: int) -> list[str]:
        """Record ids of up to `limit` chunks per key quoting one of `keys` (any version: the
        index keeps only live ones)."""
        ...

    def close(self) -> None:
        """Release files or connections of its own (they open again on next use)."""
        ...


class SqliteCodes:
    """Codes in a SQLite file beside the embedded Chroma data: a primary-key lookup, well under
    a millisecond at 100,000 chunks, where a Chroma metadata filter took tens (measured)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _open(self) -> sqlite3.Connection:
        # under self._lock; opened on first use and again after `close`
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS codes (store_id TEXT NOT NULL, code TEXT NOT NULL,"
                " chunk TEXT NOT NULL, document_id TEXT NOT NULL, version INTEGER NOT NULL,"
                " PRIMARY KEY (store_id, code, chunk)) WITHOUT ROWID"
            )
            db.execute("CREATE INDEX IF NOT EXISTS codes_document ON codes (store_id, document_id)")
            self._db = db
        return self._db

    def _write(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        with self._lock:
            db = self._open()
            db.execute("BEGIN")
            try:
                db.executemany(sql, rows)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def add(self, store_id: str, rows: Sequence[CodeRow]) -> None:
        """Insert the rows (a row met again is kept once)."""
        self._write(
            "INSERT OR REPLACE INTO codes VALUES (?, ?, ?, ?, ?)",
            [(store_id, r.code, r.chunk, r.document_id, r.version) for r in rows],
        )

    def drop_other_versions(self, store_id: str, document_id: str, version: int) -> None:
        """Delete the document's rows of other versions."""
        self._write(
            "DELETE FROM codes WHERE store_id = ? AND document_id = ? AND version != ?",
            [(store_id, document_id, version)],
        )

    def drop_document(self, store_id: str, document_id: str) -> None:
        """Delete the document's rows."""
        self._write(
            "DELETE FROM codes WHERE store_id = ? AND document_id = ?", [(store_id, document_id)]
        )

    def drop_store(self, store_id: str) -> None:
        """Delete the store's rows."""
        self._write("DELETE FROM codes WHERE store_id = ?", [(store_id,)])

    def lookup(self, store_id: str, keys: Sequence[str], limit: int) -> list[str]:
        """Chunk record ids for the keys, at most `limit` per key."""
        found: dict[str, None] = {}
        with self._lock:
            db = self._open()
            for key in keys:
                rows = db.execute(
                    "SELECT chunk FROM codes WHERE store_id = ? AND code = ? LIMIT ?",
                    (store_id, key, limit),
                ).fetchall()
                found.update(dict.fromkeys(row[0] for row in rows))
        return list(found)

    def close(self) -> None:
        """Close the file (it opens again on next use)."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


class CollectionCodes:
    """Codes as rows of a third collection per store (record id `chunk|code`): what a Chroma
    server shares between worker hosts; a metadata filter, slower than `SqliteCodes`."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    def _codes(self, store_id: str) -> Any:
        return self._backend.collection(store_id, "codes")

    def add(self, store_id: str, rows: Sequence[CodeRow]) -> None:
        """Upsert the rows in batches (the one-number vector is a placeholder)."""
        codes = self._codes(store_id)
        batch = self._backend.batch_size()
        for start in range(0, len(rows), batch):
            part = rows[start : start + batch]
            codes.upsert(
                ids=[f"{row.chunk}|{row.code}" for row in part],
                embeddings=[[1.0]] * len(part),
                metadatas=[
                    {
                        "code": row.code,
                        "chunk": row.chunk,
                        "document_id": row.document_id,
                        "version": row.version,
                    }
                    for row in part
                ],
            )

    def drop_other_versions(self, store_id: str, document_id: str, version: int) -> None:
        """Delete the document's rows of other versions."""
        self._codes(store_id).delete(
            where={"$and": [{"document_id": document_id}, {"version": {"$ne": version}}]}
        )

    def drop_document(self, store_id: str, document_id: str) -> None:
        """Delete the document's rows."""
        self._codes(store_id).delete(where={"document_id": document_id})

    def drop_store(self, store_id: str) -> None:
        """Nothing to do: the codes collection goes with the store's other collections."""

    def lookup(self, store_id: str, keys: Sequence[str], limit: int) -> list[str]:
        """Chunk record ids for the keys (at most `limit` per key)."""
        where: dict[str, Any] = {"code": keys[0]} if len(keys) == 1 else {"code": {"$in": keys}}
        found = self._codes(store_id).get(
            where=where, limit=limit * len(keys), include=["metadatas"]
        )
        return list(dict.fromkeys(str(meta["chunk"]) for meta in found["metadatas"]))

    def close(self) -> None:
        """Nothing to close: the backend holds the connection."""
