"""Checks on what the bot is about to say and on the passages it may quote.

A reply that fails here is not sent: the pipeline falls back to a quoted passage or a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Instructions aimed at the assistant, in passages, order notes or a shopper's message. Phrases
# in the sixteen shop languages; a passage carrying one is data that tries to steer the bot.
_INJECTION = re.compile(
    "|".join(
        (
            r"ignore (?:all |any |the )?(?:previous|prior|above|earlier) (?:instructions|rules)",
            r"disregard (?:all |any |the )?(?:previous|prior|above) ",
            r"(?:reveal|print|show) (?:your|the) (?:system )?prompt",
            r"you are now (?:a|an|in) ",
            r"\bsystem prompt\b",
            r"\bdeveloper mode\b",
            r"ignoriere (?:alle |die )?(?:vorherigen|bisherigen) (?:anweisungen|regeln)",
            r"ignore[zr]? (?:toutes )?les instructions",
            r"ignora (?:todas )?las instrucciones",
            r"ignora (?:tutte )?le istruzioni",
            r"ignore (?:todas )?as instruções",
            r"negeer (?:alle )?(?:vorige )?instructies",
            r"zignoruj (?:wszystkie )?(?:poprzednie )?instrukcje",
            r"игнорируй (?:все )?(?:предыдущие )?инструкции",
            r"önceki talimatları yok say",
            r"تجاهل (?:جميع )?التعليمات",
            r"忽略(?:之前|以上|所有)?的?(?:指令|指示|说明)",
            r"(?:以前|これまで)の指示を無視",
            r"이전 지시(?:를|사항을)? 무시",
            r"ละเว้นคำสั่ง",
            r"bỏ qua (?:tất cả )?(?:các )?hướng dẫn",
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
