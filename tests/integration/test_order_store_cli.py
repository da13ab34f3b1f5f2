"""`parley store import|export --format tau2` and `parley eval tau2-replay`, as run by hand."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
PARLEY = [sys.executable, "-m", "bot.cli"]


def parley(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PARLEY_DATA_DIR": str(data_dir), "PARLEY_LOG_JSON": "false"}
    return subprocess.run(
        [*PARLEY, *args], capture_output=True, text=True, env=environment, timeout=300, check=False
    )


def test_import_then_export_round_trips_the_tau2_database(tmp_path: Path, eval_dir: Path) -> None:
    db = eval_dir / "tau2_retail" / "db.json"
    assert parley("store", "create", "acme", data_dir=tmp_path).returncode == 0
    imported = parley(
        "store", "import", "--format", "tau2", str(db), "--store", "acme", data_dir=tmp_path
    )
    assert imported.returncode == 0, imported.stderr
    assert "1000 orders" in imported.stdout
    exported = parley("store", "export", "--format", "tau2", "--store", "acme", data_dir=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout) == json.loads(db.read_text())
    assert exported.stdout.rstrip("\n") == db.read_text()

    unknown = parley("store", "export", "--format", "csv", "--store", "acme", data_dir=tmp_path)
    assert unknown.returncode == 1 and "unknown format 'csv'" in unknown.stderr
    missing = parley("store", "import", str(db), "--store", "nope", data_dir=tmp_path)
    assert missing.returncode == 1 and "store 'nope' not found" in missing.stderr


def test_tau2_replay_reports_matches_and_mismatches(tmp_path: Path, eval_dir: Path) -> None:
    tau2 = eval_dir / "tau2_retail"
    tasks = json.loads((tau2 / "tasks_train.json").read_text())
    chosen = [t for t in tasks if str(t["id"]) in {"20", "105", "24"}]
    tasks_file = tmp_path / "tasks.json"
    tasks_file.write_text(json.dumps(chosen))
    ok = parley(
        "eval",
        "tau2-replay",
        "--tasks",
        str(tasks_file),
        "--expected",
        str(tau2 / "expected"),
        "--db",
        str(tau2 / "db.json"),
        data_dir=tmp_path,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "3/3 tasks match" in ok.stdout

    # A doctored reference end state is reported, one line per difference, and exits 1.
    expected = tmp_path / "expected"
    expected.mkdir()
    for task in chosen:
        name = f"{task['id']}.json"
        (expected / name).write_text((tau2 / "expected" / name).read_text())
    doctored = json.loads((expected / "20.json").read_text())
    order = next(iter(doctored["changed"]["orders"].values()))
    order["status"] = "pending"
    (expected / "20.json").write_text(json.dumps(doctored))
    bad = parley(
        "eval",
        "tau2-replay",
        "--tasks",
        str(tasks_file),
        "--expected",
        str(expected),
        "--db",
        str(tau2 / "db.json"),
        data_dir=tmp_path,
    )
    assert bad.returncode == 1
    assert f"task 20: orders {order['order_id']} differs" in bad.stdout
    assert "2/3 tasks match" in bad.stdout
