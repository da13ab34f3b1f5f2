"""Typed errors of the knowledge package; each message is meant for a merchant to read."""

from __future__ import annotations


class KnowledgeError(Exception):
    """Base of every error this package raises; `message` is for people."""

    code = "knowledge_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnreadableDocument(KnowledgeError):
    """A file could not be turned into text: empty, encrypted, damaged, too big, unknown type."""

    code = "unreadable_document"


class NeedsColumnMapping(UnreadableDocument):
    """A FAQ table whose question and answer columns could not be recognised."""

    code = "needs_column_mapping"

    def __init__(self, message: str, columns: list[str]) -> None:
        super().__init__(message)
        self.columns = columns


class IndexUnavailable(KnowledgeError):
    """The vector index cannot be reached or refused the operation."""

    code = "index_unavailable"


class UnsupportedLanguage(KnowledgeError):
    """A language list is empty or names a code the language detector does not know."""

    code = "unsupported_language"
