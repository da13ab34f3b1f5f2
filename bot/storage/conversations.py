"""Conversations and their messages: sequence numbers, idempotent sends, owner-state changes.

Over 500 lines as one idea: every read and write of a thread's row and its messages, so that
each conditional UPDATE the live chat relies on (seq, owner, turn lease, offer) is in one
place."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import asyncpg
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.conversation import OwnerState, Role, default_reason, transition
from bot.domain.errors import AlreadyTaken, InvalidTransition, NotFound
from bot.storage.database import Database
from bot.storage.tables import ConversationRow, HandoffRow, MessageRow, OwnerChangeRow, utcnow


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
        """The WebSocket/HTTP message frame of DESIGN.md. An agent's reply rendered for the
        shopper (`meta["sent"]`, kept as it was sent) carries what the shopper reads in `text`
        and `language`, the agent's words in `original` when translated, and `translation`
        (`translated` or `untranslated`, with the reason)."""
        frame = {
            "type": "message",
            "seq": self.seq,
            "role": self.role.value,
            "text": self.text,
            "language": self.language,
            "citations": self.citations,
            "client_id": self.client_id,
            "created_at": self.created_at.isoformat(),
            # A bot reply names the shopper message it answers: it replaces the draft that
            # `token` frames with the same `reply_to` built while it streamed.
            "reply_to": self.meta.get("reply_to"),
        }
        sent = self.meta.get("sent")
        if isinstance(sent, dict):
            translated = sent.get("status") == "translated"
            frame["text"] = sent.get("text", self.text)
            frame["language"] = sent.get("language")
            frame["original"] = (
                {"text": self.text, "language": self.language} if translated else None
            )
            frame["translation"] = {"status": sent.get("status"), "reason": sent.get("reason")}
        return frame


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
    assigned_agent_id: int | None = None
    state_since: datetime | None = None
    contact_email: str | None = None
    answered_seq: int = 0
    handback_note: str | None = None
    """The note of the agent who handed the thread back, until the bot's next turn reads it."""
    offered_agent_id: int | None = None


@dataclass(frozen=True)
class OwnerChange:
    """One audited change of a conversation's owner state."""

    from_state: OwnerState
    to_state: OwnerState
    actor: str
    reason: str
    at: datetime


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
                state_since=utcnow(),
            )
            session.add(row)
            await session.flush()
            return _conversation(row)

    async def named(self, store_id: str, session_name: str) -> Conversation:
        """The store's conversation with this session name, opened on first use."""
        async with self.database.session(atomic=False) as session:
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
        async with self.database.statements() as connection:
            # Read as plain columns: a thread is read a few times in every bot turn, and
            # building an ORM object for each read cost more than the read.
            row = (
                await connection.execute(
                    sa.select(*_THREAD.c).where(
                        _THREAD.c.id == conversation_id, _THREAD.c.store_id == store_id
                    )
                )
            ).first()
        if row is None:
            raise NotFound("conversation not found")
        return _conversation(row)

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
        """Store a message with the next seq; `(message, False)` if its `client_id` was seen
        (also when the same `client_id` arrives twice at once, on two workers)."""
        values = {
            "store_id": store_id,
            "conversation_id": conversation_id,
            "role": role.value,
            "text": text,
            "language": language,
            "client_id": client_id,
            "citations": citations or [],
            "meta": meta or {},
            "created_at": utcnow(),
        }
        try:
            if self.database.dialect == "postgresql":
                return await self._append_in_one_statement(values)
            return await self._append_in_steps(values)
        except IntegrityError:
            if client_id is None:
                raise
            # The concurrent twin committed first; this write (and its seq) rolled back.
            async with self.database.session() as session:
                existing = await session.scalar(
                    sa.select(MessageRow).where(
                        MessageRow.store_id == store_id,
                        MessageRow.conversation_id == conversation_id,
                        MessageRow.client_id == client_id,
                    )
                )
            if existing is None:
                raise
            return _message(existing), False

    async def _append_in_one_statement(self, values: dict[str, Any]) -> tuple[Message, bool]:
        """PostgreSQL: the resend check, the next seq and the insert in one statement, run
        outside a transaction block (a statement is its own transaction): one round trip, one
        commit, sent straight to the driver. The conversation row's lock orders concurrent
        sends; a twin that slips past the resend check fails on the unique `client_id` and
        nothing of it is kept."""
        sql, names, constants = _append_sql()
        given = {
            **{f"new_{name}": value for name, value in values.items()},
            "new_citations": json.dumps(values["citations"], ensure_ascii=False),
            "new_meta": json.dumps(values["meta"], ensure_ascii=False),
        }
        arguments = [given[name] if name in given else constants[name] for name in names]
        try:
            async with self.database.driver() as connection:
                rows = await connection.fetch(sql, *arguments)
        except asyncpg.UniqueViolationError as error:
            raise IntegrityError(sql, None, error) from error
        if not rows:
            raise NotFound("conversation not found")
        row = rows[0]
        return _message(row, record=True), bool(row["created"])

    async def _append_in_steps(self, values: dict[str, Any]) -> tuple[Message, bool]:
        """SQLite (one writer at a time, no round trips): look for a resend, take the next seq
        with one UPDATE … RETURNING (which also checks the store), insert."""
        store_id, conversation_id = values["store_id"], values["conversation_id"]
        async with self.database.session() as session:
            if values["client_id"] is not None:
                existing = await session.scalar(
                    sa.select(MessageRow).where(
                        MessageRow.store_id == store_id,
                        MessageRow.conversation_id == conversation_id,
                        MessageRow.client_id == values["client_id"],
                    )
                )
                if existing is not None:
                    return _message(existing), False
            seq = await session.scalar(
                sa.update(ConversationRow)
                .where(ConversationRow.id == conversation_id, ConversationRow.store_id == store_id)
                .values(
                    last_seq=ConversationRow.last_seq + 1,
                    answered_seq=_answered_on_append(sa.literal(values["role"])),
                    updated_at=values["created_at"],
                )
                .returning(ConversationRow.last_seq)
            )
            if seq is None:
                raise NotFound("conversation not found")
            row = MessageRow(seq=seq, **values)
            session.add(row)
            await session.flush()
            return _message(row), True

    async def messages_after(
        self, store_id: str, conversation_id: str, after: int = 0, limit: int = 500
    ) -> list[Message]:
        """Messages with `seq > after`, oldest first: what a reconnecting client missed.
        One statement: the thread's row (`NotFound` unless it is this store's) joined with
        its messages."""
        rows = await self._thread_joined(
            store_id,
            conversation_id,
            [_THREAD.c.id.label("thread"), *(_MESSAGES.c[name] for name in _SHOWN)],
            _MESSAGES.c.seq > after,
            limit=limit,
        )
        return [_message(row) for row in rows if row.seq is not None]

    async def _thread_joined(
        self,
        store_id: str,
        conversation_id: str,
        columns: list[Any],
        *conditions: sa.ColumnElement[bool],
        limit: int | None = None,
    ) -> list[sa.Row[Any]]:
        """The thread's row (`NotFound` unless it is this store's) outer-joined with its
        messages that meet `conditions`, oldest first, in one statement: one row with no
        message columns when none does."""
        query = (
            sa.select(*columns)
            .select_from(
                _THREAD.outerjoin(
                    _MESSAGES,
                    sa.and_(
                        _MESSAGES.c.conversation_id == _THREAD.c.id,
                        _MESSAGES.c.store_id == _THREAD.c.store_id,
                        *conditions,
                    ),
                )
            )
            .where(_THREAD.c.id == conversation_id, _THREAD.c.store_id == store_id)
            .order_by(_MESSAGES.c.seq)
            .limit(limit)
        )
        async with self.database.statements() as connection:
            rows = list((await connection.execute(query)).all())
        if not rows:
            raise NotFound("conversation not found")
        return rows

    async def change_owner(
        self,
        store_id: str,
        conversation_id: str,
        target: OwnerState,
        reason: str | None = None,
        *,
        actor: str = "bot",
        agent_id: int | None = None,
    ) -> Conversation:
        """Move the thread to `target` if the state machine allows, audited with `actor` (`bot`,
        `shopper`, `agent:<id>`, `system`) and `reason`. The change is one conditional UPDATE
        on the state read, so of two concurrent changes exactly one wins; the other raises
        `InvalidTransition` (`AlreadyTaken` when another agent took the thread)."""
        async with self.database.session() as session:
            row = await _row(session, store_id, conversation_id)
            current = OwnerState(row.state)
            if target is OwnerState.HUMAN and current is OwnerState.HUMAN:
                raise AlreadyTaken("another agent has taken this conversation")
            transition(current, target)
            now = utcnow()
            values: dict[str, Any] = {
                "state": target.value,
                "state_since": now,
                "updated_at": now,
                "offered_agent_id": None,  # an offer stands only while the thread is queued
            }
            if target is OwnerState.QUEUED:
                values["handoff_reason"] = reason
                values["assigned_agent_id"] = None
            elif target is OwnerState.HUMAN:
                values["assigned_agent_id"] = agent_id
            else:
                values["assigned_agent_id"] = None
            changed = await session.execute(
                sa.update(ConversationRow)
                .where(
                    ConversationRow.id == conversation_id,
                    ConversationRow.store_id == store_id,
                    ConversationRow.state == current.value,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if changed.rowcount != 1:  # type: ignore[attr-defined]
                if target is OwnerState.HUMAN:
                    raise AlreadyTaken("another agent has taken this conversation")
                raise InvalidTransition("the conversation changed owner meanwhile; try again")
            session.add(
                OwnerChangeRow(
                    store_id=store_id,
                    conversation_id=conversation_id,
                    from_state=current.value,
                    to_state=target.value,
                    actor=actor,
                    reason=(reason or default_reason(current, target))[:200],
                    created_at=now,
                )
            )
            await _note_handoff(session, store_id, conversation_id, target, reason, agent_id, now)
            await session.flush()
            await session.refresh(row)
            return _conversation(row)

    async def owner_changes(self, store_id: str, conversation_id: str) -> list[OwnerChange]:
        """The thread's audited owner changes, oldest first."""
        async with self.database.session(atomic=False) as session:
            rows = await session.scalars(
                sa.select(OwnerChangeRow)
                .where(
                    OwnerChangeRow.store_id == store_id,
                    OwnerChangeRow.conversation_id == conversation_id,
                )
                .order_by(OwnerChangeRow.id)
            )
            return [
                OwnerChange(
                    OwnerState(row.from_state),
                    OwnerState(row.to_state),
                    row.actor,
                    row.reason,
                    row.created_at,
                )
                for row in rows
            ]

    async def in_state(
        self, store_id: str, state: OwnerState | None = None, *, limit: int = 200
    ) -> list[Conversation]:
        """The store's conversations (in `state`), the longest waiting first."""
        async with self.database.session(atomic=False) as session:
            query = sa.select(ConversationRow).where(ConversationRow.store_id == store_id)
            if state is not None:
                query = query.where(ConversationRow.state == state.value)
            rows = await session.scalars(
                query.order_by(ConversationRow.state_since, ConversationRow.created_at).limit(limit)
            )
            return [_conversation(row) for row in rows]

    async def held_by(self, store_id: str, agent_id: int) -> list[Conversation]:
        """The threads an agent has taken and not handed back."""
        async with self.database.session(atomic=False) as session:
            rows = await session.scalars(
                sa.select(ConversationRow).where(
                    ConversationRow.store_id == store_id,
                    ConversationRow.state == OwnerState.HUMAN.value,
                    ConversationRow.assigned_agent_id == agent_id,
                )
            )
            return [_conversation(row) for row in rows]

    async def queue_position(self, store_id: str, conversation_id: str) -> int | None:
        """1 for the thread queued longest in its store; `None` if this one is not queued."""
        async with self.database.session(atomic=False) as session:
            row = await _row(session, store_id, conversation_id)
            if row.state != OwnerState.QUEUED.value:
                return None
            ahead = await session.scalar(
                sa.select(sa.func.count())
                .select_from(ConversationRow)
                .where(
                    ConversationRow.store_id == store_id,
                    ConversationRow.state == OwnerState.QUEUED.value,
                    ConversationRow.state_since < row.state_since,
                )
            )
            return int(ahead or 0) + 1

    async def set_contact_email(self, store_id: str, conversation_id: str, email: str) -> None:
        """Keep where the shopper wants to be written to."""
        async with self.database.session() as session:
            row = await _row(session, store_id, conversation_id)
            row.contact_email = email

    async def set_message_language(
        self, store_id: str, conversation_id: str, seq: int, language: str
    ) -> None:
        """Record the language detected for a stored message (the turn detects it later)."""
        async with self.database.session(atomic=False) as session:
            await session.execute(
                sa.update(MessageRow)
                .where(
                    MessageRow.store_id == store_id,
                    MessageRow.conversation_id == conversation_id,
                    MessageRow.seq == seq,
                )
                .values(language=language)
                .execution_options(synchronize_session=False)
            )

    # -- bot turns: one worker at a time per conversation, in message order ---------------------

    async def claim_turns(
        self, store_id: str, conversation_id: str, holder: str, lease_s: float
    ) -> datetime | None:
        """Hold (or renew) the right to run the thread's bot turns for `lease_s`; `None` if
        claimed, else until when another holder has it."""
        now = utcnow()
        async with self.database.statements() as connection:
            claimed = await connection.execute(
                sa.update(_THREAD)
                .where(
                    _THREAD.c.id == conversation_id,
                    _THREAD.c.store_id == store_id,
                    sa.or_(
                        _THREAD.c.turn_holder.is_(None),
                        _THREAD.c.turn_holder == holder,
                        _THREAD.c.turn_lease_until < now,
                    ),
                )
                .values(turn_holder=holder, turn_lease_until=now + timedelta(seconds=lease_s))
            )
            if claimed.rowcount == 1:
                return None
            held = (
                await connection.execute(
                    sa.select(_THREAD.c.turn_lease_until).where(
                        _THREAD.c.id == conversation_id, _THREAD.c.store_id == store_id
                    )
                )
            ).first()
        if held is None:
            raise NotFound("conversation not found")
        until: datetime | None = held.turn_lease_until
        return until or now

    async def renew_turns(
        self, store_id: str, conversation_ids: Collection[str], holder: str, lease_s: float
    ) -> set[str]:
        """Renew `holder`'s leases on these threads of the store in one statement (a worker
        renews every thread it holds at once, not one statement each); the ids renewed. A
        lease another holder has taken since is left alone."""
        if not conversation_ids:
            return set()
        async with self.database.statements() as connection:
            renewed = await connection.execute(
                sa.update(ConversationRow)
                .where(
                    ConversationRow.store_id == store_id,
                    ConversationRow.id.in_(list(conversation_ids)),
                    ConversationRow.turn_holder == holder,
                )
                .values(turn_lease_until=utcnow() + timedelta(seconds=lease_s))
                .returning(ConversationRow.id)
                .execution_options(synchronize_session=False)
            )
            return {str(id_) for id_ in renewed.scalars()}

    async def release_turns(self, store_id: str, conversation_id: str, holder: str) -> None:
        """Give the thread's bot turns up (only if `holder` still has them)."""
        async with self.database.statements() as connection:
            await connection.execute(
                sa.update(_THREAD)
                .where(
                    _THREAD.c.id == conversation_id,
                    _THREAD.c.store_id == store_id,
                    _THREAD.c.turn_holder == holder,
                )
                .values(turn_holder=None, turn_lease_until=None)
            )

    async def unanswered(self, store_id: str, conversation_id: str) -> list[Message]:
        """Shopper messages whose bot turn has not run yet, oldest first."""
        _, waiting = await self.waiting_turns(store_id, conversation_id)
        return waiting

    async def waiting_turns(
        self, store_id: str, conversation_id: str
    ) -> tuple[Conversation, list[Message]]:
        """The thread and its shopper messages whose bot turn has not run yet, oldest first,
        read in one statement (the thread's row joined with those messages)."""
        rows = await self._thread_joined(
            store_id,
            conversation_id,
            [*_THREAD.c, *(_MESSAGES.c[name].label(f"m_{name}") for name in _SHOWN)],
            _MESSAGES.c.role == Role.SHOPPER.value,
            _MESSAGES.c.seq > _THREAD.c.answered_seq,
        )
        waiting = [_message(row, prefix="m_") for row in rows if row.m_seq is not None]
        return _conversation(rows[0]), waiting

    async def mark_answered(
        self, store_id: str, conversation_id: str, seq: int
    ) -> Conversation | None:
        """The bot turn of the shopper message `seq` (and of every earlier one) has run; the
        thread as it stands then (`None` if it was marked past `seq` already), which the next
        turn of the thread starts from without reading it again."""
        async with self.database.statements() as connection:
            marked = await connection.execute(
                sa.update(ConversationRow)
                .where(
                    ConversationRow.id == conversation_id,
                    ConversationRow.store_id == store_id,
                    ConversationRow.answered_seq < seq,
                )
                .values(answered_seq=seq)
                .returning(*_THREAD.c)
                .execution_options(synchronize_session=False)
            )
            row = marked.first()
        return None if row is None else _conversation(row)

    async def set_language(self, store_id: str, conversation_id: str, language: str) -> None:
        """Remember the language the thread runs in."""
        async with self.database.session() as session:
            row = await _row(session, store_id, conversation_id)
            row.language = language

    # -- the agent console ----------------------------------------------------------------------

    async def offer(self, store_id: str, conversation_id: str, agent_id: int) -> bool:
        """Offer a queued thread to an agent; `False` if it is no longer queued."""
        async with self.database.session(atomic=False) as session:
            changed = await session.execute(
                sa.update(ConversationRow)
                .where(
                    ConversationRow.id == conversation_id,
                    ConversationRow.store_id == store_id,
                    ConversationRow.state == OwnerState.QUEUED.value,
                )
                .values(offered_agent_id=agent_id)
                .execution_options(synchronize_session=False)
            )
            return bool(changed.rowcount == 1)  # type: ignore[attr-defined]

    async def holding(self, store_id: str) -> dict[int, int]:
        """How many threads each of the store's agents holds now."""
        async with self.database.session(atomic=False) as session:
            rows = await session.execute(
                sa.select(ConversationRow.assigned_agent_id, sa.func.count())
                .where(
                    ConversationRow.store_id == store_id,
                    ConversationRow.state == OwnerState.HUMAN.value,
                    ConversationRow.assigned_agent_id.is_not(None),
                )
                .group_by(ConversationRow.assigned_agent_id)
            )
            return {int(agent): int(count) for agent, count in rows.all() if agent is not None}

    async def first_words(self, store_id: str, conversation_id: str) -> str:
        """The shopper's first message in the thread (what the queue shows), or `""`."""
        async with self.database.session(atomic=False) as session:
            text = await session.scalar(
                sa.select(MessageRow.text)
                .where(
                    MessageRow.store_id == store_id,
                    MessageRow.conversation_id == conversation_id,
                    MessageRow.role == Role.SHOPPER.value,
                )
                .order_by(MessageRow.seq)
                .limit(1)
            )
            return text or ""

    async def set_handback_note(self, store_id: str, conversation_id: str, note: str) -> None:
        """Keep the agent's note for the bot's next turn."""
        async with self.database.session() as session:
            row = await _row(session, store_id, conversation_id)
            row.handback_note = note

    async def take_handback_note(self, store_id: str, conversation_id: str) -> str | None:
        """The hand-back note, cleared as it is read: the bot's next turn sees it once."""
        async with self.database.session() as session:
            row = await _row(session, store_id, conversation_id)
            note, row.handback_note = row.handback_note, None
            return note


_THREAD = cast(sa.Table, ConversationRow.__table__)
_MESSAGES = cast(sa.Table, MessageRow.__table__)
_SHOWN = ("seq", "role", "text", "language", "client_id", "citations", "meta", "created_at")
"""A message's columns as `Message` shows them."""


def _answered_on_append(role: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
    """The thread's `answered_seq` as a message is appended: a shopper's message written while
    a person holds the thread is theirs to answer, so it counts as answered at once and no bot
    turn runs for it (a turn runner woken for it finds nothing waiting, in one read)."""
    return sa.case(
        (
            sa.and_(role == Role.SHOPPER.value, ConversationRow.state == OwnerState.HUMAN.value),
            ConversationRow.last_seq + 1,
        ),
        else_=ConversationRow.answered_seq,
    )


@functools.cache
def _append_sql() -> tuple[str, tuple[str, ...], dict[str, Any]]:
    """`_append_statement` compiled for asyncpg once: its SQL, the names of its positional
    parameters in order, and the values of the parameters the statement fixes itself."""
    compiled = _append_statement().compile(dialect=asyncpg_dialect.dialect())  # type: ignore[no-untyped-call]
    names = tuple(compiled.positiontup or ())
    constants = {name: bind.value for name, bind in compiled.binds.items()}
    return compiled.string, names, constants


def _append_statement() -> sa.CompoundSelect[Any]:
    """The PostgreSQL append (`ConversationRepository._append_in_one_statement`), built once:
    the stored message with `created` false if the `client_id` was seen (in this store's
    conversation), else the message inserted with the conversation's next seq and `created`
    true; no row if the conversation is not the store's. Parameters are `new_<column>`: a
    parameter named like a column of a table the statement writes would be SET as well."""
    messages = MessageRow.__table__
    store_id = sa.bindparam("new_store_id", type_=sa.String)
    conversation_id = sa.bindparam("new_conversation_id", type_=sa.String)
    client_id = sa.bindparam("new_client_id", type_=sa.String)
    created_at = sa.bindparam("new_created_at", type_=sa.DateTime(timezone=True))
    role = sa.bindparam("new_role", type_=sa.String)
    shown = ("seq", "role", "text", "language", "client_id", "citations", "meta", "created_at")
    seen = (
        sa.select(*(messages.c[name] for name in shown))
        .where(
            messages.c.store_id == store_id,
            messages.c.conversation_id == conversation_id,
            messages.c.client_id == client_id,
        )
        .cte("seen")
    )
    numbered = (
        sa.update(ConversationRow)
        .where(
            ConversationRow.id == conversation_id,
            ConversationRow.store_id == store_id,
            ~sa.exists(sa.select(seen.c.seq)),
        )
        .values(
            last_seq=ConversationRow.last_seq + 1,
            answered_seq=_answered_on_append(role),
            updated_at=created_at,
        )
        .returning(ConversationRow.last_seq)
        .cte("numbered")
    )
    inserted = (
        sa.insert(MessageRow)
        .from_select(
            ["store_id", "conversation_id", "seq", *shown[1:]],
            sa.select(
                store_id,
                conversation_id,
                numbered.c.last_seq,
                role,
                sa.bindparam("new_text", type_=sa.Text),
                sa.bindparam("new_language", type_=sa.String),
                client_id,
                sa.bindparam("new_citations", type_=sa.JSON),
                sa.bindparam("new_meta", type_=sa.JSON),
                created_at,
            ),
        )
        .returning(*(messages.c[name] for name in shown))
        .cte("inserted")
    )
    return sa.union_all(
        sa.select(inserted, sa.true().label("created")),
        sa.select(seen, sa.false().label("created")),
    )


async def _note_handoff(
    session: AsyncSession,
    store_id: str,
    conversation_id: str,
    target: OwnerState,
    reason: str | None,
    agent_id: int | None,
    now: datetime,
) -> None:
    """Keep the handoff record in step: opened when queued, taken, closed when it ends."""
    if target is OwnerState.QUEUED:
        session.add(
            HandoffRow(store_id=store_id, conversation_id=conversation_id, reason=reason or "")
        )
        return
    latest = await session.scalar(
        sa.select(HandoffRow)
        .where(
            HandoffRow.store_id == store_id,
            HandoffRow.conversation_id == conversation_id,
            HandoffRow.closed_at.is_(None),
        )
        .order_by(HandoffRow.id.desc())
        .limit(1)
    )
    if latest is None:
        return
    if target is OwnerState.HUMAN:
        latest.taken_by, latest.taken_at = agent_id, now
    else:
        latest.closed_at = now


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


def _conversation(row: ConversationRow | sa.Row[Any]) -> Conversation:
    """A thread, from its table row or from a statement's returned row."""
    return Conversation(
        id=row.id,
        store_id=row.store_id,
        session=row.session,
        state=OwnerState(row.state),
        language=row.language,
        customer_id=row.customer_id,
        handoff_reason=row.handoff_reason,
        last_seq=row.last_seq,
        assigned_agent_id=row.assigned_agent_id,
        state_since=row.state_since,
        contact_email=row.contact_email,
        answered_seq=row.answered_seq,
        handback_note=row.handback_note,
        offered_agent_id=row.offered_agent_id,
    )


def _message(row: Any, prefix: str = "", *, record: bool = False) -> Message:
    """A stored message, from its table row, from a statement's returned row (whose message
    columns are labelled `prefix` + name when joined with another table's) or, with `record`,
    from a row asyncpg returned."""

    def column(name: str) -> Any:
        return row[prefix + name] if record else getattr(row, prefix + name)

    return Message(
        seq=column("seq"),
        role=Role(column("role")),
        text=column("text"),
        language=column("language"),
        client_id=column("client_id"),
        citations=list(column("citations")),
        created_at=column("created_at"),
        meta=dict(column("meta")),
    )
