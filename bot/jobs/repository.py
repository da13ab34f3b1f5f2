"""Jobs in the database: created queued, then running with progress, then done or failed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from bot.domain.errors import NotFound
from bot.storage.database import Database
from bot.storage.tables import JobRow, utcnow

STATES = ("queued", "running", "done", "failed")


@dataclass(frozen=True)
class Job:
    """A job as the API shows it."""

    id: str
    store_id: str
    kind: str
    state: str
    processed: int
    total: int
    errors: list[dict[str, Any]]
    payload: dict[str, Any] = field(default_factory=dict)

    def view(self) -> dict[str, Any]:
        """The `GET /jobs/{id}` body."""
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "processed": self.processed,
            "total": self.total,
            "errors": self.errors,
            "files": self.payload.get("results", []),
        }


def _job(row: JobRow) -> Job:
    return Job(
        id=row.id,
        store_id=row.store_id,
        kind=row.kind,
        state=row.state,
        processed=row.processed,
        total=row.total,
        errors=list(row.errors or []),
        payload=dict(row.payload or {}),
    )


class JobRepository:
    """Create jobs and record their progress; every read is scoped to a store."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def create(
        self,
        store_id: str,
        kind: str,
        total: int,
        payload: dict[str, Any],
        *,
        job_id: str | None = None,
    ) -> Job:
        """A queued job."""
        row = JobRow(
            id=job_id or str(uuid.uuid4()),
            store_id=store_id,
            kind=kind,
            state="queued",
            processed=0,
            total=total,
            errors=[],
            payload=payload,
        )
        async with self.database.session() as session:
            session.add(row)
        return _job(row)

    async def get(self, store_id: str, job_id: str) -> Job:
        """The job, or `NotFound` (also when it belongs to another store)."""
        async with self.database.session() as session:
            row = await session.get(JobRow, job_id)
            if row is None or row.store_id != store_id:
                raise NotFound(f"job {job_id} not found")
            return _job(row)

    async def start(self, job_id: str) -> None:
        """Mark it running."""
        await self._update(job_id, state="running", started_at=utcnow())

    async def progress(
        self, job_id: str, processed: int, errors: list[dict[str, Any]], results: list[Any]
    ) -> None:
        """Record how far it got, which files failed and what happened to each file."""
        async with self.database.session() as session:
            row = await session.get(JobRow, job_id)
            if row is None:
                raise NotFound(f"job {job_id} not found")
            row.processed = processed
            row.errors = list(errors)
            row.payload = {**(row.payload or {}), "results": list(results)}

    async def finish(self, job_id: str, state: str) -> None:
        """Mark it done or failed."""
        await self._update(job_id, state=state, finished_at=utcnow())

    async def unfinished(self) -> list[Job]:
        """Jobs that were queued or running when a process stopped (to resume them)."""
        async with self.database.session() as session:
            rows = await session.scalars(
                sa.select(JobRow).where(JobRow.state.in_(("queued", "running")))
            )
            return [_job(row) for row in rows]

    async def _update(self, job_id: str, **values: Any) -> None:
        async with self.database.session() as session:
            await session.execute(sa.update(JobRow).where(JobRow.id == job_id).values(**values))
