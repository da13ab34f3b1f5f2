"""What the live chat needs from storage, on SQLite and on the machine's PostgreSQL: audited
owner changes decided by one conditional UPDATE, the queue order, turn leases, the waiting
messages of a thread, and a send that arrives twice at once stored once."""

from __future__ import annotations

import asyncio

import pytest

from bot.domain import InvalidTransition, OwnerState, Role
from bot.domain.errors import AlreadyTaken, NotFound
from bot.storage import ConversationRepository, Database, StoreRepository

pytestmark = pytest.mark.integration


async def test_of_two_agents_taking_a_thread_at_once_exactly_one_wins(database: Database) -> None:
    stores, conversations = StoreRepository(database), ConversationRepository(database)
    await stores.create("acme")
    ana = await stores.add_agent("acme", "ana@acme.example", "correct horse")
    ben = await stores.add_agent("acme", "ben@acme.example", "correct horse")
    thread = await conversations.start("acme")
    await conversations.change_owner("acme", thread.id, OwnerState.QUEUED, "shopper_asked")

    outcomes = await asyncio.gather(
        *(
            conversations.change_owner(
                "acme", thread.id, OwnerState.HUMAN, actor=f"agent:{agent.id}", agent_id=agent.id
            )
            for agent in (ana, ben)
        ),
        return_exceptions=True,
    )
    won = [o for o in outcomes if not isinstance(o, BaseException)]
    lost = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(won) == 1 and len(lost) == 1 and isinstance(lost[0], AlreadyTaken)
    holder = won[0].assigned_agent_id
    changes = await conversations.owner_changes("acme", thread.id)
    assert [(c.from_state, c.to_state, c.actor) for c in changes] == [
        (OwnerState.BOT, OwnerState.QUEUED, "bot"),
        (OwnerState.QUEUED, OwnerState.HUMAN, f"agent:{holder}"),
    ]
    assert changes[0].reason == "shopper_asked"


async def test_every_transition_is_audited_and_a_forbidden_one_changes_nothing(
    database: Database,
) -> None:
    stores, conversations = StoreRepository(database), ConversationRepository(database)
    await stores.create("acme")
    thread = await conversations.start("acme")
    await conversations.change_owner("acme", thread.id, OwnerState.RESOLVED, actor="agent:1")
    with pytest.raises(InvalidTransition):
        await conversations.change_owner("acme", thread.id, OwnerState.QUEUED, actor="bot")
    reopened = await conversations.change_owner("acme", thread.id, OwnerState.BOT, actor="shopper")
    assert reopened.state is OwnerState.BOT
    changes = await conversations.owner_changes("acme", thread.id)
    assert [(c.to_state, c.actor, c.reason) for c in changes] == [
        (OwnerState.RESOLVED, "agent:1", "bot_to_resolved"),
        (OwnerState.BOT, "shopper", "reopened"),
    ]


async def test_the_queue_is_served_in_the_order_threads_joined_it(database: Database) -> None:
    stores, conversations = StoreRepository(database), ConversationRepository(database)
    await stores.create("acme")
    await stores.create("globex")
    threads = [await conversations.start("acme") for _ in range(3)]
    other = await conversations.start("globex")
    await conversations.change_owner("globex", other.id, OwnerState.QUEUED, "anger")
    for thread in threads:
        await conversations.change_owner("acme", thread.id, OwnerState.QUEUED, "shopper_asked")
    assert [await conversations.queue_position("acme", t.id) for t in threads] == [1, 2, 3]
    await conversations.change_owner("acme", threads[0].id, OwnerState.HUMAN, agent_id=None)
    assert [await conversations.queue_position("acme", t.id) for t in threads] == [None, 1, 2]
    queued = await conversations.in_state("acme", OwnerState.QUEUED)
    assert [t.id for t in queued] == [threads[1].id, threads[2].id]  # no other store's thread


async def test_one_holder_at_a_time_runs_a_threads_turns(database: Database) -> None:
    stores, conversations = StoreRepository(database), ConversationRepository(database)
    await stores.create("acme")
    thread = await conversations.start("acme")
    assert await conversations.claim_turns("acme", thread.id, "worker-a", 30) is None
    assert await conversations.claim_turns("acme", thread.id, "worker-b", 30) is not None
    assert await conversations.claim_turns("acme", thread.id, "worker-a", 30) is None  # renewal
    await conversations.release_turns("acme", thread.id, "worker-b")  # not its lease: no effect
    assert await conversations.claim_turns("acme", thread.id, "worker-b", 30) is not None
    await conversations.release_turns("acme", thread.id, "worker-a")
    assert await conversations.claim_turns("acme", thread.id, "worker-b", 30) is None
    # An expired lease (a dead worker's) is taken over.
    await conversations.claim_turns("acme", thread.id, "worker-b", -1)
    assert await conversations.claim_turns("acme", thread.id, "worker-c", 30) is None


async def test_a_workers_leases_are_renewed_together_and_only_its_own_in_its_store(
    database: Database,
) -> None:
    stores, conversations = StoreRepository(database), ConversationRepository(database)
    await stores.create("acme")
    await stores.create("globex")
    mine = [await conversations.start("acme") for _ in range(3)]
    theirs = await conversations.start("acme")
    elsewhere = await conversations.start("globex")
    for thread in mine:
        assert await conversations.claim_turns("acme", thread.id, "worker-a", 1) is None
    assert await conversations.claim_turns("acme", theirs.id, "worker-b", 1) is None
    assert await conversations.claim_turns("globex", elsewhere.id, "worker-a", 1) is None
    asked = {thread.id for thread in mine} | {theirs.id, elsewhere.id}
    # One statement renews the store's threads this worker holds, nothing else.
    assert await conversations.renew_turns("acme", asked, "worker-a", 60) == {
        thread.id for thread in mine
    }
    await asyncio.sleep(1.2)  # the first leases (1 s) have run out; the renewed ones have not
    for thread in mine:
        assert await conversations.claim_turns("acme", thread.id, "worker-c", 30) is not None
    assert await conversations.claim_turns("acme", theirs.id, "worker-c", 30) is None
    assert await conversations.claim_turns("globex", elsewhere.id, "worker-c", 30) is None
    assert await conversations.renew_turns("acme", set(), "worker-a", 60) == set()


async def test_waiting_messages_are_the_shoppers_after_the_last_answered(
    database: Database,
) -> None:
    stores, conversations = StoreRepository(database), ConversationRepository(database)
    await stores.create("acme")
    thread = await conversations.start("acme")
    await conversations.append("acme", thread.id, Role.SHOPPER, "eins", client_id="c1")
    await conversations.append("acme", thread.id, Role.BOT, "Antwort")
    await conversations.append("acme", thread.id, Role.SHOPPER, "zwei", client_id="c2")
    assert [m.text for m in await conversations.unanswered("acme", thread.id)] == [
        "eins",
        "zwei",
    ]
    marked = await conversations.mark_answered("acme", thread.id, 1)
    assert marked is not None and marked.answered_seq == 1 and marked.last_seq == 3
    read, waiting = await conversations.waiting_turns("acme", thread.id)
    assert read == marked and [m.text for m in waiting] == ["zwei"]
    assert [m.text for m in await conversations.unanswered("acme", thread.id)] == ["zwei"]
    await conversations.mark_answered("acme", thread.id, 3)
    assert await conversations.mark_answered("acme", thread.id, 1) is None  # never moves back
    assert await conversations.unanswered("acme", thread.id) == []
    assert (await conversations.waiting_turns("acme", thread.id))[0].answered_seq == 3
    with pytest.raises(NotFound):  # another store's thread is not there at all
        await conversations.waiting_turns("globex", thread.id)


async def test_a_shoppers_message_to_a_person_holding_the_thread_waits_for_no_bot_turn(
    database: Database,
) -> None:
    stores, conversations = StoreRepository(database), ConversationRepository(database)
    await stores.create("acme")
    agent = await stores.add_agent("acme", "ana@acme.example", "correct horse 1")
    thread = await conversations.start("acme")
    await conversations.append("acme", thread.id, Role.SHOPPER, "eins", client_id="c1")
    await conversations.change_owner("acme", thread.id, OwnerState.QUEUED)
    await conversations.append("acme", thread.id, Role.SHOPPER, "zwei", client_id="c2")
    # Queued, the bot's turns still run (they stay silent): both wait.
    assert [m.text for m in (await conversations.waiting_turns("acme", thread.id))[1]] == [
        "eins",
        "zwei",
    ]
    await conversations.change_owner("acme", thread.id, OwnerState.HUMAN, agent_id=agent.id)
    await conversations.append("acme", thread.id, Role.AGENT, "Hallo")
    message, created = await conversations.append(
        "acme", thread.id, Role.SHOPPER, "drei", client_id="c3"
    )
    assert created and message.seq == 4
    # The person answers it: answered with the write that stored it, along with what the bot
    # had left before the person took the thread.
    read, waiting = await conversations.waiting_turns("acme", thread.id)
    assert waiting == [] and read.answered_seq == 4 and read.last_seq == 4
    await conversations.change_owner("acme", thread.id, OwnerState.BOT)
    await conversations.append("acme", thread.id, Role.SHOPPER, "vier", client_id="c4")
    assert [m.text for m in (await conversations.waiting_turns("acme", thread.id))[1]] == ["vier"]


async def test_the_same_client_id_sent_twice_at_once_is_stored_once(database: Database) -> None:
    stores, conversations = StoreRepository(database), ConversationRepository(database)
    await stores.create("acme")
    thread = await conversations.start("acme")
    results = await asyncio.gather(
        *(
            conversations.append("acme", thread.id, Role.SHOPPER, "Hallo", client_id="twin")
            for _ in range(4)
        )
    )
    assert {message.seq for message, _ in results} == {1}
    assert sum(created for _, created in results) == 1
    stored = await conversations.messages_after("acme", thread.id)
    assert [m.seq for m in stored] == [1]
    again, _ = await conversations.append("acme", thread.id, Role.BOT, "Hallo!")
    assert again.seq == 2  # no gap left by the twins' rolled-back numbers


async def test_a_socket_sends_each_message_once_in_order_and_fills_gaps(
    database: Database,
) -> None:
    from typing import Any

    from bot.live import Delivery

    stores, conversations = StoreRepository(database), ConversationRepository(database)
    await stores.create("acme")
    thread = await conversations.start("acme")
    frames = []
    for n in range(1, 4):
        message, _ = await conversations.append(
            "acme", thread.id, Role.SHOPPER, f"m{n}", client_id=f"c{n}"
        )
        frames.append({**message.frame(), "conversation_id": thread.id})
    sent: list[dict[str, Any]] = []

    async def send(frame: dict[str, Any]) -> None:
        sent.append(frame)

    delivery = Delivery(send, conversations, "acme")
    delivery.follow(thread.id, 0)
    await delivery.frame(frames[0])  # the bus's copy of the shopper's own message...
    await delivery.acknowledge(frames[0], resent=False)  # ...then the acknowledgement
    assert [f["seq"] for f in sent] == [1]
    await delivery.acknowledge(frames[0], resent=True)  # a resend gets it back
    assert [f["seq"] for f in sent] == [1, 1]
    await delivery.frame(frames[2])  # seq 2 never came over the bus: read from the database
    await delivery.frame(frames[1])
    assert [f["seq"] for f in sent] == [1, 1, 2, 3]
    await delivery.catch_up(thread.id, 1)
    assert [f["seq"] for f in sent] == [1, 1, 2, 3, 2, 3]


async def test_a_send_is_stored_once_numbered_without_gaps_and_only_in_its_store(
    database: Database,
) -> None:
    stores, conversations = StoreRepository(database), ConversationRepository(database)
    await stores.create("acme")
    await stores.create("other")
    thread = await conversations.start("acme")
    first, created = await conversations.append(
        "acme",
        thread.id,
        Role.BOT,
        "Hallo!",
        language="de",
        citations=[{"document": "faq.md", "score": 0.8}],
        meta={"reply_to": 0},
    )
    assert (first.seq, created, first.language) == (1, True, "de")
    assert first.citations == [{"document": "faq.md", "score": 0.8}]
    assert first.meta == {"reply_to": 0}
    sent, created = await conversations.append(
        "acme", thread.id, Role.SHOPPER, "Wo ist mein Paket?", client_id="k1"
    )
    assert (sent.seq, created) == (2, True)
    again, created = await conversations.append(
        "acme", thread.id, Role.SHOPPER, "Wo ist mein Paket?", client_id="k1"
    )
    assert (again.seq, again.text, again.client_id, created) == (2, sent.text, "k1", False)
    # Another store's token never writes into (or reads a resend from) this thread.
    for client_id in ("k1", "k2", None):
        with pytest.raises(NotFound):
            await conversations.append("other", thread.id, Role.SHOPPER, "x", client_id=client_id)
    with pytest.raises(NotFound):
        await conversations.append("acme", "no-such-thread", Role.SHOPPER, "x", client_id="k3")
    # The same client_id in another thread is another message.
    elsewhere = await conversations.start("acme")
    there, created = await conversations.append(
        "acme", elsewhere.id, Role.SHOPPER, "Wo ist mein Paket?", client_id="k1"
    )
    assert (there.seq, created) == (1, True)
    later, _ = await conversations.append("acme", thread.id, Role.AGENT, "Gern.")
    assert later.seq == 3
    stored = await conversations.messages_after("acme", thread.id)
    assert [(m.seq, m.role, m.client_id) for m in stored] == [
        (1, Role.BOT, None),
        (2, Role.SHOPPER, "k1"),
        (3, Role.AGENT, None),
    ]
    assert (await conversations.get("acme", thread.id)).last_seq == 3


async def test_many_sends_at_once_get_consecutive_numbers(database: Database) -> None:
    stores, conversations = StoreRepository(database), ConversationRepository(database)
    await stores.create("acme")
    thread = await conversations.start("acme")
    results = await asyncio.gather(
        *(
            conversations.append("acme", thread.id, Role.SHOPPER, f"m{n}", client_id=f"c{n % 10}")
            for n in range(30)
        )
    )
    assert sum(created for _, created in results) == 10
    stored = await conversations.messages_after("acme", thread.id)
    assert [m.seq for m in stored] == list(range(1, 11))
    assert {m.client_id for m in stored} == {f"c{n}" for n in range(10)}


async def test_a_postgresql_restart_costs_no_failed_write(postgres_url: str) -> None:
    """Every pooled connection is closed by the server (as a restart does); the next writes
    get fresh connections instead of the dead ones."""
    import asyncpg

    from bot.storage import connect, migrate
    from tests.conftest import POSTGRES_ADMIN_URL

    database = await connect(postgres_url)
    try:
        await migrate(database)
        stores, conversations = StoreRepository(database), ConversationRepository(database)
        await stores.create("acme")
        thread = await conversations.start("acme")
        await asyncio.gather(  # several connections into the pool
            *(conversations.append("acme", thread.id, Role.SHOPPER, f"m{n}") for n in range(4))
        )
        admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            ended = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                postgres_url.rsplit("/", 1)[1],
            )
        finally:
            await admin.close()
        assert ended >= 2
        await asyncio.sleep(0.2)  # the server's close reaches the pooled sockets
        after = await asyncio.gather(
            *(conversations.append("acme", thread.id, Role.SHOPPER, f"n{n}") for n in range(4))
        )
        assert sorted(message.seq for message, _ in after) == [5, 6, 7, 8]
    finally:
        await database.close()


async def test_a_unit_of_work_still_rolls_back_after_single_statement_sessions(
    database: Database,
) -> None:
    """Reads run outside a transaction block on pooled connections; a unit of work that gets
    one of those connections afterwards is still all or nothing."""
    import sqlalchemy as sa

    from bot.storage.tables import ConversationRow

    stores, conversations = StoreRepository(database), ConversationRepository(database)
    await stores.create("acme")
    thread = await conversations.start("acme")
    for _ in range(3):
        await conversations.get("acme", thread.id)
        await conversations.append("acme", thread.id, Role.SHOPPER, "Hallo")
    with pytest.raises(RuntimeError):
        async with database.session() as session:
            await session.execute(
                sa.update(ConversationRow)
                .where(ConversationRow.id == thread.id)
                .values(language="fr")
            )
            raise RuntimeError("the unit of work fails after its first write")
    assert (await conversations.get("acme", thread.id)).language is None


def test_the_postgresql_append_is_built_and_compiled_once() -> None:
    """Building the append statement costs more than running it (about 4 ms of a 9 ms send on
    this machine when it was rebuilt for every message)."""
    from bot.storage.conversations import _append_sql

    sql, names, _ = _append_sql()
    assert _append_sql()[0] is sql
    assert "$1" in sql and "new_client_id" in names
