"""Alembic environment: runs on the connection Parley hands over, or on `sqlalchemy.url`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from bot.storage import order_tables  # noqa: F401  (registers the order store's tables)
from bot.storage.tables import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set sqlalchemy.url, or run migrations through `parley migrate`")
    with create_engine(url).connect() as sync_connection:
        _run(sync_connection)
        sync_connection.commit()
