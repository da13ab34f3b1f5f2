"""Several encoders fused into one vector whose cosine is the weighted mean of their cosines."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from knowledge.embeddings._base import Embedder, Vectors, normalise


class FusedEmbedder:
    """Concatenates unit vectors scaled by √weight: one index query gives the fused score,
    `Σ wᵢ·cosᵢ` with `Σ wᵢ = 1`, without a second search per encoder."""

    def __init__(self, parts: Sequence[tuple[Embedder, float]]) -> None:
        if not parts:
            raise ValueError("a fused embedder needs at least one encoder")
        total = sum(weight for _, weight in parts)
        self.parts = [(embedder, weight / total) for embedder, weight in parts]
        self.dim = sum(embedder.dim for embedder, _ in parts)
        self.name = "+".join(
            f"{embedder.name}{round(weight * 100)}" for embedder, weight in self.parts
        )

    def _fuse(self, blocks: list[Vectors]) -> Vectors:
        scaled = [
            block * np.float32(math.sqrt(weight))
            for block, (_, weight) in zip(blocks, self.parts, strict=True)
        ]
        return np.hstack(scaled).astype(np.float32)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        """Every encoder's passage vectors, fused."""
        return self._fuse([embedder.embed_passages(texts) for embedder, _ in self.parts])

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Every encoder's query vectors, fused and scaled back to unit length: an encoder may
        abstain with a zero vector (USE on languages it does not know), and a unit query keeps
        plain dot products equal to the index's cosine."""
        return normalise(self._fuse([embedder.embed_queries(texts) for embedder, _ in self.parts]))
