"""Jobs in the database: created queued, then running with progress, then done or failed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.domain.errors import NotFound
from bot.storage.database import Database
from bot.storage.tables import JobRow, utcnow

STATES = ("queued", "running", "done", "failed")


class JobLost(Exception):
    """Another worker took the job over (this one stalled past its lease); stop working on it."""


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
    attempts: int = 0
    """How many times a worker claimed it: above 1, it was resumed after a stop."""
    heartbeat_at: datetime | None = None
    """When its worker last said it was on it, or handed it back."""

    @property
    def stop_mark(self) -> str:
        """Names the stop a left-behind job is resumed from (see `JobRef.resume`)."""
        if self.heartbeat_at is None:
            return ""
        return f"{self.attempts}-{self.heartbeat_at.replace(tzinfo=UTC).timestamp():.0f}"

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
        attempts=row.attempts or 0,
        heartbeat_at=row.heartbeat_at,
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

    async def recent(self, store_id: str, *, limit: int = 50) -> list[Job]:
        """The store's most recent jobs, newest first."""
        async with self.database.session() as session:
            rows = await session.scalars(
                sa.select(JobRow)
                .where(JobRow.store_id == store_id)
                .order_by(JobRow.created_at.desc())
                .limit(limit)
            )
            return [_job(row) for row in rows]

    async def claim(self, job_id: str, worker: str, *, lease_s: float) -> bool:
        """Make `worker` the job's only runner: a queued job, or a running one whose runner has
        not sent a heartbeat for `lease_s` (it died). False when another worker holds it."""
        now = utcnow()
        stale = now - timedelta(seconds=lease_s)
        claimable = sa.or_(
            JobRow.state == "queued",
            sa.and_(
                JobRow.state == "running",
                sa.or_(JobRow.heartbeat_at.is_(None), JobRow.heartbeat_at < stale),
            ),
        )
        async with self.database.session() as session:
            result = await session.execute(
                sa.update(JobRow)
                .where(JobRow.id == job_id, claimable)
                .values(
                    state="running",
                    worker=worker,
                    heartbeat_at=now,
                    attempts=JobRow.attempts + 1,
                    started_at=sa.func.coalesce(JobRow.started_at, now),
                )
                .execution_options(synchronize_session=False)
            )
            return _rowcount(result) == 1

    async def heartbeat(self, job_id: str, worker: str) -> bool:
        """Say the worker is still on the job; False when it lost the job to another."""
        return await self._held(job_id, worker, {"heartbeat_at": utcnow()})

    async def progress(
        self,
        job_id: str,
        processed: int,
        errors: list[dict[str, Any]],
        results: list[Any],
        *,
        payload: dict[str, Any],
        worker: str,
    ) -> None:
        """Record how far it got, which files failed and what happened to each file (one
        write per batch of files); raises `JobLost` when another worker holds the job."""
        held = await self._held(
            job_id,
            worker,
            {
                "processed": processed,
                "errors": list(errors),
                "payload": {**payload, "results": list(results)},
                "heartbeat_at": utcnow(),
            },
        )
        if not held:
            raise JobLost(job_id)

    async def finish(self, job_id: str, state: str, *, worker: str) -> None:
        """Mark it done or failed; raises `JobLost` when another worker holds the job."""
        held = await self._held(
            job_id,
            worker,
            {"state": state, "finished_at": utcnow(), "worker": None, "heartbeat_at": None},
        )
        if not held:
            raise JobLost(job_id)

    async def release(self, job_id: str, worker: str) -> None:
        """Hand a job this worker stopped (shutdown) back to the queue, for any worker at once;
        a shutdown is not the job's fault, so it does not count as an attempt."""
        await self._held(
            job_id,
            worker,
            {
                "state": "queued",
                "worker": None,
                "heartbeat_at": utcnow(),  # marks this stop, for the queue id it resumes under
                "attempts": JobRow.attempts - 1,
            },
        )

    async def abandon(self, job_id: str, message: str, *, lease_s: float) -> None:
        """Fail a left-behind job for good (it stopped its workers too often), unless a worker
        has taken it meanwhile."""
        stale = utcnow() - timedelta(seconds=lease_s)
        async with self.database.session() as session:
            row = await session.get(JobRow, job_id, with_for_update=True)
            if row is None or row.state not in ("queued", "running"):
                return
            if row.heartbeat_at is not None and row.heartbeat_at.replace(tzinfo=UTC) >= stale:
                return
            row.state = "failed"
            row.worker = None
            row.finished_at = utcnow()
            row.errors = [
                *(row.errors or []),
                {"file": None, "code": "stalled", "message": message},
            ]

    async def resumable(self, *, lease_s: float) -> list[Job]:
        """Jobs left behind by a stopped process: running without a heartbeat for `lease_s`,
        handed back at a shutdown, or queued for longer than `lease_s`. Every store's: a worker
        serves them all, and each job carries its store."""
        stale = utcnow() - timedelta(seconds=lease_s)
        async with self.database.session() as session:
            rows = await session.scalars(
                sa.select(JobRow)
                .where(
                    sa.or_(
                        sa.and_(
                            JobRow.state == "running",
                            sa.or_(JobRow.heartbeat_at.is_(None), JobRow.heartbeat_at < stale),
                        ),
                        # handed back at a shutdown (started before), or queued so long ago
                        # that the process that queued it must be gone
                        sa.and_(
                            JobRow.state == "queued",
                            sa.or_(JobRow.started_at.is_not(None), JobRow.created_at < stale),
                        ),
                    )
                )
                .order_by(JobRow.created_at)
            )
            return [_job(row) for row in rows]

    async def _held(self, job_id: str, worker: str, values: dict[str, Any]) -> bool:
        async with self.database.session() as session:
            result = await session.execute(
                sa.update(JobRow)
                .where(JobRow.id == job_id, JobRow.worker == worker, JobRow.state == "running")
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            return _rowcount(result) == 1


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
