"""Live chat figures, with the load in this process and the workers in others, over loopback:

- relay: a shopper's message on worker A to the agent's socket on worker B (rate count,
  PostgreSQL write, Redis pub/sub, delivery), p50/p99, one message each `RELAY_GAP_S` and
  again back to back; target p50 <= 5 ms, p99 <= 25 ms;
- queue: a shopper on worker A asks for a person until the `queued` event reaches an agent's
  console socket on worker B, p50/p99; target p99 <= 1 s (issue 20);
- idle: RSS growth of one worker per idle widget socket; target <= 50 KB each for 2,000;
- load: conversations each sending a message a second with the scripted model: errors, messages
  lost (split: never stored, as the worker fell behind and the socket closed with them unread;
  stored but not shown), duplicated or out of order, messages stored per second, the shopper's
  own message back on its socket (p50/p99),
  replies per second (over the whole run, and while the shoppers were still sending), those
  still owed when the time is up (the bot's turns are bounded by the CPU: each embeds and
  searches; they are owed, not lost), replies with a citation and threads by owner state (a
  worker without its index hands every thread off after its first message);
- first token: a shopper's send to the first streamed token of a FAQ answer with the scripted
  model; target p50 <= 80 ms, p99 <= 250 ms;
- first token, local model: the same with the local 1.5B model answering a few FAQ questions in
  four languages (the first turn, which loads the model, apart); target p50 <= 2.5 s. Skipped,
  saying why, when the model's weight packages are not installed.

    .venv/bin/python -m tests.bench.bench_live --out bench-results/live.json \
        [--relay 300] [--queue 60] [--idle 2000] [--conversations 200 --seconds 60] \
        [--first-token 100] [--first-token-local 8]

Needs the machine's PostgreSQL and Redis (PARLEY_TEST_POSTGRES, PARLEY_TEST_REDIS). Figures,
not pass/fail. Each part is bounded in count and time; 0 skips a part.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bot.domain.credentials import key_hash, new_key
from bot.settings import Settings
from bot.storage.tables import ApiKeyRow
from bot.wiring import Parley, open_parley
from tests.bench.bench_pipeline import summary
from tests.conftest import CACHE_DIR, REDIS_URL, _create_pg_database, _drop_pg_database
from tests.integration.live import free_port

ROOT = Path(__file__).parents[2]
FAQ_QUESTION = "Wie lange habe ich Zeit, einen Artikel zurückzugeben?"
FAQ_ANSWER = "Sie können Artikel innerhalb von 30 Tagen nach der Lieferung zurückgeben [1]."
LOCAL_QUESTIONS = (
    FAQ_QUESTION,
    "How much does shipping to Japan cost?",
    "Combien de temps faut-il pour recevoir le remboursement ?",
    "¿La devolución es gratuita dentro de la UE?",
)
"""FAQ questions the test knowledge base answers, asked in turn of the local model."""
SECRET = uuid.uuid4().hex * 2
FRAME_TIMEOUT_S = 120.0
WARM = 50
"""Idle sockets opened before memory is measured."""
RELAY_GAP_S = 0.1
"""Pause after each relayed message arrived before the next is sent: far faster than the rate
limit lets a shopper write, yet each message is timed on its own rather than behind the
previous one's follow-up work (the bot's bookkeeping on worker A, the console's translation on
worker B), which the back-to-back figure includes."""


class Worker:
    """A live-chat worker process (tests.integration.live_worker) on a loopback port."""

    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.port = port
        self.http = f"http://127.0.0.1:{port}"
        self.ws = f"ws://127.0.0.1:{port}"

    def widget(self, token: str) -> str:
        """The widget socket's URL for a session token."""
        return f"{self.ws}/api/v1/widget/ws?token={token}"

    def rss_kb(self) -> int:
        """Resident memory of the worker process."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(line.split()[1])


@asynccontextmanager
async def worker(
    database_url: str, data_dir: Path, *extra: str, lease_s: float = 30.0, llm: str = "none"
) -> AsyncIterator[Worker]:
    """Start a worker and wait until it answers; killed at the end."""
    port = free_port()
    environment = {
        **os.environ,
        "PARLEY_DATA_DIR": str(data_dir),
        "PARLEY_CACHE_DIR": str(CACHE_DIR),
        "PARLEY_DATABASE_URL": database_url,
        "PARLEY_REDIS_URL": REDIS_URL,
        "PARLEY_SESSION_SECRET": SECRET,
        "PARLEY_LLM": llm,
        "PARLEY_LOG_JSON": "false",
        "PARLEY_LOG_LEVEL": "WARNING",
        "PARLEY_LIVE__RATE_LIMIT_MESSAGES": "100000",
        "PARLEY_LIVE__TURN_LEASE_S": str(lease_s),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.integration.live_worker",
        str(port),
        *extra,
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
    )
    running = Worker(process, port)
    try:
        async with httpx.AsyncClient(base_url=running.http) as http:
            for _ in range(3000):
                if process.returncode is not None:
                    raise RuntimeError(f"worker exited with {process.returncode}")
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/healthz")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
        yield running
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()


def open_socket(url: str) -> Any:
    """A client connection without keepalive pings: a worker busy loading its models on a
    loaded machine must not be taken for dead, and idle sockets should be idle."""
    return connect(url, ping_interval=None)


async def new_public_key(parley: Parley, store: str) -> str:
    key = new_key("pk")
    async with parley.database.session() as session:
        session.add(
            ApiKeyRow(store_id=store, kind="public", prefix=key[:7], key_hash=key_hash(key))
        )
    return key


async def open_sessions(http: httpx.AsyncClient, key: str, count: int) -> list[dict[str, Any]]:
    """`count` widget sessions, 20 requests at a time."""
    sessions: list[dict[str, Any]] = []
    for start in range(0, count, 20):
        batch = await asyncio.gather(
            *(
                http.post("/api/v1/widget/sessions", json={"key": key, "locale": "de"})
                for _ in range(min(20, count - start))
            )
        )
        sessions.extend(response.json() for response in batch)
    return sessions


async def until(connection: ClientConnection, kind: str, **fields: Any) -> dict[str, Any]:
    """The next frame of `kind` with these fields (others are skipped); a frame that never
    comes ends the bench with `TimeoutError` after `FRAME_TIMEOUT_S` rather than hanging it."""
    async with asyncio.timeout(FRAME_TIMEOUT_S):
        while True:
            frame: dict[str, Any] = json.loads(await connection.recv())
            if frame["type"] == kind and all(frame.get(k) == v for k, v in fields.items()):
                return frame


async def drain(connection: ClientConnection) -> None:
    """Read and drop every frame until the socket closes."""
    with contextlib.suppress(ConnectionClosed):
        async for _ in connection:
            pass


async def bench_relay(parley: Parley, store: str, url: str, base: Path, count: int) -> Any:
    """Shopper on worker A, agent holding the thread on worker B."""
    await parley.stores.add_agent(store, f"relay@{store}.example", "correct horse 1")
    async with (
        worker(url, base / "a") as one,
        worker(url, base / "b") as two,
        httpx.AsyncClient(base_url=one.http) as http_one,
        httpx.AsyncClient(base_url=two.http) as http_two,
    ):
        key = await new_public_key(parley, store)
        (session,) = await open_sessions(http_one, key, 1)
        token = await agent_login(http_two, f"relay@{store}.example")
        conversation_id = session["conversation_id"]
        async with (
            open_socket(one.widget(session["token"])) as shopper,
            open_socket(f"{two.ws}/api/v1/agent/ws?token={token}") as agent,
        ):
            await until(agent, "queue", event="snapshot")
            await shopper.send(json.dumps({"type": "request_human"}))
            await until(agent, "queue", event="queued")
            taken = await http_two.post(
                f"/api/v1/conversations/{conversation_id}/take",
                headers={"Authorization": f"Bearer {token}"},
            )
            assert taken.status_code == 200, taken.text
            # The shopper's socket is read, as a widget reads it: frames left unread would fill
            # the socket's buffers until the worker's sends to it, and so its reads, stall.
            reading = asyncio.create_task(drain(shopper))
            figures: dict[str, Any] = {}
            for name, gap_s in (("paced", RELAY_GAP_S), ("back_to_back", 0.0)):
                samples = []
                for n in range(count + 20):
                    text = f"relay {name} {n}"
                    started = time.perf_counter()
                    await shopper.send(json.dumps({"type": "message", "text": text}))
                    await until(agent, "message", text=text)
                    if n >= 20:  # the first ones warm connections and caches
                        samples.append(time.perf_counter() - started)
                    await asyncio.sleep(gap_s)
                figures[name] = summary(samples)
            reading.cancel()
    return {
        **figures["paced"],
        "gap_ms": RELAY_GAP_S * 1000,
        "back_to_back": figures["back_to_back"],
    }


async def ingesting_store(parley: Parley, store: str, part: str) -> str:
    """A new store of the bench's database for a part whose worker indexes the test knowledge
    base: each worker keeps its index in its own data dir, while the documents' rows are in the
    shared database. A second worker ingesting the same files into a store that has them found
    them `unchanged` and indexed nothing: every question of that part was handed off, and the
    bot fell silent in each thread after its first message (the load part measured hand-offs,
    not answers). The live worker now refuses such a store; each part gets its own."""
    name = f"{store}{part}"
    await parley.stores.create(name)
    return name


async def agent_login(http: httpx.AsyncClient, email: str) -> str:
    """An agent's session token (the password every bench agent has)."""
    login = await http.post(
        "/api/v1/auth/login", json={"email": email, "password": "correct horse 1"}
    )
    assert login.status_code == 200, login.text
    token: str = login.json()["token"]
    return token


async def bench_queue(parley: Parley, store: str, url: str, base: Path, count: int) -> Any:
    """A shopper on worker A asks for a person; time until the `queued` event reaches an agent's
    console socket on worker B. Each try is a new conversation, resolved afterwards (untimed)
    so the queue stays as short as a staffed store's."""
    await parley.stores.add_agent(store, f"queue@{store}.example", "correct horse 1")
    async with (
        worker(url, base / "queue-a") as one,
        worker(url, base / "queue-b") as two,
        httpx.AsyncClient(base_url=one.http) as http_one,
        httpx.AsyncClient(base_url=two.http) as http_two,
    ):
        key = await new_public_key(parley, store)
        token = await agent_login(http_two, f"queue@{store}.example")
        bearer = {"Authorization": f"Bearer {token}"}
        samples = []
        async with open_socket(f"{two.ws}/api/v1/agent/ws?token={token}") as agent:
            await until(agent, "queue", event="snapshot")
            for n in range(count + 5):
                (session,) = await open_sessions(http_one, key, 1)
                conversation_id = session["conversation_id"]
                async with open_socket(one.widget(session["token"])) as shopper:
                    await until(shopper, "state")
                    started = time.perf_counter()
                    await shopper.send(json.dumps({"type": "request_human"}))
                    await until(agent, "queue", event="queued", conversation_id=conversation_id)
                    elapsed = time.perf_counter() - started
                    await until(shopper, "state", state="queued")
                resolved = await http_two.post(
                    f"/api/v1/conversations/{conversation_id}/resolve", headers=bearer
                )
                assert resolved.status_code == 200, resolved.text
                if n >= 5:  # the first ones warm connections and caches
                    samples.append(elapsed)
    return summary(samples)


async def bench_idle(parley: Parley, store: str, url: str, base: Path, count: int) -> Any:
    """RSS growth of one worker per idle widget socket."""
    async with worker(url, base / "idle") as one, httpx.AsyncClient(base_url=one.http) as http:
        key = await new_public_key(parley, store)
        sessions = await open_sessions(http, key, count + WARM)
        # A first batch warms up what a process grows once (database pool, caches), not per
        # connection; it is not counted.
        warm = await asyncio.gather(*(open_socket(one.widget(s["token"])) for s in sessions[:WARM]))
        await asyncio.gather(*(until(c, "state") for c in warm))
        await asyncio.sleep(1)
        before = one.rss_kb()
        sockets: list[ClientConnection] = []
        try:
            for start in range(WARM, len(sessions), 50):
                batch = await asyncio.gather(
                    *(open_socket(one.widget(s["token"])) for s in sessions[start : start + 50])
                )
                await asyncio.gather(*(until(c, "state") for c in batch))
                sockets.extend(batch)
            await asyncio.sleep(2)
            after = one.rss_kb()
        finally:
            await asyncio.gather(*(s.close() for s in [*warm, *sockets]), return_exceptions=True)
    opened = len(sockets)
    return {
        "connections": opened + WARM,
        "counted": opened,
        "rss_before_kb": before,
        "rss_after_kb": after,
        "kb_per_connection": round((after - before) / max(opened, 1), 1),
        "target_kb_per_connection": 50,
    }


async def bench_load(
    parley: Parley, store: str, url: str, base: Path, conversations: int, seconds: float
) -> Any:
    """Every conversation sends a FAQ question a second; the scripted model answers each."""
    store = await ingesting_store(parley, store, "load")
    args = ("--ingest", store, "--scripted", FAQ_ANSWER)
    async with (
        worker(url, base / "load", *args) as one,
        httpx.AsyncClient(base_url=one.http) as http,
    ):
        key = await new_public_key(parley, store)
        sessions = await open_sessions(http, key, conversations)
        errors: list[str] = []
        sent: dict[str, int] = {}
        seen: dict[str, list[int]] = {}
        replies: dict[str, int] = {}
        replies_while_sending = 0
        cited = 0
        sent_at: dict[str, float] = {}
        echoes: list[float] = []
        unacknowledged: list[int] = []
        deadline = time.monotonic() + seconds

        async def shopper(session: dict[str, Any]) -> None:
            conversation = session["conversation_id"]
            seen[conversation], sent[conversation], replies[conversation] = [], 0, 0
            echoed = 0
            done_sending = False
            answered, acknowledged = asyncio.Event(), asyncio.Event()
            async with open_socket(one.widget(session["token"])) as socket:

                async def read() -> None:
                    nonlocal echoed, replies_while_sending, cited
                    async for raw in socket:
                        frame = json.loads(raw)
                        if frame["type"] == "error":
                            errors.append(frame["code"])
                        elif frame["type"] == "message":
                            seen[conversation].append(frame["seq"])
                            if (
                                started := sent_at.pop(frame.get("client_id") or "", None)
                            ) is not None:
                                echoes.append(time.perf_counter() - started)
                                echoed += 1
                            if frame["role"] == "bot":
                                replies[conversation] += 1
                                replies_while_sending += time.monotonic() < deadline
                                cited += bool(frame.get("citations"))
                            if done_sending and echoed >= sent[conversation]:
                                acknowledged.set()
                            if done_sending and replies[conversation] >= sent[conversation]:
                                answered.set()

                reader = asyncio.create_task(read())
                while time.monotonic() < deadline:
                    client_id = str(uuid.uuid4())
                    sent_at[client_id] = time.perf_counter()
                    await socket.send(
                        json.dumps(
                            {"type": "message", "text": FAQ_QUESTION, "client_id": client_id}
                        )
                    )
                    sent[conversation] += 1
                    await asyncio.sleep(1.0)
                done_sending = True
                if echoed >= sent[conversation]:
                    acknowledged.set()
                if replies[conversation] >= sent[conversation]:
                    answered.set()
                # Every message sent is acknowledged before the socket closes (a widget would
                # resend the others); replies still owed get a bounded while to arrive.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(acknowledged.wait(), 120)
                unacknowledged.append(sent[conversation] - echoed)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(answered.wait(), 30)
                reader.cancel()

        started = time.monotonic()
        failures = await asyncio.gather(*(shopper(s) for s in sessions), return_exceptions=True)
        elapsed = time.monotonic() - started
        errors.extend(repr(failure) for failure in failures if failure is not None)
    not_shown = never_stored = stored_shopper = duplicated = out_of_order = 0
    states: dict[str, int] = {}
    for conversation, seqs in seen.items():
        state = (await parley.conversations.get(store, conversation)).state.value
        states[state] = states.get(state, 0) + 1
        stored = await parley.conversations.messages_after(store, conversation, limit=100_000)
        duplicated += len(seqs) - len(set(seqs))
        out_of_order += sum(1 for a, b in itertools.pairwise(seqs) if b < a)
        # Lost: stored before the last one the client saw but never shown to it (replies
        # stored after the client left are owed, not lost), or sent and never stored (still
        # unread in the socket when it closed: the worker fell behind).
        last_seen = max(seqs, default=0)
        not_shown += len({m.seq for m in stored if m.seq <= last_seen} - set(seqs))
        shopper = sum(1 for m in stored if m.role.value == "shopper")
        stored_shopper += shopper
        never_stored += sent[conversation] - shopper
    total_sent = sum(sent.values())
    total_replies = sum(replies.values())
    worker_settings = Settings()  # the worker's, from the same environment
    return {
        "conversations": conversations,
        "seconds": seconds,
        "messages_sent": total_sent,
        "messages_stored": stored_shopper,
        "stored_per_s": round(stored_shopper / elapsed, 1),
        "replies_received": total_replies,
        "replies_owed_at_end": total_sent - total_replies,
        "replies_per_s": round(total_replies / elapsed, 1),
        # While the shoppers were still sending: the rate the bot keeps up under the flood.
        "replies_per_s_while_sending": round(replies_while_sending / seconds, 1),
        # A reply without a citation, or a thread no longer the bot's, means the turns did
        # not answer from the knowledge base (a worker without its index hands every one off).
        "replies_cited": cited,
        "threads_by_state": states,
        "echo": summary(echoes),
        "unacknowledged_at_end": sum(unacknowledged),
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:10],
        "lost": not_shown + never_stored,
        "lost_never_stored": never_stored,
        "lost_stored_not_shown": not_shown,
        "duplicated": duplicated,
        "out_of_order": out_of_order,
        "worker": {
            "concurrent_turns": worker_settings.live.concurrent_turns,
            "database_pool": [
                worker_settings.database_pool_size,
                worker_settings.database_pool_overflow,
            ],
        },
    }


async def bench_first_token(parley: Parley, store: str, url: str, base: Path, count: int) -> Any:
    """Send a FAQ question, time the first token frame of the answer."""
    store = await ingesting_store(parley, store, "first")
    args = ("--ingest", store, "--scripted", FAQ_ANSWER)
    async with (
        worker(url, base / "first", *args) as one,
        httpx.AsyncClient(base_url=one.http) as http,
    ):
        key = await new_public_key(parley, store)
        samples = []
        for n in range(count + 5):
            (session,) = await open_sessions(http, key, 1)
            async with open_socket(one.widget(session["token"])) as socket:
                await until(socket, "state")
                started = time.perf_counter()
                await socket.send(json.dumps({"type": "message", "text": FAQ_QUESTION}))
                await until(socket, "token")
                elapsed = time.perf_counter() - started
                await until(socket, "message", role="bot")
            if n >= 5:  # the first turns load the models
                samples.append(elapsed)
    return summary(samples)


async def bench_first_token_local(
    parley: Parley, store: str, url: str, base: Path, count: int
) -> Any:
    """FAQ questions answered by the local model: time to the first token frame and to the
    reply, the first turn (model load, its prompt's fixed part read) reported apart, on a
    store of its own (`ingesting_store`)."""
    from bot.agent.models.weights import LOCAL_WEIGHTS, ensure_local_weights
    from bot.domain.errors import ConfigurationError

    models = CACHE_DIR / "models"
    try:
        # Joined once into the cache, linked into the worker's data dir (1.1 GB not copied).
        await asyncio.to_thread(ensure_local_weights, LOCAL_WEIGHTS["default"], models)
    except ConfigurationError as error:
        print(f"first token, local model: skipped: {error.message}", flush=True)
        return {"skipped": error.message}
    data_dir = base / "first-local"
    data_dir.mkdir(parents=True)
    (data_dir / "models").symlink_to(models)
    store = await ingesting_store(parley, store, "local")
    async with (
        worker(url, data_dir, "--ingest", store, llm="local") as one,
        httpx.AsyncClient(base_url=one.http) as http,
    ):
        key = await new_public_key(parley, store)
        firsts: list[float] = []
        replies: list[float] = []
        # Asked for the first time, or again (what the worker keeps of an earlier answer, such
        # as its prompt's tokens or an accepted translation, serves a repeat): apart as well.
        by_ask: dict[str, list[float]] = {"first_ask": [], "asked_again": []}
        outcomes: list[str] = []
        cold: dict[str, float] = {}
        for n in range(count + 1):
            question = LOCAL_QUESTIONS[n % len(LOCAL_QUESTIONS)]
            (session,) = await open_sessions(http, key, 1)
            async with open_socket(one.widget(session["token"])) as socket:
                await until(socket, "state")
                started = time.perf_counter()
                await socket.send(json.dumps({"type": "message", "text": question}))
                await until(socket, "token")
                first = time.perf_counter() - started
                answer = await until(socket, "message", role="bot")
                reply = time.perf_counter() - started
                # A hand-off or a quoted passage would time no model: say what was timed.
                outcomes.append("cited" if answer.get("citations") else "no citation")
            if n == 0:
                cold = {"first_token_ms": round(first * 1000), "reply_ms": round(reply * 1000)}
            else:
                firsts.append(first)
                replies.append(reply)
                by_ask["first_ask" if n < len(LOCAL_QUESTIONS) else "asked_again"].append(first)
    return {
        **summary(firsts),
        **{name: summary(samples) for name, samples in by_ask.items() if samples},
        "reply": summary(replies),
        "first_turn": cold,
        "questions": len(LOCAL_QUESTIONS),
        "replies": {kind: outcomes.count(kind) for kind in sorted(set(outcomes))},
    }


async def main(arguments: argparse.Namespace) -> dict[str, Any]:
    load_at_start = [round(value, 2) for value in os.getloadavg()]
    name, url = await _create_pg_database()
    figures: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="parley-bench-live-") as directory:
            base = Path(directory)
            settings = Settings(
                data_dir=base / "bench",
                cache_dir=CACHE_DIR,
                llm="none",
                log_json=False,
                database_url=url,
                redis_url=REDIS_URL,
                session_secret=SECRET,
            )
            parley = await open_parley(settings)
            try:
                store = f"bench{uuid.uuid4().hex[:8]}"
                await parley.stores.create(store)
                if arguments.relay:
                    figures["relay"] = await bench_relay(parley, store, url, base, arguments.relay)
                    print("relay", figures["relay"], flush=True)
                if arguments.queue:
                    figures["queue"] = await bench_queue(parley, store, url, base, arguments.queue)
                    print("queue", figures["queue"], flush=True)
                if arguments.idle:
                    figures["idle"] = await bench_idle(parley, store, url, base, arguments.idle)
                    print("idle", figures["idle"], flush=True)
                if arguments.first_token:
                    figures["first_token"] = await bench_first_token(
                        parley, store, url, base, arguments.first_token
                    )
                    print("first token", figures["first_token"], flush=True)
                if arguments.first_token_local:
                    figures["first_token_local"] = await bench_first_token_local(
                        parley, store, url, base, arguments.first_token_local
                    )
                    print("first token, local model", figures["first_token_local"], flush=True)
                if arguments.conversations:
                    figures["load"] = await bench_load(
                        parley, store, url, base, arguments.conversations, arguments.seconds
                    )
                    print("load", figures["load"], flush=True)
            finally:
                await parley.close()
    finally:
        await _drop_pg_database(name)
    figures["about"] = {
        "cpus": os.cpu_count(),
        # 1, 5 and 15 minutes; others' work on a shared machine shows in every figure.
        "load_average_at_start": load_at_start,
        "load_average_at_end": [round(value, 2) for value in os.getloadavg()],
        "targets": {
            "relay": {"p50_ms": 5, "p99_ms": 25},
            "queue": {"p99_ms": 1000},
            "idle_kb_per_connection": 50,
            "first_token": {"p50_ms": 80, "p99_ms": 250},
            "first_token_local": {"p50_ms": 2500},
        },
    }
    return figures


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path("bench-results/live.json"))
    parser.add_argument("--eval-dir", type=Path, default=None, help="(not used)")
    parser.add_argument("--relay", type=int, default=300, help="relayed messages timed")
    parser.add_argument("--queue", type=int, default=60, help="hand-offs timed to the console")
    parser.add_argument("--idle", type=int, default=2000, help="idle widget sockets")
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--first-token", type=int, default=100, help="FAQ turns timed")
    parser.add_argument(
        "--first-token-local", type=int, default=8, help="FAQ turns of the local model timed"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    options = parse()
    result = asyncio.run(main(options))
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result, indent=2))
    print(f"written to {options.out}")
