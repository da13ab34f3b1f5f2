"""`GET /api/v1/conversations/{id}/transcript?format=txt|json`: a whole thread for the record,
each message in its original and its translation for the other side, with the owner changes
(hand-off reasons, takes, hand-back notes) in time order.

A shopper's message comes with what the agent read (`translation`); an agent's reply with what
the shopper received (`received`), as it was stored when it was sent, never translated again."""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse, Response

from bot.api.console import read_by_agent
from bot.api.deps import CurrentAgentDep, ParleyDep
from bot.domain.conversation import Role
from bot.storage import Agent, Conversation, Message
from bot.translation import Interpreter

router = APIRouter(prefix="/api/v1", tags=["console"])


async def _entry(
    interpreter: Interpreter, message: Message, conversation: Conversation, agent: Agent
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "seq": message.seq,
        "at": message.created_at.isoformat(),
        "role": message.role.value,
        "language": message.language,
        "text": message.text,
        "translation": None,
        "citations": message.citations,
    }
    if message.role is Role.SHOPPER:  # what the agent read
        translation = await read_by_agent(interpreter, conversation, message, agent)
        entry["translation"] = translation.as_json()
    if message.role is Role.AGENT:  # what the shopper received, as kept when it was sent
        frame = message.frame()
        entry["received"] = {
            "text": frame["text"],
            "language": frame["language"],
            **(frame.get("translation") or {"status": "same_language", "reason": None}),
        }
    turn = message.meta.get("turn")
    if isinstance(turn, dict):
        entry["turn"] = {
            key: turn.get(key) for key in ("intent", "outcome", "confidence", "tool_calls")
        }
        entry["handoff"] = turn.get("handoff")
    if message.meta.get("handback_note"):
        entry["handback_note"] = message.meta["handback_note"]
    return entry


def _as_text(document: dict[str, Any]) -> str:
    head = document["conversation"]
    lines = [
        f"Conversation {head['id']} ({head['store']})",
        f"Language: {head['language'] or 'unknown'}; state: {head['state']}; "
        f"verified customer: {head['customer_id'] or 'none'}",
        "",
    ]
    timeline = [(m["at"], 1, m) for m in document["messages"]] + [
        (e["at"], 0, e) for e in document["owner_changes"]
    ]
    for at, _, item in sorted(timeline, key=lambda entry: (entry[0], entry[1])):
        if "role" not in item:
            lines.append(
                f"[{at}] -- {item['from']} -> {item['to']} by {item['actor']}: {item['reason']}"
            )
            continue
        lines.append(f"[{at}] {item['role']} ({item['language'] or '?'}): {item['text']}")
        for key, label in (("translation", "translation"), ("received", "shopper received")):
            rendering = item.get(key)
            if rendering and rendering["status"] != "same_language":
                status = rendering["status"]
                if rendering.get("reason"):
                    status += f": {rendering['reason']}"
                lines.append(
                    f"    {label} ({rendering['language'] or '?'}, {status}): {rendering['text']}"
                )
        if item.get("handback_note"):
            lines.append(f"    note from the agent who handed back: {item['handback_note']}")
    return "\n".join(lines) + "\n"


@router.get("/conversations/{conversation_id}/transcript", response_model=None)
async def transcript(
    conversation_id: str,
    agent: CurrentAgentDep,
    parley: ParleyDep,
    format: Literal["txt", "json"] = "json",
) -> Response:
    """The whole thread, originals and translations, as JSON or plain text (a download)."""
    conversation = await parley.conversations.get(agent.store_id, conversation_id)
    messages = await parley.conversations.messages_after(agent.store_id, conversation_id, 0)
    changes = await parley.conversations.owner_changes(agent.store_id, conversation_id)
    interpreter = await parley.interpreter()
    document = {
        "conversation": {
            "id": conversation.id,
            "store": conversation.store_id,
            "state": conversation.state.value,
            "language": conversation.language,
            "customer_id": conversation.customer_id,
            "handoff_reason": conversation.handoff_reason,
        },
        "messages": [await _entry(interpreter, m, conversation, agent) for m in messages],
        "owner_changes": [
            {
                "at": change.at.isoformat(),
                "from": change.from_state.value,
                "to": change.to_state.value,
                "actor": change.actor,
                "reason": change.reason,
            }
            for change in changes
        ],
    }
    filename = f"conversation-{conversation.id}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if format == "txt":
        return PlainTextResponse(_as_text(document), headers=headers)
    return Response(
        json.dumps(document, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers=headers,
    )
