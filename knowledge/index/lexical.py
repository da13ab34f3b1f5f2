"""The lexical channel: exact tokens (SKUs, order numbers, model names) that embeddings blur."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

# ASCII only: in "NL-4410のランプ" or "型号NL4410" the code ends where the Latin letters do.
_CODE = re.compile(r"#?[A-Za-z]{0,6}[-_/]?\d[\w\-/.]*\w|#?[A-Z]{2,}[\-_]?\w*\d\w*", re.ASCII)
_SEPARATOR = re.compile(r"[-_/.]+")
MAX_PARTS = 6
"""Longer codes are indexed whole and by their first parts only."""


def exact_tokens(query: str, limit: int = 3) -> list[str]:
    """Code-like tokens of a query: they contain a digit and are at least three characters."""
    found: list[str] = []
    for match in _CODE.finditer(query):
        token = match.group(0).strip(".-/_")
        if len(token) >= 3 and any(char.isdigit() for char in token) and token not in found:
            found.append(token)
    # A year or a bare quantity is not a code; keep those only if nothing better is there.
    codes = [token for token in found if not token.isdigit() or len(token) >= 5]
    return (codes or [])[:limit]


def code_key(token: str) -> str:
    """How a code is looked up: case-folded, without a leading `#`, one kind of separator
    ("#w0000001" = "W0000001", "nl_4410" = "NL-4410")."""
    return _SEPARATOR.sub("-", token.lstrip("#").casefold())


def passage_codes(text: str) -> list[str]:
    """Lookup keys of the codes a passage quotes: each code and each run of its parts that is
    a code itself, so "NL-4410-B" is found by "NL-4410" and "4410-B" as `$contains` would, but
    through an index instead of a scan of every passage."""
    keys: dict[str, None] = {}
    for match in _CODE.finditer(text):
        token = match.group(0).strip(".-/_#")
        parts = _SEPARATOR.split(token)[:MAX_PARTS]
        for start in range(len(parts)):
            for end in range(start + 1, len(parts) + 1):
                piece = "-".join(parts[start:end])
                if _is_code(piece):
                    keys[code_key(piece)] = None
        if _is_code(token):
            keys[code_key(token)] = None
    return list(keys)


def _is_code(token: str) -> bool:
    return (
        len(token) >= 3
        and any(char.isdigit() for char in token)
        and (not token.isdigit() or len(token) >= 5)
    )


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
