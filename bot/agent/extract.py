"""Facts a shopper's message carries that need no model: emails, names with zip codes, order
numbers, links and product or tracking codes, and a plain yes or no to a proposed action."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.agent.phrases import alternatives, mentions, words
from bot.agent.signals import Cue, default_lexicon
from bot.domain.text import normalise_text

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
# Longest first, so "thank you" goes before "thank" and "是的" before "是".
_POLITE = sorted(words("polite") | _YES, key=len, reverse=True)
_CHANGES = words("changes") | words("but")
_SPACED_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def _plain(text: str) -> str:
    folded = normalise_text(text).strip()
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


_ONE_TIME_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def find_one_time_code(text: str) -> str | None:
    """A six-digit one-time code, when the message is little more than that."""
    plain = normalise_text(text)
    found = _ONE_TIME_CODE.search(plain)
    if found is None or len(plain) > 40:
        return None
    return found.group(1)


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


def confirmation(text: str, pending: str | None = None, language: str | None = None) -> bool | None:
    """True for a plain yes, False for a plain no, None when the message is something else.

    A yes confirms exactly what was shown, so a yes that says anything more than polite words
    ("yes, but the other order", "是的，不过退款金额改成200欧元", "yes if I get double") is not
    one: whatever it changes has to be shown as its own proposal first. The one exception is a
    yes that only names the `pending` action again ("yes, cancel it", "Ja, stornieren")."""
    plain = _plain(text)
    if plain in _YES:
        return True
    if plain in _NO:
        return False
    if "?" in text or "？" in text or any(char.isdigit() for char in plain) or "@" in plain:
        return None
    spaced = re.sub(r"[,、，.。!！;；:：\-–—]", " ", plain)
    head = spaced.split(" ", 1)[0]
    starts_yes = head in _YES or any(
        spaced.startswith(word) for word in _YES if _UNSPACED.match(word)
    )
    if not starts_yes or _changes(spaced):
        return None
    rest = spaced
    for word in _POLITE:
        rest = _remove_word(rest, word)
    if not rest.strip():
        return True
    return True if pending and _names_only(rest, pending, language) else None


_RESTATED_ACTIONS: dict[str, Cue] = {"cancel": "cancel", "return": "return", "exchange": "exchange"}
"""Pending intents whose own words a yes may repeat, and the lexicon cue for those words."""
_SHORT_WORD = 3
"""Beside the action's own word, a restating yes holds at most one word this short ("it",
"es", "lo"); "both" or "the other" say more than the proposal did."""


def _names_only(rest: str, pending: str, language: str | None) -> bool:
    """True when `rest` (a yes's words past the yes and polite words) only names the pending
    action: its cue word and at most one short word, nothing about scope or other orders."""
    cue = _RESTATED_ACTIONS.get(pending)
    if cue is None or mentions("whole_order", rest):
        return False
    # Every language's words, the detected one first: a two-word yes is often misread.
    languages = [language, *sorted(default_lexicon().languages)] if language else None
    found = default_lexicon().match(cue, rest, languages)
    at = rest.find(found) if found else -1
    if found is None or at < 0:
        return False
    if _UNSPACED.search(rest):
        return len("".join((rest[:at] + rest[at + len(found) :]).split())) <= 2
    # Words the cue does not touch (the cue may be a stem: "storn" in "stornieren").
    others = [
        word.group(0)
        for word in _SPACED_WORD.finditer(rest)
        if word.end() <= at or word.start() >= at + len(found)
    ]
    return len(others) <= 1 and all(len(word) <= _SHORT_WORD for word in others)


def starts_with_yes(text: str) -> bool:
    """The message opens with a yes ("yes, but…", "是的，不过…"), whatever follows it."""
    plain = _plain(text)
    head = re.sub(r"[,、，.。!！;；:：\-–—]", " ", plain).split(" ", 1)[0]
    return head in _YES or any(plain.startswith(word) for word in _YES if _UNSPACED.match(word))


def _remove_word(text: str, word: str) -> str:
    if _UNSPACED.match(word):
        return text.replace(word, " ")
    return re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", " ", text)


def _changes(text: str) -> bool:
    """A word that changes or conditions a proposal ("instead", "only", "if", "但")."""
    for word in _CHANGES:
        if _UNSPACED.match(word):
            if word in text:
                return True
        elif re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text):
            return True
    return False
