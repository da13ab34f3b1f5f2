"""`parley eval tau2-replay`: replay τ²-bench gold actions through Parley's own tools and
compare the end state with the reference.

Each task runs on a fresh copy of one imported SQLite template (import once, copy per task),
authenticated as the task's customer, every write proposed and then confirmed, with the
τ²-compatibility switch on so the arithmetic and quirks are the reference's.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.domain.errors import ParleyError
from bot.domain.orders import ORDER_OPTIONAL_FIELDS, catalog_from_tau2
from bot.domain.policy import Verification, tau2_policy
from bot.storage import Database, connect, migrate
from bot.storage.orders import SqlOrderStore
from bot.tools.context import ToolContext
from bot.tools.registry import TOOLS, call_tool, confirm
from bot.tools.schemas import ConfirmArgs
from bot.wiring import tool_services

STORE = "tau2"
MONEY_KEYS = frozenset({"price", "amount", "balance", "exchange_price_difference"})


@dataclass
class TaskOutcome:
    """What replaying one task gave, and how it differs from the reference."""

    task_id: str
    errors: list[dict[str, Any]]
    export: dict[str, Any]
    problems: list[str] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        """Errors and end state both equal the reference."""
        return not self.problems


def load_json(path: Path) -> Any:
    """A JSON file, or a `ParleyError` naming it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ReplayInputError(f"cannot read {path}: {error}") from error


class ReplayInputError(ParleyError):
    """A tasks, expected or database file is missing or unreadable."""

    code = "replay_input"


def gold_actions(task: dict[str, Any]) -> list[dict[str, Any]]:
    """The task's gold actions, name and arguments only."""
    actions = (task.get("evaluation_criteria") or {}).get("actions") or []
    return [{"name": a["name"], "arguments": a.get("arguments") or {}} for a in actions]


async def task_customer(
    orders: SqlOrderStore, store_id: str, actions: list[dict[str, Any]]
) -> str | None:
    """Whom the task's shopper is: the first lookup that succeeds, else the owner of the first
    order or account the actions name. The replay runs authenticated as them."""
    async with orders.session(store_id) as session:
        for action in actions:
            args = action["arguments"]
            try:
                if action["name"] == "find_user_id_by_email":
                    return await session.customer_by_email(args["email"])
                if action["name"] == "find_user_id_by_name_zip":
                    return await session.customer_by_name_zip(
                        args["first_name"], args["last_name"], args["zip"]
                    )
            except ParleyError:
                continue
        for action in actions:
            args = action["arguments"]
            try:
                if "order_id" in args:
                    return (await session.order(args["order_id"])).user_id
            except ParleyError:
                continue
            if "user_id" in args:
                return str(args["user_id"])
    return None


async def replay(ctx: ToolContext, actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Call every action in order; a write is proposed and then confirmed (the gold actions
    count as confirmed). A failing call is recorded and the replay goes on."""
    errors = []
    for index, action in enumerate(actions):
        name, arguments = action["name"], action["arguments"]
        try:
            result = await call_tool(ctx, name, arguments)
            if TOOLS[name].kind == "write":
                await confirm(ctx, ConfirmArgs(action_id=result["action_id"]))
        except ParleyError as error:
            errors.append(
                {"index": index, "name": name, "arguments": arguments, "message": error.message}
            )
    return errors


def normalise(document: dict[str, Any]) -> dict[str, Any]:
    """A database as the reference loads it: unset order fields null, money as floats."""

    def money(value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            return {k: money(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [money(v) for v in value]
        if key in MONEY_KEYS and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        return value

    out: dict[str, Any] = money(document)
    for order in out.get("orders", {}).values():
        for key in ORDER_OPTIONAL_FIELDS:
            order.setdefault(key, None)
    return out


def reference_state(initial: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """The (normalised) initial database with the records the task changes replaced."""
    reference = {table: dict(records) for table, records in initial.items()}
    for table, records in (expected.get("changed") or {}).items():
        for key, record in records.items():
            if record is None:
                reference[table].pop(key, None)
            else:
                reference[table][key] = normalise({table: {key: record}})[table][key]
    return reference


def _same(a: Any, b: Any) -> bool:
    # Strict: 1 != 1.0 != True, as the reference's hash would see it.
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def compare(outcome: TaskOutcome, expected: dict[str, Any], initial: dict[str, Any]) -> None:
    """Fill `outcome.problems` with every difference from the reference, one line each.

    `initial` is the normalised initial database (see `normalise`)."""
    want = [(e["index"], e["message"]) for e in expected.get("errors", [])]
    got = [(e["index"], e["message"]) for e in outcome.errors]
    if want != got:
        outcome.problems.append(f"task {outcome.task_id}: errors {got} != expected {want}")
    reference = reference_state(initial, expected)
    export = normalise(outcome.export)
    if set(reference) != set(export):
        outcome.problems.append(f"task {outcome.task_id}: tables {sorted(export)} differ")
        return
    for table in reference:
        for key in sorted(set(reference[table]) | set(export[table])):
            mine, theirs = export[table].get(key), reference[table].get(key)
            if not _same(mine, theirs):
                outcome.problems.append(
                    f"task {outcome.task_id}: {table} {key} differs: expected "
                    f"{json.dumps(theirs, sort_keys=True)[:300]}, got "
                    f"{json.dumps(mine, sort_keys=True)[:300]}"
                )


async def replay_task(
    database: Database, store_id: str, actions: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Replay on a store that holds a freshly imported database; `(errors, export)`."""
    orders = SqlOrderStore(database)
    ctx = ToolContext(
        services=tool_services(database, orders),
        store_id=store_id,
        policy=tau2_policy(),
        customer_id=await task_customer(orders, store_id, actions),
        # τ²'s shoppers are verified by email (or name and zip), which its policy lets write.
        verified_by={Verification.EMAIL.value},
        tau2_compat=True,
    )
    errors = await replay(ctx, actions)
    return errors, await orders.export_document(store_id)


class Tau2Replayer:
    """Replays tasks on fresh copies of one imported database."""

    def __init__(self, db_path: Path, workdir: Path) -> None:
        self.db_path = db_path
        self.workdir = workdir
        self.template = workdir / "template.db"
        self.initial: dict[str, Any] = {}
        """The normalised initial database."""

    async def prepare(self) -> None:
        """Migrate a SQLite file and import the database into it once."""
        self.initial = normalise(load_json(self.db_path))
        database = await connect(f"sqlite+aiosqlite:///{self.template}")
        try:
            await migrate(database)
            orders = SqlOrderStore(database)
            await tool_services(database, orders).stores.create(STORE, "τ²-bench retail")
            await orders.import_catalog(STORE, catalog_from_tau2(self.initial))
        finally:
            await database.close()

    async def run(self, task_id: str, actions: list[dict[str, Any]]) -> TaskOutcome:
        """Replay one task on a fresh copy of the template; the export is in the outcome."""
        copy = self.workdir / f"task-{task_id}.db"
        shutil.copyfile(self.template, copy)
        database: Database = await connect(f"sqlite+aiosqlite:///{copy}")
        try:
            errors, export = await replay_task(database, STORE, actions)
        finally:
            await database.close()
            for path in copy.parent.glob(f"{copy.name}*"):
                path.unlink()
        return TaskOutcome(task_id=task_id, errors=errors, export=export)


async def run_replay(
    tasks_path: Path,
    expected_dir: Path,
    db_path: Path | None = None,
    echo: Callable[[str], None] = print,
) -> tuple[int, int]:
    """Replay every task of `tasks_path`; print one line per mismatch; `(matched, total)`."""
    tasks = load_json(tasks_path)
    if not isinstance(tasks, list):
        raise ReplayInputError(f"{tasks_path} is not a list of tasks")
    db_path = db_path or tasks_path.parent / "db.json"
    started = time.perf_counter()
    matched = 0
    with tempfile.TemporaryDirectory(prefix="parley-tau2-") as tmp:
        replayer = Tau2Replayer(db_path, Path(tmp))
        await replayer.prepare()
        for task in tasks:
            task_id = str(task["id"])
            expected = load_json(expected_dir / f"{task_id}.json")
            outcome = await replayer.run(task_id, gold_actions(task))
            compare(outcome, expected, replayer.initial)
            for line in outcome.problems:
                echo(line)
            matched += outcome.matches
    echo(f"{matched}/{len(tasks)} tasks match ({time.perf_counter() - started:.1f} s)")
    return matched, len(tasks)
