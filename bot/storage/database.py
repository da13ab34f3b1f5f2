"""The async engine and sessions; opening it turns every bad URL into one clear error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.domain.errors import ConfigurationError, ServiceUnavailable

_SUPPORTED = {"sqlite+aiosqlite", "postgresql+asyncpg"}
RECYCLE_S = 1800
"""A PostgreSQL connection is replaced after this long, whatever happened to it: one that a
firewall dropped without a word (its socket still looks open) is not kept forever."""


@dataclass(frozen=True)
class PoolSize:
    """How many PostgreSQL connections one worker holds (SQLite ignores it): `size` kept open,
    up to `overflow` more while busy, and how long a caller waits for one."""

    size: int = 20
    overflow: int = 10
    timeout_s: float = 30.0


def _redact(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return url


class Database:
    """One engine per process; `session()` is a unit of work that commits or rolls back."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        # The same pool, its connections outside a transaction block while checked out.
        statements = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else engine
        )
        self._statements = async_sessionmaker(statements, expire_on_commit=False)
        self._autocommit = statements

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self, *, atomic: bool = True) -> AsyncIterator[AsyncSession]:
        """A transaction: committed when the block ends, rolled back if it raises. With
        `atomic=False` (reads, and writes of one statement) each statement is its own
        transaction: on PostgreSQL no BEGIN and COMMIT round trips, and under READ COMMITTED
        each statement sees what was committed before it either way."""
        maker = self.sessions if atomic else self._statements
        async with maker() as session, session.begin():
            yield session

    @asynccontextmanager
    async def statements(self) -> AsyncIterator[AsyncConnection]:
        """A pooled connection for Core statements, each its own transaction as in
        `session(atomic=False)` (SQLite: committed when the block ends), without an ORM
        session's bookkeeping, which cost more than the statement itself for the live chat's
        hot reads and one-statement writes."""
        if self.dialect == "postgresql":
            async with self._autocommit.connect() as connection:
                yield connection
        else:
            async with self.engine.begin() as connection:
                yield connection

    @asynccontextmanager
    async def driver(self) -> AsyncIterator[Any]:
        """PostgreSQL only: a pooled connection's own asyncpg connection, outside a transaction
        block, for a hot statement compiled once and sent without SQLAlchemy's per-statement
        work (the live chat's append: about 1 ms of 3.5 on this machine). Its errors are
        asyncpg's; a connection that fails mid-statement is dropped, not pooled again."""
        async with self._autocommit.connect() as connection:
            pooled = await connection.get_raw_connection()
            try:
                yield pooled.driver_connection
            except (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError):
                await connection.invalidate()
                raise

    async def ping(self) -> None:
        """Raise `ServiceUnavailable` unless the database answers."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        except (OSError, exc.SQLAlchemyError) as error:
            raise ServiceUnavailable(f"database unreachable: {_first_line(error)}") from error

    async def close(self) -> None:
        """Release every pooled connection."""
        await self.engine.dispose()


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    cursor = dbapi_conn.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _drop_closed(dbapi_conn: Any, _record: object, _proxy: object) -> None:
    """On checkout, refuse a connection whose server has closed it, so the pool opens a new
    one: a PostgreSQL restart (or a terminated backend) closes every connection, and asyncpg
    sees the socket close while it sits in the pool. A local check, unlike `pool_pre_ping`'s
    round trip before every statement."""
    driver = getattr(dbapi_conn, "driver_connection", None)
    if driver is not None and driver.is_closed():
        raise exc.DisconnectionError("the database closed this connection")


def create_database(url: str, pool: PoolSize | None = None) -> Database:
    """Build a `Database` for a SQLite or PostgreSQL URL, or raise `ConfigurationError`."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError as error:
        raise ConfigurationError(f"PARLEY_DATABASE_URL is not a database URL: {url!r}") from error
    driver = parsed.drivername
    if driver in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif driver == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    if parsed.drivername not in _SUPPORTED:
        raise ConfigurationError(
            f"PARLEY_DATABASE_URL {_redact(url)!r}: unsupported driver {driver!r} "
            "(use sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db)"
        )
    if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    if parsed.drivername.startswith("sqlite"):
        engine = create_async_engine(parsed)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        pool = pool or PoolSize()
        engine = create_async_engine(
            parsed,
            pool_size=pool.size,
            max_overflow=pool.overflow,
            pool_timeout=pool.timeout_s,
            pool_recycle=RECYCLE_S,
        )
        # A disconnect found mid-statement still invalidates the whole pool (SQLAlchemy's
        # default), so only the statements already under way fail.
        event.listen(engine.sync_engine, "checkout", _drop_closed)
    return Database(engine)


async def connect(url: str, pool: PoolSize | None = None) -> Database:
    """Create the database and check it answers; a wrong host or name is one clear error."""
    database = create_database(url, pool)
    try:
        await database.ping()
    except ServiceUnavailable as error:
        await database.close()
        reason = error.message.removeprefix("database unreachable: ")
        raise ServiceUnavailable(f"cannot open database {_redact(url)}: {reason}") from error
    return database


def run_sync_migrations(connection: Connection, revision: str = "heads") -> None:
    """Apply Alembic migrations on an open connection (used from `migrate`)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "bot.storage:migrations")
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def migrate(database: Database, revision: str = "heads") -> None:
    """Bring the schema up to date; safe to run on every start."""
    async with database.engine.begin() as conn:
        await conn.run_sync(run_sync_migrations, revision)
