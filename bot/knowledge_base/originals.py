"""Uploaded files on disk: spooled per job until indexed, then kept per document as its original
so a reindex can read it again."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import anyio


@dataclass(frozen=True)
class Upload:
    """A file received from a merchant, already on disk (the API spools it, the CLI points)."""

    name: str
    path: Path
    size: int


class Originals:
    """Where a store's files live in the data dir: `uploads/<job>/` while a job waits, and
    `documents/<store>/<document>` once a version of the document is indexed."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    async def spool(self, job_id: str, number: int, upload: Upload) -> Path:
        """Copy an upload beside its job's other files, for the job to read."""
        blob = self.data_dir / "uploads" / job_id / f"{number:04d}"
        await anyio.to_thread.run_sync(copy_file, upload.path, blob)
        return blob

    async def drop_spooled(self, job_id: str) -> None:
        """Delete a finished job's spooled files."""
        folder = self.data_dir / "uploads" / job_id
        await anyio.to_thread.run_sync(lambda: shutil.rmtree(folder, ignore_errors=True))

    def path(self, store_id: str, document_id: str) -> Path:
        """Where the document's original is kept."""
        return self.data_dir / "documents" / store_id / document_id

    async def keep(self, blob: Path, store_id: str, document_id: str) -> None:
        """Keep `blob` as the document's original (unless it is that file already)."""
        original = self.path(store_id, document_id)
        if blob != original:
            await anyio.to_thread.run_sync(copy_file, blob, original)

    async def drop(self, store_id: str, document_id: str) -> None:
        """Delete the document's original."""
        original = self.path(store_id, document_id)
        await anyio.to_thread.run_sync(lambda: original.unlink(missing_ok=True))


def clean_name(name: str) -> str:
    """A document's name from an uploaded file name: no folders, at most 500 characters."""
    cleaned = Path(name.replace("\\", "/")).name.strip()
    return cleaned[:500] or "document"


def copy_file(source: Path, target: Path) -> None:
    """Copy through a temporary name, so a reader never sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(source, tmp)
    tmp.replace(target)
