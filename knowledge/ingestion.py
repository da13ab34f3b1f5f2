"""From bytes to chunks ready for the index: load, split, tag languages, hash."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from knowledge.chunking import MAX_CHARS, chunk_document, document_language
from knowledge.documents import Chunk, LoadedDocument
from knowledge.language import DEFAULT_LANGUAGES
from knowledge.loaders import MAX_FILE_BYTES, load_document


@dataclass(frozen=True)
class PreparedDocument:
    """A document read and chunked, not yet embedded."""

    loaded: LoadedDocument
    chunks: list[Chunk]
    language: str
    content_hash: str

    @property
    def warnings(self) -> list[str]:
        """What the merchant should know though the file was indexed."""
        return self.loaded.warnings


def content_hash(data: bytes) -> str:
    """SHA-256 of the file's bytes: identical uploads are recognised and not indexed twice."""
    return hashlib.sha256(data).hexdigest()


def prepare_document(
    name: str,
    data: bytes,
    *,
    languages: Iterable[str] = DEFAULT_LANGUAGES,
    columns: Mapping[str, str] | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    max_chars: int = MAX_CHARS,
) -> PreparedDocument:
    """Load and chunk one file (blocking: run it in a thread). Raises `UnreadableDocument`."""
    loaded = load_document(name, data, columns=columns, max_bytes=max_bytes)
    chunks = chunk_document(loaded, languages, max_chars)
    return PreparedDocument(
        loaded=loaded,
        chunks=chunks,
        language=document_language(chunks),
        content_hash=content_hash(data),
    )
