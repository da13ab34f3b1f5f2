"""Translations of messages, stored with them: a reload reads them, never the model again."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.domain.errors import NotFound
from bot.domain.translation import Outcome, Translation
from bot.storage.database import Database
from bot.storage.tables import MessageRow, TranslationRow


class TranslationRepository:
    """Reads and writes of message translations; every call names its store."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def translation_for(
        self, store_id: str, conversation_id: str, seq: int, language: str
    ) -> Translation | None:
        """The stored translation of message `seq` into `language`, or None."""
        async with self.database.session() as session:
            found = (
                await session.execute(
                    sa.select(TranslationRow, MessageRow.text)
                    .join(
                        MessageRow,
                        sa.and_(
                            MessageRow.store_id == TranslationRow.store_id,
                            MessageRow.conversation_id == TranslationRow.conversation_id,
                            MessageRow.seq == TranslationRow.seq,
                        ),
                    )
                    .where(
                        TranslationRow.store_id == store_id,
                        TranslationRow.conversation_id == conversation_id,
                        TranslationRow.seq == seq,
                        TranslationRow.language == language,
                    )
                )
            ).first()
        if found is None:
            return None
        row, original = found
        return Translation(
            original=original,
            source=row.source_language,
            target=row.language,
            outcome=Outcome(row.outcome),
            text=row.text,
            dropped=tuple(row.dropped),
            candidate=row.candidate,
        )

    async def save_translation(
        self, store_id: str, conversation_id: str, seq: int, translation: Translation
    ) -> Translation:
        """Keep `translation` for message `seq`; if one was kept first (a concurrent request),
        that one stands and is returned, so both sides see the same text."""
        try:
            async with self.database.session() as session:
                message = await session.scalar(
                    sa.select(MessageRow.id).where(
                        MessageRow.store_id == store_id,
                        MessageRow.conversation_id == conversation_id,
                        MessageRow.seq == seq,
                    )
                )
                if message is None:
                    raise NotFound("message not found")
                session.add(
                    TranslationRow(
                        store_id=store_id,
                        conversation_id=conversation_id,
                        seq=seq,
                        language=translation.target,
                        source_language=translation.source,
                        outcome=translation.outcome.value,
                        text=translation.text,
                        dropped=list(translation.dropped),
                        candidate=translation.candidate,
                    )
                )
        except IntegrityError:
            kept = await self.translation_for(store_id, conversation_id, seq, translation.target)
            if kept is None:
                raise
            return kept
        return translation
