"""Conversations and their messages: sequence numbers, idempotent sends, owner-state changes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.conversation import OwnerState, Role, transition
from bot.domain.errors import NotFound
from bot.storage.database import Database
from bot.storage.tables import ConversationRow, HandoffRow, MessageRow, utcnow


@dataclass(frozen=True)
class Message:
    """A stored message as the socket and history endpoints send it."""

    seq: int
    role: Role
    text: str
    language: str | None
    client_id: str | None
    citations: list[dict[str, Any]]
    created_at: datetime
    meta: dict[str, Any] = field(default_factory=dict)

    def frame(self) -> dict[str, Any]:
        """The WebSocket/HTTP message frame of DESIGN.md."""
        return {
            "type": "message",
            "seq": self.seq,
            "role": self.role.value,
            "text": self.text,
            "language": self.language,
            "citations": self.citations,
            "client_id": self.client_id,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class Conversation:
    """A thread's header: who owns it and in which language it runs."""

    id: str
    store_id: str
    session: str | None
    state: OwnerState
    language: str | None
    customer_id: str | None
    handoff_reason: str | None
    last_seq: int


class ConversationRepository:
    """All reads and writes of conversations; every call names its store."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def start(
        self, store_id: str, language: str | None = None, *, session_name: str | None = None
    ) -> Conversation:
        """Open a new conversation owned by the bot (optionally under a caller-chosen name)."""
        async with self.database.session() as session:
            row = ConversationRow(
                id=str(uuid.uuid4()),
                store_id=store_id,
                session=session_name,
                state="bot",
                language=language,
            )
            session.add(row)
            await session.flush()
            return _conversation(row)

    async def named(self, store_id: str, session_name: str) -> Conversation:
        """The store's conversation with this session name, opened on first use."""
        async with self.database.session() as session:
            row = await session.scalar(
                sa.select(ConversationRow).where(
                    ConversationRow.store_id == store_id, ConversationRow.session == session_name
                )
            )
            if row is not None:
                return _conversation(row)
        try:
            return await self.start(store_id, session_name=session_name)
        except IntegrityError:  # opened by a concurrent caller in between
            return await self.named(store_id, session_name)

    async def get(self, store_id: str, conversation_id: str) -> Conversation:
        """The conversation, only if it belongs to this store."""
        async with self.database.session() as session:
            return _conversation(await _row(session, store_id, conversation_id))

    async def append(
        self,
        store_id: str,
        conversation_id: str,
        role: Role,
        text: str,
        *,
        language: str | None = None,
        client_id: str | None = None,
        citations: list[dict[str, Any]] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> tuple[Message, bool]:
        """Store a message with the next seq; `(message, False)` if its `client_id` was seen."""
        async with self.database.session() as session:
            await _row(session, store_id, conversation_id)
            if client_id is not None:
                existing = await session.scalar(
                    sa.select(MessageRow).where(
                        MessageRow.conversation_id == conversation_id,
                        MessageRow.client_id == client_id,
                    )
                )
                if existing is not None:
                    return _message(existing), False
            # One UPDATE … RETURNING allocates the number atomically on SQLite and Postgres alike.
            seq = await session.scalar(
                sa.update(ConversationRow)
                .where(ConversationRow.id == conversation_id)
                .values(last_seq=ConversationRow.last_seq + 1, updated_at=utcnow())
                .returning(ConversationRow.last_seq)
            )
            assert seq is not None
            row = MessageRow(
                store_id=store_id,
                conversation_id=conversation_id,
                seq=seq,
                role=role.value,
                text=text,
                language=language,
                client_id=client_id,
                citations=citations or [],
                meta=meta or {},
            )
            session.add(row)
            await session.flush()
            return _message(row), True

    async def messages_after(
        self, store_id: str, conversation_id: str, after: int = 0, limit: int = 500
    ) -> list[Message]:
        """Messages with `seq > after`, oldest first: what a reconnecting client missed."""
        async with self.database.session() as session:
            await _row(session, store_id, conversation_id)
            rows = await session.scalars(
                sa.select(MessageRow)
                .where(
                    MessageRow.store_id == store_id,
                    MessageRow.conversation_id == conversation_id,
                    MessageRow.seq > after,
                )
                .order_by(MessageRow.seq)
                .limit(limit)
            )
            return [_message(row) for row in rows]

    async def change_owner(
        self, store_id: str, conversation_id: str, target: OwnerState, reason: str | None = None
    ) -> Conversation:
        """Move the thread to `target` if the state machine allows; a handoff records its reason."""
        async with self.database.session() as session:
            row = await _row(session, store_id, conversation_id, for_update=True)
            current = OwnerState(row.state)
            row.state = transition(current, target).value
            if target is OwnerState.QUEUED:
                row.handoff_reason = reason
                session.add(
                    HandoffRow(
                        store_id=store_id, conversation_id=conversation_id, reason=reason or ""
                    )
                )
            elif target in (OwnerState.BOT, OwnerState.RESOLVED):
                row.assigned_agent_id = None
            await session.flush()
            return _conversation(row)

    async def set_language(self, store_id: str, conversation_id: str, language: str) -> None:
        """Remember the language the thread runs in."""
        async with self.database.session() as session:
            row = await _row(session, store_id, conversation_id)
            row.language = language


async def _row(
    session: AsyncSession, store_id: str, conversation_id: str, *, for_update: bool = False
) -> ConversationRow:
    query = sa.select(ConversationRow).where(
        ConversationRow.id == conversation_id, ConversationRow.store_id == store_id
    )
    if for_update:
        query = query.with_for_update()
    row = await session.scalar(query)
    if row is None:
        raise NotFound("conversation not found")
    return row


def _conversation(row: ConversationRow) -> Conversation:
    return Conversation(
        id=row.id,
        store_id=row.store_id,
        session=row.session,
        state=OwnerState(row.state),
        language=row.language,
        customer_id=row.customer_id,
        handoff_reason=row.handoff_reason,
        last_seq=row.last_seq,
    )


def _message(row: MessageRow) -> Message:
    return Message(
        seq=row.seq,
        role=Role(row.role),
        text=row.text,
        language=row.language,
        client_id=row.client_id,
        citations=list(row.citations),
        created_at=row.created_at,
        meta=dict(row.meta),
    )
