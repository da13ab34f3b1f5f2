"""The embedding protocol every provider implements: passages and queries, batched, normalised."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]
"""A (n, dim) float32 matrix whose rows have unit length."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit vectors; blocking, so async callers use `anyio.to_thread`."""

    name: str
    """Stable identifier; part of the index collection name, so changing models re-indexes."""
    dim: int

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        """Vectors for chunks of the knowledge base."""
        ...

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Vectors for shoppers' questions."""
        ...


def normalise(matrix: npt.ArrayLike) -> Vectors:
    """Rows scaled to unit length (zero rows stay zero)."""
    array = np.asarray(matrix, dtype=np.float32)
    if array.ndim == 1:
        array = array.reshape(1, -1)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    result: Vectors = (array / norms).astype(np.float32)
    return result


def one_blas_thread() -> None:
    """One BLAS thread for the whole process's numpy products (set when an embedder loads, as
    torch's threads are). The products of a turn are small (a query through USE, the router's
    exemplars against one vector, the index's re-ranking): two threads gain nothing on them,
    and every product ends at a barrier that stalls whenever the other core is busy. Measured
    on this 2-core machine at load average 7-9: the router's 2,268 exemplars against a query
    p50 0.05 ms but p90 14 ms with two threads, p90 0.09 ms with one."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # numpy then keeps its own default
        return
    threadpool_limits(1, user_api="blas")


def batched(texts: Sequence[str], size: int) -> list[Sequence[str]]:
    """Consecutive slices of at most `size` texts."""
    return [texts[start : start + size] for start in range(0, len(texts), size)]
