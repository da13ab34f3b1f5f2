"""Login state shared by workers (failed-login counters, revoked sessions, and the live chat's
message rate windows): memory or Redis."""

from bot.logins._base import LoginState, Strikes
from bot.logins.throttle import LoginThrottle

__all__ = ["LoginState", "LoginThrottle", "Strikes", "make_login_state"]


def make_login_state(redis_url: str | None) -> LoginState:
    """Redis when `PARLEY_REDIS_URL` is set (every worker sees the same counts), else memory."""
    if redis_url:
        from bot.logins._redis import RedisLoginState

        return RedisLoginState(redis_url)
    from bot.logins._memory import MemoryLoginState

    return MemoryLoginState()
