"""Embeddings cached on disk by model, kind and content, so evaluation reruns are fast."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from knowledge.embeddings._base import Vectors

REVISION = 2
"""Part of every file name: bump it when an embedder's output changes under the same name
(2: USE gives zero vectors to questions in languages it was not trained on)."""


def cached_vectors(
    cache_dir: Path | None,
    label: str,
    texts: Sequence[str],
    encode: Callable[[Sequence[str]], Vectors],
) -> Vectors:
    """`encode(texts)`, read from `cache_dir` when the same label and texts were seen before."""
    if cache_dir is None:
        return encode(texts)
    digest = hashlib.sha256("\x1e".join(texts).encode("utf-8")).hexdigest()[:16]
    path = cache_dir / f"{label}-r{REVISION}-{digest}.npy"
    if path.exists():
        loaded: Vectors = np.load(path)
        return loaded
    vectors = encode(texts)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, vectors)
    tmp.replace(path)
    return vectors
