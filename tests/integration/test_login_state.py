"""Login state shared by workers: two handles see the same counts and revocations, in memory
and through the machine's Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from bot.logins import LoginState, make_login_state
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.integration


@pytest.fixture(params=["memory", "redis"])
async def workers(request: pytest.FixtureRequest) -> AsyncIterator[tuple[LoginState, LoginState]]:
    """Two handles on the login state as two API workers hold them (one object for memory)."""
    if request.param == "memory":
        state = make_login_state(None)
        yield state, state
        await state.close()
        return
    first, second = make_login_state(REDIS_URL), make_login_state(REDIS_URL)
    yield first, second
    await first.close()
    await second.close()


def _key() -> str:
    return f"parley:test:login:{uuid.uuid4().hex}"


async def test_failures_counted_on_one_worker_count_on_the_other(
    workers: tuple[LoginState, LoginState],
) -> None:
    one, other = workers
    key = _key()
    assert (await one.hit(key, 900)).count == 1
    assert (await other.hit(key, 900)).count == 2
    strikes = await one.hit(key, 900)
    assert strikes.count == 3 and 890 <= strikes.retry_after_s <= 900
    await other.forgive(key)
    assert (await one.hit(key, 900)).count == 3
    await other.clear(key)
    assert (await one.hit(key, 900)).count == 1


async def test_a_window_ends_and_forgiving_an_ended_window_leaves_nothing(
    workers: tuple[LoginState, LoginState],
) -> None:
    one, other = workers
    key = _key()
    await one.hit(key, 1)
    await one.hit(key, 1)
    await asyncio.sleep(1.2)
    await other.forgive(key)  # must not leave a counter that never expires
    strikes = await one.hit(key, 1)
    assert strikes.count == 1 and strikes.retry_after_s == 1


async def test_a_session_revoked_on_one_worker_is_refused_on_the_other_until_it_expires(
    workers: tuple[LoginState, LoginState],
) -> None:
    one, other = workers
    token_id = uuid.uuid4().hex
    assert not await other.is_revoked("acme", token_id)
    await one.revoke("acme", token_id, ttl_s=1)
    assert await other.is_revoked("acme", token_id)
    assert not await other.is_revoked("globex", token_id)
    await asyncio.sleep(1.2)
    assert not await other.is_revoked("acme", token_id)
    await one.ping()
