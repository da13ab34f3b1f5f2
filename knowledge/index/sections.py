"""Section-aware passage vectors: a chunk is found by what it says and by what its section says."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from knowledge.chunking import embedding_text
from knowledge.documents import Chunk
from knowledge.embeddings import Vectors, normalise

SECTION_WEIGHT = 0.0
"""Share of the section's vector in a chunk's vector. Off by default: on XQuAD-R (sentence
chunks, paragraph sections) 0.1 gave +0.4 points of R@5 and 0.3 or more lost points, not worth
embedding every section a second time; chunks still carry title and section path in their text."""
MAX_SECTION_CHARS = 2000


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
