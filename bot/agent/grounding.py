"""Whether a model's answer states figures the passages do not: numbers and currencies.

A small model translating a passage keeps its sentences' shape but sometimes "localises" what
matters most, writing "12,90 zł" for "€12.90" or inventing a day count. Every number in the answer
must appear in the passages (as written there, in either decimal notation), and every currency
it names must be named there too; otherwise the pipeline quotes the passage instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_CITATION = re.compile(r"\[\d+\]")
_NUMBER = re.compile(r"\d+(?:[.,\u066b]\d+)*")
_CURRENCIES: dict[str, re.Pattern[str]] = {
    "EUR": re.compile(r"€|\beur(?:o|os)?\b|евро|ユーロ|欧元|유로|ยูโร|يورو", re.IGNORECASE),
    "USD": re.compile(r"\$|\busd\b|dollar|доллар|ドル|美元|달러|ดอลลาร์|دولار", re.IGNORECASE),
    "GBP": re.compile(r"£|\bgbp\b|pound|фунт|ポンド|英镑|파운드|ปอนด์|جنيه", re.IGNORECASE),
    "CHF": re.compile(r"\bchf\b|franken|franc", re.IGNORECASE),
    "PLN": re.compile(r"zł|\bpln\b|złot", re.IGNORECASE),
    "JPY": re.compile(r"¥|円|\byen\b|\bjpy\b", re.IGNORECASE),
    "CNY": re.compile(r"(?<![欧美日港台韩])元|人民币|\bcny\b|\brmb\b|yuan", re.IGNORECASE),
    "RUB": re.compile(r"₽|руб", re.IGNORECASE),
    "TRY": re.compile(r"₺|\btl\b|türk lirası", re.IGNORECASE),
    "KRW": re.compile(r"₩|(?<=\d)\s?원|\bkrw\b", re.IGNORECASE),
    "THB": re.compile(r"฿|บาท|\bthb\b", re.IGNORECASE),
    "VND": re.compile(r"₫|\bvnd\b|(?<=\d)\s?đồng", re.IGNORECASE),
}
# Eastern Arabic, Persian and Thai digits, read as the ASCII digits they are.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹๐๑๒๓๔๕๖๗๘๙", "012345678901234567890123456789")


def ungrounded_figures(reply: str, passages: Iterable[str]) -> list[str]:
    """Numbers and currencies in `reply` that none of `passages` states (empty when grounded)."""
    source = " ".join(passages).translate(_DIGITS)
    text = _CITATION.sub(" ", reply).translate(_DIGITS)
    known = {_canonical(number) for number in _NUMBER.findall(source)}
    known |= {_canonical(part) for number in _NUMBER.findall(source) for part in _parts(number)}
    missing = [number for number in _NUMBER.findall(text) if _canonical(number) not in known]
    missing += [
        code
        for code, pattern in _CURRENCIES.items()
        if pattern.search(text) and not pattern.search(source)
    ]
    return missing


def _canonical(number: str) -> str:
    """`12,90`, `12.90` and `12٫90` alike; `1.000`, `1,000` and `1000` alike."""
    groups = re.split(r"[.,\u066b]", number)
    if len(groups) == 1:
        return number.lstrip("0") or "0"
    if len(groups[-1]) == 3:
        return "".join(groups).lstrip("0") or "0"  # a thousands separator
    return f"{''.join(groups[:-1]).lstrip('0') or '0'}.{groups[-1]}"


def _parts(number: str) -> list[str]:
    """The pieces of `2–4` style ranges and dates are numbers of their own."""
    return re.split(r"[.,\u066b]", number)
