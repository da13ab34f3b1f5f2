"""Redis pub/sub event bus: fan-out across API workers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.domain.errors import ServiceUnavailable


class RedisBus:
    """Events as JSON on Redis channels."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.redis: Redis = Redis.from_url(url, decode_responses=True)

    async def publish(self, channel: str, event: dict[str, Any]) -> None:
        """Publish one event; subscribers on any worker receive it."""
        await self.redis.publish(channel, json.dumps(event, ensure_ascii=False))

    async def subscribe(self, channel: str) -> AsyncIterator[dict[str, Any]]:
        """Yield events of `channel` as they arrive."""
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(channel)
        try:
            async for raw in pubsub.listen():
                if raw.get("type") == "message":
                    yield json.loads(raw["data"])
        finally:
            await pubsub.unsubscribe(channel)
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def ping(self) -> None:
        """Raise `ServiceUnavailable` if Redis does not answer."""
        try:
            await self.redis.ping()
        except (RedisError, OSError) as error:
            raise ServiceUnavailable(f"redis unreachable at {self.url}: {error}") from error

    async def close(self) -> None:
        """Close the connection pool."""
        await self.redis.aclose()
