"""The one place that reads settings and picks implementations (database, bus, index)."""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass, field
from typing import Any

import anyio

from bot.domain.errors import ConfigurationError, ServiceUnavailable
from bot.realtime import EventBus, MemoryBus, RedisBus
from bot.settings import Settings
from bot.storage import ConversationRepository, Database, StoreRepository, connect, migrate
from bot.storage.orders import SqlOrderStore
from bot.tools.store import OrderStore

log = logging.getLogger(__name__)


@dataclass
class Parley:
    """Everything a request handler, CLI command or job needs, opened once per process."""

    settings: Settings
    database: Database
    bus: EventBus
    chroma: Any
    secret: str
    """Signs widget and agent tokens; shared by every worker through settings or the data dir."""
    stores: StoreRepository = field(init=False)
    conversations: ConversationRepository = field(init=False)
    orders: OrderStore = field(init=False)
    """Products, customers and orders the order tools work on (built-in SQL store)."""

    def __post_init__(self) -> None:
        self.stores = StoreRepository(self.database)
        self.conversations = ConversationRepository(self.database)
        self.orders = SqlOrderStore(self.database)

    async def readiness(self) -> dict[str, str]:
        """`ok` or the reason, for each backing service."""
        checks: dict[str, str] = {}
        for name, probe in (
            ("database", self.database.ping),
            ("bus", self.bus.ping),
            ("index", self._ping_index),
        ):
            try:
                await probe()
                checks[name] = "ok"
            except ServiceUnavailable as error:
                checks[name] = error.message
        return checks

    async def _ping_index(self) -> None:
        try:
            await anyio.to_thread.run_sync(self.chroma.heartbeat)
        except Exception as error:  # Chroma raises many types; any of them means "not ready".
            raise ServiceUnavailable(f"vector index unreachable: {error}") from error

    async def close(self) -> None:
        """Close every connection this process opened."""
        await self.bus.close()
        await self.database.close()


def make_bus(settings: Settings) -> EventBus:
    """Redis pub/sub when `PARLEY_REDIS_URL` is set, else in-process."""
    if settings.redis_url:
        return RedisBus(settings.redis_url)
    return MemoryBus()


def open_chroma(settings: Settings) -> Any:
    """A Chroma server client when `PARLEY_CHROMA_URL` is set, else an embedded persistent one."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        from urllib.parse import urlparse

        url = urlparse(settings.chroma_url)
        if not url.hostname:
            raise ConfigurationError(f"PARLEY_CHROMA_URL is not a URL: {settings.chroma_url!r}")
        return chromadb.HttpClient(
            host=url.hostname,
            port=url.port or 8000,
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    path = settings.data_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


async def open_parley(settings: Settings, *, run_migrations: bool = True) -> Parley:
    """Connect every backing service and migrate the schema; one clear error on failure."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = await connect(settings.resolved_database_url)
    try:
        if run_migrations:
            await migrate(database)
        bus = make_bus(settings)
        chroma = await anyio.to_thread.run_sync(open_chroma, settings)
    except BaseException:
        await database.close()
        raise
    return Parley(
        settings=settings,
        database=database,
        bus=bus,
        chroma=chroma,
        secret=session_secret(settings),
    )


def session_secret(settings: Settings) -> str:
    """`PARLEY_SESSION_SECRET`, or a random one kept in the data dir so all workers agree."""
    if settings.session_secret:
        return settings.session_secret
    path = settings.data_dir / "session-secret"
    try:  # O_EXCL: when several workers start at once, exactly one writes the secret.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
