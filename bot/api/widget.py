"""The shopper's side over HTTP: open a widget session, read the thread's history."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from bot.api.deps import ParleyDep
from bot.domain.credentials import read_token, sign_token
from bot.domain.errors import Forbidden, Unauthorized
from bot.storage.conversations import Conversation
from bot.storage.order_actions import AlreadyVerified
from bot.wiring import Parley

router = APIRouter(prefix="/api/v1/widget", tags=["widget"])
WIDGET_TTL_S = 30 * 24 * 3600


@cache
def widget_strings() -> dict[str, dict[str, str]]:
    """The widget's interface texts per language, from `widget/strings.json`."""
    loaded: dict[str, dict[str, str]] = json.loads(
        files("widget").joinpath("strings.json").read_text(encoding="utf-8")
    )
    return loaded


class Identity(BaseModel):
    """A shopper the store has already logged in, signed with the store's identity secret."""

    user_id: str
    email: str | None = None
    signature: str


class SessionRequest(BaseModel):
    """What the widget sends when it opens."""

    key: str = Field(description="The store's public key, pk_…")
    locale: str = "en"
    conversation_id: str | None = Field(
        default=None, description="Resume this thread (after a reload) if the token still owns it."
    )
    token: str | None = None
    identity: Identity | None = None


class SessionOut(BaseModel):
    """A widget session: the bearer token for its calls and socket, and how to render."""

    session_id: str
    token: str
    conversation_id: str
    language: str
    strings: dict[str, str]
    theme: dict[str, Any]


class WidgetSession(BaseModel):
    """The claims of a widget token."""

    store_id: str
    conversation_id: str
    session_id: str
    customer_id: str | None = None


async def widget_session(request: Request, parley: ParleyDep) -> WidgetSession:
    """The widget session of a request's bearer token."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("widget token missing")
    return widget_claims(token.strip(), parley.secret)


def widget_claims(token: str, secret: str) -> WidgetSession:
    """The widget session a token carries; `Unauthorized` if missing, forged, expired or not a
    widget token (the HTTP calls and the socket check it alike)."""
    if not token:
        raise Unauthorized("widget token missing")
    claims = read_token(token, secret)
    if claims.get("kind") != "widget":
        raise Unauthorized("not a widget token")
    return WidgetSession(
        store_id=claims["store"],
        conversation_id=claims["conversation"],
        session_id=claims["sub"],
        customer_id=claims.get("customer"),
    )


WidgetSessionDep = Annotated[WidgetSession, Depends(widget_session)]


def _language(locale: str) -> str:
    code = locale.replace("_", "-").split("-")[0].lower()
    return code if code in widget_strings() else "en"


@router.post("/sessions")
async def open_session(body: SessionRequest, parley: ParleyDep) -> SessionOut:
    """Open (or, with the previous token, resume) the shopper's conversation."""
    store_id = await parley.stores.store_for_key(body.key, "public")
    language = _language(body.locale)
    conversation = None
    customer_id = None
    if body.token and body.conversation_id:
        claims = read_token(body.token, parley.secret)
        if claims.get("store") == store_id and claims.get("conversation") == body.conversation_id:
            conversation = await parley.conversations.get(store_id, body.conversation_id)
            customer_id = claims.get("customer")
    if body.identity is not None:
        conversation = await signed_in(parley, store_id, body.identity, conversation, language)
        customer_id = body.identity.user_id
    elif conversation is None:
        conversation = await parley.conversations.start(store_id, language=language)
    policy = await parley.stores.policy(store_id)
    claims = {
        "kind": "widget",
        "sub": conversation.id,
        "store": store_id,
        "conversation": conversation.id,
    }
    if customer_id is not None:
        claims["customer"] = customer_id
    return SessionOut(
        session_id=conversation.id,
        token=sign_token(claims, parley.secret, WIDGET_TTL_S),
        conversation_id=conversation.id,
        language=conversation.language or language,
        strings=widget_strings()[language],
        theme=dict(policy.get("theme", {"accent": "#2f5bea"})),
    )


async def signed_in(
    parley: Parley,
    store_id: str,
    identity: Identity,
    resumed: Conversation | None,
    language: str,
) -> Conversation:
    """The conversation a shopper the storefront signed in continues, bound to them through
    the tools' identity check (`ToolContext.verify_signed`: the signature, the store's policy,
    and a thread's customer never changes).

    A resumed thread bound to someone else stays theirs: this shopper (say, a second account
    logged in on a shared computer) starts a fresh conversation and sees none of the other's.
    A forged signature is refused before anything is opened."""
    secret = await parley.stores.identity_secret(store_id)
    ctx = await parley.tools.context(
        store_id, conversation_id=resumed.id if resumed is not None else None
    )
    try:
        await ctx.verify_signed(identity.user_id, identity.signature, secret)
    except Unauthorized as error:
        # The widget contract answers a forged identity with 403 (the key itself was valid).
        raise Forbidden("identity signature does not match") from error
    except AlreadyVerified:
        resumed = None
    if resumed is not None:
        return resumed
    fresh = await parley.conversations.start(store_id, language=language)
    ctx = await parley.tools.context(store_id, conversation_id=fresh.id)
    await ctx.verify(identity.user_id)  # the signature and the policy were checked above
    return fresh


class MessagesOut(BaseModel):
    """Message frames after a sequence number."""

    messages: list[dict[str, Any]]


@router.get("/conversations/{conversation_id}/messages")
async def history(
    conversation_id: str,
    session: WidgetSessionDep,
    parley: ParleyDep,
    after: Annotated[int, Query(ge=0)] = 0,
) -> MessagesOut:
    """The thread's messages with `seq > after` (a reload or reconnect catches up here)."""
    if conversation_id != session.conversation_id:
        raise Forbidden("this token belongs to another conversation")
    messages = await parley.conversations.messages_after(session.store_id, conversation_id, after)
    return MessagesOut(messages=[message.frame() for message in messages])
