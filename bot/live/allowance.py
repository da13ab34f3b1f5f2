"""A shopper socket's message rate, counted one message ahead.

The limit is per widget session and counted in the login state (Redis across workers), so two
tabs on two workers share it. Counting each message before storing it put a Redis round trip
in front of every message's insert; instead a socket counts its next message as soon as one
is accepted, while that one is being stored, and the next message finds its count waiting. The
first message of a socket, and one arriving while its count is still under way, waits for it as
before. A count taken ahead and never used (the socket closed) is given back."""

from __future__ import annotations

import asyncio
import logging
import time

from bot.domain.errors import ServiceUnavailable
from bot.logins import LoginState, Strikes

log = logging.getLogger(__name__)


class Allowance:
    """Whether a shopper socket may send another message now (`take`)."""

    def __init__(
        self, counters: LoginState, key: str, *, limit: int, window_s: float, store_id: str
    ) -> None:
        self._counters = counters
        self._key = key
        self._limit = limit
        self._window_s = window_s
        self._store_id = store_id
        self._ahead: asyncio.Task[tuple[Strikes, float] | None] | None = None

    async def take(self) -> bool:
        """Count one message of the session and say whether it is within the limit. If the
        login state is down the message goes through: the chat matters more than the limit,
        and the socket's frame size still bounds it."""
        counted = await self._counted_ahead()
        if counted is None:
            counted = await self._count()
        if counted is None:
            return True
        strikes, _ = counted
        if strikes.count > self._limit:
            return False
        self._ahead = asyncio.create_task(self._count())
        return True

    async def _counted_ahead(self) -> tuple[Strikes, float] | None:
        """The count taken ahead, if its window still runs (one counted in a window that
        has ended since says nothing about the current one)."""
        ahead, self._ahead = self._ahead, None
        if ahead is None:
            return None
        counted = await ahead
        if counted is None or counted[1] <= time.monotonic():
            return None
        return counted

    async def _count(self) -> tuple[Strikes, float] | None:
        """One message counted, and when its window ends (`None`: not counted)."""
        try:
            strikes = await self._counters.hit(self._key, self._window_s)
        except ServiceUnavailable as error:
            log.warning("rate not counted: %s", error.message, extra={"store_id": self._store_id})
            return None
        return strikes, time.monotonic() + strikes.retry_after_s

    async def close(self) -> None:
        """Give back a count taken ahead for a message that never came."""
        ahead, self._ahead = self._ahead, None
        if ahead is None:
            return
        # Awaited, not cancelled: a count cancelled on its way might still have been made.
        counted = await ahead
        if counted is not None and counted[0].count <= self._limit:
            try:
                await self._counters.forgive(self._key)
            except ServiceUnavailable as error:
                log.warning("rate count not given back: %s", error.message)
