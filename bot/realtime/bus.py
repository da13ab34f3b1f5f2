"""The event bus protocol: fan-out of JSON events between workers, per channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol


class EventBus(Protocol):
    """Publish JSON events to a channel; every subscriber on any worker receives them."""

    async def publish(self, channel: str, event: dict[str, Any]) -> None:
        """Send `event` to everyone subscribed to `channel`."""
        ...

    def subscribe(self, channel: str) -> AsyncIterator[dict[str, Any]]:
        """Events published to `channel` from now on, until the iterator is closed."""
        ...

    async def ping(self) -> None:
        """Raise `ServiceUnavailable` unless the bus works."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


def store_channel(store_id: str, topic: str) -> str:
    """Channel names always carry the store, so no event crosses tenants."""
    return f"parley:{store_id}:{topic}"
