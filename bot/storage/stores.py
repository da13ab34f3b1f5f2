"""Stores (tenants), their keys and their agents."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.domain.credentials import key_hash, new_key
from bot.domain.errors import Conflict, NotFound, Unauthorized
from bot.domain.passwords import check_password, hash_password, spend_check_time
from bot.storage.database import Database
from bot.storage.tables import AgentRow, ApiKeyRow, StoreRow, utcnow

_STORE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{1,62}$")
ROLES = ("agent", "admin")


@dataclass(frozen=True)
class NewStore:
    """A freshly created store with its keys; the secret key is shown only this once."""

    store: str
    public_key: str
    secret_key: str


@dataclass(frozen=True)
class Agent:
    """A logged-in person of a store."""

    id: int
    store_id: str
    email: str
    role: str
    languages: list[str]
    capacity: int = 5
    """Threads the agent takes at once."""
    translation: bool = True
    """Whether threads in languages they do not read may be offered to them."""


class StoreRepository:
    """Create stores, look them up by key, manage their agents."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def create(
        self, store_id: str, name: str | None = None, *, public_key: str | None = None
    ) -> NewStore:
        """Create a store with one public and one secret key (a fixed public key for demos)."""
        if not _STORE_ID.match(store_id):
            raise Conflict(
                f"store id {store_id!r} must be 2-63 lowercase letters, digits, '-' or '_'"
            )
        public_key, secret_key = public_key or new_key("pk"), new_key("sk")
        try:
            async with self.database.session() as session:
                session.add(
                    StoreRow(
                        id=store_id,
                        name=name or store_id,
                        identity_secret=secrets.token_urlsafe(32),
                        policy={},
                    )
                )
                await session.flush()
                for kind, key in (("public", public_key), ("secret", secret_key)):
                    session.add(
                        ApiKeyRow(
                            store_id=store_id, kind=kind, prefix=key[:7], key_hash=key_hash(key)
                        )
                    )
        except IntegrityError as error:
            raise Conflict(f"store {store_id!r} already exists") from error
        return NewStore(store=store_id, public_key=public_key, secret_key=secret_key)

    async def exists(self, store_id: str) -> bool:
        """Whether a store with this id exists."""
        async with self.database.session() as session:
            return await session.get(StoreRow, store_id) is not None

    async def store_for_key(self, key: str, kind: str) -> str:
        """The store a live key of this kind belongs to, or `Unauthorized`."""
        async with self.database.session() as session:
            row = await session.scalar(
                sa.select(ApiKeyRow).where(
                    ApiKeyRow.key_hash == key_hash(key),
                    ApiKeyRow.kind == kind,
                    ApiKeyRow.revoked_at.is_(None),
                )
            )
        if row is None:
            raise Unauthorized(f"unknown {kind} key")
        return row.store_id

    async def identity_secret(self, store_id: str) -> str:
        """The secret a store signs its logged-in shoppers' ids with."""
        async with self.database.session() as session:
            row = await session.get(StoreRow, store_id)
            if row is None:
                raise NotFound(f"store {store_id!r} not found")
            return row.identity_secret

    async def policy(self, store_id: str) -> dict[str, Any]:
        """The store's policy document as stored."""
        async with self.database.session() as session:
            row = await session.get(StoreRow, store_id)
            if row is None:
                raise NotFound(f"store {store_id!r} not found")
            return dict(row.policy)

    async def set_policy(self, store_id: str, policy: dict[str, Any]) -> None:
        """Replace the store's policy document."""
        async with self.database.session() as session:
            row = await session.get(StoreRow, store_id)
            if row is None:
                raise NotFound(f"store {store_id!r} not found")
            row.policy = policy

    async def add_agent(
        self,
        store_id: str,
        email: str,
        password: str,
        role: str = "agent",
        languages: list[str] | None = None,
    ) -> Agent:
        """Add a support agent or admin to a store."""
        if role not in ROLES:
            raise Conflict(f"role must be one of {', '.join(ROLES)}")
        if len(password) < 8:
            raise Conflict("password must have at least 8 characters")
        email = email.strip().lower()
        password_hash = await anyio.to_thread.run_sync(hash_password, password)
        try:
            async with self.database.session() as session:
                if await session.get(StoreRow, store_id) is None:
                    raise NotFound(f"store {store_id!r} not found")
                row = AgentRow(
                    store_id=store_id,
                    email=email,
                    password_hash=password_hash,
                    role=role,
                    languages=languages or ["en"],
                )
                session.add(row)
                await session.flush()
                return _agent(row)
        except IntegrityError as error:
            raise Conflict(f"an agent with email {email} already exists") from error

    async def agent(self, agent_id: int) -> Agent:
        """The agent with this id (e.g. from a session token), or `Unauthorized` if gone."""
        async with self.database.session() as session:
            row = await session.get(AgentRow, agent_id)
        if row is None:
            raise Unauthorized("this login no longer exists")
        return _agent(row)

    async def authenticate(self, email: str, password: str) -> Agent:
        """The agent with this email and password, or `Unauthorized`.

        A match on an outdated hash (scrypt from before argon2, or weaker argon2 parameters)
        stores a fresh argon2 hash, so old logins keep working and are upgraded as they sign in."""
        async with self.database.session() as session:
            row = await session.scalar(
                sa.select(AgentRow).where(AgentRow.email == email.strip().lower())
            )
        if row is None:
            await anyio.to_thread.run_sync(spend_check_time, password)
            raise Unauthorized("wrong email or password")
        check = await anyio.to_thread.run_sync(check_password, password, row.password_hash)
        if not check.matches:
            raise Unauthorized("wrong email or password")
        if check.needs_rehash:
            await self._rehash(row.id, row.password_hash, password)
        return _agent(row)

    async def _rehash(self, agent_id: int, old_hash: str, password: str) -> None:
        new_hash = await anyio.to_thread.run_sync(hash_password, password)
        async with self.database.session() as session:
            # Only replace the hash that was checked: a password changed meanwhile wins.
            await session.execute(
                sa.update(AgentRow)
                .where(AgentRow.id == agent_id, AgentRow.password_hash == old_hash)
                .values(password_hash=new_hash)
            )

    async def set_preferences(
        self,
        store_id: str,
        agent_id: int,
        *,
        languages: list[str],
        capacity: int,
        translation: bool,
    ) -> Agent:
        """Set the languages an agent reads, how many threads they take at once, and whether
        they work through translation."""
        if capacity < 1:
            raise Conflict("capacity must be at least 1")
        async with self.database.session() as session:
            row = await session.scalar(
                sa.select(AgentRow).where(AgentRow.id == agent_id, AgentRow.store_id == store_id)
            )
            if row is None:
                raise NotFound("agent not found")
            row.languages = languages
            row.max_concurrent = capacity
            row.translation = translation
            await session.flush()
            return _agent(row)

    async def mark_seen(self, store_id: str, agent_id: int) -> None:
        """The agent's console socket is open now (presence for offers, across workers)."""
        async with self.database.session() as session:
            await session.execute(
                sa.update(AgentRow)
                .where(AgentRow.id == agent_id, AgentRow.store_id == store_id)
                .values(seen_at=utcnow())
                .execution_options(synchronize_session=False)
            )

    async def mark_away(self, store_id: str, agent_id: int) -> None:
        """The agent's console socket closed."""
        async with self.database.session() as session:
            await session.execute(
                sa.update(AgentRow)
                .where(AgentRow.id == agent_id, AgentRow.store_id == store_id)
                .values(seen_at=None)
                .execution_options(synchronize_session=False)
            )

    async def present(self, store_id: str, since: datetime) -> list[Agent]:
        """The store's agents whose console was seen since `since`."""
        async with self.database.session() as session:
            rows = await session.scalars(
                sa.select(AgentRow)
                .where(AgentRow.store_id == store_id, AgentRow.seen_at >= since)
                .order_by(AgentRow.id)
            )
            return [_agent(row) for row in rows]


def _agent(row: AgentRow) -> Agent:
    return Agent(
        id=row.id,
        store_id=row.store_id,
        email=row.email,
        role=row.role,
        languages=[str(language) for language in row.languages],
        capacity=row.max_concurrent,
        translation=bool(row.translation),
    )
