"""PDF text (including CJK through the fonts' Unicode maps); scanned pages are reported."""

from __future__ import annotations

import io
import logging

from knowledge.documents import Section
from knowledge.errors import UnreadableDocument
from knowledge.loaders.text import text_sections

MIN_PAGE_CHARS = 3


def pdf_sections(data: bytes) -> tuple[str | None, list[Section], list[str]]:
    """Title, sections and warnings (pages without text) of a PDF."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                unlocked = reader.decrypt("")
            except (DependencyError, NotImplementedError) as error:
                raise UnreadableDocument(
                    "the PDF is encrypted; save it without a password and upload it again"
                ) from error
            if not unlocked:
                raise UnreadableDocument(
                    "the PDF is password-protected; save it without a password and upload it again"
                )
        pages: list[str] = []
        for page in reader.pages:
            pages.append(page.extract_text() or "")
        metadata = reader.metadata
        title = str(metadata.title).strip() if metadata and metadata.title else None
    except UnreadableDocument:
        raise
    except (FileNotDecryptedError, DependencyError) as error:
        raise UnreadableDocument(
            "the PDF is encrypted; save it without a password and upload it again"
        ) from error
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as error:
        raise UnreadableDocument(f"the PDF is damaged and cannot be read ({error})") from error
    except RecursionError as error:
        raise UnreadableDocument("the PDF is damaged (its structure loops)") from error
    if not pages:
        raise UnreadableDocument("the PDF has no pages")
    empty = [number for number, text in enumerate(pages, 1) if len(text.strip()) < MIN_PAGE_CHARS]
    if len(empty) == len(pages):
        raise UnreadableDocument(
            f"no text: the PDF's {len(pages)} page(s) are images (a scan?); text recognition "
            "(OCR) is not supported, so upload a PDF with text or the original document"
        )
    warnings = []
    if empty:
        listed = ", ".join(str(number) for number in empty[:20])
        warnings.append(f"no text on page(s) {listed} (scanned images are not indexed)")
    sections = text_sections("\n\n".join(_rejoin(page) for page in pages))
    return title, sections, warnings


def _rejoin(page: str) -> str:
    # PDF lines are layout lines; keep paragraph breaks (blank lines) and short heading lines.
    out: list[str] = []
    for line in page.splitlines():
        stripped = line.strip()
        if not stripped:
            out.append("")
        elif out and out[-1] and not _is_heading(stripped) and not _is_heading(out[-1]):
            out[-1] = _join(out[-1], stripped)
        else:
            out.append(stripped)
    return "\n\n".join(part for part in out if part)


def _is_heading(line: str) -> bool:
    return len(line) < 60 and line[-1] not in ".,;:!?。，、！？" and len(line.split()) <= 8


def _join(left: str, right: str) -> str:
    if left.endswith("-") and right[:1].islower():
        return left[:-1] + right
    if _is_cjk(left[-1]) and _is_cjk(right[0]):
        return left + right
    return f"{left} {right}"


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return 0x3000 <= code <= 0x9FFF or 0xAC00 <= code <= 0xD7AF or 0xF900 <= code <= 0xFAFF
