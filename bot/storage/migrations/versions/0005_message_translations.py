"""message_translations: a message translated into another language, stored with it

Revision ID: 0005_message_translations
Revises: 0004_live_chat
Create Date: 2026-12-07 09:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_message_translations"
down_revision: str | Sequence[str] | None = "0004_live_chat"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "message_translations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("source_language", sa.String(length=8), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("dropped", sa.JSON(), nullable=False),
        sa.Column("candidate", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_message_translations_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_message_translations_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_translations")),
        sa.UniqueConstraint(
            "store_id",
            "conversation_id",
            "seq",
            "language",
            name="uq_message_translations_message_language",
        ),
    )
    with op.batch_alter_table("message_translations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_translations_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_message_translations_store_id"), ["store_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("message_translations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_translations_store_id"))
        batch_op.drop_index(batch_op.f("ix_message_translations_conversation_id"))
    op.drop_table("message_translations")
