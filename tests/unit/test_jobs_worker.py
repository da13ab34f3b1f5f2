"""The dedicated arq worker's settings: read from the environment when arq asks, not on import."""

from __future__ import annotations

import pytest

import bot.jobs.worker as worker


def test_the_worker_reads_redis_when_arq_starts_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARLEY_REDIS_URL", "redis://127.0.0.1:6379/5")
    settings = worker.WorkerSettings
    assert settings["redis_settings"].database == 5
    assert settings["functions"] == [worker.run_parley_job]
    monkeypatch.setenv("PARLEY_REDIS_URL", "redis://127.0.0.1:6379/6")
    assert worker.WorkerSettings["redis_settings"].database == 6
