"""The cross-language offset: multilingual embeddings rate a passage in the question's own
language higher than the same content in another (on XQuAD-R's mixed pool, e5 ranks a
same-language sentence first for 99% of questions, right or wrong). In a store whose documents
are each written in one language, that lets an unrelated passage in the shopper's language push
the answer, written in another, down. Passages in another language than the question's get
`CROSS_LANGUAGE_OFFSET` added to their ranking score (never to the similarity a citation or the
confidence reads)."""

from __future__ import annotations

from collections.abc import Sequence

CROSS_LANGUAGE_OFFSET = 0.02
"""Measured with the default fused embedder at offsets 0 / .01 / .02 / .03:
- XQuAD-R's mixed pool (13,014 passages; every question has an answer in all 11 languages, so
  the offset can only trade a same-language answer for another language's): mAP .239 / .271 /
  .302 / .329, S@1 .708 / .708 / .709 / .706, S@10 .982 / .980 / .973 / .964. From .015 on it
  clears the README's bar for a mixed-language knowledge base (mAP .285, S@10 .936).
- The shop calibration set (`evals.handoff_floors`, demo documents in five languages): right
  document first for answerable questions, fit half .844 / .875 / .859 / .844, test half .984 /
  1.0 / 1.0 / 1.0; the answer floors chosen there stay .80 / .765 up to .02.
- The agent suite's store (17 documents in 14 languages): the right document first for 8 / 10
  / 12 / 12 of the 16 cross-language questions and 13 / 14 / 14 / 14 of the 16 code-switched
  ones; same-language questions 16 of 16 throughout.
.02 is the smallest offset at the suite's best and the largest that keeps the floors."""


def language_bonus(
    languages: Sequence[str], language: str | None, offset: float | None = None
) -> list[float]:
    """What each passage (by its language tag) gains for a question in `language`: `offset`
    (default `CROSS_LANGUAGE_OFFSET`) when both are known and differ, else 0."""
    offset = CROSS_LANGUAGE_OFFSET if offset is None else offset
    if not language or offset == 0:
        return [0.0] * len(languages)
    return [offset if tag and tag != language else 0.0 for tag in languages]
