"""Tell a file's type from its bytes (the name is only a hint) and decode its text."""

from __future__ import annotations

import codecs
import io
import json
import re
import zipfile

from knowledge.errors import UnreadableDocument

KINDS = ("markdown", "text", "html", "pdf", "docx", "csv", "json")

_EXTENSIONS = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".pdf": "pdf",
    ".docx": "docx",
    ".csv": "csv",
    ".tsv": "csv",
    ".json": "json",
}
_BINARY_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"RIFF": "a media file",
    b"\x1f\x8b": "a gzip archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"Rar!": "a RAR archive",
    b"\x7fELF": "a program",
    b"MZ": "a Windows program",
    b"ID3": "an audio file",
}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HTML_START = re.compile(
    rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|meta|div|section|article|h[1-6]|p)[\s>/]",
    re.IGNORECASE | re.DOTALL,
)
_MD_HEADING = re.compile(r"^#{1,6}\s+\S", re.MULTILINE)
_MD_MARKUP = re.compile(r"^(\s*[-*+]\s+\S|\s*\d+\.\s+\S|```|>\s)|\*\*\S|\[[^\]]+\]\([^)]+\)", re.M)


def extension_kind(name: str) -> str | None:
    """The kind a file name suggests, if any."""
    lowered = name.lower()
    for extension, kind in _EXTENSIONS.items():
        if lowered.endswith(extension):
            return kind
    return None


def detect_kind(name: str, data: bytes) -> str:
    """The document kind from content; raise `UnreadableDocument` for types Parley cannot read."""
    if not data.strip():
        raise UnreadableDocument("the file is empty")
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return _zip_kind(name, data)
    if data.startswith(_OLE_MAGIC):
        raise UnreadableDocument(
            "this is a password-protected Office file or an old .doc/.xls file; "
            "save it as .docx without a password and upload it again"
        )
    for magic, what in _BINARY_MAGIC.items():
        if data.startswith(magic):
            raise UnreadableDocument(
                f"unsupported file type: this is {what}; upload md, txt, html, pdf, docx, csv "
                "or json"
            )
    text = decode_text(data)
    return _text_kind(name, text)


def _zip_kind(name: str, data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile as error:
        raise UnreadableDocument(
            "the file is damaged: it starts like a .docx (zip) but cannot be opened"
        ) from error
    if "word/document.xml" in names:
        return "docx"
    if any(entry.startswith("xl/") for entry in names):
        raise UnreadableDocument(
            "unsupported file type: Excel workbook; export the sheet as CSV and upload that"
        )
    raise UnreadableDocument(
        "unsupported file type: a zip archive; upload the documents themselves"
    )


def _text_kind(name: str, text: str) -> str:
    hinted = extension_kind(name)
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped[:1] in "{[":
        try:
            json.loads(stripped)
        except ValueError:
            if hinted == "json":
                raise UnreadableDocument("the JSON file is damaged: it is not valid JSON") from None
        else:
            return "json"
    if _HTML_START.match(stripped.encode("utf-8", "replace")[:4096]):
        return "html"
    if hinted == "csv":
        return "csv"
    if hinted in ("markdown", "text"):
        return "markdown" if hinted == "markdown" or _MD_HEADING.search(text) else "text"
    if hinted == "html" and "<" in stripped:
        return "html"
    if _looks_like_csv(text):
        return "csv"
    if _MD_HEADING.search(text) or len(_MD_MARKUP.findall(text)) >= 3:
        return "markdown"
    return "text"


def _looks_like_csv(text: str) -> bool:
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if len(lines) < 2:
        return False
    for delimiter in (",", ";", "\t"):
        counts = {line.count(delimiter) for line in lines}
        if len(counts) == 1 and counts.pop() >= 1 and delimiter in lines[0]:
            return delimiter == "\t" or all(len(line) < 2000 for line in lines)
    return False


def decode_text(data: bytes) -> str:
    """Text from bytes in any common encoding (BOMs, UTF-8, UTF-16, legacy code pages)."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    if b"\x00" in data[:8192]:
        raise UnreadableDocument(
            "unsupported file type: the file is binary; "
            "upload md, txt, html, pdf, docx, csv or json"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[:2_000_000]).best()
    if best is None or best.encoding is None:
        raise UnreadableDocument(
            "unsupported file type: the file is binary, or its text encoding cannot be recognised"
        )
    return data.decode(best.encoding, errors="replace")
