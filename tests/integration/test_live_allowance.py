"""A shopper socket's message rate on the machine's Redis: each socket counts its next message
ahead, yet the session's limit is exact across its sockets, and a count taken ahead for a
message that never came is given back when the socket closes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from bot.live import Allowance
from bot.logins import LoginState, make_login_state
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.integration


@pytest.fixture
async def counters() -> AsyncIterator[LoginState]:
    state = make_login_state(REDIS_URL)
    try:
        yield state
    finally:
        await state.close()


def allowance(counters: LoginState, key: str, limit: int) -> Allowance:
    return Allowance(counters, key, limit=limit, window_s=60, store_id="acme")


async def test_two_sockets_of_a_session_share_its_limit_exactly(counters: LoginState) -> None:
    key = f"parley:acme:live:rate:{uuid.uuid4().hex}"
    tabs = [allowance(counters, key, 5), allowance(counters, key, 5)]
    taken = [await tabs[n % 2].take() for n in range(8)]
    assert taken == [True] * 5 + [False] * 3
    for tab in tabs:
        await tab.close()


async def test_a_count_taken_ahead_is_given_back_when_the_socket_closes(
    counters: LoginState,
) -> None:
    key = f"parley:acme:live:rate:{uuid.uuid4().hex}"
    first = allowance(counters, key, 3)
    assert [await first.take(), await first.take()] == [True, True]
    await first.close()  # the third count, taken ahead, was never used
    second = allowance(counters, key, 3)  # the page reloaded: a new socket, the same session
    assert [await second.take(), await second.take()] == [True, False]
    await second.close()
