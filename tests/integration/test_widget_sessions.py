"""A shopper opens the widget: a session in their language, identity, history after reload."""

from __future__ import annotations

import httpx
import pytest

from bot.domain import Role
from bot.domain.credentials import identity_signature
from bot.wiring import Parley

pytestmark = pytest.mark.integration


async def test_a_session_speaks_the_shoppers_locale(
    client: httpx.AsyncClient, parley: Parley
) -> None:
    keys = await parley.stores.create("acme")
    opened = await client.post(
        "/api/v1/widget/sessions", json={"key": keys.public_key, "locale": "ja-JP"}
    )
    assert opened.status_code == 200
    body = opened.json()
    assert body["language"] == "ja"
    assert body["strings"]["send"] == "送信"
    assert set(body) >= {"session_id", "token", "conversation_id", "strings", "theme"}


@pytest.mark.parametrize(
    ("locale", "language", "send"),
    [("cs-CZ", "cs", "Odeslat"), ("da-DK", "da", "Send"), ("el-GR", "el", "Αποστολή"),
     ("fi-FI", "fi", "Lähetä"), ("hu-HU", "hu", "Küldés"), ("ro-RO", "ro", "Trimiteți")],
)  # fmt: skip
async def test_a_session_in_a_central_or_northern_european_locale_is_in_its_language(
    client: httpx.AsyncClient, parley: Parley, locale: str, language: str, send: str
) -> None:
    keys = await parley.stores.create(f"shop-{language}")
    opened = await client.post(
        "/api/v1/widget/sessions", json={"key": keys.public_key, "locale": locale}
    )
    body = opened.json()
    assert body["language"] == language
    assert body["strings"]["lang"] == language and body["strings"]["send"] == send


async def test_unknown_key_and_secret_key_are_refused(
    client: httpx.AsyncClient, parley: Parley
) -> None:
    keys = await parley.stores.create("acme")
    for key in ("pk_nope", keys.secret_key):
        refused = await client.post("/api/v1/widget/sessions", json={"key": key})
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "unauthorized"


async def test_reload_resumes_the_thread_and_history_pages_by_seq(
    client: httpx.AsyncClient, parley: Parley
) -> None:
    keys = await parley.stores.create("acme")
    first = (await client.post("/api/v1/widget/sessions", json={"key": keys.public_key})).json()
    conversation = first["conversation_id"]
    await parley.conversations.append("acme", conversation, Role.SHOPPER, "Where is my order?")
    await parley.conversations.append("acme", conversation, Role.BOT, "Let me check.")

    resumed = (
        await client.post(
            "/api/v1/widget/sessions",
            json={"key": keys.public_key, "conversation_id": conversation, "token": first["token"]},
        )
    ).json()
    assert resumed["conversation_id"] == conversation
    auth = {"authorization": f"Bearer {resumed['token']}"}
    page = await client.get(
        f"/api/v1/widget/conversations/{conversation}/messages?after=1", headers=auth
    )
    assert [m["text"] for m in page.json()["messages"]] == ["Let me check."]
    assert page.json()["messages"][0]["seq"] == 2 and page.json()["messages"][0]["role"] == "bot"


async def test_a_token_cannot_read_another_conversation(
    client: httpx.AsyncClient, parley: Parley
) -> None:
    keys = await parley.stores.create("acme")
    mine = (await client.post("/api/v1/widget/sessions", json={"key": keys.public_key})).json()
    theirs = (await client.post("/api/v1/widget/sessions", json={"key": keys.public_key})).json()
    other = await client.get(
        f"/api/v1/widget/conversations/{theirs['conversation_id']}/messages",
        headers={"authorization": f"Bearer {mine['token']}"},
    )
    assert other.status_code == 403
    stolen = await client.post(
        "/api/v1/widget/sessions",
        json={
            "key": keys.public_key,
            "conversation_id": theirs["conversation_id"],
            "token": mine["token"],
        },
    )
    assert stolen.json()["conversation_id"] not in (theirs["conversation_id"],)


async def test_signed_identity_binds_the_customer(
    client: httpx.AsyncClient, parley: Parley
) -> None:
    keys = await parley.stores.create("acme")
    secret = await parley.stores.identity_secret("acme")
    good = {
        "user_id": "noah_brown_6181",
        "signature": identity_signature("noah_brown_6181", secret),
    }
    opened = await client.post(
        "/api/v1/widget/sessions", json={"key": keys.public_key, "identity": good}
    )
    assert opened.status_code == 200
    conversation = await parley.conversations.get("acme", opened.json()["conversation_id"])
    assert conversation.customer_id == "noah_brown_6181"

    forged = {"user_id": "someone_else_1", "signature": good["signature"]}
    refused = await client.post(
        "/api/v1/widget/sessions", json={"key": keys.public_key, "identity": forged}
    )
    assert refused.status_code == 403


async def test_another_signed_shopper_resuming_the_thread_gets_a_conversation_of_their_own(
    client: httpx.AsyncClient, parley: Parley
) -> None:
    # Two accounts on one browser: the second login resumes with the first one's token.
    keys = await parley.stores.create("acme")
    secret = await parley.stores.identity_secret("acme")

    def signed(user_id: str) -> dict[str, str]:
        return {"user_id": user_id, "signature": identity_signature(user_id, secret)}

    first = (
        await client.post(
            "/api/v1/widget/sessions",
            json={"key": keys.public_key, "identity": signed("noah_brown_6181")},
        )
    ).json()
    thread = first["conversation_id"]
    await parley.conversations.append("acme", thread, Role.SHOPPER, "Where is order #W2611340?")

    second = await client.post(
        "/api/v1/widget/sessions",
        json={
            "key": keys.public_key,
            "conversation_id": thread,
            "token": first["token"],
            "identity": signed("ethan_lopez_6291"),
        },
    )
    assert second.status_code == 200
    theirs = second.json()
    assert theirs["conversation_id"] != thread
    assert (await parley.conversations.get("acme", thread)).customer_id == "noah_brown_6181"
    fresh = await parley.conversations.get("acme", theirs["conversation_id"])
    assert fresh.customer_id == "ethan_lopez_6291"
    auth = {"authorization": f"Bearer {theirs['token']}"}
    other = await client.get(f"/api/v1/widget/conversations/{thread}/messages", headers=auth)
    assert other.status_code == 403
    own = await client.get(
        f"/api/v1/widget/conversations/{theirs['conversation_id']}/messages", headers=auth
    )
    assert own.json()["messages"] == []

    back = (
        await client.post(
            "/api/v1/widget/sessions",
            json={
                "key": keys.public_key,
                "conversation_id": thread,
                "token": first["token"],
                "identity": signed("noah_brown_6181"),
            },
        )
    ).json()
    assert back["conversation_id"] == thread
