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
        subscription = self.listen()
        await subscription.add(channel)
        try:
            while True:
                yield await subscription.get()
        finally:
            await subscription.close()

    def listen(self) -> MemorySubscription:
        """A subscription to which channels are added."""
        return MemorySubscription(self)

    async def ping(self) -> None:
        """Always up."""

    async def close(self) -> None:
        """Nothing to release."""
        self._subscribers.clear()


class MemorySubscription:
    """Channels of one listener feeding one queue."""

    def __init__(self, bus: MemoryBus) -> None:
        self._bus = bus
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._channels: set[str] = set()

    async def add(self, channel: str) -> None:
        """Listen to `channel` too."""
        self._bus._subscribers[channel].add(self._queue)
        self._channels.add(channel)

    async def remove(self, channel: str) -> None:
        """Stop listening to `channel`."""
        self._channels.discard(channel)
        listeners = self._bus._subscribers.get(channel)
        if listeners is not None:
            listeners.discard(self._queue)
            if not listeners:
                del self._bus._subscribers[channel]

    async def get(self) -> dict[str, Any]:
        """The next event."""
        return await self._queue.get()

    async def close(self) -> None:
        """Stop listening to every channel."""
        for channel in list(self._channels):
            await self.remove(channel)
