"""Turn retrieval scores into a calibrated probability that the top passage answers the question."""

from __future__ import annotations

import math
from collections.abc import Sequence

# Logistic fit of "the top passage is the right one" on XQuAD-R (5,280 questions against the
# English and German pools, default fused embedder, section ranking: the margin is to the second
# passage of that ranking; `parley eval retrieval` prints the refit).
# Predicted vs observed there: .35/.28, .50/.51, .70/.75, .91/.89.
TOP_WEIGHT = 8.101
MARGIN_WEIGHT = 41.339
BIAS = -6.793


def confidence(scores: Sequence[float], exact_match: bool = False) -> float:
    """P(top passage correct) from the top score and its margin over the next one."""
    if not scores:
        return 0.0
    top = scores[0]
    margin = top - scores[1] if len(scores) > 1 else 0.0
    logit = TOP_WEIGHT * top + MARGIN_WEIGHT * margin + BIAS
    value = 1.0 / (1.0 + math.exp(-logit))
    if exact_match:
        value = max(value, 0.9)
    return round(value, 4)
