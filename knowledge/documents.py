"""What loaders produce and the index stores: documents made of sections, and chunks."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Section:
    """A run of text under one heading path, e.g. ("Returns", "Return window")."""

    path: tuple[str, ...]
    text: str
    faq: bool = False
    """A question/answer pair that must stay one chunk."""


@dataclass
class LoadedDocument:
    """A file turned into text sections, with what the loader noticed on the way."""

    name: str
    kind: str
    """`markdown`, `text`, `html`, `pdf`, `docx`, `csv` or `json`."""
    title: str
    sections: list[Section]
    warnings: list[str] = field(default_factory=list)
    """Things a merchant should know that did not stop indexing (e.g. scanned pages)."""

    @property
    def text(self) -> str:
        """All section text, for language detection and hashing."""
        return "\n\n".join(section.text for section in self.sections)


@dataclass(frozen=True)
class Chunk:
    """One indexed passage; `id` is derived from its content so re-ingestion keeps it."""

    id: str
    document: str
    section: tuple[str, ...]
    text: str
    language: str
    ordinal: int

    @property
    def section_title(self) -> str:
        """The section path as a citation shows it."""
        return " > ".join(self.section)
