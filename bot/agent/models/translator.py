"""A chat message translated by the configured chat model, refused when it loses a fact.

The prompt is short and fixed so the local 1.5B model (two cores) keeps it evaluated and
decodes greedily. The check is code, not the prompt: every number (with its currency or
unit), e-mail address, link, order number and product or tracking code of the original must
be in the translation, and the translation may add none; otherwise the original goes out.
"""

from __future__ import annotations

import logging
import re

from langchain_core.messages import BaseMessage, HumanMessage

from bot.agent.checks.grounding import ungrounded_figures
from bot.agent.errors import LLMTimeout, LLMUnavailable
from bot.agent.extract import find_codes, find_emails, find_order_ids, find_urls
from bot.agent.models.calls import ChatModel, invoke_chat
from bot.agent.prompts import LANGUAGE_NAMES
from bot.domain.translation import Outcome, Translation
from knowledge.errors import UnsupportedLanguage
from knowledge.language import LanguageIdentifier

log = logging.getLogger(__name__)

INSTRUCTION = (
    "Translate this text{source} into {target}. Copy numbers, prices with their currency, "
    "e-mail addresses, links, order numbers and product codes exactly as written.\n\n"
    "{label}: {text}\n{target}:"
)
"""The whole request in one user turn, ending where the translation starts. With the
instruction as a system turn and the text alone as the user's, the local 1.5B model answered a
passage or asked whether to translate it (issue 19); a sentence telling it not to answer
questions made it ask "can I translate this text into Arabic?" itself."""
MAX_MESSAGE_CHARS = 2000
"""Longer messages go out untranslated (`failed`): a chat message is shorter."""


def translation_messages(text: str, source: str | None, target: str) -> list[BaseMessage]:
    """The prompt: one user turn naming the language pair, with the text after it."""
    named = LANGUAGE_NAMES.get(source, source) if source else ""
    instruction = INSTRUCTION.format(
        source=f" from {named}" if named else "",
        label=named or "Text",
        target=LANGUAGE_NAMES.get(target, target),
        text=text,
    )
    return [HumanMessage(instruction)]


def token_budget(text: str) -> int:
    """Room for the translation: scripts such as Hindi and Thai take more tokens than letters."""
    return min(1024, 32 + 2 * len(text))


def lost_facts(original: str, translation: str) -> list[str]:
    """What the translation lost or changed: numbers, currencies and units (as the reply check
    reads them), e-mail addresses, links, order numbers and codes. Empty when all survived."""
    lost: list[str] = []
    for find in _IDENTIFIERS:
        kept = {found.casefold() for found in find(translation)}
        lost += [found for found in find(original) if found.casefold() not in kept]
    # The digits of "#W1234567" are part of the order number, not a figure with a unit.
    before, after = _figures_only(original), _figures_only(translation)
    lost += [f for f in ungrounded_figures(before, [after]) if not _CALENDAR_YEAR.fullmatch(f)]
    lost += [
        f"+{figure}"
        for figure in ungrounded_figures(after, [before])
        if not _CALENDAR_YEAR.fullmatch(figure)
    ]
    return list(dict.fromkeys(lost))


# "in 2015" is "в 2015 году", "2015 yılında", "2015年" elsewhere: a calendar year gains or loses
# a year word in translation without changing (the reply check reads that word as a unit). The
# number itself is still checked; "3 years" becoming "3 months" is still refused.
_CALENDAR_YEAR = re.compile(r"[12]\d{3} year")


_IDENTIFIERS = (find_urls, find_emails, find_order_ids, find_codes)


def _figures_only(text: str) -> str:
    """`text` with its links, addresses, order numbers and codes blanked out."""
    for find in _IDENTIFIERS:
        for found in sorted(set(find(text)), key=len, reverse=True):
            text = text.replace(found, " ")
    return text


def cleaned(original: str, written: str) -> str | None:
    """The model's translation without wrapping quotes, or None when it is empty or rambles
    far past the original's length (a small model sometimes answers instead)."""
    text = written.strip().strip('"“”«»「」').strip()
    if not text or len(text) > 3 * len(original) + 80:
        return None
    return text


async def translate(model: ChatModel, text: str, source: str | None, target: str) -> Translation:
    """`text` in `target`, checked; the original with the reason when it cannot be sent."""
    if source == target:
        return Translation(text, source, target, Outcome.OK, text)
    if model.llm is None:
        return Translation.untranslated(text, source, target, Outcome.NO_MODEL)
    if len(text) > MAX_MESSAGE_CHARS:
        return Translation.untranslated(text, source, target, Outcome.FAILED)
    try:
        answer = await invoke_chat(
            model.llm,
            translation_messages(text, source, target),
            timeout_s=model.timeout_s,
            max_tokens=token_budget(text),
            temperature=0.0,
        )
    except LLMTimeout as error:
        log.warning("translation %s>%s timed out: %s", source, target, error)
        return Translation.untranslated(text, source, target, Outcome.TIMEOUT)
    except LLMUnavailable as error:
        log.warning("translation %s>%s failed: %s", source, target, error)
        return Translation.untranslated(text, source, target, Outcome.FAILED)
    translated = cleaned(text, answer.text)
    if translated is None:
        return Translation.untranslated(text, source, target, Outcome.FAILED)
    lost = lost_facts(text, translated)
    if lost:
        log.info("translation %s>%s refused: it lost %s", source, target, lost)
        return Translation.untranslated(
            text, source, target, Outcome.DROPPED_TOKEN, dropped=tuple(lost), candidate=translated
        )
    written = _written_in(translated, source, target)
    if written is not None:
        log.info("translation %s>%s refused: it came back in %s", source, target, written)
        return Translation.untranslated(
            text, source, target, Outcome.WRONG_LANGUAGE, candidate=translated
        )
    return Translation(text, source, target, Outcome.OK, translated, candidate=translated)


def _written_in(translation: str, source: str | None, target: str) -> str | None:
    """English or `source` when the translation is plainly written in it rather than in
    `target`, else None. A small model sometimes answers a "translate into Hindi" request in
    English, or copies the original; only those two are refused, and only when the identifier
    is sure (not carried over from `target` as a short text's is): a close neighbour of
    `target` (Danish read as Norwegian) still goes out."""
    try:
        guess = LanguageIdentifier.preferring([target]).detect(translation, target)
    except UnsupportedLanguage:
        return None  # a target the identifier does not know: nothing to compare
    if guess.carried or guess.code == target or guess.code not in {"en", source}:
        return None
    return guess.code
