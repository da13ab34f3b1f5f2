"""Measurement beside the product: the harnesses behind `parley eval …` and the hand-off floors'
calibration. They read their data from paths they are given, never from the source tree."""
