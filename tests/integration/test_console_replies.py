"""An agent's reply as the shopper receives it, a suggested reply, and the queue offered again when
an agent has room, on the machine's PostgreSQL and Redis: uvicorn on a loopback port, real
WebSockets for the shopper and the agent; a scripted chat model at the model boundary only (it
translates and words, as the configured model would)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio
import sqlalchemy as sa

from bot.demo.seed import demo_files
from bot.domain.conversation import OwnerState, Role
from bot.settings import Settings
from bot.storage.tables import AgentRow
from bot.tools.tau2_files import import_file
from bot.wiring import Parley, open_parley
from tests.conftest import CACHE_DIR, REDIS_URL
from tests.fakes import FakeChatModel, reply
from tests.integration.conftest import KB
from tests.integration.live import (
    HTTP_TIMEOUT_S,
    Peer,
    Server,
    agent_token,
    is_message,
    of_type,
    peer,
    serving,
    warm_up,
    widget_session,
)
from tests.integration.test_live_chat import public_key

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]
STORE = f"replies{uuid.uuid4().hex[:8]}"
"""Unique per run: Redis is shared with whatever else runs on this machine."""
OTHER_STORE = f"other{uuid.uuid4().hex[:8]}"
SAM = (f"sam@{STORE}.example", "correct horse 1")
ANA = (f"ana@{STORE}.example", "correct horse 2")
FRIDA = (f"frida@{OTHER_STORE}.example", "correct horse 3")
REPLY = "Your order #W1000002 ships on Monday."
IN_JAPANESE = "ご注文#W1000002は月曜日に発送されます。"
NUMBER_LOST = "ご注文は月曜日に発送されます。"
RETURN_QUESTION_JA = "返品は何日以内にできますか？注文番号は #W1000001 です。"
RETURN_QUESTION_EN = "Within how many days can I return an item? My order number is #W1000001."
RETURN_QUESTION_DE = "Wie lange habe ich Zeit, einen Artikel zurückzugeben?"
DRAFT = "You can return any item within 30 days of delivery [1]."


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def parley(postgres: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Parley]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("console-replies") / "parley",
        cache_dir=CACHE_DIR,
        llm="none",
        log_json=False,
        database_url=postgres,
        redis_url=REDIS_URL,
        session_secret=uuid.uuid4().hex * 2,
    )
    settings.live.heartbeat_s = 0.5
    opened = await open_parley(settings)
    await opened.stores.create(STORE)
    await opened.stores.create(OTHER_STORE)
    job = await opened.knowledge.ingest_paths(STORE, sorted(KB.iterdir()))
    assert job.state == "done" and not job.errors, job.errors
    await import_file(opened.orders, STORE, demo_files() / "orders.json")
    await opened.stores.add_agent(STORE, *SAM, languages=["en"])
    await opened.stores.add_agent(STORE, *ANA, languages=["de"])
    await opened.stores.add_agent(OTHER_STORE, *FRIDA, languages=["en", "ja"])
    await warm_up(opened, STORE)
    try:
        yield opened
    finally:
        await opened.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(parley: Parley) -> AsyncIterator[Server]:
    async with serving(parley) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="module")
async def quiet_queue(parley: Parley) -> None:
    """Each test starts with no thread queued or held and the agents' defaults."""
    for state in (OwnerState.QUEUED, OwnerState.HUMAN):
        for thread in await parley.conversations.in_state(STORE, state):
            await parley.conversations.change_owner(STORE, thread.id, OwnerState.RESOLVED)
    async with parley.database.session() as session:
        await session.execute(
            sa.update(AgentRow)
            .where(AgentRow.store_id == STORE)
            .values(max_concurrent=5, translation=True, seen_at=None)
        )


async def login(server: Server, who: tuple[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {await agent_token(server, *who)}"}


def agent_ws(server: Server, headers: dict[str, str]) -> str:
    return f"{server.ws}/api/v1/agent/ws?token={headers['Authorization'].split()[1]}"


def shopper_ws(server: Server, token: str) -> str:
    return f"{server.ws}/api/v1/widget/ws?token={token}"


async def queued_thread(parley: Parley, server: Server, locale: str) -> dict[str, Any]:
    """A widget session in `locale` whose shopper asked for a person (over the socket)."""
    opened = await widget_session(server, await public_key(parley, STORE), locale)
    async with peer(shopper_ws(server, opened["token"])) as shopper:
        await shopper.wait_for(of_type("state"))
        await shopper.send({"type": "request_human"})
        await shopper.wait_for(of_type("state", state="queued"))
    return opened


async def taken_thread(
    parley: Parley, server: Server, http: httpx.AsyncClient, agent: dict[str, str]
) -> dict[str, Any]:
    """A Japanese shopper's thread, queued and taken by `agent`."""
    opened = await queued_thread(parley, server, "ja")
    taken = await http.post(
        f"/api/v1/conversations/{opened['conversation_id']}/take", headers=agent
    )
    assert taken.status_code == 200, taken.text
    return opened


async def send_reply(
    http: httpx.AsyncClient,
    agent: dict[str, str],
    conversation: str,
    text: str,
    client_id: str | None = None,
) -> dict[str, Any]:
    sent = await http.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"text": text, "client_id": client_id or str(uuid.uuid4())},
        headers=agent,
    )
    assert sent.status_code == 201, sent.text
    message: dict[str, Any] = sent.json()["message"]
    return message


async def history(http: httpx.AsyncClient, opened: dict[str, Any]) -> list[dict[str, Any]]:
    found = await http.get(
        f"/api/v1/widget/conversations/{opened['conversation_id']}/messages",
        headers={"Authorization": f"Bearer {opened['token']}"},
    )
    messages: list[dict[str, Any]] = found.json()["messages"]
    return messages


@pytest.mark.usefixtures("quiet_queue")
async def test_the_shopper_receives_the_agents_english_reply_in_japanese_kept_as_sent(
    parley: Parley, server: Server, scripted: Callable[..., FakeChatModel]
) -> None:
    model = scripted(reply(IN_JAPANESE))
    sam = await login(server, SAM)
    async with httpx.AsyncClient(base_url=server.http, timeout=HTTP_TIMEOUT_S) as http:
        opened = await taken_thread(parley, server, http, sam)
        conversation = opened["conversation_id"]
        async with peer(shopper_ws(server, opened["token"])) as shopper:
            await shopper.wait_for(of_type("state", state="human"))
            sent = await send_reply(http, sam, conversation, REPLY)
            received = await shopper.wait_for(is_message("agent", seq=sent["seq"]))

        # The shopper reads Japanese; the agent's words are one click away in the frame.
        assert received["text"] == IN_JAPANESE and received["language"] == "ja"
        assert received["original"] == {"text": REPLY, "language": "en"}
        assert received["translation"] == {"status": "translated", "reason": None}
        assert {k: sent[k] for k in ("text", "original", "translation")} == {
            k: received[k] for k in ("text", "original", "translation")
        }
        assert len(model.calls) == 1
        assert "from English into Japanese" in model.calls[0].prompt
        assert REPLY in model.calls[0].prompt
        resent = await send_reply(http, sam, conversation, REPLY, sent["client_id"])
        assert resent == sent and len(model.calls) == 1  # stored once, translated once

        # A reload, a resumed socket, the agent's history and the transcript read what was
        # stored with the message: the model is not asked again.
        reloaded = next(m for m in await history(http, opened) if m["seq"] == sent["seq"])
        assert reloaded["text"] == IN_JAPANESE and reloaded["original"]["text"] == REPLY
        async with peer(shopper_ws(server, opened["token"])) as again:
            await again.send({"type": "resume", "after": 0})
            resumed = await again.wait_for(is_message("agent", seq=sent["seq"]))
        assert resumed["text"] == IN_JAPANESE and resumed["original"]["text"] == REPLY
        listed = await http.get(f"/api/v1/conversations/{conversation}/messages", headers=sam)
        assert [m["text"] for m in listed.json()["messages"] if m["role"] == "agent"] == [
            IN_JAPANESE
        ]
        exported = json.loads(
            (
                await http.get(
                    f"/api/v1/conversations/{conversation}/transcript?format=json", headers=sam
                )
            ).text
        )
        entry = next(m for m in exported["messages"] if m["role"] == "agent")
        assert entry["text"] == REPLY and entry["language"] == "en"
        assert entry["received"] == {
            "text": IN_JAPANESE,
            "language": "ja",
            "status": "translated",
            "reason": None,
        }
        text = await http.get(
            f"/api/v1/conversations/{conversation}/transcript?format=txt", headers=sam
        )
        assert f"agent (en): {REPLY}" in text.text
        assert f"shopper received (ja, translated): {IN_JAPANESE}" in text.text
        assert len(model.calls) == 1
        stored = await parley.conversations.messages_after(STORE, conversation, sent["seq"] - 1)
        assert stored[0].role is Role.AGENT and stored[0].text == REPLY


@pytest.mark.usefixtures("quiet_queue")
async def test_a_translation_that_drops_the_order_number_is_never_sent(
    parley: Parley, server: Server, scripted: Callable[..., FakeChatModel]
) -> None:
    scripted(reply(IN_JAPANESE), reply(NUMBER_LOST))
    sam = await login(server, SAM)
    async with httpx.AsyncClient(base_url=server.http, timeout=HTTP_TIMEOUT_S) as http:
        opened = await taken_thread(parley, server, http, sam)
        conversation = opened["conversation_id"]
        # The preview shows the checked translation; sending translates again, and this time
        # the model loses the order number.
        preview = await http.post(
            f"/api/v1/conversations/{conversation}/preview", json={"text": REPLY}, headers=sam
        )
        assert preview.json()["status"] == "translated"
        async with peer(shopper_ws(server, opened["token"])) as shopper:
            await shopper.wait_for(of_type("state", state="human"))
            sent = await send_reply(http, sam, conversation, REPLY)
            received = await shopper.wait_for(is_message("agent", seq=sent["seq"]))

        # The original goes out as written, and both sides are told why.
        for side in (sent, received):
            assert side["text"] == REPLY and side["language"] == "en"
            assert side["original"] is None
            assert side["translation"]["status"] == "untranslated"
            assert "#W1000002" in side["translation"]["reason"]
        assert not [f for f in shopper.frames if NUMBER_LOST in json.dumps(f, ensure_ascii=False)]
        reloaded = next(m for m in await history(http, opened) if m["seq"] == sent["seq"])
        assert reloaded["text"] == REPLY and reloaded["translation"]["status"] == "untranslated"


@pytest.mark.usefixtures("quiet_queue")
async def test_a_reply_on_the_agent_socket_whose_translation_times_out_goes_as_written(
    parley: Parley, server: Server, scripted: Callable[..., FakeChatModel]
) -> None:
    model = scripted(TimeoutError())
    sam = await login(server, SAM)
    async with httpx.AsyncClient(base_url=server.http, timeout=HTTP_TIMEOUT_S) as http:
        opened = await taken_thread(parley, server, http, sam)
    conversation = opened["conversation_id"]
    async with (
        peer(shopper_ws(server, opened["token"])) as shopper,
        peer(agent_ws(server, sam)) as console,
    ):
        await shopper.wait_for(of_type("state", state="human"))
        await console.wait_for(of_type("queue", event="snapshot"))
        await console.send(
            {"type": "message", "conversation_id": conversation, "text": REPLY, "client_id": "c1"}
        )
        acknowledged = await console.wait_for(is_message("agent", client_id="c1"))
        received = await shopper.wait_for(is_message("agent", client_id="c1"))
    assert len(model.calls) == 1
    for side in (acknowledged, received):
        assert side["text"] == REPLY and side["original"] is None
        assert side["translation"] == {
            "status": "untranslated",
            "reason": "the translation took too long, so the original is shown",
        }


@pytest.mark.usefixtures("quiet_queue")
async def test_without_a_model_the_reply_passes_through_and_both_sides_are_told(
    parley: Parley, server: Server
) -> None:
    assert (await parley.agent()).llm is None  # PARLEY_LLM=none
    sam = await login(server, SAM)
    async with httpx.AsyncClient(base_url=server.http, timeout=HTTP_TIMEOUT_S) as http:
        opened = await taken_thread(parley, server, http, sam)
        async with peer(shopper_ws(server, opened["token"])) as shopper:
            await shopper.wait_for(of_type("state", state="human"))
            sent = await send_reply(http, sam, opened["conversation_id"], REPLY)
            received = await shopper.wait_for(is_message("agent", seq=sent["seq"]))
    for side in (sent, received):
        assert side["text"] == REPLY and side["original"] is None
        assert side["translation"] == {
            "status": "untranslated",
            "reason": "translation is off (no chat model configured), so the original is shown",
        }


@pytest.mark.usefixtures("quiet_queue")
async def test_an_agent_writing_the_shoppers_language_sends_it_as_it_is(
    parley: Parley, server: Server, scripted: Callable[..., FakeChatModel]
) -> None:
    model = scripted()
    ana = await login(server, ANA)
    async with httpx.AsyncClient(base_url=server.http, timeout=HTTP_TIMEOUT_S) as http:
        opened = await queued_thread(parley, server, "de")
        conversation = opened["conversation_id"]
        await http.post(f"/api/v1/conversations/{conversation}/take", headers=ana)
        sent = await send_reply(http, ana, conversation, "Ihre Bestellung ist unterwegs.")
    assert sent["text"] == "Ihre Bestellung ist unterwegs." and sent["language"] == "de"
    assert "original" not in sent and "translation" not in sent
    assert model.calls == []


@pytest.mark.usefixtures("quiet_queue")
async def test_an_agent_with_translation_off_sends_as_written_and_the_shopper_is_told(
    parley: Parley, server: Server, scripted: Callable[..., FakeChatModel]
) -> None:
    model = scripted()
    sam = await login(server, SAM)
    async with httpx.AsyncClient(base_url=server.http, timeout=HTTP_TIMEOUT_S) as http:
        await http.put(
            "/api/v1/console/preferences",
            json={"languages": ["en"], "capacity": 5, "translation": False},
            headers=sam,
        )
        opened = await taken_thread(parley, server, http, sam)
        preview = await http.post(
            f"/api/v1/conversations/{opened['conversation_id']}/preview",
            json={"text": REPLY},
            headers=sam,
        )
        sent = await send_reply(http, sam, opened["conversation_id"], REPLY)
        reloaded = next(m for m in await history(http, opened) if m["seq"] == sent["seq"])
    assert preview.json()["status"] == "untranslated"
    assert reloaded["text"] == REPLY and reloaded["original"] is None
    assert reloaded["translation"]["status"] == "untranslated"
    assert "translation is off in this agent's preferences" in reloaded["translation"]["reason"]
    assert model.calls == []


@pytest.mark.usefixtures("quiet_queue")
async def test_a_suggested_reply_drafts_from_the_documents_and_the_shoppers_orders(
    parley: Parley, server: Server, scripted: Callable[..., FakeChatModel]
) -> None:
    model = scripted(reply(RETURN_QUESTION_EN), reply(DRAFT))
    sam, frida = await login(server, SAM), await login(server, FRIDA)
    thread = await parley.conversations.start(STORE, language="ja")
    await parley.tools.bindings.bind(STORE, thread.id, "anna_schmidt_1001")
    await parley.conversations.append(
        STORE, thread.id, Role.SHOPPER, RETURN_QUESTION_JA, language="ja"
    )
    path = f"/api/v1/conversations/{thread.id}/suggestion"
    async with httpx.AsyncClient(base_url=server.http, timeout=HTTP_TIMEOUT_S) as http:
        refused = await http.post(path, headers=frida)
        assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
        assert model.calls == []  # nothing of the other store's thread was read or translated
        drafted = (await http.post(path, headers=sam)).json()
        anonymous = await http.post(path)
        assert anonymous.status_code == 401

    # The question as the agent reads it, answered in English from the store's documents, and
    # the verified shopper's order they named, with its status.
    assert drafted["question"]["read_as"]["text"] == RETURN_QUESTION_EN
    assert drafted["language"] == "en" and not drafted["untranslated"]
    assert drafted["drafted_by"] == "model"
    assert drafted["text"].startswith(DRAFT)
    assert drafted["citations"][0]["document"] == "returns-policy.md"
    assert "30 days" in drafted["citations"][0]["quote"]
    assert [(o["order_id"], o["status"]) for o in drafted["orders"]] == [("#W1000001", "delivered")]
    assert "Order #W1000001 is delivered." in drafted["text"]
    assert "#W1000002" not in drafted["text"]
    assert "from Japanese into English" in model.calls[0].prompt
    assert RETURN_QUESTION_EN in model.calls[1].prompt and "English" in model.calls[1].prompt


@pytest.mark.usefixtures("quiet_queue")
async def test_without_a_model_the_suggestion_quotes_the_passage_and_says_it_is_untranslated(
    parley: Parley, server: Server
) -> None:
    ana = await login(server, ANA)  # reads German; the answering passage is English
    thread = await parley.conversations.start(STORE, language="de")
    await parley.conversations.append(
        STORE, thread.id, Role.SHOPPER, RETURN_QUESTION_DE, language="de"
    )
    async with httpx.AsyncClient(base_url=server.http, timeout=HTTP_TIMEOUT_S) as http:
        drafted = (
            await http.post(f"/api/v1/conversations/{thread.id}/suggestion", headers=ana)
        ).json()
    assert "You can return any item within 30 days of delivery." in drafted["text"]
    assert drafted["citations"][0]["document"] == "returns-policy.md"
    assert drafted["untranslated"] and "quoted in its own language" in drafted["reason"]
    assert drafted["drafted_by"] == "passage"
    assert drafted["orders"] == []  # nobody verified: no order data


async def offered(console: Peer, conversation: str, agent_id: int) -> dict[str, Any]:
    return await console.wait_for(
        of_type("queue", event="offered", conversation_id=conversation, offered_to=agent_id)
    )


@pytest.mark.usefixtures("quiet_queue")
async def test_an_agent_who_lets_a_thread_go_is_offered_the_oldest_waiting_one(
    parley: Parley, server: Server
) -> None:
    ana = await login(server, ANA)
    async with (
        peer(agent_ws(server, ana)) as console,
        httpx.AsyncClient(base_url=server.http, timeout=HTTP_TIMEOUT_S) as http,
    ):
        await console.wait_for(of_type("queue", event="snapshot"))
        ana_id = (await http.get("/api/v1/auth/me", headers=ana)).json()["id"]
        await http.put(
            "/api/v1/console/preferences",
            json={"languages": ["de"], "capacity": 1, "translation": False},
            headers=ana,
        )
        first = await queued_thread(parley, server, "de")
        await http.post(f"/api/v1/conversations/{first['conversation_id']}/take", headers=ana)
        # Ana is full: the next German threads and a Japanese one wait, offered to nobody.
        second = await queued_thread(parley, server, "de")
        japanese = await queued_thread(parley, server, "ja")
        third = await queued_thread(parley, server, "de")
        for waiting in (second, japanese, third):
            thread = await parley.conversations.get(STORE, waiting["conversation_id"])
            assert thread.state is OwnerState.QUEUED and thread.offered_agent_id is None

        # Released: the oldest German one is offered to her (not the Japanese, which she
        # neither reads nor takes translated, and only one: she takes one at a time).
        await http.post(f"/api/v1/conversations/{first['conversation_id']}/release", headers=ana)
        await offered(console, second["conversation_id"], ana_id)
        assert (
            await parley.conversations.get(STORE, third["conversation_id"])
        ).offered_agent_id is None
        await http.post(f"/api/v1/conversations/{second['conversation_id']}/take", headers=ana)

        # Resolved: the next one.
        await http.post(f"/api/v1/conversations/{second['conversation_id']}/resolve", headers=ana)
        await offered(console, third["conversation_id"], ana_id)
        await http.post(f"/api/v1/conversations/{third['conversation_id']}/take", headers=ana)

        # Handed back, with translation turned on: the Japanese thread is hers now.
        await http.put(
            "/api/v1/console/preferences",
            json={"languages": ["de"], "capacity": 1, "translation": True},
            headers=ana,
        )
        assert (
            await parley.conversations.get(STORE, japanese["conversation_id"])
        ).offered_agent_id is None  # still full
        await http.post(
            f"/api/v1/conversations/{third['conversation_id']}/handback",
            json={"note": "done"},
            headers=ana,
        )
        await offered(console, japanese["conversation_id"], ana_id)
        stored = await parley.conversations.get(STORE, japanese["conversation_id"])
        assert stored.offered_agent_id == ana_id


@pytest.mark.usefixtures("quiet_queue")
async def test_raising_capacity_offers_the_waiting_thread(parley: Parley, server: Server) -> None:
    ana = await login(server, ANA)
    async with (
        peer(agent_ws(server, ana)) as console,
        httpx.AsyncClient(base_url=server.http, timeout=HTTP_TIMEOUT_S) as http,
    ):
        await console.wait_for(of_type("queue", event="snapshot"))
        ana_id = (await http.get("/api/v1/auth/me", headers=ana)).json()["id"]
        await http.put(
            "/api/v1/console/preferences",
            json={"languages": ["de"], "capacity": 1, "translation": False},
            headers=ana,
        )
        held = await queued_thread(parley, server, "de")
        await http.post(f"/api/v1/conversations/{held['conversation_id']}/take", headers=ana)
        waiting = await queued_thread(parley, server, "de")
        assert (
            await parley.conversations.get(STORE, waiting["conversation_id"])
        ).offered_agent_id is None
        await http.put(
            "/api/v1/console/preferences",
            json={"languages": ["de"], "capacity": 2, "translation": False},
            headers=ana,
        )
        await offered(console, waiting["conversation_id"], ana_id)
