"""The event bus protocol: fan-out of JSON events between workers, per channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

RESYNC: dict[str, Any] = {"type": "bus.resync"}
"""What a `Subscription` yields after the bus lost and regained its connection: events published
meanwhile may be missing, so a consumer re-reads what it needs from the database."""


class Event(dict[str, Any]):
    """An event as it came off a bus that carries JSON, with that text (`encoded`): a socket
    sends the text on as it came rather than encoding the event again."""

    __slots__ = ("encoded",)

    def __init__(self, fields: dict[str, Any], encoded: str) -> None:
        super().__init__(fields)
        self.encoded = encoded


class Subscription(Protocol):
    """A worker's listener on any number of channels, with one queue of events (per socket)."""

    async def add(self, channel: str) -> None:
        """Listen to `channel` too; events published after this returns are delivered."""
        ...

    async def remove(self, channel: str) -> None:
        """Stop listening to `channel`."""
        ...

    async def get(self) -> dict[str, Any]:
        """The next event of any of the channels (or `RESYNC`)."""
        ...

    async def close(self) -> None:
        """Stop listening to every channel."""
        ...


class EventBus(Protocol):
    """Publish JSON events to a channel; every subscriber on any worker receives them."""

    async def publish(self, channel: str, event: dict[str, Any]) -> None:
        """Send `event` to everyone subscribed to `channel`."""
        ...

    def subscribe(self, channel: str) -> AsyncIterator[dict[str, Any]]:
        """Events published to `channel` from now on, until the iterator is closed."""
        ...

    def listen(self) -> Subscription:
        """A new subscription to which channels are added (cheap: no connection of its own)."""
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
