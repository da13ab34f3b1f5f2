"""Hub passages: some passages sit close to almost any question in a language (short, generic
sentences), and multilingual-e5 lets them crowd out the passage that answers a question asked
in another language. A passage is ranked as if its similarity were lower by `HUB_WEIGHT` x its
mean similarity to the `HUB_NEIGHBOURS` nearest *reference questions* in the question's language
(cross-domain similarity local scaling, as in bilingual lexicon induction). The similarity shown
in citations and read by the confidence stays the plain one, and whether to answer is decided on
the passage that led before the penalty (`SearchResult.lead`): the penalty only chooses which
passage is cited first.

Reference questions are questions shoppers ask: a shipped seed (the intent router's exemplars,
16 languages, handed in by the service) and the questions this store's shoppers asked, kept per
store and language (`AskedQuestions`). A store's questions never rank another store's passages.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from knowledge.embeddings import Vectors, normalise

if TYPE_CHECKING:
    from knowledge.index._base import Backend

HUB_NEIGHBOURS = 5
HUB_WEIGHT = 0.5
"""On XQuAD-R (`parley eval retrieval --hub-weight .5`; a question's references are the shop
seed in its language plus its language's questions of the other half of the groups, odd for
even, so no question or its translations rank against themselves), weight .5 with 5 neighbours
took English-pool R@5 from .903 to .925 (R@1 .633 -> .662), the worst language gap from 10.8
points (vi) to 8.3 (el); German pool R@5 .860 -> .882, mixed-pool mAP .302 -> .377 (S@10 .973
-> .966), same-language R@5 .963 -> .966. Weight .3 gave .922, .7 gave .926. With the seed
alone (no asked questions) R@5 was .915. Chosen per half, it holds on the other: the odd
groups' questions pick .7 (.917 -> .941), which gives the even ones .890 -> .911; the even ones
pick .5-.6 (.890 -> .913), which gives the odd ones .917 -> .937-.940."""
SAME_QUESTION = 0.97
"""A question this close to one already kept is the same question asked again: kept once, so a
popular question does not fill the references. (On XQuAD-R, counting every question itself as
asked before did not hurt its own answer: R@5 .930 against .925.)"""
MAX_ASKED = 1000
"""Questions kept per store and language; the oldest go first."""
REFRESH_SECONDS = 30.0
"""How long a worker reuses the asked questions it read (other workers add to them too)."""

Seed = Callable[[], tuple[Vectors, Sequence[str]]]
"""Loads the shipped reference questions: their query vectors and each one's language."""


def hub_scores(candidates: Vectors, references: Vectors, neighbours: int = HUB_NEIGHBOURS) -> Any:
    """Each candidate's mean cosine to its `neighbours` nearest references (unit vectors);
    zeros when there are no references."""
    rows = np.asarray(candidates, dtype=np.float32)
    if rows.ndim != 2 or len(references) == 0 or rows.shape[0] == 0:
        return np.zeros(len(rows), dtype=np.float32)
    similarity = np.asarray(references, dtype=np.float32) @ rows.T
    take = min(neighbours, similarity.shape[0])
    nearest = np.partition(similarity, similarity.shape[0] - take, axis=0)[-take:]
    return nearest.mean(axis=0)


def hub_penalty(
    candidates: Vectors,
    references: Vectors,
    weight: float = HUB_WEIGHT,
    neighbours: int = HUB_NEIGHBOURS,
) -> list[float]:
    """What each candidate loses in the ranking (a negative bonus)."""
    if weight == 0:
        return [0.0] * len(candidates)
    return [-weight * float(score) for score in hub_scores(candidates, references, neighbours)]


def pick_references(
    vectors: Vectors, languages: Sequence[str], language: str | None, neighbours: int
) -> Vectors:
    """The references in `language`; all of them when the language is unknown or has fewer
    than `neighbours` (a language the seed does not cover)."""
    if language:
        mask = np.asarray([tag == language for tag in languages], dtype=np.bool_)
        if int(mask.sum()) >= neighbours:
            return np.asarray(vectors)[mask]
    return np.asarray(vectors)


@dataclass
class _Kept:
    """A store's asked questions as this process last read them, and the reference sets built
    from them per question language (a search reuses them until the next read)."""

    read_at: float
    vectors: npt.NDArray[np.float32]
    languages: list[str]
    built: dict[str | None, Vectors] = field(default_factory=dict)


class AskedQuestions:
    """The reference questions of each store: the seed, plus the questions its shoppers asked
    (a collection per store: vector, language, when). Read through a short-lived cache in
    each process."""

    def __init__(self, backend: Backend, seed: Seed | None = None) -> None:
        self._backend = backend
        self.seed = seed
        self._seed: tuple[npt.NDArray[np.float32], list[str]] | None = None
        self._cache: dict[str, _Kept] = {}
        self._lock = threading.Lock()

    def _asked(self, store_id: str) -> Any:
        return self._backend.collection(store_id, "asked")

    def warm_up(self) -> None:
        """Load the seed now rather than at the first search."""
        self._seeded()

    def _seeded(self) -> tuple[npt.NDArray[np.float32], list[str]]:
        with self._lock:
            if self._seed is None:
                if self.seed is None:
                    self._seed = (np.zeros((0, 0), dtype=np.float32), [])
                else:
                    vectors, languages = self.seed()
                    self._seed = (normalise(np.asarray(vectors, np.float32)), list(languages))
            return self._seed

    def _stored(self, store_id: str) -> _Kept:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(store_id)
        if cached is not None and now - cached.read_at < REFRESH_SECONDS:
            return cached
        got = self._asked(store_id).get(include=["embeddings", "metadatas"])
        languages = [str((meta or {}).get("language") or "") for meta in got["metadatas"]]
        vectors = (
            np.asarray(got["embeddings"], dtype=np.float32).reshape(len(languages), -1)
            if languages
            else np.zeros((0, 0), dtype=np.float32)
        )
        kept = _Kept(now, vectors, languages)
        with self._lock:
            self._cache[store_id] = kept
        return kept

    def references(self, store_id: str, language: str | None) -> Vectors:
        """The store's reference questions for a question in `language`: the seed's in that
        language (all of it for a language it barely covers) and the store's asked ones."""
        kept = self._stored(store_id)
        built = kept.built.get(language)
        if built is not None:
            return built
        seed_vectors, seed_languages = self._seeded()
        parts = []
        if seed_languages:
            parts.append(pick_references(seed_vectors, seed_languages, language, HUB_NEIGHBOURS))
        if kept.languages:
            mine = [i for i, tag in enumerate(kept.languages) if not language or tag == language]
            parts.append(kept.vectors[mine])
        parts = [part for part in parts if len(part)]
        built = np.vstack(parts) if parts else np.zeros((0, 0), dtype=np.float32)
        kept.built[language] = built
        return built

    def remember(self, store_id: str, vector: Vectors, language: str) -> bool:
        """Keep a shopper's question (its query vector) as a reference of its store and
        language; False when the same question is already kept."""
        row = normalise(np.asarray(vector, dtype=np.float32).reshape(1, -1))
        kept = self._stored(store_id)
        same = [i for i, tag in enumerate(kept.languages) if tag == language]
        if same and float((kept.vectors[same] @ row[0]).max()) >= SAME_QUESTION:
            return False
        collection = self._asked(store_id)
        collection.add(
            ids=[uuid.uuid4().hex],
            embeddings=row,
            metadatas=[{"language": language, "at": time.time()}],
        )
        if len(same) + 1 > MAX_ASKED:
            stored = collection.get(where={"language": language}, include=["metadatas"])
            order = sorted(
                zip(stored["ids"], stored["metadatas"], strict=True),
                key=lambda pair: float((pair[1] or {}).get("at") or 0.0),
            )
            collection.delete(ids=[record for record, _ in order[: len(order) - MAX_ASKED]])
        with self._lock:
            self._cache.pop(store_id, None)
        return True

    def forget(self, store_id: str) -> None:
        """Drop this process's cached questions of a store (the store was deleted)."""
        with self._lock:
            self._cache.pop(store_id, None)
