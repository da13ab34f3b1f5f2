"""The one owner state of a conversation and the only place its transitions are decided."""

from __future__ import annotations

from enum import StrEnum

from bot.domain.errors import InvalidTransition


class OwnerState(StrEnum):
    """Who answers the shopper now."""

    BOT = "bot"
    QUEUED = "queued"
    HUMAN = "human"
    RESOLVED = "resolved"


class Role(StrEnum):
    """Who wrote a message."""

    SHOPPER = "shopper"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"


class HandoffReason(StrEnum):
    """Why a thread went to a person; recorded with every handoff."""

    SHOPPER_ASKED = "shopper_asked"
    LOW_CONFIDENCE = "low_confidence"
    REPEATED_FAILURE = "repeated_failure"
    ANGER = "anger"
    LEGAL_OR_SAFETY = "legal_or_safety"
    DISPUTE = "dispute"
    ABOVE_LIMIT = "above_limit"
    TOOL_ERROR = "tool_error"
    LLM_UNAVAILABLE = "llm_unavailable"
    AGENT_TRANSFER = "agent_transfer"
    UNSUPPORTED = "unsupported_request"
    """Something the bot cannot finish on its own (e.g. an exchange without a capable model)."""


_ALLOWED: dict[OwnerState, frozenset[OwnerState]] = {
    OwnerState.BOT: frozenset({OwnerState.QUEUED, OwnerState.HUMAN, OwnerState.RESOLVED}),
    OwnerState.QUEUED: frozenset({OwnerState.HUMAN, OwnerState.BOT, OwnerState.RESOLVED}),
    OwnerState.HUMAN: frozenset({OwnerState.BOT, OwnerState.QUEUED, OwnerState.RESOLVED}),
    # A resolved thread reopens to the bot when the shopper writes again.
    OwnerState.RESOLVED: frozenset({OwnerState.BOT}),
}


def transition(current: OwnerState, target: OwnerState) -> OwnerState:
    """Return `target` if a conversation may move there from `current`, else raise."""
    if target not in _ALLOWED[current]:
        raise InvalidTransition(f"a {current.value} conversation cannot become {target.value}")
    return target


def sources(target: OwnerState) -> frozenset[OwnerState]:
    """The states a conversation may move to `target` from (for atomic conditional updates)."""
    return frozenset(state for state, targets in _ALLOWED.items() if target in targets)


def default_reason(current: OwnerState, target: OwnerState) -> str:
    """Why a transition happened when the caller gave no reason (kept in the audit trail)."""
    if current is OwnerState.RESOLVED and target is OwnerState.BOT:
        return "reopened"
    return f"{current.value}_to_{target.value}"


def bot_may_answer(state: OwnerState) -> bool:
    """The bot stays silent while the thread is queued for or owned by a person."""
    return state in (OwnerState.BOT, OwnerState.RESOLVED)
