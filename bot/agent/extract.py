"""Facts a shopper's message carries that need no model: emails, names with zip codes, order
numbers, and a plain yes or no to a proposed action."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# ASCII only: in "我的邮箱是yuki@example.com" the Chinese words must not join the address.
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# τ² and most shops write "#W1234567"; shoppers drop the '#' or write it in lowercase. The
# edges are ASCII: in "注文W1000005がまだ届きません" the number touches the Japanese words.
_ORDER = re.compile(r"(?<![A-Za-z0-9_#])#?\s?([Ww]\d{7})(?![0-9])")
_ZIP = re.compile(r"\b(\d{5})(?:-\d{4})?\b")
_NAME_BEFORE_ZIP = re.compile(
    r"(?:name is|i am|i'm|ich bin|je suis|me llamo|soy|mi chiamo|sono|heet|nazywam się|меня зовут"
    r"|adım|اسمي|我叫|私は|제 이름은|ฉันชื่อ|tôi là)?\s*"
    r"([A-ZÀ-ÖØ-Þ][\w'’-]+)\s+([A-ZÀ-ÖØ-Þ][\w'’-]+)[\s,;]+"
    r"(?:zip(?: code)?|plz|postcode|cp|cap|code postal|código postal)?[\s:]*(\d{5})",
    re.IGNORECASE,
)

_YES = {
    "yes",
    "y",
    "yeah",
    "yep",
    "sure",
    "ok",
    "okay",
    "confirm",
    "confirmed",
    "go ahead",
    "please do",
    "ja",
    "jawohl",
    "gerne",
    "bestätigt",
    "oui",
    "d'accord",
    "confirme",
    "sí",
    "si",
    "claro",
    "confirmo",
    "sì",
    "certo",
    "confermo",
    "sim",
    "tak",
    "potwierdzam",
    "да",
    "подтверждаю",
    "evet",
    "onaylıyorum",
    "نعم",
    "أكيد",
    "是",
    "是的",
    "好",
    "好的",
    "确认",
    "對",
    "对",
    "はい",
    "お願いします",
    "네",
    "예",
    "확인",
    "ใช่",
    "ใช่ค่ะ",
    "ใช่ครับ",
    "ตกลง",
    "có",
    "vâng",
    "đồng ý",
    "ja graag",
    "akkoord",
}
_NO = {
    "no",
    "n",
    "nope",
    "don't",
    "do not",
    "stop",
    "cancel that",
    "nein",
    "lieber nicht",
    "non",
    "no gracias",
    "não",
    "nao",
    "nee",
    "nie",
    "нет",
    "hayır",
    "لا",
    "不",
    "不是",
    "不要",
    "否",
    "いいえ",
    "やめて",
    "아니요",
    "아니",
    "ไม่",
    "ไม่ค่ะ",
    "ไม่ครับ",
    "không",
}


_BUT = re.compile(r"\b(?:but|aber|mais|pero|ma|mas|maar|ale|но|ama|لكن|但|でも|하지만|แต่|nhưng)\b")


def _plain(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).strip().lower()
    return re.sub(r"[\s.!?。！？،,;:]+$", "", re.sub(r"^[\s¡¿]+", "", folded))


def find_email(text: str) -> str | None:
    """The first email address in the message."""
    found = _EMAIL.search(text)
    return found.group(0).rstrip(".") if found else None


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
