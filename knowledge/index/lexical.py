"""The lexical channel: exact tokens (SKUs, order numbers, model names) that embeddings blur."""

from __future__ import annotations

import re

_CODE = re.compile(r"#?[A-Za-z]{0,6}[-_/]?\d[\w\-/.]*\w|#?[A-Z]{2,}[\-_]?\w*\d\w*")


def exact_tokens(query: str, limit: int = 3) -> list[str]:
    """Code-like tokens of a query: they contain a digit and are at least three characters."""
    found: list[str] = []
    for match in _CODE.finditer(query):
        token = match.group(0).strip(".-/_")
        if len(token) >= 3 and any(char.isdigit() for char in token) and token not in found:
            found.append(token)
    # A year or a bare quantity is not a code; keep those only if nothing better is there.
    codes = [token for token in found if not token.isdigit() or len(token) >= 5]
    return (codes or [])[:limit]
