"""From bytes to vectors ready for the index: load, split, tag languages, hash, embed."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from knowledge.chunking import MAX_CHARS, chunk_document, document_language
from knowledge.documents import Chunk, LoadedDocument
from knowledge.embeddings import Vectors
from knowledge.index.sections import passage_vectors
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


def embed_documents(
    documents: Sequence[tuple[Sequence[Chunk], str]],
    embed: Callable[[Sequence[str]], Vectors],
) -> list[Vectors]:
    """Passage vectors of several documents (chunks, title) from one call to `embed`.

    `passage_vectors` decides what gets embedded (chunk and section texts); it runs twice: once
    to collect those texts, once to compose the vectors from a single embedding of them all.
    One call lets the encoders fill whole batches across small files, sorting by length keeps
    a batch's texts alike (less padding), and a text met twice is embedded once.
    """
    wanted: dict[str, None] = {}

    def collect(texts: Sequence[str]) -> Vectors:
        wanted.update(dict.fromkeys(texts))
        return np.zeros((len(texts), 1), dtype=np.float32)

    for chunks, title in documents:
        passage_vectors(chunks, title, collect)
    ordered = sorted(wanted, key=len)
    vectors = embed(ordered) if ordered else np.zeros((0, 0), dtype=np.float32)
    row = {text: position for position, text in enumerate(ordered)}

    def lookup(texts: Sequence[str]) -> Vectors:
        return vectors[[row[text] for text in texts]]

    return [passage_vectors(chunks, title, lookup) for chunks, title in documents]
