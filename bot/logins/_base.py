"""What every worker must agree on about logins (failed attempts per window, revoked sessions)
and about the live chat's message rate (messages per widget session per window)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Strikes:
    """Attempts counted in a key's current window, and the seconds until that window ends."""

    count: int
    retry_after_s: int


class LoginState(Protocol):
    """Counters with a window and revoked token ids, shared by every worker of a deployment."""

    async def hit(self, key: str, window_s: float) -> Strikes:
        """Count one attempt under `key`; the window starts with the first attempt."""
        ...

    async def forgive(self, key: str) -> None:
        """Take one counted attempt back (it turned out to be a good one)."""
        ...

    async def clear(self, key: str) -> None:
        """Forget every attempt counted under `key`."""
        ...

    async def revoke(self, store_id: str, token_id: str, ttl_s: int) -> None:
        """Refuse the session token `token_id` of `store_id` for the `ttl_s` it has left."""
        ...

    async def is_revoked(self, store_id: str, token_id: str) -> bool:
        """Whether the session token was revoked (a logout) and has not expired since."""
        ...

    async def ping(self) -> None:
        """Raise `ServiceUnavailable` unless the backend answers."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


def revoked_key(store_id: str, token_id: str) -> str:
    """Revocations carry their store, like every other key and channel."""
    return f"parley:{store_id}:revoked:{token_id}"
