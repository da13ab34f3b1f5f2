"""Word documents (.docx): heading styles become the section path; zip bombs are refused."""

from __future__ import annotations

import io
import re
import zipfile

from knowledge.documents import Section
from knowledge.errors import UnreadableDocument

MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_RATIO = 200
_HEADING_STYLE = re.compile(r"^(heading|überschrift|titre|título|titolo|kop)\s*(\d)", re.I)


def check_zip_safe(data: bytes) -> None:
    """Refuse archives that unpack to far more than they weigh (zip bombs)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as error:
        raise UnreadableDocument("the .docx file is damaged and cannot be opened") from error
    total = sum(info.file_size for info in infos)
    packed = max(1, sum(info.compress_size for info in infos))
    if total > MAX_UNPACKED_BYTES or (total > 10 * 1024 * 1024 and total / packed > MAX_RATIO):
        raise UnreadableDocument(
            f"the .docx file unpacks to {total // (1024 * 1024)} MB from "
            f"{len(data) // 1024} KB: it looks like a zip bomb and was not opened"
        )


def docx_sections(data: bytes) -> tuple[str | None, list[Section]]:
    """Title and sections of a .docx; tables become `cell | cell` lines."""
    check_zip_safe(data)
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise UnreadableDocument(
            f"the .docx file is damaged and cannot be read ({error})"
        ) from error
    except Exception as error:  # lxml raises XMLSyntaxError and friends for broken parts
        raise UnreadableDocument(
            f"the .docx file is damaged and cannot be read ({error})"
        ) from error
    title = (document.core_properties.title or "").strip() or None
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    body: list[str] = []

    def flush() -> None:
        text = "\n\n".join(part for part in body if part).strip()
        if text:
            sections.append(Section(tuple(name for _, name in path), text))
        body.clear()

    for block in _blocks(document):
        if isinstance(block, str):
            body.append(block)
            continue
        level, text = block
        flush()
        if level == 0:
            title = title or text
            continue
        path = [(lvl, name) for lvl, name in path if lvl < level]
        path.append((level, text))
    flush()
    return title, sections


def _blocks(document: object) -> list[str | tuple[int, str]]:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    out: list[str | tuple[int, str]] = []
    for item in document.iter_inner_content():  # type: ignore[attr-defined]
        if isinstance(item, Paragraph):
            text = item.text.strip()
            if not text:
                continue
            style = (item.style.name if item.style is not None else "") or ""
            match = _HEADING_STYLE.match(style)
            if style.lower() == "title":
                out.append((0, text))
            elif match:
                out.append((int(match.group(2)), text))
            else:
                out.append(text)
        elif isinstance(item, Table):
            rows = []
            for row in item.rows:
                cells = [cell.text.strip() for cell in row.cells]
                rows.append(" | ".join(cell for cell in cells if cell))
            out.append("\n".join(row for row in rows if row))
    return out
