"""Talking to a store's bot as a shopper: the use case the CLI and `POST /api/v1/ask` share."""

from __future__ import annotations

import uuid
from typing import Any

from bot.domain.errors import NotFound
from bot.wiring import Parley


async def ask(
    parley: Parley, store: str, message: str, session: str | None = None
) -> dict[str, Any]:
    """One shopper message through the store's bot; the contract's JSON object.

    `session` names the conversation: the same name continues it, none starts a new one."""
    if not await parley.stores.exists(store):
        raise NotFound(f"store {store!r} not found")
    name = session or f"s-{uuid.uuid4().hex[:12]}"
    conversation = await parley.conversations.named(store, name)
    pipeline = await parley.agent()
    result = await pipeline.handle(store, conversation.id, message)
    line = result.as_json()
    line["session"] = name
    return line
