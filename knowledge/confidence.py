"""Turn retrieval scores into a calibrated probability that the top passage answers the question."""

from __future__ import annotations

import math
from collections.abc import Sequence

# Logistic fit of "top passage is the right one" on XQuAD-R questions against the English and
# German pools with the default fused embedder (`parley eval retrieval --calibrate` refits them).
TOP_WEIGHT = 14.0
MARGIN_WEIGHT = 12.0
BIAS = -7.0


def confidence(scores: Sequence[float], exact_match: bool = False) -> float:
    """P(top passage correct) from the top score and its margin over the next one."""
    if not scores:
        return 0.0
    top = scores[0]
    margin = top - scores[1] if len(scores) > 1 else 0.1
    logit = TOP_WEIGHT * top + MARGIN_WEIGHT * margin + BIAS
    value = 1.0 / (1.0 + math.exp(-logit))
    if exact_match:
        value = max(value, 0.9)
    return round(value, 4)
