"""Split sections into chunks that follow headings, tag each with its language, id them stably."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from knowledge.documents import Chunk, LoadedDocument
from knowledge.language import DEFAULT_LANGUAGES, UNKNOWN, detect_language

MAX_CHARS = 700
"""Long enough for a policy paragraph, short enough that a match is about one thing."""
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])")


def chunk_id(document: str, section: tuple[str, ...], text: str) -> str:
    """Derived from where the text sits and what it says: the same input gives the same id."""
    key = "\x1f".join((document, " > ".join(section), text))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


def chunk_document(
    document: LoadedDocument,
    languages: Iterable[str] = DEFAULT_LANGUAGES,
    max_chars: int = MAX_CHARS,
) -> list[Chunk]:
    """Chunks of `document` in reading order; identical passages appear once."""
    allowed = tuple(languages)
    document_language = detect_language(document.text[:5000], allowed)
    chunks: list[Chunk] = []
    seen: set[str] = set()
    for section in document.sections:
        pieces = [section.text] if section.faq and len(section.text) <= 3 * max_chars else None
        for text in pieces or _split(section.text, max_chars):
            normalised = " ".join(text.split())
            if not normalised or normalised in seen:
                continue
            seen.add(normalised)
            language = detect_language(text, allowed, default=document_language)
            if language == UNKNOWN:
                language = document_language
            chunks.append(
                Chunk(
                    id=chunk_id(document.name, section.path, text),
                    document=document.name,
                    section=section.path,
                    text=text,
                    language=language,
                    ordinal=len(chunks),
                )
            )
    return chunks


def document_language(chunks: list[Chunk]) -> str:
    """The language most of a document's text is in."""
    weights: dict[str, int] = {}
    for chunk in chunks:
        weights[chunk.language] = weights.get(chunk.language, 0) + len(chunk.text)
    return max(weights, key=lambda code: weights[code]) if weights else UNKNOWN


def embedding_text(chunk: Chunk, title: str) -> str:
    """What gets embedded: the passage with its document title and section path, so a chunk
    that says "within 30 days" still carries "Returns" with it."""
    path = chunk.section[1:] if chunk.section[:1] == (title,) else chunk.section
    context = " > ".join(part for part in (title, *path) if part)
    if context and not chunk.text.startswith(chunk.section[-1] if chunk.section else "\0"):
        return f"{context}\n{chunk.text}"
    return f"{title}\n{chunk.text}" if title else chunk.text


def _split(text: str, max_chars: int) -> list[str]:
    paragraphs = [part.strip() for part in re.split(r"\n\s*\n", text) if part.strip()]
    pieces: list[str] = []
    for paragraph in paragraphs:
        if len(paragraph) <= max_chars:
            pieces.append(paragraph)
        else:
            pieces.extend(_split_sentences(paragraph, max_chars))
    merged: list[str] = []
    for piece in pieces:
        if merged and len(merged[-1]) + len(piece) + 2 <= max_chars:
            merged[-1] = f"{merged[-1]}\n\n{piece}"
        else:
            merged.append(piece)
    return merged


def _split_sentences(paragraph: str, max_chars: int) -> list[str]:
    sentences = [part for part in _SENTENCE_END.split(paragraph) if part.strip()]
    out: list[str] = []
    for sentence in sentences:
        while len(sentence) > max_chars:  # one endless sentence: cut at a space if possible
            cut = sentence.rfind(" ", 0, max_chars)
            cut = cut if cut > max_chars // 2 else max_chars
            out.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if out and len(out[-1]) + len(sentence) + 1 <= max_chars:
            out[-1] = f"{out[-1]} {sentence}"
        elif sentence:
            out.append(sentence)
    return out
