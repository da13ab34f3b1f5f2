"""Every τ²-bench retail train task, replayed through Parley's tools, ends in the reference
state (checked with the shared check.py) and fails exactly where the reference fails."""

from __future__ import annotations

import asyncio
import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bot.domain.orders import catalog_from_tau2
from bot.storage import Database, StoreRepository
from bot.storage.orders import SqlOrderStore
from evals.tau2_replay import Tau2Replayer, gold_actions, replay_task
from tests.conftest import EVAL_DIR

pytestmark = pytest.mark.integration

TAU2 = EVAL_DIR.resolve() / "tau2_retail"
TASKS: list[dict[str, Any]] = (
    json.loads((TAU2 / "tasks_train.json").read_text()) if TAU2.is_dir() else []
)
# Tasks whose end state depends on the reference's float arithmetic and quirks, and the one
# whose only write fails; they also run on PostgreSQL, where money is a `numeric`.
QUIRK_TASKS = ("20", "21", "37", "105")


@pytest.fixture(scope="module")
def check() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tau2_check", TAU2 / "check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def replayer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tau2Replayer]:
    # One import for the whole module; every task runs on its own copy of it.
    replayer = Tau2Replayer(TAU2 / "db.json", tmp_path_factory.mktemp("tau2"))
    asyncio.run(replayer.prepare())
    yield replayer


@pytest.fixture(scope="module")
def initial(check: ModuleType) -> dict[str, Any]:
    normalised: dict[str, Any] = check.normalise_db(
        json.loads((TAU2 / "db.json").read_text()), drop_extra=True
    )
    return normalised


def _differences(
    check: ModuleType, initial: dict[str, Any], export: dict[str, Any], task_id: str
) -> list[Any]:
    """check.py's own comparison (as its `main` does it), with the initial database
    normalised once for the whole module."""
    expected = json.loads((TAU2 / "expected" / f"{task_id}.json").read_text())
    reference = {table: dict(records) for table, records in initial.items()}
    for table, records in expected.get("changed", {}).items():
        for key, record in records.items():
            reference[table][key] = check.normalise(record, check.TABLES[table], True)
    diffs: list[Any] = []
    check.compare(reference, check.normalise_db(export, drop_extra=False), [], diffs, 0.0)
    return diffs


def _errors(items: list[dict[str, Any]]) -> list[tuple[int, str, str]]:
    return [(e["index"], e["name"], e["message"]) for e in items]


def _check(check: ModuleType, export: dict[str, Any], task_id: str, tmp_path: Path) -> int:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    status: int = check.main(
        [str(path), str(TAU2 / "expected" / f"{task_id}.json"), "--initial", str(TAU2 / "db.json")]
    )
    return status


def test_the_train_split_is_there(eval_dir: Path) -> None:
    assert len(TASKS) == 74, f"expected the 74 τ² train tasks under {eval_dir}"


@pytest.mark.parametrize("task", TASKS, ids=[str(t["id"]) for t in TASKS])
async def test_task_replays_to_the_reference_end_state(
    task: dict[str, Any], replayer: Tau2Replayer, check: ModuleType, initial: dict[str, Any]
) -> None:
    task_id = str(task["id"])
    expected = json.loads((TAU2 / "expected" / f"{task_id}.json").read_text())
    outcome = await replayer.run(task_id, gold_actions(task))
    assert _errors(outcome.errors) == _errors(expected["errors"])
    assert _differences(check, initial, outcome.export, task_id) == []


@pytest.mark.parametrize("task_id", QUIRK_TASKS)
async def test_quirk_tasks_replay_exactly_on_both_databases(
    task_id: str, database: Database, check: ModuleType, tmp_path: Path
) -> None:
    task = next(t for t in TASKS if str(t["id"]) == task_id)
    await StoreRepository(database).create("tau2")
    document = json.loads((TAU2 / "db.json").read_text())
    await SqlOrderStore(database).import_catalog("tau2", catalog_from_tau2(document))
    errors, export = await replay_task(database, "tau2", gold_actions(task))
    expected = json.loads((TAU2 / "expected" / f"{task_id}.json").read_text())
    assert _errors(errors) == _errors(expected["errors"])
    assert _check(check, export, task_id, tmp_path) == 0  # check.py's command, hash included


def test_check_py_catches_a_default_mode_replay(check: ModuleType, tmp_path: Path) -> None:
    """Without the τ²-compatibility switch, task 20 differs (exact prices per item): the
    comparison is able to fail."""
    from bot.domain.orders import catalog_to_tau2
    from bot.domain.policy import Verification, tau2_policy
    from bot.storage import connect, migrate
    from bot.tools.context import ToolContext
    from bot.wiring import tool_services
    from evals.tau2_replay import replay, task_customer

    async def default_mode() -> dict[str, Any]:
        database = await connect(f"sqlite+aiosqlite:///{tmp_path / 'default.db'}")
        try:
            await migrate(database)
            await StoreRepository(database).create("tau2")
            orders = SqlOrderStore(database)
            document = json.loads((TAU2 / "db.json").read_text())
            await orders.import_catalog("tau2", catalog_from_tau2(document))
            actions = gold_actions(next(t for t in TASKS if str(t["id"]) == "20"))
            ctx = ToolContext(
                services=tool_services(database, orders),
                store_id="tau2",
                policy=tau2_policy(),
                customer_id=await task_customer(orders, "tau2", actions),
                verified_by={Verification.EMAIL.value},
            )
            await replay(ctx, actions)
            return catalog_to_tau2(await orders.export_catalog("tau2"))
        finally:
            await database.close()

    export = asyncio.run(default_mode())
    assert _check(check, export, "20", tmp_path) == 1
