"""The questions the chat model wrote for a store's chunks (`knowledge.questions`), kept by the
key of the chunk's embedding text: a re-uploaded document whose passages did not change gets its
questions back at once, without asking the model again."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from knowledge.embeddings import Vectors

if TYPE_CHECKING:
    from knowledge.embeddings import Embedder
    from knowledge.index._base import Backend


@dataclass(frozen=True)
class WrittenQuestions:
    """What the model wrote for one chunk: its questions and their mean vector (None when it
    wrote none: the chunk keeps its own vector and is not asked about again)."""

    questions: list[str]
    vector: Vectors | None


class QuestionCache:
    """A collection per store: record id = chunk key, vector = the questions' mean vector, text =
    the questions one per line. A chunk the model wrote nothing for is kept with count 0 and a
    placeholder vector (Chroma stores no empty vector)."""

    def __init__(self, backend: Backend, embedder: Embedder) -> None:
        self._backend = backend
        self._embedder = embedder

    def _questions(self, store_id: str) -> Any:
        return self._backend.collection(store_id, "questions")

    def lookup(self, store_id: str, keys: Sequence[str]) -> dict[str, WrittenQuestions]:
        """The cached questions of the chunks `keys` that have any."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        got = self._questions(store_id).get(
            ids=wanted, include=["documents", "metadatas", "embeddings"]
        )
        found: dict[str, WrittenQuestions] = {}
        for key, text, meta, vector in zip(
            got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True
        ):
            count = int((meta or {}).get("count", 0))
            questions = [line for line in (text or "").splitlines() if line][:count]
            found[str(key)] = WrittenQuestions(
                questions, np.asarray(vector, dtype=np.float32) if count else None
            )
        return found

    def add(self, store_id: str, written: Mapping[str, WrittenQuestions]) -> None:
        """Keep what the model wrote, by chunk key."""
        if not written:
            return
        dim = self._embedder.dim
        placeholder = np.zeros(dim, dtype=np.float32)
        placeholder[0] = 1.0
        keys = list(written)
        vectors = [written[key].vector for key in keys]
        self._questions(store_id).upsert(
            ids=keys,
            embeddings=np.vstack(
                [
                    placeholder if v is None else np.asarray(v, np.float32).reshape(-1)
                    for v in vectors
                ]
            ),
            documents=["\n".join(written[key].questions) for key in keys],
            metadatas=[{"count": len(written[key].questions)} for key in keys],
        )

    def drop(self, store_id: str, keys: Sequence[str]) -> None:
        """Forget the questions of these chunks (their document was deleted)."""
        if keys:
            self._questions(store_id).delete(ids=list(dict.fromkeys(keys)))
