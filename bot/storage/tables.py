"""Relational schema. Every row that belongs to a store carries `store_id`."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    """Timezone-aware now, the only clock storage uses."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base; naming convention keeps constraint names equal on SQLite and Postgres."""

    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: sa.JSON,
        list[Any]: sa.JSON,
        datetime: sa.DateTime(timezone=True),
        Decimal: sa.Numeric(12, 2),
    }


def _store_fk() -> Mapped[str]:
    return mapped_column(sa.String(64), sa.ForeignKey("stores.id", ondelete="CASCADE"), index=True)


class StoreRow(Base):
    """A tenant: one online store with its policy and identity secret."""

    __tablename__ = "stores"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    identity_secret: Mapped[str] = mapped_column(sa.String(128))
    policy: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKeyRow(Base):
    """A widget (public `pk_`) or merchant (secret `sk_`) key; only its hash is kept."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    store_id: Mapped[str] = _store_fk()
    kind: Mapped[str] = mapped_column(sa.String(16))
    prefix: Mapped[str] = mapped_column(sa.String(16))
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class AgentRow(Base):
    """A support agent or store admin who logs in to the console or admin pages."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    store_id: Mapped[str] = _store_fk()
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[str] = mapped_column(sa.String(16), default="agent")
    languages: Mapped[list[Any]] = mapped_column(default=list)
    max_concurrent: Mapped[int] = mapped_column(default=5)
    """How many threads the agent holds at once before no more are offered to them."""
    translation: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    """Whether threads in languages the agent does not read may be offered to them."""
    seen_at: Mapped[datetime | None] = mapped_column(default=None)
    """Last sign of an open console socket: agents seen recently are available for offers."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConversationRow(Base):
    """One shopper thread with its single owner state."""

    __tablename__ = "conversations"
    __table_args__ = (
        sa.UniqueConstraint("store_id", "session", name="uq_conversations_store_session"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    store_id: Mapped[str] = _store_fk()
    session: Mapped[str | None] = mapped_column(sa.String(128), default=None)
    """A caller-chosen name for the thread (`parley ask --session`), unique within the store."""
    state: Mapped[str] = mapped_column(sa.String(16), default="bot", index=True)
    language: Mapped[str | None] = mapped_column(sa.String(8), default=None)
    customer_id: Mapped[str | None] = mapped_column(sa.String(128), default=None)
    """The verified order-store user id, once the shopper has proven who they are."""
    assigned_agent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    handoff_reason: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    last_seq: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    state_since: Mapped[datetime | None] = mapped_column(default=None)
    """When the thread entered its state: the queue is served in this order."""
    answered_seq: Mapped[int] = mapped_column(default=0)
    """The last shopper message whose bot turn has run; later ones are still to be answered."""
    turn_holder: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    """The worker running the thread's bot turns, so that only one does at a time..."""
    turn_lease_until: Mapped[datetime | None] = mapped_column(default=None)
    """...until then, unless it renews; a dead worker's unanswered messages are taken over after."""
    contact_email: Mapped[str | None] = mapped_column(sa.String(320), default=None)
    """Where the shopper asked to be written to when no person was available."""
    handback_note: Mapped[str | None] = mapped_column(sa.Text, default=None)
    """What the agent who handed the thread back told the bot; its next turn reads it once."""
    offered_agent_id: Mapped[int | None] = mapped_column(default=None)
    """The agent a queued thread was offered to (any agent may still take it)."""


class OwnerChangeRow(Base):
    """Every change of a conversation's owner state: from, to, who, why (the audit trail)."""

    __tablename__ = "owner_changes"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    store_id: Mapped[str] = _store_fk()
    conversation_id: Mapped[str] = mapped_column(
        sa.ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    from_state: Mapped[str] = mapped_column(sa.String(16))
    to_state: Mapped[str] = mapped_column(sa.String(16))
    actor: Mapped[str] = mapped_column(sa.String(64))
    """`bot`, `shopper`, `agent:<id>` or `system`."""
    reason: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MessageRow(Base):
    """A message with its per-conversation sequence number; `client_id` makes sends idempotent."""

    __tablename__ = "messages"
    __table_args__ = (
        sa.UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),
        sa.UniqueConstraint("conversation_id", "client_id", name="uq_messages_conversation_client"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    store_id: Mapped[str] = _store_fk()
    conversation_id: Mapped[str] = mapped_column(
        sa.ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int]
    role: Mapped[str] = mapped_column(sa.String(16))
    text: Mapped[str] = mapped_column(sa.Text)
    language: Mapped[str | None] = mapped_column(sa.String(8), default=None)
    client_id: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    citations: Mapped[list[Any]] = mapped_column(default=list)
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HandoffRow(Base):
    """Each time a thread went to a person: why, who took it, when it ended."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    store_id: Mapped[str] = _store_fk()
    conversation_id: Mapped[str] = mapped_column(
        sa.ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(sa.String(64))
    detail: Mapped[str | None] = mapped_column(sa.Text, default=None)
    taken_by: Mapped[int | None] = mapped_column(
        sa.ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    taken_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)


class DocumentRow(Base):
    """A merchant's uploaded FAQ or policy document; its chunks live in the vector index."""

    __tablename__ = "documents"
    __table_args__ = (sa.UniqueConstraint("store_id", "name", name="uq_documents_store_name"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    store_id: Mapped[str] = _store_fk()
    name: Mapped[str] = mapped_column(sa.String(512))
    content_type: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    content_hash: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    size: Mapped[int] = mapped_column(default=0)
    language: Mapped[str | None] = mapped_column(sa.String(8), default=None)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    error: Mapped[str | None] = mapped_column(sa.Text, default=None)
    chunk_count: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class JobRow(Base):
    """A background job (ingestion, reindex, translation) with progress and per-item errors."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    store_id: Mapped[str] = _store_fk()
    kind: Mapped[str] = mapped_column(sa.String(32))
    state: Mapped[str] = mapped_column(sa.String(16), default="queued", index=True)
    processed: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list[Any]] = mapped_column(default=list)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    worker: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    """The process running the job; another takes it over once `heartbeat_at` goes stale."""
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")


class PendingActionRow(Base):
    """A write the bot proposed; it runs only when its shopper confirms, once, before expiry."""

    __tablename__ = "pending_actions"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    store_id: Mapped[str] = _store_fk()
    conversation_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("conversations.id", ondelete="CASCADE"), default=None, index=True
    )
    customer_id: Mapped[str] = mapped_column(sa.String(128))
    tool: Mapped[str] = mapped_column(sa.String(64))
    arguments: Mapped[dict[str, Any]] = mapped_column(default=dict)
    summary: Mapped[str] = mapped_column(sa.Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class CaseRow(Base):
    """A return, exchange, cancellation or payment dispute opened for an order."""

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    store_id: Mapped[str] = _store_fk()
    kind: Mapped[str] = mapped_column(sa.String(16))
    state: Mapped[str] = mapped_column(sa.String(24), default="open", index=True)
    order_id: Mapped[str | None] = mapped_column(sa.String(64), default=None, index=True)
    customer_id: Mapped[str | None] = mapped_column(sa.String(128), default=None)
    conversation_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("conversations.id", ondelete="SET NULL"), default=None
    )
    reason: Mapped[str | None] = mapped_column(sa.Text, default=None)
    amount: Mapped[Decimal | None] = mapped_column(default=None)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AuditRow(Base):
    """Every write: who did what to which record, with the record before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    store_id: Mapped[str] = _store_fk()
    actor: Mapped[str] = mapped_column(sa.String(128))
    action: Mapped[str] = mapped_column(sa.String(64))
    target: Mapped[str] = mapped_column(sa.String(128))
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class TranslationRow(Base):
    """A message in another language, kept with it so a reload never asks the model again."""

    __tablename__ = "message_translations"
    __table_args__ = (
        sa.UniqueConstraint(
            "store_id",
            "conversation_id",
            "seq",
            "language",
            name="uq_message_translations_message_language",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    store_id: Mapped[str] = _store_fk()
    conversation_id: Mapped[str] = mapped_column(
        sa.ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int]
    """The message's sequence number in its conversation."""
    language: Mapped[str] = mapped_column(sa.String(8))
    """The language translated into."""
    source_language: Mapped[str | None] = mapped_column(sa.String(8), default=None)
    outcome: Mapped[str] = mapped_column(sa.String(16))
    """`ok`, or `dropped_token` when the check refused it (the original is shown)."""
    text: Mapped[str] = mapped_column(sa.Text)
    """The translation shown and sent: the original's text unless the outcome is `ok`."""
    dropped: Mapped[list[Any]] = mapped_column(default=list)
    candidate: Mapped[str | None] = mapped_column(sa.Text, default=None)
    """What the model wrote, even when refused; never shown."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
