"""Typed errors raised by domain and storage code; the API and CLI turn them into responses."""

from __future__ import annotations

from collections.abc import Mapping


class ParleyError(Exception):
    """Base of every error Parley reports to a user; `code` is stable, `message` is for people.

    `message` is English, for logs, agents and API callers. A shopper reads the error in their
    own language, rendered from `code` and `details` (the facts the message quotes: an order
    id, a status, a date), so nothing has to be parsed back out of the English text."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, details: Mapping[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, object] = dict(details or {})


class NotFound(ParleyError):
    """The thing asked for does not exist (or belongs to another store)."""

    code = "not_found"
    status = 404


class Conflict(ParleyError):
    """The request clashes with the current state (a duplicate, a race lost)."""

    code = "conflict"
    status = 409


class InvalidTransition(Conflict):
    """A conversation cannot move from its owner state to the one asked for."""

    code = "invalid_transition"


class AlreadyTaken(InvalidTransition):
    """Another agent took the conversation first."""

    code = "already_taken"


class Unauthorized(ParleyError):
    """Missing or wrong credentials."""

    code = "unauthorized"
    status = 401


class Forbidden(ParleyError):
    """Credentials are valid but do not allow this."""

    code = "forbidden"
    status = 403


class TooManyAttempts(ParleyError):
    """Too many failed logins from this email or address: wait `retry_after_s` seconds."""

    code = "too_many_attempts"
    status = 429

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message, details={"retry_after_s": retry_after_s})
        self.retry_after_s = retry_after_s


class PolicyViolation(ParleyError):
    """The store's policy does not allow this action; the message says why."""

    code = "policy_violation"
    status = 422


class NotVerified(ParleyError):
    """The shopper's identity must be verified before this."""

    code = "not_verified"
    status = 403


class NotImplementedYet(ParleyError):
    """A contract that exists in DESIGN.md but whose issue is not done yet."""

    code = "not_implemented"
    status = 501


class ConfigurationError(ParleyError):
    """A setting is wrong (a bad URL, an unknown provider)."""

    code = "configuration"
    status = 500


class ServiceUnavailable(ParleyError):
    """A backing service (database, index, bus) cannot be reached."""

    code = "unavailable"
    status = 503
