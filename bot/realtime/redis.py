"""Redis pub/sub event bus: fan-out across API workers.

A worker keeps ONE pub/sub connection, whatever the number of sockets listening: each channel
is subscribed once and its events are handed to the local subscriptions (2,000 idle widget
sockets do not open 2,000 Redis connections). When Redis goes away the reader keeps trying;
once it is back the channels are subscribed again and every subscription gets `RESYNC`, since
events published meanwhile are lost (the database has the messages)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from bot.domain.errors import ServiceUnavailable
from bot.realtime.bus import RESYNC, Event

log = logging.getLogger(__name__)
SUBSCRIBE_TIMEOUT_S = 5.0
REDIS_CONNECTIONS = 64
"""Redis connections one worker's bus holds at most (publishing, and the one pub/sub)."""
PUBLISH_ATTEMPTS = (0.0, 0.1, 0.3, 1.0)
"""Waits before each attempt: a pooled connection may be stale just after Redis restarted."""


def shared_redis(url: str) -> Redis:
    """A client whose pool checks a connection out without holding the pool's lock while it
    makes sure the connection is ready (redis-py's default pool holds it, and that check
    takes an event-loop turn: 200 sockets writing at once queued for seconds behind it, on a
    busy worker 14 s for the rate count before each message). Bounded: a burst waits for a
    connection rather than opening hundreds."""
    pool = BlockingConnectionPool.from_url(
        url, decode_responses=True, max_connections=REDIS_CONNECTIONS
    )
    return Redis.from_pool(pool)


class RedisBus:
    """Events as JSON on Redis channels."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.redis: Redis = shared_redis(url)
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._local: dict[str, set[RedisSubscription]] = defaultdict(set)
        self._confirmed: dict[str, asyncio.Event] = {}
        self._lost: set[str] = set()
        self._lock = asyncio.Lock()

    async def publish(self, channel: str, event: dict[str, Any]) -> None:
        """Publish one event; subscribers on any worker receive it. `ServiceUnavailable` if
        Redis cannot be reached after a few quick attempts."""
        data = json.dumps(event, ensure_ascii=False)
        error: Exception | None = None
        for wait in PUBLISH_ATTEMPTS:
            await asyncio.sleep(wait)
            try:
                await self.redis.publish(channel, data)
                return
            except (RedisError, OSError) as failure:
                error = failure
        raise ServiceUnavailable(f"redis unreachable at {self.url}: {error}")

    async def subscribe(self, channel: str) -> AsyncIterator[dict[str, Any]]:
        """Yield events of `channel` as they arrive."""
        subscription = self.listen()
        await subscription.add(channel)
        try:
            while True:
                event = await subscription.get()
                if event is not RESYNC:
                    yield event
        finally:
            await subscription.close()

    def listen(self) -> RedisSubscription:
        """A subscription sharing this worker's pub/sub connection."""
        return RedisSubscription(self)

    async def _join(self, channel: str, subscription: RedisSubscription) -> None:
        async with self._lock:
            first = not self._local[channel]
            self._local[channel].add(subscription)
            if first:
                confirmed = self._confirmed[channel] = asyncio.Event()
                pubsub = self._pubsub or self.redis.pubsub()
                self._pubsub = pubsub
                try:
                    await pubsub.subscribe(channel)
                except (RedisError, OSError) as error:
                    # The reader subscribes it again once Redis answers; until then the socket
                    # relies on the database.
                    log.warning("cannot subscribe to %s yet: %s", channel, error)
                    self._lost.add(channel)
                    confirmed.set()
                if self._reader is None or self._reader.done():
                    self._reader = asyncio.create_task(self._read(pubsub))
            confirmed = self._confirmed[channel]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(confirmed.wait(), SUBSCRIBE_TIMEOUT_S)

    async def _leave(self, channel: str, subscription: RedisSubscription) -> None:
        async with self._lock:
            listeners = self._local.get(channel)
            if listeners is None:
                return
            listeners.discard(subscription)
            if listeners:
                return
            del self._local[channel]
            self._confirmed.pop(channel, None)
            self._lost.discard(channel)
            if self._pubsub is not None:
                with contextlib.suppress(RedisError, OSError):
                    await self._pubsub.unsubscribe(channel)

    async def _read(self, pubsub: PubSub) -> None:
        """Hand each event to the local subscriptions of its channel, reconnecting for ever."""
        backoff = 0.1
        while True:
            try:
                raw = await pubsub.get_message(timeout=1.0)
            except (RedisError, OSError) as error:
                if not self._lost:
                    log.warning("redis pub/sub connection lost: %s", error)
                self._lost.update(self._local)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 1.0)
                continue
            except RuntimeError:  # nothing subscribed yet on this connection
                await asyncio.sleep(0.1)
                continue
            backoff = 0.1
            if raw is None:
                continue
            channel = str(raw.get("channel"))
            if raw.get("type") == "subscribe":
                if channel in self._confirmed:
                    self._confirmed[channel].set()
                if channel in self._lost:
                    self._lost.discard(channel)
                    for subscription in list(self._local.get(channel, ())):
                        subscription.deliver(RESYNC)
                continue
            if raw.get("type") != "message":
                continue
            data = str(raw["data"])
            event = Event(json.loads(data), data)
            for subscription in list(self._local.get(channel, ())):
                subscription.deliver(event)

    async def ping(self) -> None:
        """Raise `ServiceUnavailable` if Redis does not answer."""
        try:
            await self.redis.ping()
        except (RedisError, OSError) as error:
            raise ServiceUnavailable(f"redis unreachable at {self.url}: {error}") from error

    async def close(self) -> None:
        """Stop the reader and close the connections."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        await self.redis.aclose()


class RedisSubscription:
    """Channels of one listener (a socket) on the worker's shared pub/sub connection."""

    def __init__(self, bus: RedisBus) -> None:
        self._bus = bus
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._channels: set[str] = set()

    def deliver(self, event: dict[str, Any]) -> None:
        """Queue an event for `get` (called by the bus's reader)."""
        self._queue.put_nowait(event)

    async def add(self, channel: str) -> None:
        """Listen to `channel` too; subscribed on Redis when this returns."""
        if channel not in self._channels:
            self._channels.add(channel)
            await self._bus._join(channel, self)

    async def remove(self, channel: str) -> None:
        """Stop listening to `channel`."""
        if channel in self._channels:
            self._channels.discard(channel)
            await self._bus._leave(channel, self)

    async def get(self) -> dict[str, Any]:
        """The next event (or `RESYNC`)."""
        return await self._queue.get()

    async def close(self) -> None:
        """Stop listening to every channel."""
        for channel in list(self._channels):
            await self.remove(channel)
