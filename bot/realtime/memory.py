"""In-process event bus: the embedded default and what unit tests use."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any


class MemoryBus:
    """Fan-out inside one process through one queue per subscriber."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    async def publish(self, channel: str, event: dict[str, Any]) -> None:
        """Deliver to every current subscriber of `channel`."""
        for queue in list(self._subscribers.get(channel, ())):
            queue.put_nowait(event)

    async def subscribe(self, channel: str) -> AsyncIterator[dict[str, Any]]:
        """Yield events of `channel` until the consumer stops."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._subscribers[channel].add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers[channel].discard(queue)

    async def ping(self) -> None:
        """Always up."""

    async def close(self) -> None:
        """Nothing to release."""
        self._subscribers.clear()
