"""Login state in Redis, so every API worker counts and revokes the same things."""

from __future__ import annotations

import math

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.domain.errors import ServiceUnavailable
from bot.logins._base import Strikes, revoked_key
from bot.realtime.redis import shared_redis

# Decrement only a live counter: DECR on an expired key would create one with no expiry.
_FORGIVE = """
if redis.call('EXISTS', KEYS[1]) == 1 and tonumber(redis.call('GET', KEYS[1])) > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0
"""


class RedisLoginState:
    """Counters as keys that expire with their window; revocations as keys that expire with
    their token."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.redis: Redis = shared_redis(url)

    async def hit(self, key: str, window_s: float) -> Strikes:
        """Count one attempt under `key`; the window starts with the first attempt."""
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.set(key, 0, px=max(round(window_s * 1000), 1), nx=True)
                pipe.incr(key)
                pipe.pttl(key)
                _, count, ttl_ms = await pipe.execute()
        except (RedisError, OSError) as error:
            raise self._unavailable(error) from error
        return Strikes(count=int(count), retry_after_s=max(math.ceil(int(ttl_ms) / 1000), 1))

    async def forgive(self, key: str) -> None:
        """Take one counted attempt back."""
        try:
            await self.redis.eval(_FORGIVE, 1, key)  # type: ignore[misc]
        except (RedisError, OSError) as error:
            raise self._unavailable(error) from error

    async def clear(self, key: str) -> None:
        """Forget every attempt counted under `key`."""
        try:
            await self.redis.delete(key)
        except (RedisError, OSError) as error:
            raise self._unavailable(error) from error

    async def revoke(self, store_id: str, token_id: str, ttl_s: int) -> None:
        """Refuse the token until it expires."""
        try:
            await self.redis.set(revoked_key(store_id, token_id), 1, ex=max(ttl_s, 1))
        except (RedisError, OSError) as error:
            raise self._unavailable(error) from error

    async def is_revoked(self, store_id: str, token_id: str) -> bool:
        """Whether the token was revoked and has not expired since."""
        try:
            return bool(await self.redis.exists(revoked_key(store_id, token_id)))
        except (RedisError, OSError) as error:
            raise self._unavailable(error) from error

    async def ping(self) -> None:
        """Raise `ServiceUnavailable` if Redis does not answer."""
        try:
            await self.redis.ping()
        except (RedisError, OSError) as error:
            raise self._unavailable(error) from error

    async def close(self) -> None:
        """Close the connection pool."""
        await self.redis.aclose()

    def _unavailable(self, error: BaseException) -> ServiceUnavailable:
        return ServiceUnavailable(f"redis unreachable at {self.url}: {error}")
