"""Section-aware retrieval: a chunk is found by what it says and ranked with the rest of its
section, because the passage that answers a question usually sits beside the one that matches it
best (the same policy section, the same paragraph)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

import numpy as np
import numpy.typing as npt

from knowledge.chunking import embedding_text
from knowledge.documents import Chunk
from knowledge.embeddings import Vectors, normalise
from knowledge.index._base import Passage

SECTION_WEIGHT = 0.0
"""Share of the section's vector in a chunk's vector. Off by default: on XQuAD-R (sentence
chunks, paragraph sections) 0.1 gave +0.4 points of R@5 and 0.3 or more lost points, not worth
embedding every section a second time; chunks still carry title and section path in their text."""
MAX_SECTION_CHARS = 2000
CANDIDATES = 30
"""Dense passages a search fetches before ranking them (with the exact-code hits)."""
SECTION_BOOST = 2.0
"""Ranking score = own score + SECTION_BOOST x the best score in the chunk's section. The first
passage never changes; the next ones come from the best section first. On XQuAD-R (sentence
chunks, paragraph sections, default fused embedder) English-pool R@5 went .849 -> .884 with R@1
unchanged; tuned on one half of the question groups, the other half gave the same best value
(0.5: .875, 1: .880, 2: .884, 3: .876, 5: .863). Needs no extra embedding at ingestion."""


def passage_vectors(
    chunks: Sequence[Chunk],
    title: str,
    embed: Callable[[Sequence[str]], Vectors],
    weight: float = SECTION_WEIGHT,
) -> Vectors:
    """`normalise((1-w)·E(chunk) + w·E(section))`; a section of one chunk costs no extra call."""
    if not chunks:
        return np.zeros((0, 0), dtype=np.float32)
    own = normalise(embed([embedding_text(chunk, title) for chunk in chunks]))
    groups: dict[tuple[str, ...], list[int]] = {}
    for position, chunk in enumerate(chunks):
        groups.setdefault(chunk.section, []).append(position)
    shared = [members for members in groups.values() if len(members) > 1]
    if not shared or weight <= 0:
        return own
    texts = []
    for members in shared:
        head = " > ".join(part for part in (title, *chunks[members[0]].section) if part)
        body = " ".join(chunks[position].text for position in members)
        texts.append(f"{head}\n{body}"[:MAX_SECTION_CHARS])
    section = normalise(embed(texts))
    mixed = own.copy()
    for row, members in enumerate(shared):
        mixed[members] = (1.0 - weight) * own[members] + weight * section[row]
    return normalise(mixed)


def section_boosted(
    scores: npt.NDArray[np.floating],
    sections: npt.NDArray[np.integer],
    boost: float = SECTION_BOOST,
) -> npt.NDArray[np.float64]:
    """Ranking scores for a (queries, passages) score matrix whose passage `j` belongs to
    section `sections[j]`: each score plus `boost` x the best score of its section."""
    matrix = np.asarray(scores, dtype=np.float64)
    if boost == 0 or matrix.size == 0:
        return matrix.copy()
    labels, members = np.unique(np.asarray(sections), return_inverse=True)
    best = np.full((matrix.shape[0], len(labels)), -np.inf)
    np.maximum.at(best.T, members, matrix.T)
    boosted: npt.NDArray[np.float64] = matrix + boost * best[:, members]
    return boosted


def rank_by_section(
    passages: Sequence[Passage],
    boost: float = SECTION_BOOST,
    bonus: Sequence[float] | None = None,
) -> list[Passage]:
    """Passages in ranking order: exact-code matches first, then by `section_boosted` score of
    each passage's score plus its `bonus` (the neutral-token channel), as `section_boosted` on a
    matrix the bonus was added to. Scores stay the plain similarities (citations and confidence
    read them); a chunk outside any section is its own section, so a long document without
    headings is not pulled up whole."""
    ranked = [p.score + (bonus[i] if bonus is not None else 0.0) for i, p in enumerate(passages)]
    best: dict[Hashable, float] = {}
    keys: list[Hashable] = []
    for position, passage in enumerate(passages):
        key = (passage.document_id, passage.section) if passage.section else passage.chunk_id
        keys.append(key)
        best[key] = max(best.get(key, -np.inf), ranked[position])
    order = sorted(
        range(len(passages)),
        key=lambda i: (
            not passages[i].exact_match,
            -(ranked[i] + boost * best[keys[i]]),
            -ranked[i],
        ),
    )
    return [passages[i] for i in order]
