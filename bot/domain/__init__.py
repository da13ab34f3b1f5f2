"""Plain-Python domain: owner states, roles, typed errors. No framework imports here."""

from bot.domain.conversation import HandoffReason, OwnerState, Role, bot_may_answer, transition
from bot.domain.errors import (
    ConfigurationError,
    Conflict,
    Forbidden,
    InvalidTransition,
    NotFound,
    NotImplementedYet,
    NotVerified,
    ParleyError,
    PolicyViolation,
    ServiceUnavailable,
    TooManyAttempts,
    Unauthorized,
)
from bot.domain.languages import DEFAULT_LANGUAGES, store_languages

__all__ = [
    "DEFAULT_LANGUAGES",
    "ConfigurationError",
    "Conflict",
    "Forbidden",
    "HandoffReason",
    "InvalidTransition",
    "NotFound",
    "NotImplementedYet",
    "NotVerified",
    "OwnerState",
    "ParleyError",
    "PolicyViolation",
    "Role",
    "ServiceUnavailable",
    "TooManyAttempts",
    "Unauthorized",
    "bot_may_answer",
    "store_languages",
    "transition",
]
