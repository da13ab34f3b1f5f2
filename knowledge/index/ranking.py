"""How a search's candidates become ranked passages, whatever backend found them: the exact-code
bonus, the neutral-token and cross-language bonuses, the hub penalty, section ranking, and the
confidence that the first passage answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from knowledge.confidence import confidence
from knowledge.embeddings import Vectors
from knowledge.index._base import Passage
from knowledge.index.hubness import hub_penalty
from knowledge.index.languages import language_bonus
from knowledge.index.neutral import neutral_bonus
from knowledge.index.sections import rank_by_section
from knowledge.questions import QUESTION_LIFT

EXACT_BONUS = 0.2
"""Added to a passage's score when it contains a code from the query verbatim."""


class Candidate(NamedTuple):
    """A candidate chunk of a search: its text, metadata, cosine to the query, whether it
    quotes the query's code, and its vector."""

    text: str
    meta: dict[str, Any]
    score: float
    exact: bool
    vector: Any


@dataclass(frozen=True)
class Ranking:
    """The first `k` passages in citing order, the confidence, and the passage whether to
    answer is decided on (`SearchResult.lead`)."""

    passages: list[Passage]
    confidence: float
    lead: Passage | None


def plain_similarity(similarity: float, meta: dict[str, Any]) -> float:
    """A chunk's similarity on the scale of chunks without questions, which the confidence
    curve and the answer floors were fitted on (`QUESTION_LIFT`)."""
    return similarity - QUESTION_LIFT if int(meta.get("questions") or 0) > 0 else similarity


def passage(candidate: Candidate) -> Passage:
    """The candidate as a citable passage, its score with the exact-code bonus."""
    meta = candidate.meta
    bonus = EXACT_BONUS if candidate.exact else 0.0
    return Passage(
        chunk_id=str(meta["chunk_id"]),
        document_id=str(meta["document_id"]),
        document=str(meta["document"]),
        section=str(meta.get("section") or ""),
        text=candidate.text,
        language=str(meta.get("language") or ""),
        score=round(plain_similarity(candidate.score, meta) + bonus, 6),
        exact_match=candidate.exact,
    )


def rank(
    query: str,
    candidates: Sequence[Candidate],
    *,
    k: int,
    language: str | None,
    references: Vectors | None = None,
    hub_weight: float = 0.0,
) -> Ranking:
    """Rank the live candidates of a search for `query`, asked in `language`; `references`
    are the reference questions of the hub penalty (`knowledge.index.hubness`), read only when
    `hub_weight` is not 0."""
    passages = [passage(candidate) for candidate in candidates]
    # A passage quoting the query's code verbatim (SKU, order number) is what was asked about;
    # numbers and Latin-script names the question shares with a candidate, in any language,
    # move it up among the others, and so does being in another language than the question
    # (`knowledge.index.languages`); one near every question is moved down
    # (`knowledge.index.hubness`).
    shared = neutral_bonus(query, [p.text for p in passages])
    crossing = language_bonus([p.language for p in passages], language)
    hubs = [0.0] * len(candidates)
    if hub_weight and references is not None:
        vectors = np.asarray([candidate.vector for candidate in candidates])
        hubs = hub_penalty(vectors, references, hub_weight)
    plain = [a + b for a, b in zip(shared, crossing, strict=True)]
    # Whether the store can answer is read, as the answer floors were chosen, on the order
    # without the hub penalty; the penalty only decides which passage is cited first.
    deciding = rank_by_section(passages, bonus=plain)
    if any(hubs):
        bonus = [a + b for a, b in zip(plain, hubs, strict=True)]
        passages = rank_by_section(passages, bonus=bonus)
    else:
        passages = deciding
    raw_scores = [p.score - (EXACT_BONUS if p.exact_match else 0.0) for p in deciding[:2]]
    sure = confidence(raw_scores, exact_match=bool(deciding and deciding[0].exact_match))
    return Ranking(passages[:k], sure, deciding[0] if deciding else None)


def passage_rows(passages: Sequence[Passage]) -> list[dict[str, Any]]:
    """Passages as plain dicts (API and CLI output)."""
    return [
        {
            "chunk_id": p.chunk_id,
            "document_id": p.document_id,
            "document": p.document,
            "section": p.section,
            "language": p.language,
            "score": round(p.score, 4),
            "text": p.text,
        }
        for p in passages
    ]
