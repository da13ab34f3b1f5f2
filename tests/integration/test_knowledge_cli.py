"""`parley ingest` as a merchant runs it: folders, a progress bar, one line per bad file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import RetrievalSettings, Settings
from bot.wiring import open_parley
from tests.unit.knowledge_files import encrypted_pdf

pytestmark = pytest.mark.integration


def parley(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "PARLEY_DATA_DIR": str(data_dir),
        "PARLEY_LOG_JSON": "false",
        "PARLEY_RETRIEVAL__EMBEDDER": "hashing",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
    )


async def test_ingest_indexes_good_files_and_names_each_bad_one(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    docs = tmp_path / "docs"
    (docs / "faq").mkdir(parents=True)
    (docs / "returns.md").write_text("# Returns\n\nReturn any item within 30 days.\n")
    (docs / "faq" / "faq_fr.csv").write_text("question,réponse\nLivrez-vous en Suisse ?,Oui.\n")
    (docs / "faq" / "locked.pdf").write_bytes(encrypted_pdf(["secret"]))
    (docs / "empty.txt").write_bytes(b"")
    (docs / ".hidden.md").write_text("# Hidden\n\nnot indexed\n")
    assert parley("store", "create", "cli-shop", data_dir=data_dir).returncode == 0

    result = parley("ingest", str(docs), str(tmp_path / "missing.md"), "--store", "cli-shop",
                    data_dir=data_dir)  # fmt: skip
    assert result.returncode == 1
    errors = result.stderr
    assert "parley: empty.txt: the file is empty" in errors
    assert "parley: locked.pdf: the PDF is password-protected" in errors
    assert f"parley: {tmp_path / 'missing.md'}: no such file or folder" in errors
    assert "indexing" in errors and "4/4" in errors  # the progress bar
    assert "indexed returns.md: 1 chunks, markdown, language en" in result.stdout
    assert "indexed faq_fr.csv: 1 chunks, csv, language fr" in result.stdout

    settings = Settings(
        data_dir=data_dir, llm="none", retrieval=RetrievalSettings(embedder="hashing")
    )
    opened = await open_parley(settings)
    try:
        names = sorted(d.name for d in await opened.knowledge.list("cli-shop"))
        found = await opened.knowledge.search("cli-shop", "Livrez-vous en Suisse")
    finally:
        await opened.close()
    assert names == ["empty.txt", "faq_fr.csv", "locked.pdf", "returns.md"]
    assert found.passages[0].document == "faq_fr.csv"

    again = parley("ingest", str(docs / "returns.md"), "--store", "cli-shop", data_dir=data_dir)
    assert again.returncode == 0, again.stderr
    assert "unchanged returns.md (already indexed)" in again.stdout


def test_ingest_into_a_missing_store_is_one_clear_line(tmp_path: Path) -> None:
    source = tmp_path / "a.md"
    source.write_text("# A\n\ntext\n")
    result = parley("ingest", str(source), "--store", "nope", data_dir=tmp_path / "data")
    assert result.returncode == 1
    assert "store 'nope' does not exist" in result.stderr
