"""Pending actions (a write waiting for its shopper's yes) and whom a thread is verified as."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.domain.errors import Conflict, Forbidden, NotFound
from bot.storage.database import Database
from bot.storage.tables import ConversationRow, PendingActionRow, utcnow


class ActionNotFound(NotFound):
    """No pending action with this id for this shopper."""

    code = "action_not_found"


class ActionUsed(Conflict):
    """The action was already confirmed once; a confirmation works only once."""

    code = "action_used"


class ActionExpired(Conflict):
    """The action waited too long for its confirmation."""

    code = "action_expired"


class AlreadyVerified(Forbidden):
    """The conversation is bound to another customer; one customer per conversation."""

    code = "already_verified"


@dataclass(frozen=True)
class PendingAction:
    """A proposed write: the tool, its arguments and the summary the shopper confirms."""

    id: str
    store_id: str
    conversation_id: str | None
    customer_id: str
    tool: str
    arguments: dict[str, Any]
    summary: str
    expires_at: datetime


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything Parley stores is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


class PendingActionRepository:
    """Create pending actions and claim them exactly once, before they expire."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def create(
        self,
        store_id: str,
        customer_id: str,
        tool: str,
        arguments: dict[str, Any],
        summary: str,
        ttl: timedelta,
        conversation_id: str | None = None,
        now: datetime | None = None,
    ) -> PendingAction:
        """Store a proposed write; it runs only through `claim`."""
        now = now or utcnow()
        row = PendingActionRow(
            id=str(uuid.uuid4()),
            store_id=store_id,
            conversation_id=conversation_id,
            customer_id=customer_id,
            tool=tool,
            arguments=arguments,
            summary=summary,
            created_at=now,
            expires_at=now + ttl,
        )
        async with self.database.session() as session:
            session.add(row)
        return _action(row)

    async def claim(
        self,
        store_id: str,
        action_id: str,
        customer_id: str,
        conversation_id: str | None = None,
        now: datetime | None = None,
    ) -> PendingAction:
        """Mark the action used and return it; a second claim, a late one, or one by another
        shopper or conversation fails with a typed error."""
        now = now or utcnow()
        async with self.database.session() as session:
            row = await session.scalar(
                sa.select(PendingActionRow).where(
                    PendingActionRow.id == action_id, PendingActionRow.store_id == store_id
                )
            )
            if (
                row is None
                or row.customer_id != customer_id
                or (conversation_id is not None and row.conversation_id != conversation_id)
            ):
                raise ActionNotFound(
                    "There is no action with this id waiting for your confirmation."
                )
            if row.used_at is not None:
                raise ActionUsed("This action was already confirmed; it runs only once.")
            if _aware(row.expires_at) <= now:
                raise ActionExpired(
                    "This confirmation has expired; please ask again and I will prepare it anew."
                )
            # The conditional UPDATE is the single-use guarantee when two confirmations race.
            claimed = await session.execute(
                sa.update(PendingActionRow)
                .where(
                    PendingActionRow.id == action_id,
                    PendingActionRow.store_id == store_id,
                    PendingActionRow.used_at.is_(None),
                )
                .values(used_at=now)
                .execution_options(synchronize_session=False)
            )
            if getattr(claimed, "rowcount", 0) != 1:
                raise ActionUsed("This action was already confirmed; it runs only once.")
            return _action(row)

    async def record_result(self, store_id: str, action_id: str, result: dict[str, Any]) -> None:
        """Keep what the confirmed action returned (or the error it met)."""
        async with self.database.session() as session:
            await session.execute(
                sa.update(PendingActionRow)
                .where(PendingActionRow.id == action_id, PendingActionRow.store_id == store_id)
                .values(result=result)
            )


class CustomerBinding:
    """Which verified customer a conversation speaks for; set once, never changed."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def bind(self, store_id: str, conversation_id: str, customer_id: str) -> None:
        """Bind the conversation to `customer_id` unless it is bound to someone else."""
        async with self.database.session() as session:
            row = await session.scalar(
                sa.select(ConversationRow)
                .where(ConversationRow.id == conversation_id, ConversationRow.store_id == store_id)
                .with_for_update()
            )
            if row is None:
                raise NotFound("conversation not found")
            if row.customer_id not in (None, customer_id):
                raise AlreadyVerified(
                    "This conversation is already verified for another customer; "
                    "I can help only that customer here."
                )
            row.customer_id = customer_id

    async def bound(self, store_id: str, conversation_id: str) -> str | None:
        """The customer the conversation is verified as, if any."""
        async with self.database.session() as session:
            return await session.scalar(
                sa.select(ConversationRow.customer_id).where(
                    ConversationRow.id == conversation_id, ConversationRow.store_id == store_id
                )
            )


def _action(row: PendingActionRow) -> PendingAction:
    return PendingAction(
        id=row.id,
        store_id=row.store_id,
        conversation_id=row.conversation_id,
        customer_id=row.customer_id,
        tool=row.tool,
        arguments=dict(row.arguments),
        summary=row.summary,
        expires_at=_aware(row.expires_at),
    )
