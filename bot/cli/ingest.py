"""`parley ingest PATH... --store STORE`: index files and folders with a progress bar."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bot.domain.errors import NotFound
from bot.jobs import Job
from bot.settings import Settings


def expand(paths: Sequence[Path]) -> tuple[list[Path], list[str]]:
    """Files named or found in folders (hidden ones skipped), and the paths that do not exist."""
    files: list[Path] = []
    missing: list[str] = []
    for path in paths:
        if path.is_dir():
            files += sorted(
                item
                for item in path.rglob("*")
                if item.is_file() and not any(part.startswith(".") for part in item.parts[-1:])
            )
        elif path.is_file():
            files.append(path)
        else:
            missing.append(str(path))
    return files, missing


async def ingest_command(settings: Settings, store: str, paths: Sequence[Path]) -> int:
    """Index the files now; print one line per bad file. Returns the exit code."""
    from bot.wiring import open_parley

    files, missing = expand(paths)
    out, err = Console(soft_wrap=True), Console(stderr=True, soft_wrap=True)
    for path in missing:
        err.print(f"parley: {path}: no such file or folder", markup=False, highlight=False)
    parley = await open_parley(settings)
    try:
        if not await parley.stores.exists(store):
            raise NotFound(f"store {store!r} does not exist; create it with `parley store create`")
        if not files:
            err.print("parley: no files to ingest", markup=False, highlight=False)
            return 1
        with Progress(
            TextColumn("[bold]indexing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=err,
            transient=False,
        ) as progress:
            task = progress.add_task("", total=len(files))

            async def advance(job: Job, result: dict[str, Any]) -> None:
                progress.update(task, completed=job.processed, description=str(result["file"]))

            job = await parley.knowledge.ingest_paths(store, files, on_progress=advance)
    finally:
        await parley.close()
    for result in job.payload.get("results", []):
        out.print(_line(result), markup=False, highlight=False)
    for error in job.errors:
        err.print(f"parley: {error['file']}: {error['message']}", markup=False, highlight=False)
    return 1 if job.errors or missing else 0


def _line(result: dict[str, Any]) -> str:
    status = result.get("status")
    if status == "indexed":
        warnings = "".join(f"; note: {warning}" for warning in result.get("warnings") or [])
        return (
            f"indexed {result['file']}: {result['chunks']} chunks, "
            f"{result.get('type')}, language {result.get('language')}{warnings}"
        )
    if status == "unchanged":
        return f"unchanged {result['file']} (already indexed)"
    if status == "duplicate":
        return f"skipped {result['file']}: {result.get('note')}"
    return f"failed {result['file']}: {result.get('error')}"
