"""From bytes to vectors ready for the index: load, split, tag languages, hash, embed."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from knowledge.chunking import MAX_CHARS, chunk_document, document_language, embedding_text
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


def vector_key(text: str) -> str:
    """Names an embedding text: a later version of a document reuses the vector stored under it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


@dataclass(frozen=True)
class EmbeddedDocument:
    """A document's passage vectors and what a later version may reuse of them."""

    vectors: Vectors
    keys: list[str] | None
    """Per chunk, `vector_key` of its embedding text when its vector is that text's embedding
    alone (no section mixed in), else None: only such vectors can be reused."""
    reused: int = 0


def embed_documents(
    documents: Sequence[tuple[Sequence[Chunk], str]],
    embed: Callable[[Sequence[str]], Vectors],
    known: Sequence[Mapping[str, Vectors]] | None = None,
) -> list[EmbeddedDocument]:
    """Passage vectors of several documents (chunks, title) from one call to `embed`.

    `passage_vectors` decides what gets embedded (chunk and section texts); it runs twice: once
    to collect those texts, once to compose the vectors from a single embedding of them all.
    One call lets the encoders fill whole batches across small files, sorting by length keeps
    a batch's texts alike (less padding), and a text met twice is embedded once. `known[i]`
    holds vectors stored for document `i`'s previous version by `vector_key`: a re-upload
    embeds only the passages that changed.
    """
    wanted: dict[str, None] = {}
    reused: dict[str, Vectors] = {}
    keys: list[list[str] | None] = []
    counts: list[int] = []
    for position, (chunks, title) in enumerate(documents):
        collected: list[str] = []

        def collect(texts: Sequence[str], into: list[str] = collected) -> Vectors:
            into.extend(texts)
            return np.zeros((len(texts), 1), dtype=np.float32)

        passage_vectors(chunks, title, collect)
        own = [embedding_text(chunk, title) for chunk in chunks]
        stored = known[position] if known else {}
        if set(collected) <= set(own):  # nothing but the chunks' own texts: reusable
            keys.append([vector_key(text) for text in own])
            found = {
                text: stored[vector_key(text)] for text in collected if vector_key(text) in stored
            }
            reused.update(found)
            counts.append(len(found))
        else:
            keys.append(None)
            counts.append(0)
        wanted.update(dict.fromkeys(text for text in collected if text not in reused))
    ordered = sorted(wanted, key=len)
    vectors = embed(ordered) if ordered else np.zeros((0, 0), dtype=np.float32)
    row = {text: position for position, text in enumerate(ordered)}

    def lookup(texts: Sequence[str]) -> Vectors:
        rows = [vectors[row[text]] if text in row else reused[text] for text in texts]
        return np.vstack(rows).astype(np.float32) if rows else np.zeros((0, 0), np.float32)

    return [
        EmbeddedDocument(passage_vectors(chunks, title, lookup), keys[position], counts[position])
        for position, (chunks, title) in enumerate(documents)
    ]
