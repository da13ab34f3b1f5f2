"""HTML pages: navigation, headers, footers, scripts and hidden text are dropped."""

from __future__ import annotations

import re
import warnings

from knowledge.documents import Section
from knowledge.loaders.text import markdown_sections

_DROP_TAGS = (
    "script", "style", "noscript", "template", "nav", "footer", "header", "aside", "form",
    "iframe", "svg", "canvas", "button", "select", "input", "menu", "dialog", "object",
)  # fmt: skip
_DROP_ROLES = {"navigation", "banner", "contentinfo", "search", "menu", "menubar", "complementary"}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_HIDDEN_CLASS = re.compile(
    r"(^|[\s_-])(hidden|sr-only|visually-hidden|d-none|cookie|cookies|breadcrumbs?|navbar|"
    r"site-footer|site-header|menu)($|[\s_-])",
    re.IGNORECASE,
)
_BLOCKS = (
    "p", "div", "section", "article", "main", "li", "ul", "ol", "dl", "dt", "dd", "table", "tr",
    "blockquote", "pre", "details", "summary", "figure", "figcaption", "address", "br", "hr",
)  # fmt: skip


def html_sections(html: str) -> tuple[str | None, list[Section]]:
    """The page title and its visible text split at h1–h6."""
    from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, Tag
    from bs4.element import NavigableString

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(html, "lxml")
    title_tag = soup.find("title")
    title = title_tag.get_text(" ", strip=True) if title_tag else None
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in list(soup.find_all(True)):
        if not isinstance(tag, Tag) or tag.decomposed:
            continue
        attrs = tag.attrs or {}
        classes = " ".join(attrs.get("class") or [])
        if (
            "hidden" in attrs
            or str(attrs.get("aria-hidden", "")).lower() == "true"
            or str(attrs.get("role", "")).lower() in _DROP_ROLES
            or _HIDDEN_STYLE.search(str(attrs.get("style", "")))
            or (classes and _HIDDEN_CLASS.search(classes))
        ):
            tag.decompose()
    for level in range(1, 7):
        for heading in soup.find_all(f"h{level}"):
            text = heading.get_text(" ", strip=True)
            heading.replace_with(NavigableString(f"\n\n{'#' * level} {text}\n\n" if text else ""))
    for cell in soup.find_all(["td", "th"]):
        cell.insert_after(NavigableString(" | "))
    for block in soup.find_all(_BLOCKS):
        block.insert_before(NavigableString("\n"))
        block.insert_after(NavigableString("\n"))
    root = soup.body or soup
    text = root.get_text()
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip(" |") for line in text.splitlines()]
    markdownish = "\n".join(lines)
    markdownish = re.sub(r"\n{3,}", "\n\n", markdownish)
    return title, markdown_sections(_blank_lines_between_blocks(markdownish))


def _blank_lines_between_blocks(text: str) -> str:
    # Each block ended up on its own line; keep them as separate paragraphs for the chunker.
    return re.sub(r"(?<=\S)\n(?=\S)", "\n\n", text)
