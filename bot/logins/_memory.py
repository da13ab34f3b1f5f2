"""Login state in this process's memory: one worker, tests, `make run`."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from bot.logins._base import Strikes, revoked_key

_SWEEP_ABOVE = 1000
"""Windows kept before the ended ones are dropped (one per recent login key or chat session)."""


class MemoryLoginState:
    """Counters and revocations in dicts, expired lazily as they are read."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._counts: dict[str, tuple[int, float]] = {}
        """key -> (attempts, monotonic time the window ends)"""
        self._revoked: dict[str, float] = {}
        """key -> monotonic time the token expires anyway"""

    async def hit(self, key: str, window_s: float) -> Strikes:
        """Count one attempt under `key`; the window starts with the first attempt."""
        now = self.clock()
        if len(self._counts) > _SWEEP_ABOVE:  # windows of chat sessions that went quiet
            self._forget_expired()
        count, ends = self._counts.get(key, (0, 0.0))
        if ends <= now:
            count, ends = 0, now + window_s
        self._counts[key] = (count + 1, ends)
        return Strikes(count=count + 1, retry_after_s=math.ceil(ends - now))

    async def forgive(self, key: str) -> None:
        """Take one counted attempt back."""
        count, ends = self._counts.get(key, (0, 0.0))
        if count > 0 and ends > self.clock():
            self._counts[key] = (count - 1, ends)

    async def clear(self, key: str) -> None:
        """Forget every attempt counted under `key`."""
        self._counts.pop(key, None)

    async def revoke(self, store_id: str, token_id: str, ttl_s: int) -> None:
        """Refuse the token until it expires."""
        self._forget_expired()
        self._revoked[revoked_key(store_id, token_id)] = self.clock() + ttl_s

    async def is_revoked(self, store_id: str, token_id: str) -> bool:
        """Whether the token was revoked and has not expired since."""
        until = self._revoked.get(revoked_key(store_id, token_id))
        return until is not None and until > self.clock()

    async def ping(self) -> None:
        """Memory always answers."""

    async def close(self) -> None:
        """Nothing to release."""
        self._counts.clear()
        self._revoked.clear()

    def _forget_expired(self) -> None:
        # Revocations would otherwise pile up in a long-running process; windows are few.
        now = self.clock()
        for key in [key for key, until in self._revoked.items() if until <= now]:
            del self._revoked[key]
        for key in [key for key, (_, ends) in self._counts.items() if ends <= now]:
            del self._counts[key]
