"""A chat message rendered in another language, and why it may have been left untranslated."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    """How a translation went; anything but `ok` means the original is sent as written."""

    OK = "ok"
    DROPPED_TOKEN = "dropped_token"
    """The model lost or changed a number, amount, e-mail address, order number, code or link."""
    TIMEOUT = "timeout"
    NO_MODEL = "no_model"
    """`PARLEY_LLM=none`: nothing to translate with."""
    FAILED = "failed"
    """The model failed or wrote no usable translation."""
    WRONG_LANGUAGE = "wrong_language"
    """The model wrote English, or the original's language, instead of the one asked for."""


_REASONS = {
    Outcome.DROPPED_TOKEN: (
        "the translation changed or left out {dropped}, so the original is shown"
    ),
    Outcome.TIMEOUT: "the translation took too long, so the original is shown",
    Outcome.NO_MODEL: "translation is off (no chat model configured), so the original is shown",
    Outcome.FAILED: "the translation failed, so the original is shown",
    Outcome.WRONG_LANGUAGE: (
        "the translation came back in another language, so the original is shown"
    ),
}


@dataclass(frozen=True)
class Translation:
    """`original` in `target`: `text` is what to show or send (the original unless `ok`)."""

    original: str
    source: str | None
    target: str
    outcome: Outcome
    text: str
    dropped: tuple[str, ...] = ()
    """What the refused translation lost or changed ("12.90", "EUR", "#W1234567")."""
    candidate: str | None = None
    """What the model wrote, kept even when refused: for measurement and the logs, never sent."""

    @property
    def ok(self) -> bool:
        """The translation may be shown and sent."""
        return self.outcome is Outcome.OK

    @property
    def reason(self) -> str | None:
        """One sentence for both sides when the original goes out untranslated, else None."""
        if self.ok:
            return None
        return _REASONS[self.outcome].format(dropped=", ".join(self.dropped) or "a figure")

    @classmethod
    def untranslated(
        cls,
        original: str,
        source: str | None,
        target: str,
        outcome: Outcome,
        *,
        dropped: tuple[str, ...] = (),
        candidate: str | None = None,
    ) -> Translation:
        """The original passed through, with why."""
        return cls(original, source, target, outcome, original, dropped, candidate)
