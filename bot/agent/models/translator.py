"""A chat message translated by the configured chat model, refused when it loses a fact.

The prompt is short and fixed so the local 1.5B model (two cores) keeps it evaluated and
decodes greedily. The check is code, not the prompt: every number (with its currency or
unit), e-mail address, link, order number and product or tracking code of the original must
be in the translation, and the translation may add none; otherwise the original goes out.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from langchain_core.messages import BaseMessage, HumanMessage

from bot.agent.checks.grounding import ungrounded_figures
from bot.agent.errors import LLMTimeout, LLMUnavailable
from bot.agent.extract import find_codes, find_emails, find_order_ids, find_urls
from bot.agent.models.calls import ChatModel, invoke_chat
from bot.agent.prompts import LANGUAGE_NAMES
from bot.agent.replies import reply_languages, say
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


INSISTING = (
    "Translate this text{source} into {target}. Write {target} only{avoid}. "
    "Copy numbers, prices with their currency, e-mail addresses, links, order numbers and "
    "product codes exactly as written.\n\n{example}{label}: {text}\n{target}:"
)
"""The second try at a passage the first refused: the same request, insisting on the language,
with one pair of the pipeline's own fixed replies as an example of the target language (the
local 1.5B model asked for Hindi, Swedish or Korean often wrote English)."""


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


def insisting_messages(text: str, source: str | None, target: str) -> list[BaseMessage]:
    """The second try's prompt: the language insisted on, with an example in it."""
    named = LANGUAGE_NAMES.get(source, source) if source else ""
    target_name = LANGUAGE_NAMES.get(target, target)
    avoid = [LANGUAGE_NAMES["en"]] if target != "en" else []
    avoid += [named] if named and source not in ("en", target) else []
    example = ""
    if target in reply_languages() and target != "en":
        example = f"English: {say('en', 'greeting')}\n{target_name}: {say(target, 'greeting')}\n\n"
    instruction = INSISTING.format(
        source=f" from {named}" if named else "",
        target=target_name,
        avoid=f", never {' or '.join(avoid)}" if avoid else "",
        example=example,
        label=named or "Text",
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


# "Here is the translation of the given German text into Thai:" on a line of its own before
# the translation: the model's English about its work, never part of what the shopper reads.
_PREAMBLE = re.compile(r"^[^\n]*\btranslat[^\n]*:[ \t]*\n+", re.IGNORECASE)
_LABEL = re.compile(r"^[^\W\d_]{2,15}:\s+")
_QUOTES = '"“”«»「」'


def cleaned(original: str, written: str) -> str | None:
    """The model's translation without wrapping quotes, or None when it is empty or rambles
    far past the original's length (a small model sometimes answers instead)."""
    text = written.strip()
    chatty = _PREAMBLE.match(text) is not None
    text = _PREAMBLE.sub("", text, count=1)
    if "\n\n" not in original.strip():
        # One paragraph translates into one: after a blank line comes the model's comment on
        # its work ("This translation keeps the figures...").
        text = text.strip().split("\n\n")[0]
    text = text.strip().strip(_QUOTES).strip()
    if chatty:
        # ..."into Korean:\n\n한국어: 30일 이내...": the language's name as a label.
        text = _LABEL.sub("", text, count=1).strip(_QUOTES).strip()
    if not text or len(text) > 3 * len(original) + 80:
        return None
    return text


Acceptance = Callable[[str], str | None]
"""A caller's own check of a translation: why it cannot be sent, or None when it can."""


async def translate_passage(
    model: ChatModel,
    text: str,
    source: str | None,
    target: str,
    accept: Acceptance | None = None,
) -> Translation:
    """`text` (a document's sentences, quoted to a shopper) in `target`, tried twice: when the
    first translation is refused, by the checks of `translate` or by `accept`, once more with
    the language insisted on. A first try that came back in English with every fact kept is
    translated on from that English (a small model writes English more faithfully than it
    writes Hindi); the facts are then checked against the original. On the 25 passages of
    `evals/passage_translation.py` with the local model, written in the target language
    .48 -> .92 and sent .32 -> .68 (one try against two); a sent translation can still be
    clumsy: these checks read figures, not meaning (the answer flow's `accept` adds a few
    meanings of its own, such as "after 7 days" for "within 7 days")."""
    first = _accepted(await translate(model, text, source, target), accept)
    if first.ok or first.outcome in (Outcome.TIMEOUT, Outcome.NO_MODEL):
        return first
    if first.outcome is Outcome.FAILED and first.candidate is None:
        return first  # the model failed outright, or the text is too long: no second try
    pivot = _english_pivot(first)
    if pivot is not None:
        log.info("translation %s>%s goes on from the English the model wrote", source, target)
        second = await translate(model, pivot, "en", target, messages=insisting_messages)
        lost = lost_facts(text, second.text) if second.ok else []
        if lost:
            second = Translation.untranslated(
                pivot,
                "en",
                target,
                Outcome.DROPPED_TOKEN,
                dropped=tuple(lost),
                candidate=second.text,
            )
    else:
        second = await translate(model, text, source, target, messages=insisting_messages)
    second = _accepted(second, accept)
    if second.ok:
        return Translation(text, source, target, Outcome.OK, second.text, candidate=second.text)
    log.info("translation %s>%s refused twice: %s", source, target, second.reason)
    return Translation.untranslated(
        text,
        source,
        target,
        second.outcome,
        dropped=second.dropped,
        candidate=second.candidate,
    )


def _accepted(translation: Translation, accept: Acceptance | None) -> Translation:
    """`translation`, refused (`failed`) when the caller's own check refuses its text."""
    if not translation.ok or accept is None:
        return translation
    why = accept(translation.text)
    if why is None:
        return translation
    log.info("translation %s>%s refused: %s", translation.source, translation.target, why)
    return Translation.untranslated(
        translation.original,
        translation.source,
        translation.target,
        Outcome.FAILED,
        candidate=translation.text,
    )


def _english_pivot(refused: Translation) -> str | None:
    """The English a refused translation came back in, when it kept every fact of the
    original and English was not the language asked for (nor the original's)."""
    candidate = refused.candidate
    if (
        refused.outcome is not Outcome.WRONG_LANGUAGE
        or candidate is None
        or "en" in (refused.source, refused.target)
        or lost_facts(refused.original, candidate)
    ):
        return None
    return candidate if _written_in(candidate, refused.source, refused.target) == "en" else None


Messages = Callable[[str, str | None, str], list[BaseMessage]]


async def translate(
    model: ChatModel,
    text: str,
    source: str | None,
    target: str,
    *,
    messages: Messages | None = None,
) -> Translation:
    """`text` in `target`, checked; the original with the reason when it cannot be sent.
    `messages` builds the prompt (`translation_messages` unless given)."""
    if source == target:
        return Translation(text, source, target, Outcome.OK, text)
    if model.llm is None:
        return Translation.untranslated(text, source, target, Outcome.NO_MODEL)
    if len(text) > MAX_MESSAGE_CHARS:
        return Translation.untranslated(text, source, target, Outcome.FAILED)
    prompt = (messages or translation_messages)(text, source, target)
    try:
        answer = await invoke_chat(
            model.llm,
            prompt,
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
        return Translation.untranslated(
            text, source, target, Outcome.FAILED, candidate=answer.text or None
        )
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
