"""Turn an uploaded file into a `LoadedDocument`: type from content, encoding detected."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePath

from knowledge.documents import LoadedDocument, Section
from knowledge.errors import UnreadableDocument
from knowledge.loaders.docx import docx_sections
from knowledge.loaders.faq import csv_sections, json_sections
from knowledge.loaders.html import html_sections
from knowledge.loaders.pdf import pdf_sections
from knowledge.loaders.sniff import KINDS, decode_text, detect_kind, extension_kind
from knowledge.loaders.text import markdown_sections, text_sections

MAX_FILE_BYTES = 20 * 1024 * 1024
"""Bigger files are refused before they are read; FAQ and policy documents are far smaller."""

__all__ = ["KINDS", "MAX_FILE_BYTES", "detect_kind", "load_document", "too_big_message"]


def too_big_message(size: int, limit: int = MAX_FILE_BYTES) -> str:
    """What a merchant reads when a file is over the limit."""
    return (
        f"the file is too big ({size / 1_048_576:.0f} MB; the limit is "
        f"{limit / 1_048_576:.0f} MB): split it into smaller documents"
    )


def load_document(
    name: str,
    data: bytes,
    *,
    columns: Mapping[str, str] | None = None,
    max_bytes: int = MAX_FILE_BYTES,
) -> LoadedDocument:
    """Read one file; `columns` maps FAQ tables' question/answer columns when names are unusual.

    Raises `UnreadableDocument` with a reason a merchant understands.
    """
    if len(data) > max_bytes:
        raise UnreadableDocument(too_big_message(len(data), max_bytes))
    kind = detect_kind(name, data)
    warnings: list[str] = []
    hinted = extension_kind(name)
    if hinted and hinted != kind and {hinted, kind} not in ({"markdown", "text"},):
        warnings.append(f"the file is named like {hinted} but contains {kind}; read as {kind}")
    title: str | None = None
    sections: list[Section]
    if kind == "pdf":
        title, sections, pdf_warnings = pdf_sections(data)
        warnings += pdf_warnings
    elif kind == "docx":
        title, sections = docx_sections(data)
    else:
        text = decode_text(data)
        if kind == "html":
            title, sections = html_sections(text)
        elif kind == "csv":
            sections = csv_sections(text, columns)
        elif kind == "json":
            sections = json_sections(text, columns)
        elif kind == "markdown":
            sections = markdown_sections(text)
        else:
            sections = text_sections(text)
    sections = [section for section in sections if section.text.strip()]
    if not sections:
        raise UnreadableDocument(f"no text found in this {kind} file")
    title = title or _first_heading(sections) or _title_from_name(name)
    return LoadedDocument(name=name, kind=kind, title=title, sections=sections, warnings=warnings)


def _first_heading(sections: list[Section]) -> str | None:
    first = sections[0]
    return first.path[0] if first.path and not first.faq else None


def _title_from_name(name: str) -> str:
    stem = PurePath(name).stem
    return re.sub(r"[_-]+", " ", stem).strip() or name
