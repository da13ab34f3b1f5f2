"""The widget stays small on the wire: the loader every store page pays for under 10 KB, the
whole chat (loader, iframe page, scripts, styles, every language's strings) under 60 KB, gzipped."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

WIDGET = Path(__file__).resolve().parents[2] / "widget"
STATIC = WIDGET / "static"
LOADER_LIMIT = 10 * 1024
WIDGET_LIMIT = 60 * 1024


def gzipped(path: Path) -> int:
    """Bytes of `path` gzipped at level 6, what web servers commonly use (level 9 is smaller)."""
    return len(gzip.compress(path.read_bytes(), compresslevel=6))


def chat_assets() -> list[Path]:
    """Every file the chat iframe page loads, read from its own tags so a new file counts."""
    page = (STATIC / "chat.html").read_text(encoding="utf-8")
    referenced = re.findall(r'(?:src|href)="/widget/([^"]+)"', page)
    return [STATIC / "chat.html", *(STATIC / name for name in referenced)]


def test_the_chat_page_loads_only_files_that_exist() -> None:
    assets = chat_assets()
    names = {path.name for path in assets}
    assert {"chat.html", "chat.css", "chat.js"} <= names
    missing = [path.name for path in assets if not path.is_file()]
    assert missing == []


def test_the_loader_is_under_10_kb_gzipped() -> None:
    size = gzipped(STATIC / "parley.js")
    assert size < LOADER_LIMIT, f"parley.js is {size} bytes gzipped"


def test_the_whole_widget_is_under_60_kb_gzipped() -> None:
    files = [STATIC / "parley.js", *chat_assets(), WIDGET / "strings.json"]
    sizes = {path.name: gzipped(path) for path in files}
    total = sum(sizes.values())
    assert total < WIDGET_LIMIT, f"{total} bytes gzipped: {sizes}"
