"""The languages shoppers are promised (issue 18's twenty, and six more with fixed replies since),
shared by the tests that check notices, widget strings and replies exist in each."""

from __future__ import annotations

PROMISED = (
    "en", "de", "fr", "es", "it", "pt", "nl", "pl", "sv", "ru", "uk", "tr", "ar", "zh", "ja", "ko",
    "th", "vi", "id", "hi", "cs", "da", "el", "fi", "hu", "ro",
)  # fmt: skip
