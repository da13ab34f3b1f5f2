"""agent console: a hand-back note and an offered agent per thread; agents' translation and presence

Revision ID: 0006_console
Revises: 0005_message_translations
Create Date: 2026-12-07 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_console"
down_revision: str | Sequence[str] | None = "0005_message_translations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("handback_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("offered_agent_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("translation", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("seen_at")
        batch_op.drop_column("translation")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("offered_agent_id")
        batch_op.drop_column("handback_note")
