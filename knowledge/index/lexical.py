"""The lexical channel: exact tokens (SKUs, order numbers, model names) that embeddings blur.
Which chunks quote which code is kept by `knowledge.index.codes`."""

from __future__ import annotations

import re

# ASCII only: in "NL-4410のランプ" or "型号NL4410" the code ends where the Latin letters do.
_CODE = re.compile(r"#?[A-Za-z]{0,6}[-_/]?\d[\w\-/.]*\w|#?[A-Z]{2,}[\-_]?\w*\d\w*", re.ASCII)
_SEPARATOR = re.compile(r"[-_/.]+")
MAX_PARTS = 6
"""Longer codes are indexed whole and by their first parts only."""


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


def code_key(token: str) -> str:
    """How a code is looked up: case-folded, without a leading `#`, one kind of separator
    ("#w0000001" = "W0000001", "nl_4410" = "NL-4410")."""
    return _SEPARATOR.sub("-", token.lstrip("#").casefold())


def passage_codes(text: str) -> list[str]:
    """Lookup keys of the codes a passage quotes: each code and each run of its parts that is
    a code itself, so "NL-4410-B" is found by "NL-4410" and "4410-B" as `$contains` would, but
    through an index instead of a scan of every passage."""
    keys: dict[str, None] = {}
    for match in _CODE.finditer(text):
        token = match.group(0).strip(".-/_#")
        parts = _SEPARATOR.split(token)[:MAX_PARTS]
        for start in range(len(parts)):
            for end in range(start + 1, len(parts) + 1):
                piece = "-".join(parts[start:end])
                if _is_code(piece):
                    keys[code_key(piece)] = None
        if _is_code(token):
            keys[code_key(token)] = None
    return list(keys)


def _is_code(token: str) -> bool:
    return (
        len(token) >= 3
        and any(char.isdigit() for char in token)
        and (not token.isdigit() or len(token) >= 5)
    )
