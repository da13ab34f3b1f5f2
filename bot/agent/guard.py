"""Checks on what the bot is about to say and on the passages it may quote.

A reply that fails here is not sent: the pipeline falls back to a quoted passage or a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
) -> Verdict:
    """A reply must be non-empty, in the shopper's language, free of injected instructions and
    of promises the tools did not make."""
    text = reply.strip()
    if not text:
        return Verdict(False, "empty reply")
    if "NO_ANSWER" in text:
        return Verdict(False, "the model found no answer in the passages")
    if detected_language is not None and detected_language != expected_language:
        return Verdict(False, f"reply in {detected_language}, shopper writes {expected_language}")
    if looks_like_injection(text):
        return Verdict(False, "reply repeats an injected instruction")
    found = _FORBIDDEN.search(text)
    if found and not performed_refund:
        return Verdict(False, f"reply promises what no tool did: {found.group(0)!r}")
    return Verdict(True)
