"""Dispute and chargeback cases with their evidence packs; every change is audited."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from bot.domain.errors import NotFound
from bot.domain.orders import Case, CaseState, move_case
from bot.storage.database import Database
from bot.storage.tables import AuditRow, CaseRow, utcnow


class CaseRepository:
    """Open cases and move them through their states; every call names its store."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def open(
        self,
        store_id: str,
        *,
        kind: str,
        state: CaseState,
        actor: str,
        order_id: str | None,
        customer_id: str | None,
        conversation_id: str | None,
        reason: str,
        amount: Decimal | None,
        evidence: dict[str, Any],
    ) -> Case:
        """A new case, with an audit entry in the same transaction."""
        row = CaseRow(
            id=str(uuid.uuid4()),
            store_id=store_id,
            kind=kind,
            state=state.value,
            order_id=order_id,
            customer_id=customer_id,
            conversation_id=conversation_id,
            reason=reason,
            amount=None,
            # The amount travels as exact text in the evidence; the numeric column is for
            # reports and would pass through a float on SQLite.
            evidence={**evidence, "amount": None if amount is None else str(amount)},
            created_at=utcnow(),
        )
        async with self.database.session() as session:
            session.add(row)
            session.add(
                AuditRow(
                    store_id=store_id,
                    actor=actor,
                    action="open_case",
                    target=f"case:{row.id}",
                    before=None,
                    after={"kind": kind, "state": state.value, "order_id": order_id},
                )
            )
        return _case(row)

    async def get(self, store_id: str, case_id: str) -> Case:
        """The case, only if it belongs to this store."""
        async with self.database.session() as session:
            row = await session.scalar(
                sa.select(CaseRow).where(CaseRow.id == case_id, CaseRow.store_id == store_id)
            )
            if row is None:
                raise NotFound("case not found")
            return _case(row)

    async def of_conversation(self, store_id: str, conversation_id: str) -> list[Case]:
        """The cases opened in one thread, newest first (the agent console shows them)."""
        async with self.database.session() as session:
            rows = await session.scalars(
                sa.select(CaseRow)
                .where(CaseRow.store_id == store_id, CaseRow.conversation_id == conversation_id)
                .order_by(CaseRow.created_at.desc())
            )
            return [_case(row) for row in rows]

    async def move(self, store_id: str, case_id: str, target: CaseState, actor: str) -> Case:
        """Move a case to `target` if its state allows; audited."""
        async with self.database.session() as session:
            row = await session.scalar(
                sa.select(CaseRow)
                .where(CaseRow.id == case_id, CaseRow.store_id == store_id)
                .with_for_update()
            )
            if row is None:
                raise NotFound("case not found")
            before = row.state
            row.state = move_case(CaseState(row.state), target).value
            session.add(
                AuditRow(
                    store_id=store_id,
                    actor=actor,
                    action="move_case",
                    target=f"case:{case_id}",
                    before={"state": before},
                    after={"state": row.state},
                )
            )
            await session.flush()
            return _case(row)


def _case(row: CaseRow) -> Case:
    amount = row.evidence.get("amount")
    return Case(
        id=row.id,
        store_id=row.store_id,
        kind=row.kind,
        state=CaseState(row.state),
        order_id=row.order_id,
        customer_id=row.customer_id,
        conversation_id=row.conversation_id,
        reason=row.reason,
        amount=None if amount is None else Decimal(amount),
        evidence=dict(row.evidence),
        created_at=row.created_at,
    )
