"""Checks on what the bot is about to say and on the passages it may quote.

A reply that fails here is not sent: the pipeline falls back to a quoted passage or a person.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.agent.prompts import without_citations
from knowledge.language import language_scripts, script_runs, script_weight

# Instructions aimed at the assistant, in passages, order notes or a shopper's message. Phrases
# in the sixteen shop languages; a passage carrying one is data that tries to steer the bot.
# The general form is a verb of ignoring and, a few words later, the bot's instructions or
# rules (the verb last in Japanese, Korean and Turkish), so "ignore all the previous
# instructions" is caught as well as "ignore the instructions". Verbs of forgetting only with
# a qualifier: "don't forget to read the instructions" is ordinary text in a shop's documents.
_A_FEW_WORDS = r"\W+(?:\w+\W+){0,4}?"
_INJECTION = re.compile(
    "|".join(
        (
            r"\b(?:ignore|disregard|override|forget (?:all|everything|your|any|previous))"
            + _A_FEW_WORDS
            + r"(?:instructions|rules|prompts?|directives|guidelines)\b",
            r"\bdisregard (?:all |any |the )?(?:previous|prior|above|earlier)\b",
            r"(?:reveal|print|show) (?:your|the) (?:system )?prompt",
            r"you are now (?:a|an|in) ",
            r"\bsystem prompt\b",
            r"\bdeveloper mode\b",
            r"\b(?:ignorier\w*|missachte\w*)"
            + _A_FEW_WORDS
            + r"(?:anweisungen|regeln|instruktionen|vorgaben)",
            r"\bignore[zr]?" + _A_FEW_WORDS + r"(?:instructions|règles|consignes)",
            r"\b(?:ignor[aei]\w*)"
            + _A_FEW_WORDS
            + r"(?:instrucciones|reglas|indicaciones|istruzioni|regole|instruções|regras)",
            r"\bnegeer\w*" + _A_FEW_WORDS + r"(?:instructies|regels|opdrachten)",
            r"\b(?:zignoruj|ignoruj)\w*" + _A_FEW_WORDS + r"(?:instrukcj|polece|zasad)",
            r"(?:игнорир\w*|проигнорир\w*|(?<!не )забудь\w*|не обращай\w* внимания на)"
            + _A_FEW_WORDS
            + r"(?:инструкци|указани|правил)",
            r"(?:talimat|kural|komut)\w*" + _A_FEW_WORDS + r"(?:yok say|görmezden gel|unut)",
            r"(?<!\w)(?:تجاهل\w*|انس[َى]?|لا تلتزم\w*)(?=\W)"
            + _A_FEW_WORDS
            + r"(?:ال)?(?:تعليمات|أوامر|قواعد)",
            r"(?:忽略|无视|無視|不要理会|忽视)[^。！？\n]{0,12}?"
            r"(?:指令|指示|说明|說明|规则|規則|提示词|命令)",
            r"(?:指示|命令|ルール|指令|プロンプト)[^。！？\n]{0,10}?無視",
            r"(?:지시|지침|명령|규칙|프롬프트)[^.!?\n]{0,12}?(?:무시|잊어)",
            # คำสั่งซื้อ is a (purchase) order, not an instruction.
            r"(?:ละเว้น|เพิกเฉย|ไม่ต้องสนใจ|ไม่ต้องทำตาม)[^\n]{0,20}?(?:คำสั่ง(?!ซื้อ)|คำแนะนำ|กฎ)",
            r"(?:bỏ qua|phớt lờ|lờ đi)"
            + _A_FEW_WORDS
            + r"(?:hướng dẫn|chỉ dẫn|chỉ thị|quy tắc|lệnh)",
        )
    ),
    re.IGNORECASE,
)

# Outcomes nobody may promise: a dispute's result, money beyond what the tools did.
_FORBIDDEN = re.compile(
    "|".join(
        (
            r"\byou (?:will|are going to) win\b",
            r"\bguarantee[ds]? (?:a |you |your )?(?:full )?(?:refund|win|outcome)",
            r"\b100 ?% (?:refund|guaranteed)",
            r"\bfree (?:of charge )?(?:replacement|refund) guaranteed\b",
            r"\bi (?:have|'ve) (?:issued|sent|processed) (?:a |your |the )?refund\b",
            r"rembours\w* intégral|sans aucune vérification|100 ?% (?:de )?rembours",
            r"volle\w* (?:rück)?erstattung|ohne (?:jede )?prüfung",
            r"reembolso (?:completo|total|íntegro|integral)|sin ninguna verificación",
            r"rimborso (?:completo|totale|integrale)",
            r"全額返金|永久に無料|全额退款|永久免费|전액 환불|คืนเงินเต็มจำนวน|hoàn tiền toàn bộ",
        )
    ),
    re.IGNORECASE,
)


# A small model writing Thai (or another script it saw little of) sometimes slips into Chinese
# or Cyrillic mid-sentence, or into English, or emits broken characters. Words the passages
# contain (product names, brands, a quoted term) are fine in any script; beyond them, another
# non-Latin script is not tolerated at all and Latin only as a small share of the reply.
_STRAY_SCRIPT_WEIGHT = 2
"""Unexplained letters of another non-Latin script up to this weight (one stray letter) pass."""
_LATIN_SHARE = 0.25
"""Unexplained Latin letters in a reply in a non-Latin language may be up to this share..."""
_COPIED_LATIN_SHARE = 0.45
"""...and all Latin letters up to this one: names are short, a copied English sentence is not."""
# Thai vowel and tone marks must follow a consonant (or another mark); a leading vowel must be
# followed by one; two tone marks never stand together. Otherwise the word is broken.
_BROKEN_THAI = re.compile(
    r"(?<![\u0e01-\u0e2e\u0e31\u0e34-\u0e3a\u0e47-\u0e4e])[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]"
    r"|[\u0e48-\u0e4b]{2}|[\u0e40-\u0e44](?![\u0e01-\u0e2e])"
)


def script_problem(reply: str, language: str, sources: Iterable[str] = ()) -> str | None:
    """Why `reply` is not cleanly written in `language`'s script, or None when it is.

    `sources` (the cited passages, document and section names) explain words in other
    scripts: a product or brand name copied from them is not a slip."""
    if "\ufffd" in reply:
        return "reply contains broken characters"
    if language == "th" and _BROKEN_THAI.search(reply):
        return "reply contains broken Thai words"
    allowed = language_scripts(language)
    known = " ".join(sources).casefold()
    total = stray = latin = copied = 0
    strays: list[str] = []
    for script, run in script_runs(without_citations(reply)):
        weight = script_weight(script, run)
        total += weight
        if script == "latin" and script not in allowed:
            copied += weight
        if script in allowed or run.casefold() in known:
            continue
        strays.append(run)
        if script == "latin":
            latin += weight
        else:
            stray += weight
    if stray > _STRAY_SCRIPT_WEIGHT:
        return f"reply mixes in another script: {' '.join(strays)[:40]!r}"
    if (latin and latin > _LATIN_SHARE * total) or copied > _COPIED_LATIN_SHARE * total:
        return "reply is largely in Latin letters"
    return None


_ECHO_MIN_CHARACTERS = 6


def repeats_question(reply: str, question: str) -> bool:
    """True when the reply says nothing but (a part of) the shopper's own question: a small
    model sometimes echoes a question it cannot answer, in the right language and script."""
    said = _letters_and_digits(without_citations(reply))
    return len(said) >= _ECHO_MIN_CHARACTERS and said in _letters_and_digits(question)


def _letters_and_digits(text: str) -> str:
    return "".join(char for char in text.casefold() if char.isalnum())


def looks_like_injection(text: str) -> bool:
    """True when the text tries to give the assistant instructions."""
    return _INJECTION.search(text) is not None


@dataclass(frozen=True)
class Verdict:
    """Whether a reply may be sent, and if not, why."""

    ok: bool
    reason: str = ""


def check_reply(
    reply: str,
    *,
    expected_language: str,
    detected_language: str | None,
    performed_refund: bool = False,
    sources: Iterable[str] = (),
) -> Verdict:
    """A reply must be non-empty, in the shopper's language and its script (words of `sources`
    aside), free of injected instructions and of promises the tools did not make."""
    text = reply.strip()
    if not text:
        return Verdict(False, "empty reply")
    if "NO_ANSWER" in text:
        return Verdict(False, "the model found no answer in the passages")
    if detected_language is not None and detected_language != expected_language:
        return Verdict(False, f"reply in {detected_language}, shopper writes {expected_language}")
    problem = script_problem(text, expected_language, sources)
    if problem is not None:
        return Verdict(False, problem)
    if looks_like_injection(text):
        return Verdict(False, "reply repeats an injected instruction")
    found = _FORBIDDEN.search(text)
    if found and not performed_refund:
        return Verdict(False, f"reply promises what no tool did: {found.group(0)!r}")
    return Verdict(True)
