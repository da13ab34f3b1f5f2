"""The event bus delivers across subscribers: in memory and through the machine's Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from bot.domain import ServiceUnavailable
from bot.realtime import EventBus, MemoryBus, RedisBus, store_channel
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.integration


@pytest.fixture(params=["memory", "redis"])
async def buses(request: pytest.FixtureRequest) -> AsyncIterator[tuple[EventBus, EventBus]]:
    """Two bus handles as two workers would hold them (one shared object for memory)."""
    if request.param == "memory":
        bus = MemoryBus()
        yield bus, bus
        await bus.close()
        return
    first, second = RedisBus(REDIS_URL), RedisBus(REDIS_URL)
    yield first, second
    await first.close()
    await second.close()


async def _next(events: AsyncIterator[dict[str, object]]) -> dict[str, object]:
    return await asyncio.wait_for(anext(events), timeout=5)


async def test_an_event_published_on_one_worker_reaches_the_other(
    buses: tuple[EventBus, EventBus],
) -> None:
    publisher, subscriber = buses
    channel = store_channel(f"s{uuid.uuid4().hex[:8]}", "conversation:1")
    events = subscriber.subscribe(channel)
    waiter = asyncio.ensure_future(_next(events))
    await asyncio.sleep(0.2)  # let the subscription reach Redis before publishing
    await publisher.publish(channel, {"type": "message", "text": "Grüß Gott", "seq": 1})
    assert await waiter == {"type": "message", "text": "Grüß Gott", "seq": 1}
    await events.aclose()  # type: ignore[attr-defined]


async def test_channels_of_two_stores_do_not_mix(buses: tuple[EventBus, EventBus]) -> None:
    publisher, subscriber = buses
    suffix = uuid.uuid4().hex[:8]
    events = subscriber.subscribe(store_channel(f"acme{suffix}", "queue"))
    waiter = asyncio.ensure_future(_next(events))
    await asyncio.sleep(0.2)
    await publisher.publish(store_channel(f"globex{suffix}", "queue"), {"n": 1})
    await publisher.publish(store_channel(f"acme{suffix}", "queue"), {"n": 2})
    assert await waiter == {"n": 2}
    await events.aclose()  # type: ignore[attr-defined]


async def test_an_unreachable_redis_is_reported_not_raised_raw() -> None:
    bus = RedisBus("redis://127.0.0.1:1/0")
    with pytest.raises(ServiceUnavailable, match="redis unreachable"):
        await bus.ping()
    await bus.close()
