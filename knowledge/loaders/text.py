"""Markdown and plain text: headings become the section path."""

from __future__ import annotations

import re

from knowledge.documents import Section

_ATX = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_SETEXT = re.compile(r"^(=+|-+)\s*$")
_MD_NOISE = re.compile(r"!\[[^\]]*\]\([^)]*\)|<!--.*?-->", re.DOTALL)
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(\S.*?\S|\S)\1")


def markdown_sections(text: str) -> list[Section]:
    """Split markdown at headings (ATX and setext); the path is the chain of open headings."""
    text = _MD_NOISE.sub("", text)
    lines = text.splitlines()
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    body: list[str] = []

    def flush() -> None:
        content = _clean("\n".join(body))
        if content:
            sections.append(Section(tuple(title for _, title in path), content))
        body.clear()

    in_code = False
    for index, line in enumerate(lines):
        if line.strip().startswith("```"):
            in_code = not in_code
            continue
        heading = None if in_code else _ATX.match(line)
        level = 0
        if heading:
            level, title = len(heading.group(1)), heading.group(2)
        elif (
            not in_code
            and index + 1 < len(lines)
            and line.strip()
            and _SETEXT.match(lines[index + 1])
            and len(line) < 120
        ):
            level, title = (1 if lines[index + 1].strip()[0] == "=" else 2), line.strip()
        elif _SETEXT.match(line) and index > 0 and sections_heading_above(lines, index):
            continue
        if level:
            flush()
            path = [(lvl, name) for lvl, name in path if lvl < level]
            path.append((level, _inline(title)))
            continue
        body.append(line)
    flush()
    return sections


def sections_heading_above(lines: list[str], index: int) -> bool:
    """True when `lines[index]` underlines the setext heading just above it."""
    above = lines[index - 1].strip()
    return bool(above) and len(above) < 120 and not _SETEXT.match(above)


def text_sections(text: str) -> list[Section]:
    """Plain text: a short line standing alone between blank lines, without end punctuation,
    is taken as a heading."""
    blocks = [block for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if block.strip()]
    sections: list[Section] = []
    heading: tuple[str, ...] = ()
    body: list[str] = []
    for block in blocks:
        stripped = block.strip()
        if _looks_like_heading(stripped):
            if body:
                sections.append(Section(heading, _clean("\n\n".join(body))))
                body = []
            heading = (stripped.rstrip(":："),)
            continue
        body.append(stripped)
    if body:
        sections.append(Section(heading, _clean("\n\n".join(body))))
    return [section for section in sections if section.text]


def _looks_like_heading(block: str) -> bool:
    if "\n" in block or len(block) > 80 or len(block) < 2:
        return False
    if block[-1] in ".!?;,。！？、…)" or block.endswith("?"):
        return False
    return len(block.split()) <= 10


def _inline(text: str) -> str:
    return _EMPHASIS.sub(r"\2", _MD_LINK.sub(r"\1", text)).strip()


def _clean(text: str) -> str:
    lines = [_inline(line.rstrip()) for line in text.splitlines()]
    joined = "\n".join(lines).strip()
    return re.sub(r"\n{3,}", "\n\n", joined)
