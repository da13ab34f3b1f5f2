"""The index's collections in this process's memory (`memory://`): exact cosine search over
numpy rows. For tests and one-off runs; nothing survives the process."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from knowledge.embeddings import Embedder, normalise
from knowledge.index.sections import CANDIDATES
from knowledge.index.vector_index import VectorIndex


@dataclass
class _Record:
    vector: Any
    document: str | None
    metadata: dict[str, Any]


def _matches(metadata: Mapping[str, Any], where: Mapping[str, Any] | None) -> bool:
    """Chroma's metadata filter: `{"k": v}`, `{"k": {"$ne"|"$in"|"$eq": v}}`, `{"$and": [...]}`."""
    if not where:
        return True
    for key, wanted in where.items():
        if key == "$and":
            if not all(_matches(metadata, part) for part in wanted):
                return False
            continue
        value = metadata.get(key)
        if isinstance(wanted, Mapping):
            for operator, operand in wanted.items():
                if operator == "$ne" and value == operand:
                    return False
                if operator == "$eq" and value != operand:
                    return False
                if operator == "$in" and value not in operand:
                    return False
                if operator not in ("$ne", "$eq", "$in"):
                    raise ValueError(f"the memory index does not filter with {operator}")
        elif value != wanted:
            return False
    return True


class MemoryCollection:
    """One record set, in insertion order; a lock makes each call atomic."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()

    def get(
        self,
        ids: Sequence[str] | None = None,
        where: Mapping[str, Any] | None = None,
        limit: int | None = None,
        include: Sequence[str] = ("metadatas", "documents"),
    ) -> Mapping[str, Any]:
        """The records with these ids (in that order) and/or matching `where`."""
        with self._lock:
            keys = list(self._records) if ids is None else [i for i in ids if i in self._records]
            chosen = [key for key in keys if _matches(self._records[key].metadata, where)]
            if limit is not None:
                chosen = chosen[:limit]
            return self._columns(chosen, include)

    def _columns(self, keys: Sequence[str], include: Sequence[str]) -> dict[str, Any]:
        records = [self._records[key] for key in keys]
        columns: dict[str, Any] = {"ids": list(keys)}
        if "documents" in include:
            columns["documents"] = [record.document for record in records]
        if "metadatas" in include:
            columns["metadatas"] = [dict(record.metadata) for record in records]
        if "embeddings" in include:
            columns["embeddings"] = [record.vector.copy() for record in records]
        return columns

    def add(self, ids: Sequence[str], embeddings: Any, metadatas: Any = None) -> None:
        """Insert new records (an id met again is left as it was, as Chroma does)."""
        fresh = [position for position, key in enumerate(ids) if key not in self._records]
        self._write(
            [ids[p] for p in fresh],
            [embeddings[p] for p in fresh],
            None if metadatas is None else [metadatas[p] for p in fresh],
            None,
        )

    def upsert(
        self, ids: Sequence[str], embeddings: Any, metadatas: Any = None, documents: Any = None
    ) -> None:
        """Insert or replace records."""
        self._write(list(ids), list(embeddings), metadatas, documents)

    def _write(
        self, ids: Sequence[str], embeddings: Sequence[Any], metadatas: Any, documents: Any
    ) -> None:
        with self._lock:
            for position, key in enumerate(ids):
                self._records[key] = _Record(
                    np.asarray(embeddings[position], dtype=np.float32).reshape(-1),
                    None if documents is None else documents[position],
                    {} if metadatas is None else dict(metadatas[position] or {}),
                )

    def update(self, ids: Sequence[str], embeddings: Any = None, metadatas: Any = None) -> None:
        """Change vectors and/or metadata of existing records."""
        with self._lock:
            for position, key in enumerate(ids):
                record = self._records.get(key)
                if record is None:
                    continue
                if embeddings is not None:
                    record.vector = np.asarray(embeddings[position], dtype=np.float32).reshape(-1)
                if metadatas is not None:
                    record.metadata = {**record.metadata, **dict(metadatas[position])}

    def delete(
        self, ids: Sequence[str] | None = None, where: Mapping[str, Any] | None = None
    ) -> None:
        """Remove the records with these ids and/or matching `where`."""
        with self._lock:
            keys = list(self._records) if ids is None else [i for i in ids if i in self._records]
            for key in keys:
                if _matches(self._records[key].metadata, where):
                    del self._records[key]

    def query(
        self, query_embeddings: Any, n_results: int, include: Sequence[str]
    ) -> Mapping[str, Any]:
        """The nearest records by cosine, exactly (columns nested per query vector)."""
        queries = normalise(np.asarray(query_embeddings, dtype=np.float32))
        with self._lock:
            keys = list(self._records)
            matrix = (
                normalise(np.vstack([self._records[key].vector for key in keys]))
                if keys
                else np.zeros((0, queries.shape[1]), dtype=np.float32)
            )
            nested: dict[str, list[Any]] = {"ids": []}
            for query in queries:
                similarity = matrix @ query
                # ties keep insertion order, so a search is repeatable
                order = np.argsort(-similarity, kind="stable")[:n_results]
                chosen = [keys[position] for position in order]
                columns = self._columns(chosen, include)
                for name, column in columns.items():
                    nested.setdefault(name, []).append(column)
                if "distances" in include:
                    distances = [float(1.0 - similarity[position]) for position in order]
                    nested.setdefault("distances", []).append(distances)
            return nested


class MemoryCollections:
    """Every collection of this index, by store and kind."""

    def __init__(self) -> None:
        self._collections: dict[tuple[str, str], MemoryCollection] = {}
        self._lock = threading.Lock()

    def collection(self, store_id: str, kind: str) -> MemoryCollection:
        """The store's collection of that kind, created on first use."""
        with self._lock:
            found = self._collections.get((store_id, kind))
            if found is None:
                found = MemoryCollection(f"{store_id}-{kind}")
                self._collections[(store_id, kind)] = found
            return found

    def drop_store(self, store_id: str) -> None:
        """Delete every collection of the store."""
        with self._lock:
            for key in [key for key in self._collections if key[0] == store_id]:
                del self._collections[key]

    def batch_size(self) -> int:
        """No limit to speak of."""
        return 5000

    def ping(self) -> None:
        """Always there."""

    def close(self) -> None:
        """Nothing to release: the records live as long as the index."""


class MemoryIndex(VectorIndex):
    """The index on `MemoryCollections`; its codes are a collection too."""

    def __init__(self, embedder: Embedder, *, candidates: int = CANDIDATES) -> None:
        super().__init__(MemoryCollections(), embedder, candidates=candidates)
