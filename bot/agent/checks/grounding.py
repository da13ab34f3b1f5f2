"""Whether a model's answer states figures the passages do not: numbers and currencies.

A small model translating a passage keeps its sentences' shape but sometimes "localises" what
matters most, writing "12,90 zł" for "€12.90" or inventing a day count. Every number in the answer
must appear in the passages (as written there, in either decimal notation), and every currency
it names must be named there too; otherwise the pipeline quotes the passage instead.

A number that is not there alone is not enough: "30 days" built from a passage saying "14 days
... 30 EUR" takes its figure from one fact and its unit from another. So a number the answer
gives a unit (days, hours, weeks, months, years, a currency, per cent) must appear in the
passages with that same unit, in whichever of the sixteen languages either is written.

A grounded figure can still answer another question: asked what shipping costs, the model may
give the delivery days from the sentence beside the price. Durations given for a price, with no
price named, are reported too (`price_answered_with_time`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.agent.phrases import alternatives
from bot.agent.prompts import without_citations

_NUMBER = re.compile(r"\d+(?:[.,\u066b]\d+)*")
# 元, 円 and 圓 are currencies only right after an amount ("12.90元", "3千円", "5万元"): elsewhere
# they are words ("元の梱包", the original packaging; "円滑", smooth; "单元", a unit), and 块 is
# also a measure word ("2块电池", two batteries), so only "块钱" after an amount is money.
_CJK_AMOUNT = r"(?<=[\d万萬千百億亿])\s?"
_CURRENCIES: dict[str, re.Pattern[str]] = {
    "EUR": re.compile(r"€|\beur(?:o|os)?\b|евро|ユーロ|欧元|유로|ยูโร|يورو", re.IGNORECASE),
    "USD": re.compile(r"\$|\busd\b|dollar|доллар|ドル|美元|달러|ดอลลาร์|دولار", re.IGNORECASE),
    "GBP": re.compile(r"£|\bgbp\b|pound|фунт|ポンド|英镑|파운드|ปอนด์|جنيه", re.IGNORECASE),
    "CHF": re.compile(r"\bchf\b|franken|franc", re.IGNORECASE),
    "PLN": re.compile(r"zł|\bpln\b|złot", re.IGNORECASE),
    "JPY": re.compile(rf"¥|{_CJK_AMOUNT}[円圓]|日元|\byen\b|\bjpy\b", re.IGNORECASE),
    "CNY": re.compile(
        rf"{_CJK_AMOUNT}(?:元|块钱|塊錢)|人民币|人民幣|\bcny\b|\brmb\b|yuan", re.IGNORECASE
    ),
    "RUB": re.compile(r"₽|руб", re.IGNORECASE),
    "TRY": re.compile(r"₺|\btl\b|türk lirası", re.IGNORECASE),
    "KRW": re.compile(r"₩|(?<=\d)\s?원|\bkrw\b", re.IGNORECASE),
    "THB": re.compile(r"฿|บาท|\bthb\b", re.IGNORECASE),
    "VND": re.compile(r"₫|\bvnd\b|(?<=\d)\s?đồng", re.IGNORECASE),
}
# Units a number can carry, by kind. Latin and Cyrillic words match as stems after a word start;
# CJK, Korean and Thai units may follow the digits directly ("30天", "5営業日", "2년").
_UNITS: dict[str, re.Pattern[str]] = {
    "day": re.compile(
        r"(?<![^\W\d_])(?:days?|business days?|werktag|tag|jours?|d[ií]as?|giorn|dag|werkdag|dni"
        r"|dzie|dnia|дн|день|gün|يوم|أيام|ايام|ngày"
        r"|arbetsdag|vardag|hverdag|arbejdsdag|virkedag|hari\b|दिन|दिवस|doba|діб|dn[ůíyu]"
        r"|ημέρ|μέρ(α|ες|ών)|päiv|arkipäiv|nap|munkanap|zi\b|zile|zil[ei])"
        r"|工作日|営業日|영업일|日|天|일|วัน",
        re.IGNORECASE,
    ),
    "hour": re.compile(
        r"(?<![^\W\d_])(?:hours?|stund|heures?|horas?|or[ae]\b|uur|godzin|час|saat|ساع|giờ|h\b"
        r"|timm[ae]|timer\b|timen\b|jam\b|घंट|घण्ट|годин|hodin|ώρ(α|ες)|ωρών|tunti|tunni|óra|órá)"
        r"|小时|小時|時間|시간|ชั่วโมง",
        re.IGNORECASE,
    ),
    "week": re.compile(
        r"(?<![^\W\d_])(?:weeks?|woche|semaines?|semanas?|settiman|tydzie|tygodn|недел|hafta"
        r"|أسبوع|أسابيع|tuần|weken|veck|uge|uke|minggu|pekan|सप्ताह|हफ्त|हफ़्त|тижн|тиждень|týd"
        r"|εβδομάδ|viik|hét|het[eé]|săptămân)|星期|周|週|주|สัปดาห์",
        re.IGNORECASE,
    ),
    "month": re.compile(
        r"(?<![^\W\d_])(?:months?|monat|mois|mes(?:es)?\b|mes[ei]\b|mês|meses|maand|miesi|месяц"
        r"|ay\b|aylık|شهر|أشهر|tháng|månad|måned|bulan|महीन|माह|місяц|měsíc|μήν(α|ες)|μηνών|kuukau"
        r"|hónap|lun[ai]\b|luni)|个月|個月|か月|ヶ月|カ月|ケ月|개월|เดือน",
        re.IGNORECASE,
    ),
    "year": re.compile(
        r"(?<![^\W\d_])(?:years?|jahr|ans?\b|années?|años?|ann[io]\b|anos?\b|jaar|lat\b|rok|год(?!ин)"
        r"|лет|yıl|سنة|سنوات|عام|năm|år\b|års\b|tahun|साल|वर्ष|рок|рік|roky?\b|lata\b|χρόν|έτ(η|ος|ους)\b|ετών"
        r"|vuo[dst]|év|ani\b)|年|년|ปี",
        re.IGNORECASE,
    ),
    "percent": re.compile(r"%|٪|(?<![^\W\d_])(?:percent|per cent|prozent|procent|процент)"),
}
_UNIT_KINDS: dict[str, re.Pattern[str]] = {**_CURRENCIES, **_UNITS}
_CURRENCY_SIGN = re.compile(r"[€$£¥₽₺₩฿₫]\s?$")
# What follows a number up to where its unit could still be: a few characters, not past the
# end of its clause ("14 days. Returns cost 30 EUR": 14 is days, 30 is euros).
_UNIT_REACH = 24
_RANGE = re.compile(
    r"\s*(?:[-–—~〜～]|to|till|until|bis|à|a|al|e|tot|do|до|ile|ila|إلى|đến|ถึง|至|到|から)\s*",
    re.IGNORECASE,
)
_CLAUSE_END = re.compile(r"[;:!?()。；！？、\n]|[.,](?:\s|$)")
# Eastern Arabic, Persian and Thai digits, read as the ASCII digits they are.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹๐๑๒๓๔๕๖๗๘๙", "012345678901234567890123456789")


def ungrounded_figures(reply: str, passages: Iterable[str]) -> list[str]:
    """Numbers and currencies in `reply` that none of `passages` states (empty when grounded)."""
    source = " ".join(passages).translate(_DIGITS)
    text = without_citations(reply).translate(_DIGITS)
    known = {_canonical(number) for number in _NUMBER.findall(source)}
    known |= {_canonical(part) for number in _NUMBER.findall(source) for part in _parts(number)}
    missing = [number for number in _NUMBER.findall(text) if _canonical(number) not in known]
    currencies = [
        code
        for code, pattern in _CURRENCIES.items()
        if pattern.search(text) and not pattern.search(source)
    ]
    # A currency the passages never name is reported once, as itself.
    missing += _units_not_stated(text, source, [*missing, *currencies])
    return missing + currencies


def figures(text: str) -> list[tuple[str, str | None]]:
    """Every number of `text` (in one notation: "12,90" and "12.90" alike) with the kind of unit
    it carries ("EUR", "day", "percent"...), or None when it carries none."""
    text = text.translate(_DIGITS)
    return [(_canonical(match.group(0)), _unit_of(text, match)) for match in _NUMBER.finditer(text)]


def unit_kinds(text: str) -> set[str]:
    """The kinds of unit `text` names anywhere, with or without a number ("zwei Jahre" names a
    year): how a sentence can state a duration in words."""
    return {kind for kind, pattern in _UNIT_KINDS.items() if pattern.search(text)}


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"(?:https?://|www\.)[^\s)\]>]+")
# A code a shopper types or reads out: capitals and digits with dashes ("RT-", "BW-XXXX-XXXX",
# "NL-4410"), or a word that mixes letters and digits ("750Wh" excepted: a figure and its unit).
_CODE = re.compile(
    r"\b[A-Z]{1,6}-[A-Z0-9][A-Z0-9-]*\b|\b[A-Z]+\d+[A-Z0-9]*\b|\b\d+[A-Z]+\d[A-Z0-9]*\b"
)


def unstated_identifiers(reply: str, sources: Iterable[str]) -> list[str]:
    """E-mail addresses, web addresses and codes in `reply` that none of `sources` writes."""
    source = " ".join(sources).casefold()
    text = without_citations(reply)
    found = [*_EMAIL.findall(text), *_URL.findall(text), *_CODE.findall(text)]
    return [item for item in found if item.rstrip(".,;").casefold() not in source]


def _units_not_stated(text: str, source: str, already: list[str]) -> list[str]:
    """`30 days` when the passages give 30 only as something else (or as nothing)."""
    stated: dict[str, set[str | None]] = {}
    for match in _NUMBER.finditer(source):
        for number in {match.group(0), *_parts(match.group(0))}:
            stated.setdefault(_canonical(number), set()).add(_unit_of(source, match))
    missing = []
    for match in _NUMBER.finditer(text):
        unit = _unit_of(text, match)
        number = _canonical(match.group(0))
        if unit is None or unit in already or match.group(0) in already or number not in stated:
            continue
        if unit not in stated[number]:
            missing.append(f"{match.group(0)} {unit}")
    return missing


def _unit_of(text: str, number: re.Match[str]) -> str | None:
    """The kind of unit a number carries: a currency sign before it, or the first unit word
    after it in the same clause (past a range's second number: "2–4 business days")."""
    before = text[max(number.start() - 2, 0) : number.start()]
    if _CURRENCY_SIGN.search(before):
        for code, pattern in _CURRENCIES.items():
            if pattern.search(before):
                return code
    end = min(number.end() + _UNIT_REACH, len(text))
    clause = _CLAUSE_END.search(text, number.end(), end)
    if clause is not None:
        end = clause.start()
    following = _NUMBER.search(text, number.end(), end)
    if following is not None:
        # A unit after the next number is that number's ("NL-4410 lasts 25,000 hours"), unless
        # the two make a range ("2–4 days", "3 à 7 jours"): then it is both ends'.
        if _RANGE.fullmatch(text, number.end(), following.start()):
            return _unit_of(text, following)
        end = following.start()
    found: list[tuple[int, str]] = []
    for kind, pattern in _UNIT_KINDS.items():
        unit = pattern.search(text, number.end(), end)
        if unit is not None:
            found.append((unit.start(), kind))
    return min(found)[1] if found else None


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


# "How much does it cost", in the sixteen languages (`phrases.json`): price words and how-much
# phrases as whole words, not bare "how many" (de "wie viele", fr "combien", vi "bao nhiêu",
# th "เท่าไร" also count days) nor "free" ("kostenlos", a yes/no question).
_PRICE_QUESTION = re.compile(
    rf"(?<![^\W\d_])(?:{alternatives('price_words')})(?![^\W\d_])"
    rf"|{alternatives('price_words_unsegmented')}",
    re.IGNORECASE,
)
_DURATIONS = ("day", "hour", "week", "month", "year")


def price_answered_with_time(question: str, reply: str) -> list[str]:
    """The durations a reply gives where a price was asked and it names no price: "Shipping to
    the US costs 7-12 days" built from the delivery-time sentence beside the shipping costs."""
    if not _PRICE_QUESTION.search(question):
        return []
    text = without_citations(reply).translate(_DIGITS)
    if any(pattern.search(text) for pattern in _CURRENCIES.values()):
        return []
    return [
        f"{match.group(0)} {unit}"
        for match in _NUMBER.finditer(text)
        if (unit := _unit_of(text, match)) in _DURATIONS
    ]
