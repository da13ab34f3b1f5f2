"""Character n-gram hashing vectors: no model, instant; a lexical floor and the tests' encoder."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from knowledge.embeddings._base import Vectors, normalise


class HashingEmbedder:
    """Bag of hashed character trigrams of the lower-cased text (same-language matching only)."""

    name = "hash"

    def __init__(self, dim: int = 512, n: int = 3) -> None:
        self.dim = dim
        self._n = n

    def _encode(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            padded = f" {' '.join(text.lower().split())} "
            for start in range(max(1, len(padded) - self._n + 1)):
                gram = padded[start : start + self._n].encode("utf-8")
                bucket = int.from_bytes(hashlib.blake2b(gram, digest_size=4).digest(), "little")
                out[row, bucket % self.dim] += 1.0
        return normalise(out)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        """Trigram vectors."""
        return self._encode(texts)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Trigram vectors."""
        return self._encode(texts)
