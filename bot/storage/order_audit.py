"""The audit log: who changed what, with the record before and after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.storage.database import Database
from bot.storage.tables import AuditRow


@dataclass(frozen=True)
class AuditEntry:
    """One recorded write."""

    actor: str
    action: str
    target: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    created_at: datetime


class AuditLog:
    """Append to and read a store's audit log."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def record(
        self,
        store_id: str,
        actor: str,
        action: str,
        target: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
        """Append one entry in its own transaction (writes in a transaction audit inside it)."""
        async with self.database.session() as session:
            session.add(
                AuditRow(
                    store_id=store_id,
                    actor=actor,
                    action=action,
                    target=target,
                    before=before,
                    after=after,
                )
            )

    async def entries(self, store_id: str, target: str | None = None) -> list[AuditEntry]:
        """The store's entries, oldest first, optionally for one target (`order:#W…`)."""
        query = sa.select(AuditRow).where(AuditRow.store_id == store_id)
        if target is not None:
            query = query.where(AuditRow.target == target)
        async with self.database.session() as session:
            rows = await session.scalars(query.order_by(AuditRow.id))
            return [
                AuditEntry(
                    actor=row.actor,
                    action=row.action,
                    target=row.target,
                    before=row.before,
                    after=row.after,
                    created_at=row.created_at,
                )
                for row in rows
            ]
