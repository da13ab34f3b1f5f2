"""Facts a shopper's message carries that need no model: emails, names with zip codes, order
numbers, links and product or tracking codes, and a plain yes or no to a proposed action."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.agent.phrases import alternatives, words

# ASCII only: in "我的邮箱是yuki@example.com" the Chinese words must not join the address.
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# τ² and most shops write "#W1234567"; shoppers drop the '#' or write it in lowercase. The
# edges are ASCII: in "注文W1000005がまだ届きません" the number touches the Japanese words.
_ORDER = re.compile(r"(?<![A-Za-z0-9_#])#?\s?([Ww]\d{7})(?![0-9])")
# Links up to the first space or closing bracket; a sentence's final dot or comma is not part.
_URL = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]{}\"'「」（）]+", re.IGNORECASE)
# A product, SKU or tracking code: capitals and digits, both present, at least four characters,
# optionally in dash-joined parts ("NL-4410", "1Z999AA10123456784"). ASCII edges, as for orders.
_CODE = re.compile(
    r"(?<![A-Za-z0-9_@./-])(?=[A-Z0-9-]*[A-Z])(?=[A-Z0-9-]*\d)[A-Z0-9]+(?:-[A-Z0-9]+)*"
    r"(?![A-Za-z0-9_@])"
)
_ZIP = re.compile(r"\b(\d{5})(?:-\d{4})?\b")
_NAME_BEFORE_ZIP = re.compile(
    rf"(?:{alternatives('name_intros')})?\s*"
    r"([A-ZÀ-ÖØ-Þ][\w'’-]+)\s+([A-ZÀ-ÖØ-Þ][\w'’-]+)[\s,;]+"
    rf"(?:{alternatives('zip_labels')})?[\s:]*(\d{{5}})",
    re.IGNORECASE,
)
_YES = words("yes")
_NO = words("no")
_BUT = re.compile(rf"\b(?:{alternatives('but')})\b")


def _plain(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).strip().lower()
    return re.sub(r"[\s.!?。！？،,;:]+$", "", re.sub(r"^[\s¡¿]+", "", folded))


def find_email(text: str) -> str | None:
    """The first email address in the message."""
    found = _EMAIL.search(text)
    return found.group(0).rstrip(".") if found else None


def find_emails(text: str) -> list[str]:
    """Every email address in the message, in order."""
    return [found.rstrip(".") for found in _EMAIL.findall(text)]


def find_urls(text: str) -> list[str]:
    """Every link in the message, without a sentence's closing punctuation."""
    return [found.rstrip(".,;:!?。、") for found in _URL.findall(text)]


def find_codes(text: str) -> list[str]:
    """Product, SKU and tracking codes ("NL-4410", "1Z999AA10123456784"): capitals with digits,
    outside links, email addresses and order numbers (which have finders of their own)."""
    rest = _ORDER.sub(" ", _EMAIL.sub(" ", _URL.sub(" ", text)))
    return [found for found in _CODE.findall(rest) if len(found) >= 4]


def find_order_ids(text: str) -> list[str]:
    """Order numbers in the message, normalised to `#W1234567`."""
    return [f"#{match.group(1).upper()}" for match in _ORDER.finditer(text)]


@dataclass(frozen=True)
class NameZip:
    """A first and last name with a zip code, as τ² verifies shoppers."""

    first_name: str
    last_name: str
    zip_code: str


def find_name_zip(text: str) -> NameZip | None:
    """`First Last 12345` (with or without "my name is", "zip") in the message."""
    found = _NAME_BEFORE_ZIP.search(text)
    if found is None:
        return None
    return NameZip(found.group(1), found.group(2), found.group(3))


def confirmation(text: str) -> bool | None:
    """True for a plain yes, False for a plain no, None when the message is something else."""
    plain = _plain(text)
    if plain in _YES:
        return True
    # "yes please", "ja, bitte", "oui merci": a yes with a few polite words, not a new question.
    head, _, rest = re.sub(r"[,、，]", " ", plain).partition(" ")
    if head in _YES and "?" not in text and len(rest.split()) <= 2 and not _BUT.search(rest):
        return True
    if plain in _NO:
        return False
    return None
