"""The live chat across workers and through faults, on the machine's PostgreSQL and Redis: two
API workers (uvicorn on two loopback ports) share the database and the Redis bus; shoppers and
agents use real WebSockets. Each fault test asserts that nothing is lost or duplicated: every
client ends up with each message of its thread once, in sequence order."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from bot.agent.turn import TurnResult
from bot.domain.conversation import OwnerState, Role
from bot.domain.credentials import key_hash, new_key
from bot.live.turns import TurnRunner
from bot.settings import Settings
from bot.storage import ConversationRepository
from bot.storage.conversations import Conversation, Message
from bot.storage.tables import ApiKeyRow
from bot.wiring import Parley, open_parley
from tests.conftest import CACHE_DIR, REDIS_URL
from tests.fakes import FakeChatModel, reply
from tests.integration.conftest import KB
from tests.integration.live import (
    Peer,
    Server,
    agent_token,
    close_worker,
    free_port,
    is_message,
    of_type,
    peer,
    second_worker,
    serving,
    warm_up,
    widget_session,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]
STORE = f"live{uuid.uuid4().hex[:8]}"
"""Unique per run: Redis is shared with whatever else runs on this machine."""
ROOT = Path(__file__).parents[2]
RETURN_QUESTION = "Wie lange habe ich Zeit, einen Artikel zurückzugeben?"
REDIS_START = [
    "redis-server",
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1 -::1",
    "--port",
    "6379",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    "/var/lib/redis",
    "--logfile",
    "/var/log/redis/ci.log",
]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def first(postgres: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Parley]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("live-workers") / "parley",
        cache_dir=CACHE_DIR,
        llm="none",
        log_json=False,
        database_url=postgres,
        redis_url=REDIS_URL,
        session_secret=uuid.uuid4().hex * 2,
    )
    settings.live.turn_lease_s = 3.0
    opened = await open_parley(settings)
    await opened.stores.create(STORE)
    await opened.stores.add_agent(STORE, f"ana@{STORE}.example", "correct horse 1")
    job = await opened.knowledge.ingest_paths(STORE, sorted(KB.iterdir()))
    assert job.state == "done" and not job.errors, job.errors
    await warm_up(opened, STORE)  # load the models before the first socket waits on them
    try:
        yield opened
    finally:
        await opened.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def second(first: Parley) -> AsyncIterator[Parley]:
    worker = await second_worker(first)
    await worker.agent()
    try:
        yield worker
    finally:
        await close_worker(worker)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def servers(first: Parley, second: Parley) -> AsyncIterator[tuple[Server, Server]]:
    async with serving(first) as one, serving(second) as two:
        yield one, two


@pytest_asyncio.fixture(loop_scope="module")
async def scripted(first: Parley, second: Parley) -> AsyncIterator[Callable[..., FakeChatModel]]:
    """One scripted model behind both workers' pipelines (the model boundary only)."""
    pipelines = [await first.agent(), await second.agent()]

    def install(*script: Any, delay_s: float = 0.0, timeout_s: float = 30.0) -> FakeChatModel:
        model = FakeChatModel(delay_s=delay_s)
        model.script.extend(script)
        for pipeline in pipelines:
            pipeline.llm = model
            pipeline.llm_timeout_s = timeout_s
        return model

    yield install
    for pipeline in pipelines:
        pipeline.llm = None


async def shopper_session(parley: Parley, server: Server, locale: str = "de") -> dict[str, str]:
    key = new_key("pk")
    async with parley.database.session() as session:
        session.add(
            ApiKeyRow(store_id=STORE, kind="public", prefix=key[:7], key_hash=key_hash(key))
        )
    return await widget_session(server, key, locale)


def widget_url(server: Server, token: str) -> str:
    return f"{server.ws}/api/v1/widget/ws?token={token}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_complete(client: Peer, upto: int) -> None:
    """The client has every message 1..upto exactly once, in order."""
    assert client.seqs() == list(range(1, upto + 1)), client.seqs()


async def stored_seqs(parley: Parley, conversation_id: str) -> list[tuple[int, str]]:
    stored = await parley.conversations.messages_after(STORE, conversation_id)
    return [(m.seq, m.role.value) for m in stored]


async def test_frames_relay_between_a_shopper_and_an_agent_on_two_workers(
    first: Parley, servers: tuple[Server, Server], scripted: Callable[..., FakeChatModel]
) -> None:
    scripted(
        reply("Sie können Artikel innerhalb von 30 Tagen zurückgeben [1]. Gern geschehen [1].")
    )
    one, two = servers
    session = await shopper_session(first, one)
    conversation_id = session["conversation_id"]
    token = await agent_token(two, f"ana@{STORE}.example", "correct horse 1")
    async with (
        peer(widget_url(one, session["token"])) as shopper,
        peer(widget_url(two, session["token"])) as second_tab,
        peer(f"{two.ws}/api/v1/agent/ws?token={token}") as console,
        httpx.AsyncClient(base_url=two.http) as http,
    ):
        await console.wait_for(of_type("queue", event="snapshot"))
        await second_tab.wait_for(of_type("state"))
        await shopper.say(RETURN_QUESTION)
        # The second tab, on the other worker, sees the question, the streamed tokens, the reply.
        answer = await second_tab.wait_for(is_message("bot", reply_to=1))
        tokens = [f["delta"] for f in second_tab.frames if f["type"] == "token"]
        assert "".join(tokens) == answer["text"]
        await shopper.send({"type": "request_human"})
        await console.wait_for(of_type("queue", event="queued", conversation_id=conversation_id))
        taken = await http.post(
            f"/api/v1/conversations/{conversation_id}/take", headers=bearer(token)
        )
        assert taken.status_code == 200
        await shopper.wait_for(of_type("state", state="human"))
        await console.send({"type": "typing", "conversation_id": conversation_id})
        await shopper.wait_for(of_type("typing", role="agent"))
        await console.send(
            {"type": "message", "conversation_id": conversation_id, "text": "Hier ist Ana."}
        )
        await shopper.wait_for(is_message("agent", text="Hier ist Ana."))
        await shopper.say("Danke, Ana!")
        await console.wait_for(is_message("shopper", text="Danke, Ana!"))
        await second_tab.wait_for(is_message("shopper", text="Danke, Ana!"))
    stored = await stored_seqs(first, conversation_id)
    assert [role for _, role in stored] == ["shopper", "bot", "system", "agent", "shopper"]
    for client in (shopper, second_tab):
        assert_complete(client, len(stored))
    assert console.seqs() == list(range(1, len(stored) + 1))  # the whole thread once taken


async def test_a_reconnect_to_the_other_worker_with_an_old_seq_misses_nothing(
    first: Parley, servers: tuple[Server, Server], scripted: Callable[..., FakeChatModel]
) -> None:
    scripted()
    one, two = servers
    session = await shopper_session(first, one)
    async with peer(widget_url(one, session["token"])) as shopper:
        await shopper.say("Hallo!")
        await shopper.wait_for(is_message("bot", reply_to=1))
        await shopper.say("Guten Morgen")
        await shopper.wait_for(is_message("bot", reply_to=3))
    async with peer(widget_url(two, session["token"])) as back:
        await back.send({"type": "resume", "after": 1})  # it had seen only the first message
        await back.wait_for(is_message("bot", reply_to=3))
        await back.send({"type": "ping"})
        await back.wait_for(of_type("pong"))
    assert back.seqs() == [2, 3, 4]


async def test_the_same_message_sent_to_both_workers_is_stored_and_answered_once(
    first: Parley, servers: tuple[Server, Server], scripted: Callable[..., FakeChatModel]
) -> None:
    model = scripted(reply("Sie können Artikel innerhalb von 30 Tagen zurückgeben [1]."))
    one, two = servers
    session = await shopper_session(first, one)
    client_id = str(uuid.uuid4())
    async with (
        peer(widget_url(one, session["token"])) as tab_one,
        peer(widget_url(two, session["token"])) as tab_two,
    ):
        await asyncio.gather(
            tab_one.say(RETURN_QUESTION, client_id), tab_two.say(RETURN_QUESTION, client_id)
        )
        await tab_one.wait_for(is_message("bot", reply_to=1))
        await tab_two.wait_for(is_message("bot", reply_to=1))
        await asyncio.sleep(0.5)
    assert await stored_seqs(first, session["conversation_id"]) == [(1, "shopper"), (2, "bot")]
    assert len(model.calls) == 1
    for tab in (tab_one, tab_two):
        bots = [f for f in tab.messages() if f["role"] == "bot"]
        assert len(bots) == 1


async def test_a_model_timing_out_mid_stream_gives_one_reply_on_every_tab(
    first: Parley, servers: tuple[Server, Server], scripted: Callable[..., FakeChatModel]
) -> None:
    stalling = (
        "Sie können Artikel innerhalb von 30 Tagen zurückgeben [1]. Die Artikel müssen "
        + "unbenutzt sein, und die Rücksendung muss vorher angemeldet werden, " * 6
        + "damit wir sie bearbeiten können [1]."
    )
    scripted(reply(stalling), delay_s=0.05, timeout_s=1.5)
    one, two = servers
    session = await shopper_session(first, one)
    async with (
        peer(widget_url(one, session["token"])) as shopper,
        peer(widget_url(two, session["token"])) as other_tab,
    ):
        await other_tab.wait_for(of_type("state"))
        await shopper.say(RETURN_QUESTION)
        finals = [
            await client.wait_for(is_message("bot", reply_to=1)) for client in (shopper, other_tab)
        ]
    stored = await first.conversations.messages_after(STORE, session["conversation_id"])
    bots = [m for m in stored if m.role is Role.BOT]
    assert len(bots) == 1
    assert all(final["text"] == bots[0].text for final in finals)
    for client in (shopper, other_tab):
        assert any(f["type"] == "token" for f in client.frames)  # a draft streamed first...
        assert_complete(client, 2)  # ...and one final message replaced it


async def test_the_message_rate_of_a_session_holds_across_workers(
    first: Parley, servers: tuple[Server, Server], scripted: Callable[..., FakeChatModel]
) -> None:
    """A shopper with a tab on each worker gets the session's limit once, not once per worker:
    each worker alone sees half the messages, under the limit."""
    scripted()
    one, two = servers
    limit = 6
    live = first.settings.live  # the settings both workers run on
    before = live.rate_limit_messages
    live.rate_limit_messages = limit
    try:
        session = await shopper_session(first, one)
        async with (
            peer(widget_url(one, session["token"])) as tab_one,
            peer(widget_url(two, session["token"])) as tab_two,
        ):
            refused = 0
            for n in range(limit + 2):
                tab = (tab_one, tab_two)[n % 2]
                start = len(tab.frames)
                client_id = await tab.say(f"Nachricht {n}", str(uuid.uuid4()))
                answer = await tab.wait_for(
                    lambda frame, client_id=client_id: (
                        of_type("error", code="rate_limited")(frame)
                        or is_message("shopper", client_id=client_id)(frame)
                    ),
                    start=start,
                )
                refused += answer["type"] == "error"
            assert refused == 2
    finally:
        live.rate_limit_messages = before
    stored = await first.conversations.messages_after(STORE, session["conversation_id"])
    texts = [m.text for m in stored if m.role is Role.SHOPPER]
    assert texts == [f"Nachricht {n}" for n in range(limit)]


class SlowReads(ConversationRepository):
    """The real repository whose next read of the waiting turns is held after it ran, until
    released:
    the moment a read's snapshot is taken and the moment the runner sees its result are apart,
    as on a loaded machine."""

    def __init__(self, parley: Parley) -> None:
        super().__init__(parley.database)
        self.read = asyncio.Event()
        self.release = asyncio.Event()

    async def waiting_turns(
        self, store_id: str, conversation_id: str
    ) -> tuple[Conversation, list[Message]]:
        waiting = await super().waiting_turns(store_id, conversation_id)
        if not self.read.is_set():
            self.read.set()
            await self.release.wait()
        return waiting


async def test_a_message_sent_while_the_runner_reads_an_empty_thread_gets_its_turn(
    first: Parley, scripted: Callable[..., FakeChatModel]
) -> None:
    """A socket's opening drain reads no waiting message; the shopper's first message is
    committed and submitted before that read's answer is seen. The runner must read again, not
    stop and leave the message unanswered until the shopper writes once more."""
    scripted(reply("Sie können Artikel innerhalb von 30 Tagen zurückgeben [1]."))
    reads = SlowReads(first)
    finished: asyncio.Queue[tuple[int, TurnResult | None]] = asyncio.Queue()

    async def on_finished(
        store: str, conversation: str, message: Message, result: TurnResult | None, _: OwnerState
    ) -> None:
        await finished.put((message.seq, result))

    async def nothing(*_: Any) -> None:
        return None

    runner = TurnRunner(
        conversations=reads,
        pipeline=first.agent,
        on_piece=nothing,
        on_finished=on_finished,
        on_reopen=nothing,
        holder=f"test-{uuid.uuid4().hex[:6]}",
        lease_s=30.0,
    )
    thread = await first.conversations.start(STORE, language="de")
    try:
        runner.submit(STORE, thread.id)  # the socket opens: nothing is waiting yet
        await asyncio.wait_for(reads.read.wait(), 30)
        await first.conversations.append(
            STORE, thread.id, Role.SHOPPER, RETURN_QUESTION, client_id=str(uuid.uuid4())
        )
        runner.submit(STORE, thread.id)  # the message's own submit, while that read is out
        reads.release.set()
        seq, result = await asyncio.wait_for(finished.get(), 60)
    finally:
        await runner.close()
    assert seq == 1 and result is not None and result.reply


class FailingOnce(ConversationRepository):
    """The real repository whose first read of the waiting turns fails, as when the pool has
    no connection to give within its timeout."""

    def __init__(self, parley: Parley) -> None:
        super().__init__(parley.database)
        self.failed = False

    async def waiting_turns(
        self, store_id: str, conversation_id: str
    ) -> tuple[Conversation, list[Message]]:
        if not self.failed:
            self.failed = True
            raise ConnectionError("no database connection within the pool's timeout")
        return await super().waiting_turns(store_id, conversation_id)


async def test_turns_that_failed_on_the_database_are_tried_again(
    first: Parley, scripted: Callable[..., FakeChatModel]
) -> None:
    """A drain that dies on a database error must not leave the message waiting until the
    shopper writes again: the runner tries the thread again after a pause."""
    scripted(reply("Sie können Artikel innerhalb von 30 Tagen zurückgeben [1]."))
    finished: asyncio.Queue[tuple[int, TurnResult | None]] = asyncio.Queue()

    async def on_finished(
        store: str, conversation: str, message: Message, result: TurnResult | None, _: OwnerState
    ) -> None:
        await finished.put((message.seq, result))

    async def nothing(*_: Any) -> None:
        return None

    reads = FailingOnce(first)
    runner = TurnRunner(
        conversations=reads,
        pipeline=first.agent,
        on_piece=nothing,
        on_finished=on_finished,
        on_reopen=nothing,
        holder=f"test-{uuid.uuid4().hex[:6]}",
        lease_s=30.0,
    )
    thread = await first.conversations.start(STORE, language="de")
    await first.conversations.append(
        STORE, thread.id, Role.SHOPPER, RETURN_QUESTION, client_id=str(uuid.uuid4())
    )
    try:
        runner.submit(STORE, thread.id)
        seq, result = await asyncio.wait_for(finished.get(), 60)
    finally:
        await runner.close()
    assert reads.failed
    assert seq == 1 and result is not None and result.reply


def _redis_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["redis-cli", *args], capture_output=True, text=True, timeout=10)


def _restart_redis() -> None:
    if _redis_cli("ping").stdout.strip() != "PONG":
        subprocess.run(REDIS_START, check=True, timeout=10)


async def test_redis_restarted_mid_conversation_loses_and_duplicates_nothing(
    first: Parley, servers: tuple[Server, Server], scripted: Callable[..., FakeChatModel]
) -> None:
    scripted()
    one, two = servers
    session = await shopper_session(first, one)
    conversation_id = session["conversation_id"]
    token = await agent_token(two, f"ana@{STORE}.example", "correct horse 1")
    async with (
        peer(widget_url(one, session["token"])) as shopper,
        peer(f"{two.ws}/api/v1/agent/ws?token={token}") as console,
        httpx.AsyncClient(base_url=two.http, timeout=30) as http,
    ):
        await console.wait_for(of_type("queue", event="snapshot"))
        await shopper.send({"type": "request_human"})
        await console.wait_for(of_type("queue", event="queued", conversation_id=conversation_id))
        await http.post(f"/api/v1/conversations/{conversation_id}/take", headers=bearer(token))
        await shopper.wait_for(of_type("state", state="human"))
        await shopper.say("Erste Nachricht")
        await console.wait_for(is_message("shopper", text="Erste Nachricht"))
        try:
            _redis_cli("shutdown", "nosave")
            # While Redis is down both sides keep writing: stored, not relayed.
            await shopper.say("Zweite Nachricht, Redis ist weg")
            await shopper.wait_for(is_message("shopper", text="Zweite Nachricht, Redis ist weg"))
            written = await http.post(
                f"/api/v1/conversations/{conversation_id}/messages",
                json={"text": "Antwort während Redis weg ist"},
                headers=bearer(token),
            )
            assert written.status_code == 201
        finally:
            await asyncio.to_thread(_restart_redis)
        # Once the bus is back each side reads what it missed from the database.
        await console.wait_for(is_message("shopper", text="Zweite Nachricht, Redis ist weg"))
        await shopper.wait_for(is_message("agent", text="Antwort während Redis weg ist"))
        await shopper.say("Dritte Nachricht, Redis ist zurück")
        await console.wait_for(is_message("shopper", text="Dritte Nachricht, Redis ist zurück"))
    stored = await stored_seqs(first, conversation_id)
    assert [role for _, role in stored] == [
        "system",
        "shopper",
        "shopper",
        "agent",
        "shopper",
    ]
    assert_complete(shopper, len(stored))
    assert console.seqs() == list(range(1, len(stored) + 1))


async def test_a_worker_killed_mid_turn_leaves_nothing_unanswered_or_doubled(
    first: Parley,
    servers: tuple[Server, Server],
    scripted: Callable[..., FakeChatModel],
    tmp_path: Path,
) -> None:
    scripted()
    _, two = servers
    port = free_port()
    environment = {
        **os.environ,
        "PARLEY_DATA_DIR": str(tmp_path / "killed"),
        "PARLEY_CACHE_DIR": str(CACHE_DIR),
        "PARLEY_DATABASE_URL": first.settings.resolved_database_url,
        "PARLEY_REDIS_URL": REDIS_URL,
        "PARLEY_SESSION_SECRET": first.secret,
        "PARLEY_LLM": "none",
        "PARLEY_LOG_JSON": "false",
        "PARLEY_LIVE__TURN_LEASE_S": "3",
    }
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.integration.live_worker",
        str(port),
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        killable = await _until_up(port, worker)
        session = await shopper_session(first, killable)
        async with peer(widget_url(killable, session["token"])) as shopper:
            client_id = await shopper.say("Hallo!")
            await shopper.wait_for(is_message("shopper", client_id=client_id))
            # The worker is still loading its models for this turn: kill it now.
            worker.send_signal(signal.SIGKILL)
            await asyncio.wait_for(worker.wait(), 10)
            with pytest.raises(ConnectionError):
                await shopper.wait_for(lambda _: False, within=10)
        assert await stored_seqs(first, session["conversation_id"]) == [(1, "shopper")]
        async with peer(widget_url(two, session["token"])) as back:
            await back.send({"type": "resume", "after": 1})
            await back.say("Hallo!", client_id)  # the widget resends what it was unsure of
            answer = await back.wait_for(is_message("bot", reply_to=1), within=60)
            await asyncio.sleep(0.5)
        assert answer["seq"] == 2
        assert await stored_seqs(first, session["conversation_id"]) == [(1, "shopper"), (2, "bot")]
        assert [f["seq"] for f in back.messages() if f["role"] == "bot"] == [2]
    finally:
        if worker.returncode is None:
            worker.kill()
            await asyncio.wait_for(worker.wait(), 10)


async def _until_up(port: int, worker: asyncio.subprocess.Process) -> Server:
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url) as http:
        for _ in range(300):
            if worker.returncode is not None:
                raise RuntimeError(f"the worker exited with {worker.returncode}")
            try:
                if (await http.get("/healthz")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
        else:
            raise TimeoutError("the worker did not start")
    server = Server.__new__(Server)
    server.port, server.http, server.ws = port, url, f"ws://127.0.0.1:{port}"
    return server
