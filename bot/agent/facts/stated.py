"""What kind of fact a sentence states, read in code: an amount (a figure with its currency, or
"free"), a duration, a percentage, an address, a contact, a weight, a temperature, a number."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.agent.checks.grounding import figures, unit_kinds
from bot.agent.extract import find_codes, find_emails, find_urls
from bot.agent.facts.asked import Asked
from bot.domain.text import normalise_text

_FREE = re.compile(
    r"(?<![^\W\d_])(?:free|kostenlos|gratis|gratuit[eoa]?s?|darmow|бесплатн|безкоштовн|ücretsiz"
    r"|miễn phí|gratuita|sans frais|sin coste|senza costi|sem custos|zonder kosten|kostnadsfri"
    r"|bezpłatn|bezplatn|δωρεάν|ilmai|ingyenes|mutfa|nicht berechnet)|مجان|免费|免費|無料|무료"
    r"|ฟรี|मुफ़्त|मुफ्त|निःशुल्क"
)
_PERCENT = re.compile(
    r"%|٪|(?<![^\W\d_])(?:percent|per cent|prozent|procent|процент|відсот|yüzde|persen|phần trăm)"
    r"|بالمئة|في المائة|प्रतिशत|パーセント|퍼센트|เปอร์เซ็นต์"
)
_TIME_OF_DAY = re.compile(
    r"\b\d{1,2}[:h]\d{2}\b|\b\d{1,2}(?:[.:]\d{2})?\s?(?:am|pm|uhr|h)\b|\d{1,2}時|\d{1,2}시"
)
_DATE = re.compile(r"\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b|\d+月\d+日")
_WEIGHT = re.compile(
    r"\d\s?(?:kg|g|lbs?|oz|кг|гр?|公斤|千克|克|キロ|グラム|킬로|그램|กก|กิโล|กรัม|किलो|ग्राम)(?![^\W\d_])"
)
_TEMPERATURE = re.compile(
    r"°|℃|℉|\d\s?(?:grad|degrees?|degr[ée]s|grados|gradi|graus|graden|stopni|градус|derece|度|도"
    r"|องศา|độ|derajat|डिग्री)"
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"\+?\d[\d ()/-]{6,}\d")
_URL = re.compile(r"https?://\S+|www\.\S+")
# A street and its number ("Grabenweg 71", "Via Macello 24", "12 rue ..."), or a postcode and its
# town ("6020 Innsbruck"), in the forms European shops write addresses in.
_STREET = (
    r"stra(?:ß|ss)e|str\.|weg|gasse|platz|allee|ring|damm|via|viale|piazza|corso|rue|avenue"
    r"|boulevard|calle|avenida|rua|street|road|lane|ulica|ul\.|улица|ул\.|straat|laan|plein"
    r"|gatan|vägen|cadde|sokak"
)
_ADDRESS = re.compile(
    rf"(?:{_STREET})\s\d{{1,4}}[a-z]?\b|\b\d{{1,4}},?\s(?:{_STREET})\b"
    rf"|[a-zäöüß-]{{3,}}(?:{_STREET})\s\d|(?-i:\b\d{{4,5}}\s[A-ZÄÖÜ][^\W\d_]+)"
    r"|〒|\d+丁目|\d+番地|번지|로\s?\d+",
    re.IGNORECASE,
)


def carries_the_answer(reply: str, sentences: Sequence[str], asked: Asked = Asked.ANYTHING) -> bool:
    """Whether a reply restating the answering `sentences` keeps one of them whole: every
    number (in either decimal notation), e-mail address, link and code that sentence states
    (sentences stating none leave the words to the model). A small model restating "1–2 days
    to Austria, 3–6 to other EU countries" keeps one range and drops the one that answers, or
    answers "yes, by credit card" and drops the 300 € deposit: such a reply is not sent,
    whatever the question asked for (the sentences go out quoted). When some of the sentences
    state the kind of fact the question asks for (`asked`), the one kept whole is one of them:
    asked how long, a reply keeping the price sentence beside the deadline dropped the answer."""
    plain = normalise_text(reply)
    said = {number for number, _unit in figures(plain)}
    answering = [sentence for sentence in sentences if states(sentence, asked)]
    stating = [
        facts
        for sentence in answering or sentences
        if (facts := _stated_facts(sentence)) != _NOTHING
    ]
    return not stating or any(
        numbers <= said and all(item in plain for item in written) for numbers, written in stating
    )


_NOTHING: tuple[set[str], list[str]] = (set(), [])


def _stated_facts(sentence: str) -> tuple[set[str], list[str]]:
    """The numbers (canonical) and the addresses, links and codes (normalised) of a sentence."""
    numbers = {number for number, _unit in figures(normalise_text(sentence))}
    written = [*find_emails(sentence), *find_urls(sentence), *find_codes(sentence)]
    return numbers, [normalise_text(item) for item in written]


_QUESTION_MARK = re.compile(r"[?？؟]")


def asks_back(reply: str, sentences: Sequence[str]) -> bool:
    """Whether a reply restating `sentences` asks a question they do not: a small model given
    a question sometimes translates or rewords it instead of answering it."""
    return bool(_QUESTION_MARK.search(reply)) and not any(
        _QUESTION_MARK.search(sentence) for sentence in sentences
    )


def states(sentence: str, kind: Asked, question: str = "") -> bool:
    """Whether `sentence` states the kind of fact `kind` asks for (always, for `ANYTHING`). An
    amount the `question` names already says nothing: asked from what order value shipping is
    free, "returns from Austria are free" states no amount."""
    text = normalise_text(sentence)
    units = {unit for _number, unit in figures(text)}
    if kind is Asked.ANYTHING:
        return True
    if kind is Asked.COUNT:
        return bool(re.search(r"\d", text))
    if kind in (Asked.AMOUNT, Asked.PRICE):
        free = bool(_FREE.search(text)) and not _FREE.search(normalise_text(question))
        return bool(units & _CURRENCY_UNITS) or free
    if kind is Asked.DISCOUNT:
        return bool(units & _CURRENCY_UNITS) or bool(_PERCENT.search(text))
    if kind is Asked.PERCENT:
        return bool(_PERCENT.search(text))
    if kind is Asked.DURATION:
        # A duration may be written out ("garantis deux ans"): a unit word is enough.
        named = unit_kinds(text) & _DURATION_UNITS
        return bool(named or _TIME_OF_DAY.search(text) or _DATE.search(text))
    if kind is Asked.WEIGHT:
        return bool(_WEIGHT.search(text))
    if kind is Asked.TEMPERATURE:
        return bool(_TEMPERATURE.search(text))
    if kind is Asked.CONTACT:
        return bool(_EMAIL.search(text) or _PHONE.search(text) or _URL.search(text))
    return bool(_ADDRESS.search(sentence))


_CURRENCY_UNITS = frozenset(
    {"EUR", "USD", "GBP", "CHF", "PLN", "JPY", "CNY", "RUB", "TRY", "KRW", "THB", "VND"}
)
_DURATION_UNITS = frozenset({"day", "hour", "week", "month", "year"})
