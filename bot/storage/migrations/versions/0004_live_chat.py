"""live chat: the owner-state audit trail, queue order, turn leases, a shopper's contact email

Revision ID: 0004_live_chat
Revises: 0003_job_leases
Create Date: 2026-12-07 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_live_chat"
down_revision: str | Sequence[str] | None = "0003_job_leases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("answered_seq", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("turn_holder", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("turn_lease_until", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("contact_email", sa.String(length=320), nullable=True))
    # Threads that existed before live chat have had every turn run.
    op.execute("UPDATE conversations SET answered_seq = last_seq, state_since = updated_at")
    op.create_table(
        "owner_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_owner_changes_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_owner_changes_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_owner_changes")),
    )
    with op.batch_alter_table("owner_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_owner_changes_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_owner_changes_store_id"), ["store_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("owner_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_owner_changes_store_id"))
        batch_op.drop_index(batch_op.f("ix_owner_changes_conversation_id"))
    op.drop_table("owner_changes")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("contact_email")
        batch_op.drop_column("turn_lease_until")
        batch_op.drop_column("turn_holder")
        batch_op.drop_column("answered_seq")
        batch_op.drop_column("state_since")
