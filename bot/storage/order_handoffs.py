"""What the bot tells the person who takes over: the summary kept with the latest handoff."""

from __future__ import annotations

import sqlalchemy as sa

from bot.storage.database import Database
from bot.storage.tables import HandoffRow


class HandoffNotes:
    """Attach the bot's summary to a conversation's most recent handoff."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def add(self, store_id: str, conversation_id: str, summary: str) -> bool:
        """Keep `summary` with the latest handoff of the conversation; `False` if it has none."""
        async with self.database.session() as session:
            latest = await session.scalar(
                sa.select(HandoffRow)
                .where(
                    HandoffRow.store_id == store_id,
                    HandoffRow.conversation_id == conversation_id,
                )
                .order_by(HandoffRow.id.desc())
                .limit(1)
            )
            if latest is None:
                return False
            latest.detail = summary
            return True

    async def latest(self, store_id: str, conversation_id: str) -> str | None:
        """The summary kept with the latest handoff, if any."""
        async with self.database.session() as session:
            return await session.scalar(
                sa.select(HandoffRow.detail)
                .where(
                    HandoffRow.store_id == store_id,
                    HandoffRow.conversation_id == conversation_id,
                )
                .order_by(HandoffRow.id.desc())
                .limit(1)
            )
