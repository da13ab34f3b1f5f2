"""What one turn of the bot produced: the reply and everything the contract reports about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    """How the turn ended, as `parley ask --json` reports it."""

    ANSWERED = "answered"
    NEEDS_INFO = "needs_info"
    CONFIRM = "confirm"
    DONE = "done"
    HANDOFF = "handoff"
    DECLINED = "declined"


@dataclass(frozen=True)
class Citation:
    """The passage a reply rests on."""

    document: str
    section: str
    score: float
    language: str
    quote: str = ""
    """The passage's text, for the shopper to open under the reply."""

    def as_json(self) -> dict[str, Any]:
        """The citation object of the contract (with the quoted passage)."""
        return {
            "document": self.document,
            "section": self.section,
            "score": round(self.score, 4),
            "language": self.language,
            "quote": self.quote,
        }


@dataclass(frozen=True)
class ToolCall:
    """A tool the turn called, with its arguments and whether it succeeded."""

    name: str
    arguments: dict[str, Any]
    status: str
    """`ok` (it ran), `proposed` (a write waiting for the shopper's yes, nothing changed
    yet), or `error: <message>`."""

    def as_json(self) -> dict[str, Any]:
        """The tool call object of the contract."""
        return {"name": self.name, "arguments": self.arguments, "status": self.status}


@dataclass
class TurnResult:
    """One bot turn: the reply text and the facts reported with it."""

    session: str
    reply: str
    language: str
    intent: str
    outcome: Outcome
    citations: list[Citation] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    handoff: dict[str, str] | None = None
    confidence: float = 0.0
    action: dict[str, Any] | None = None
    """A write waiting for the shopper's yes: `{action_id, summary, needs_confirmation}`."""

    def as_json(self) -> dict[str, Any]:
        """The JSON line of `parley ask --json` and `POST /api/v1/ask`."""
        return {
            "session": self.session,
            "reply": self.reply,
            "language": self.language,
            "intent": self.intent,
            "outcome": self.outcome.value,
            "citations": [citation.as_json() for citation in self.citations],
            "tool_calls": [call.as_json() for call in self.tool_calls],
            "handoff": self.handoff,
            "confidence": round(self.confidence, 4),
        }
