"""The shopper's live chat over a real socket: uvicorn on a loopback port, the `websockets`
client, real SQLite, embedded Chroma and the multilingual embedders; a scripted chat model at
the model boundary. One worker, in-process bus (the cross-worker tests use Redis/Postgres)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import pytest_asyncio
from websockets.exceptions import ConnectionClosed

from bot.demo.seed import demo_files
from bot.domain.conversation import OwnerState, Role
from bot.domain.credentials import sign_token
from bot.tools.tau2_files import import_file
from bot.wiring import Parley
from tests.fakes import FakeChatModel, reply
from tests.integration.conftest import open_with_documents
from tests.integration.live import (
    HTTP_TIMEOUT_S,
    Server,
    agent_token,
    is_message,
    of_type,
    peer,
    serving,
    warm_up,
    widget_session,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]
STORE = "nordlicht"
OTHER_STORE = "fjord"
RETURN_QUESTION = "Wie lange habe ich Zeit, einen Artikel zurückzugeben?"
TWO_SENTENCES = (
    "Sie können Artikel innerhalb von 30 Tagen nach der Lieferung zurückgeben [1]. "
    "Die Artikel müssen unbenutzt sein [1]."
)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def parley(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Parley]:
    opened = await open_with_documents(tmp_path_factory.mktemp("live") / "parley", STORE)
    opened.settings.live.rate_limit_messages = 8
    opened.settings.live.heartbeat_s = 0.5
    await import_file(opened.orders, STORE, demo_files() / "orders.json")
    await opened.stores.create(OTHER_STORE)
    await opened.stores.add_agent(STORE, "ana@nordlicht.example", "correct horse 1")
    await opened.stores.add_agent(STORE, "ben@nordlicht.example", "correct horse 2")
    await warm_up(opened, STORE)  # load the models before the first socket waits on them
    try:
        yield opened
    finally:
        await opened.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(parley: Parley) -> AsyncIterator[Server]:
    async with serving(parley) as running:
        yield running


async def public_key(parley: Parley, store: str) -> str:
    """A fresh public key for `store` (keys are shown once, at creation)."""
    from bot.domain.credentials import key_hash, new_key
    from bot.storage.tables import ApiKeyRow

    key = new_key("pk")
    async with parley.database.session() as session:
        session.add(
            ApiKeyRow(store_id=store, kind="public", prefix=key[:7], key_hash=key_hash(key))
        )
    return key


async def open_widget(
    parley: Parley, server: Server, store: str = STORE, locale: str = "en"
) -> dict[str, str]:
    return await widget_session(server, await public_key(parley, store), locale)


def ws_url(server: Server, token: str) -> str:
    return f"{server.ws}/api/v1/widget/ws?token={token}"


async def test_a_streamed_answer_arrives_as_tokens_then_one_message_that_is_stored(
    parley: Parley, server: Server, scripted: Callable[..., FakeChatModel]
) -> None:
    model = scripted(reply(TWO_SENTENCES))
    session = await open_widget(parley, server)
    async with peer(ws_url(server, session["token"])) as shopper:
        state = await shopper.wait_for(of_type("state"))
        assert state["state"] == "bot"
        client_id = await shopper.say(RETURN_QUESTION)
        echo = await shopper.wait_for(is_message("shopper", client_id=client_id))
        assert echo["seq"] == 1 and echo["text"] == RETURN_QUESTION
        answer = await shopper.wait_for(is_message("bot", reply_to=1))
    tokens = [f["delta"] for f in shopper.frames if f["type"] == "token" and f["reply_to"] == 1]
    assert tokens == [
        "Sie können Artikel innerhalb von 30 Tagen nach der Lieferung zurückgeben [1].",
        " Die Artikel müssen unbenutzt sein [1].",
    ]
    assert "".join(tokens) == answer["text"] == TWO_SENTENCES
    assert answer["seq"] == 2 and answer["language"] == "de"
    assert answer["citations"][0]["document"] == "returns-policy.md"
    # The tokens came before the message that replaces their draft.
    index = shopper.frames.index(answer)
    assert all(shopper.frames.index(f) < index for f in shopper.frames if f["type"] == "token")
    stored = await parley.conversations.messages_after(STORE, session["conversation_id"])
    assert [(m.seq, m.role) for m in stored] == [(1, Role.SHOPPER), (2, Role.BOT)]
    assert stored[0].language == "de"  # detected by the turn, recorded on the stored message
    assert len(model.calls) == 1


async def test_the_same_message_sent_twice_is_stored_once_and_answered_once(
    parley: Parley, server: Server, scripted: Callable[..., FakeChatModel]
) -> None:
    model = scripted(reply(TWO_SENTENCES))
    session = await open_widget(parley, server)
    async with peer(ws_url(server, session["token"])) as shopper:
        client_id = await shopper.say(RETURN_QUESTION)
        await shopper.wait_for(is_message("bot", reply_to=1))
        await shopper.say(RETURN_QUESTION, client_id)  # a resend after a lost acknowledgement
        await shopper.send({"type": "ping"})
        await shopper.wait_for(of_type("pong"))
        echoes = [f for f in shopper.messages() if f["client_id"] == client_id]
        assert [f["seq"] for f in echoes] == [1, 1]
        await asyncio.sleep(0.5)  # a second turn, if one started, would have answered by now
    stored = await parley.conversations.messages_after(STORE, session["conversation_id"])
    assert [m.seq for m in stored] == [1, 2]
    assert len(model.calls) == 1


async def test_resume_delivers_everything_after_the_given_seq_exactly_once(
    parley: Parley, server: Server, scripted: Callable[..., FakeChatModel]
) -> None:
    scripted()  # fixed replies only: a greeting and a handoff
    session = await open_widget(parley, server)
    url = ws_url(server, session["token"])
    async with peer(url) as shopper:
        await shopper.say("Hallo!")
        await shopper.wait_for(is_message("bot", reply_to=1))
        await shopper.say("Guten Tag")
        await shopper.wait_for(is_message("bot", reply_to=3))
    async with peer(url) as again:
        await again.send({"type": "resume", "after": 1})
        await again.wait_for(is_message("bot", reply_to=3))
        await again.send({"type": "ping"})
        await again.wait_for(of_type("pong"))
        assert again.seqs() == [2, 3, 4]
        await again.send({"type": "resume", "after": 0})  # an older seq still works
        await again.wait_for(lambda f: len(again.seqs()) == 7)
        assert again.seqs() == [2, 3, 4, 1, 2, 3, 4]


async def test_bad_frames_get_an_error_and_the_socket_stays_open(
    parley: Parley, server: Server, scripted: Callable[..., FakeChatModel]
) -> None:
    scripted()
    session = await open_widget(parley, server)
    async with peer(ws_url(server, session["token"])) as shopper:
        await shopper.send("{not json")
        assert (await shopper.wait_for(of_type("error")))["code"] == "malformed_json"
        await shopper.send({"type": "shout", "text": "hi"})
        assert (await shopper.wait_for(of_type("error", code="unknown_type")))["message"]
        await shopper.send({"type": "message", "client_id": "c-long", "text": "x" * 4001})
        too_long = await shopper.wait_for(of_type("error", code="message_too_long"))
        assert "4001" in too_long["message"]
        await shopper.send({"type": "resume", "after": -3})
        await shopper.wait_for(of_type("error", code="invalid_frame"))
        for n in range(8):
            await shopper.say(f"Hallo {n}")
        limited = await shopper.say("Hallo noch einmal")
        await shopper.wait_for(of_type("error", code="rate_limited"))
        await shopper.send({"type": "ping"})
        await shopper.wait_for(of_type("pong"))
        # A ping comes when the socket has been quiet for a heartbeat: let the bot answer all
        # eight messages first (turns run in order, so the last reply comes last).
        last = await shopper.wait_for(is_message("shopper", text="Hallo 7"))
        await shopper.wait_for(is_message("bot", reply_to=last["seq"]))
        heartbeat = len(shopper.frames)
        await shopper.wait_for(of_type("ping"), start=heartbeat, within=10)
    stored = await parley.conversations.messages_after(STORE, session["conversation_id"])
    shopper_texts = [m.text for m in stored if m.role is Role.SHOPPER]
    assert shopper_texts == [f"Hallo {n}" for n in range(8)]  # nothing over the limit stored
    assert all(m.client_id != limited for m in stored)


async def test_bad_tokens_are_refused_at_the_handshake_with_a_reason(
    parley: Parley, server: Server
) -> None:
    other = await open_widget(parley, server, OTHER_STORE)
    mine = await open_widget(parley, server)
    crossed = sign_token(  # a token of store A naming a thread of store B
        {
            "kind": "widget",
            "sub": other["conversation_id"],
            "store": STORE,
            "conversation": other["conversation_id"],
        },
        parley.secret,
        60,
    )
    expired = sign_token(
        {
            "kind": "widget",
            "sub": mine["conversation_id"],
            "store": STORE,
            "conversation": mine["conversation_id"],
        },
        parley.secret,
        -10,
    )
    forged = mine["token"][:-4] + ("AAAA" if not mine["token"].endswith("AAAA") else "BBBB")
    cases = {
        "": (4401, "widget token missing"),
        forged: (4401, "invalid token"),
        expired: (4401, "token expired"),
        crossed: (4404, "conversation not found"),
    }
    for token, (code, reason) in cases.items():
        async with peer(ws_url(server, token)) as refused:
            with pytest.raises(ConnectionClosed) as closed:
                await refused.connection.recv()
            assert closed.value.rcvd is not None
            assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (code, reason)
            assert refused.frames == []  # not even a state frame
    # A widget token does not open the agents' socket.
    async with peer(f"{server.ws}/api/v1/agent/ws?token={mine['token']}") as refused:
        with pytest.raises(ConnectionClosed) as closed:
            await refused.connection.recv()
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4401, "not an agent token")
    # The crossed token never touched store B's thread.
    assert await parley.conversations.messages_after(OTHER_STORE, other["conversation_id"]) == []


async def test_a_model_stalling_mid_stream_ends_in_one_reply_that_replaces_the_draft(
    parley: Parley, server: Server, scripted: Callable[..., FakeChatModel]
) -> None:
    # The first sentence streams, then the model stalls past the timeout in the second.
    stalling = (
        "Sie können Artikel innerhalb von 30 Tagen zurückgeben [1]. Die Artikel müssen "
        + "unbenutzt sein, und die Rücksendung muss vorher angemeldet werden, " * 6
        + "damit wir sie bearbeiten können [1]."
    )
    model = scripted(reply(stalling), delay_s=0.05, timeout_s=1.5)
    session = await open_widget(parley, server)
    async with peer(ws_url(server, session["token"])) as shopper:
        await shopper.say(RETURN_QUESTION)
        started = time.monotonic()
        final = await shopper.wait_for(is_message("bot", reply_to=1))
        elapsed = time.monotonic() - started
    tokens = [f["delta"] for f in shopper.frames if f["type"] == "token"]
    assert tokens, "the first sentence streamed before the stall"
    assert tokens[0] == "Sie können Artikel innerhalb von 30 Tagen zurückgeben [1]."
    stored = await parley.conversations.messages_after(STORE, session["conversation_id"])
    bots = [m for m in stored if m.role is Role.BOT]
    assert len(bots) == 1 and bots[0].text == final["text"]  # one reply, the whole of it
    assert "Aus unserem Dokument returns-policy.md" in final["text"]  # the fallback passage
    assert len([f for f in shopper.messages() if f["role"] == "bot"]) == 1
    assert elapsed < 6 and len(model.calls) == 1


async def test_one_conversations_messages_are_answered_in_order_one_at_a_time(
    parley: Parley, server: Server, scripted: Callable[..., FakeChatModel]
) -> None:
    model = scripted(reply(TWO_SENTENCES), reply(TWO_SENTENCES), delay_s=0.05)
    session = await open_widget(parley, server)
    async with peer(ws_url(server, session["token"])) as shopper:
        await shopper.say(RETURN_QUESTION)
        await shopper.say("Und wie lange dauert eine Rückgabe, bis ich das Geld habe?")
        await shopper.wait_for(is_message("bot", reply_to=2), within=60)
    replies = [f for f in shopper.messages() if f["role"] == "bot"]
    assert [f["reply_to"] for f in replies] == [1, 2]
    assert shopper.seqs()[:2] == [1, 2] and sorted(shopper.seqs()) == shopper.seqs()
    # Never two turns at once: all tokens of the first reply come before any of the second.
    order = [f["reply_to"] for f in shopper.frames if f["type"] == "token"]
    assert order == sorted(order)
    # One wording per turn (a rejected wording's quote may add a translation call, no turn).
    wordings = [call for call in model.calls if not call.prompt.startswith("Translate this text")]
    assert len(wordings) <= 2


async def test_a_proposed_cancellation_is_an_action_card_confirmed_by_the_confirm_frame(
    parley: Parley, server: Server, scripted: Callable[..., FakeChatModel]
) -> None:
    scripted()
    session = await open_widget(parley, server)
    async with peer(ws_url(server, session["token"])) as shopper:
        await shopper.say(
            "Quiero cancelar el pedido #W1000002, mi correo es anna.schmidt@example.com"
        )
        card = await shopper.wait_for(of_type("action"))
        assert card["needs_confirmation"] is True and card["reply_to"] == 1
        assert "#W1000002" in card["summary"]
        statuses = {call["name"]: call["status"] for call in card["tool_calls"]}
        assert "cancel_pending_order" in statuses  # reported as the turn reports it
        await shopper.send({"type": "confirm", "action_id": card["action_id"], "accept": True})
        done = await shopper.wait_for(is_message("bot", reply_to=3))
        yes = next(f for f in shopper.messages() if f["seq"] == 3)
        assert yes["role"] == "shopper" and yes["text"] == "sí"
        # A second tap is the same stored answer, not a second confirmation.
        await shopper.send({"type": "confirm", "action_id": card["action_id"], "accept": True})
        await shopper.send({"type": "ping"})
        await shopper.wait_for(of_type("pong"), start=len(shopper.frames))
    async with parley.orders.session(STORE) as orders:
        order = await orders.order("#W1000002")
    assert order.status == "cancelled"
    assert "#W1000002" in done["text"]
    stored = await parley.conversations.messages_after(STORE, session["conversation_id"])
    assert [m.seq for m in stored] == [1, 2, 3, 4]


async def test_asking_for_a_person_queues_the_thread_and_tells_the_place_in_the_queue(
    parley: Parley, server: Server, scripted: Callable[..., FakeChatModel]
) -> None:
    scripted()
    first = await open_widget(parley, server, locale="de")
    second = await open_widget(parley, server, locale="de")
    async with (
        peer(ws_url(server, first["token"])) as one,
        peer(ws_url(server, second["token"])) as two,
    ):
        await one.say("Hallo!")
        await one.wait_for(is_message("bot", reply_to=1))
        await one.send({"type": "request_human"})
        queued = await one.wait_for(of_type("state", state="queued"))
        await two.send({"type": "request_human"})
        behind = await two.wait_for(of_type("state", state="queued"))
    assert queued["reason"] == "shopper_asked"
    assert behind["position"] == queued["position"] + 1
    assert f"Nummer {queued['position']}" in queued["notice"]  # German, the thread's language
    changes = await parley.conversations.owner_changes(STORE, first["conversation_id"])
    assert [(c.from_state, c.to_state, c.actor, c.reason) for c in changes] == [
        (OwnerState.BOT, OwnerState.QUEUED, "shopper", "shopper_asked")
    ]


async def test_outside_support_hours_the_shopper_is_told_when_and_may_leave_an_email(
    parley: Parley, server: Server, scripted: Callable[..., FakeChatModel]
) -> None:
    scripted()
    store = f"closed{uuid.uuid4().hex[:6]}"
    await parley.stores.create(store)
    # Nobody on duty today or tomorrow in the store's zone: the next shift is known exactly.
    await parley.stores.set_policy(
        store, {"support_hours": {"sun": ["09:00-10:00"]}, "time_zone": "Asia/Tokyo"}
    )
    session = await open_widget(parley, server, store)
    async with peer(ws_url(server, session["token"])) as shopper:
        await shopper.send({"type": "request_human"})
        state = await shopper.wait_for(of_type("state", state="queued"))
        notice = await shopper.wait_for(is_message("system", seq=2))
        await shopper.send({"type": "contact", "email": "not an email"})
        await shopper.wait_for(of_type("error", code="invalid_email"))
        await shopper.send({"type": "contact", "email": "kenji@example.jp"})
        thanks = await shopper.wait_for(is_message("system", seq=3))
    assert state["back_at"] is not None and state["back_at"].endswith("+09:00")
    assert "09:00 Asia/Tokyo" in notice["text"] and "email" in notice["text"]
    assert "kenji@example.jp" in thanks["text"]
    conversation = await parley.conversations.get(store, session["conversation_id"])
    assert conversation.contact_email == "kenji@example.jp"


async def test_an_agent_takes_a_queued_thread_and_the_shopper_reads_them_live(
    parley: Parley, server: Server, scripted: Callable[..., FakeChatModel]
) -> None:
    scripted()
    session = await open_widget(parley, server)
    conversation_id = session["conversation_id"]
    ana = await agent_token(server, "ana@nordlicht.example", "correct horse 1")
    ben = await agent_token(server, "ben@nordlicht.example", "correct horse 2")
    async with (
        peer(ws_url(server, session["token"])) as shopper,
        peer(f"{server.ws}/api/v1/agent/ws?token={ana}") as console,
        httpx.AsyncClient(base_url=server.http, timeout=HTTP_TIMEOUT_S) as http,
    ):
        await console.wait_for(of_type("queue", event="snapshot"))
        await shopper.send({"type": "request_human"})
        await console.wait_for(of_type("queue", event="queued", conversation_id=conversation_id))
        listed = await http.get(
            "/api/v1/conversations", params={"state": "queued"}, headers=bearer(ana)
        )
        assert conversation_id in [c["id"] for c in listed.json()["conversations"]]

        # Two agents race to take it: exactly one wins.
        path = f"/api/v1/conversations/{conversation_id}/take"
        first, second = await asyncio.gather(
            http.post(path, headers=bearer(ana)), http.post(path, headers=bearer(ben))
        )
        statuses = sorted([first.status_code, second.status_code])
        assert statuses == [200, 409]
        loser = first if first.status_code == 409 else second
        assert loser.json()["error"]["code"] == "already_taken"
        winner = ana if first.status_code == 200 else ben
        if winner != ana:  # let ana hold it for the rest of the test
            await http.post(f"/api/v1/conversations/{conversation_id}/release", headers=bearer(ben))
            await http.post(path, headers=bearer(ana))
        await shopper.wait_for(of_type("state", state="human"))
        await console.wait_for(is_message("system", conversation_id=conversation_id))

        await shopper.say("Hallo, sind Sie ein Mensch?")
        await console.wait_for(is_message("shopper", text="Hallo, sind Sie ein Mensch?"))
        written = await http.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"text": "Ja, ich bin Ana. Wie kann ich helfen?"},
            headers=bearer(ana),
        )
        assert written.status_code == 201
        await shopper.wait_for(is_message("agent", text="Ja, ich bin Ana. Wie kann ich helfen?"))
        await console.send(
            {"type": "message", "conversation_id": conversation_id, "text": "Noch da?"}
        )
        await shopper.wait_for(is_message("agent", text="Noch da?"))
        resolved = await http.post(
            f"/api/v1/conversations/{conversation_id}/resolve", headers=bearer(ana)
        )
        assert resolved.json()["conversation"]["state"] == "resolved"
        await shopper.wait_for(of_type("state", state="resolved"))
        await shopper.say("Hallo!")  # writing again reopens the thread to the bot
        await shopper.wait_for(of_type("state", state="bot"))
        await shopper.wait_for(lambda f: f["type"] == "message" and f["role"] == "bot")
    bot_replies = [f for f in shopper.messages() if f["role"] == "bot"]
    assert len(bot_replies) == 1  # the bot stayed out while the agent held the thread
    changes = await parley.conversations.owner_changes(STORE, conversation_id)
    trail = [(c.to_state.value, c.actor) for c in changes]
    assert trail[0] == ("queued", "shopper")
    assert trail[-2:] == [
        ("resolved", f"agent:{changes[-2].actor.split(':')[1]}"),
        ("bot", "shopper"),
    ]
    assert changes[-1].reason == "reopened"


async def test_agents_of_another_store_reach_nothing_here(
    parley: Parley, server: Server, scripted: Callable[..., FakeChatModel]
) -> None:
    scripted()
    await parley.stores.add_agent(OTHER_STORE, "eve@fjord.example", "correct horse 3")
    eve = await agent_token(server, "eve@fjord.example", "correct horse 3")
    session = await open_widget(parley, server)
    conversation_id = session["conversation_id"]
    async with (
        peer(ws_url(server, session["token"])) as shopper,
        peer(f"{server.ws}/api/v1/agent/ws?token={eve}") as console,
        httpx.AsyncClient(base_url=server.http, timeout=HTTP_TIMEOUT_S) as http,
    ):
        await console.wait_for(of_type("queue", event="snapshot"))
        await shopper.send({"type": "request_human"})
        await shopper.wait_for(of_type("state", state="queued"))
        taken = await http.post(
            f"/api/v1/conversations/{conversation_id}/take", headers=bearer(eve)
        )
        assert taken.status_code == 404
        await console.send({"type": "resume", "conversation_id": conversation_id, "after": 0})
        await console.wait_for(of_type("error", code="not_found"))
    assert not any(f.get("conversation_id") == conversation_id for f in console.frames)


async def test_shutdown_closes_sockets_with_service_restart(
    parley: Parley, scripted: Callable[..., FakeChatModel]
) -> None:
    scripted()
    async with serving(parley) as own:
        session = await widget_session(own, await public_key(parley, STORE))
        async with peer(ws_url(own, session["token"])) as shopper:
            await shopper.wait_for(of_type("state"))
            await own.stop()
            with pytest.raises(ConnectionClosed) as closed:
                await shopper.connection.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
