"""The same repository code on SQLite and on the machine's PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from bot.domain import InvalidTransition, NotFound, OwnerState, Role, Unauthorized
from bot.storage import ConversationRepository, Database, StoreRepository

pytestmark = pytest.mark.integration


async def test_messages_get_consecutive_seq_and_client_id_is_idempotent(database: Database) -> None:
    stores, conversations = StoreRepository(database), ConversationRepository(database)
    await stores.create("acme")
    thread = await conversations.start("acme", language="de")

    first, created = await conversations.append(
        "acme", thread.id, Role.SHOPPER, "Hallo", client_id="c1"
    )
    again, created_again = await conversations.append(
        "acme", thread.id, Role.SHOPPER, "Hallo", client_id="c1"
    )
    second, _ = await conversations.append("acme", thread.id, Role.BOT, "Guten Tag!")

    assert (first.seq, second.seq) == (1, 2)
    assert created and not created_again and again.seq == 1
    assert [m.text for m in await conversations.messages_after("acme", thread.id, after=1)] == [
        "Guten Tag!"
    ]


async def test_concurrent_sends_never_share_a_sequence_number(database: Database) -> None:
    stores, conversations = StoreRepository(database), ConversationRepository(database)
    await stores.create("acme")
    thread = await conversations.start("acme")

    await asyncio.gather(
        *(
            conversations.append("acme", thread.id, Role.SHOPPER, f"m{i}", client_id=f"c{i}")
            for i in range(20)
        )
    )

    seqs = [m.seq for m in await conversations.messages_after("acme", thread.id)]
    assert seqs == list(range(1, 21))


async def test_one_store_cannot_read_another_stores_conversation(database: Database) -> None:
    stores, conversations = StoreRepository(database), ConversationRepository(database)
    await stores.create("acme")
    await stores.create("globex")
    thread = await conversations.start("acme")
    await conversations.append("acme", thread.id, Role.SHOPPER, "secret order question")

    with pytest.raises(NotFound):
        await conversations.messages_after("globex", thread.id)
    with pytest.raises(NotFound):
        await conversations.append("globex", thread.id, Role.BOT, "injected")


async def test_owner_state_follows_the_state_machine_and_records_handoffs(
    database: Database,
) -> None:
    stores, conversations = StoreRepository(database), ConversationRepository(database)
    await stores.create("acme")
    thread = await conversations.start("acme")

    queued = await conversations.change_owner("acme", thread.id, OwnerState.QUEUED, "shopper_asked")
    assert queued.state is OwnerState.QUEUED and queued.handoff_reason == "shopper_asked"
    await conversations.change_owner("acme", thread.id, OwnerState.HUMAN)
    resolved = await conversations.change_owner("acme", thread.id, OwnerState.RESOLVED)
    assert resolved.state is OwnerState.RESOLVED
    with pytest.raises(InvalidTransition):
        await conversations.change_owner("acme", thread.id, OwnerState.HUMAN)


async def test_keys_and_agent_logins(database: Database) -> None:
    stores = StoreRepository(database)
    created = await stores.create("acme")
    assert await stores.store_for_key(created.public_key, "public") == "acme"
    with pytest.raises(Unauthorized):
        await stores.store_for_key(created.public_key, "secret")

    await stores.add_agent("acme", "Ana@Example.com", "correct horse", languages=["es", "en"])
    agent = await stores.authenticate("ana@example.com", "correct horse")
    assert agent.store_id == "acme" and agent.languages == ["es", "en"]
    with pytest.raises(Unauthorized):
        await stores.authenticate("ana@example.com", "wrong password")


async def test_session_names_are_per_store(database: Database) -> None:
    stores, conversations = StoreRepository(database), ConversationRepository(database)
    await stores.create("acme")
    await stores.create("globex")

    first = await conversations.named("acme", "s1")
    again = await conversations.named("acme", "s1")
    other_store = await conversations.named("globex", "s1")

    assert first.id == again.id and first.session == "s1"
    assert other_store.id != first.id and other_store.store_id == "globex"
