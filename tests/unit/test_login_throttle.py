"""The login throttle on the in-process backend, with a clock the test moves."""

from __future__ import annotations

import pytest

from bot.domain import TooManyAttempts
from bot.logins import LoginThrottle
from bot.logins._memory import MemoryLoginState


class Clock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def throttle(clock: Clock) -> LoginThrottle:
    return LoginThrottle(MemoryLoginState(clock), max_per_email=5, max_per_address=8, window_s=900)


async def test_the_sixth_attempt_in_the_window_is_refused_until_the_window_ends(
    throttle: LoginThrottle, clock: Clock
) -> None:
    for _ in range(5):
        await throttle.attempt("sam@acme.test", "10.0.0.1")
    clock.now += 60
    with pytest.raises(TooManyAttempts) as refused:
        await throttle.attempt("Sam@Acme.test ", "10.0.0.2")  # same email, however written
    assert refused.value.retry_after_s == 840
    assert refused.value.status == 429 and refused.value.code == "too_many_attempts"
    clock.now += 840
    await throttle.attempt("sam@acme.test", "10.0.0.3")  # a new window


async def test_a_good_login_resets_the_email_and_returns_the_address_its_attempt(
    throttle: LoginThrottle,
) -> None:
    for _ in range(4):
        await throttle.attempt("sam@acme.test", "10.0.0.1")
    await throttle.attempt("sam@acme.test", "10.0.0.1")
    await throttle.succeeded("sam@acme.test", "10.0.0.1")
    for _ in range(3):  # the address now holds 4 failures + 3 = 7 of its 8
        await throttle.attempt("sam@acme.test", "10.0.0.1")
    await throttle.attempt("kim@acme.test", "10.0.0.1")
    with pytest.raises(TooManyAttempts):
        await throttle.attempt("lee@acme.test", "10.0.0.1")


async def test_many_emails_from_one_address_are_throttled_by_address(
    throttle: LoginThrottle,
) -> None:
    for n in range(8):
        await throttle.attempt(f"guess{n}@acme.test", "10.9.9.9")
    with pytest.raises(TooManyAttempts):
        await throttle.attempt("guess9@acme.test", "10.9.9.9")
    await throttle.attempt("guess9@acme.test", "10.9.9.10")  # another address is not blocked


async def test_a_revocation_lasts_until_the_token_would_have_expired(clock: Clock) -> None:
    state = MemoryLoginState(clock)
    await state.revoke("acme", "t1", ttl_s=30)
    assert await state.is_revoked("acme", "t1")
    assert not await state.is_revoked("globex", "t1")  # revocations carry their store
    clock.now += 31
    assert not await state.is_revoked("acme", "t1")
