"""A shopper's question rendered in English by the chat model, to search with beside the
question itself.

multilingual-e5-small matches a question best against passages in its own language and worst
across scripts (Vietnamese, Arabic, Thai questions against English passages on XQuAD-R). A
question searched as `normalise(E(question) + TRANSLATION_WEIGHT · E(English rendering))` keeps
what the question says in its own words and gains the rendering's closeness to English text,
even when the small model's rendering is rough: on the first 40 XQuAD-R groups (400 questions in
10 languages, English pool) R@5 went .940 -> .970 with the local 1.5B model, while searching with
the rendering alone fell to .870; weight .5 beat 1.0 (.940) and .7 (.965). On the agent
suite's store (17 documents in 14 languages) the right document came first for 14 of 16
cross-language questions (12 without), 13 of 16 code-switched ones (14 without) and 16 of 16
same-language ones. The best similarity rises by up to .04 for a rendered question, so the
answer floors (`AnswerFloors`, chosen on questions searched alone) need choosing again before
this is turned on by default.
"""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

TRANSLATION_WEIGHT = 0.5
ENGLISH_PROMPT = "Translate the user's question into English. Reply with the translation only."
MAX_QUESTION_CHARS = 400
"""Longer messages are not rendered: a question fits, and the prompt stays quick to read."""
MAX_TOKENS = 48


def english_messages(question: str) -> list[BaseMessage]:
    """The prompt: a fixed instruction (cached by the local model) and the question."""
    return [SystemMessage(ENGLISH_PROMPT), HumanMessage(question)]


def usable(question: str, rendering: str) -> str | None:
    """The model's rendering on one line, or None when it is empty, the question itself, or
    rambles far past the question's length (a small model sometimes answers instead)."""
    line = " ".join(rendering.split()).strip().strip('"“”«»')
    if not line or line == question.strip() or len(line) > 3 * len(question) + 40:
        return None
    return line


def in_english_sync(llm: BaseChatModel, question: str) -> str | None:
    """The English rendering of `question`, or None (too long, or nothing usable came back)."""
    if len(question) > MAX_QUESTION_CHARS:
        return None
    message = llm.invoke(english_messages(question), max_tokens=MAX_TOKENS)
    return usable(question, str(message.content))


async def in_english(llm: BaseChatModel, question: str) -> str | None:
    """`in_english_sync` without blocking the event loop; the caller bounds its time."""
    if len(question) > MAX_QUESTION_CHARS:
        return None
    message = await llm.ainvoke(english_messages(question), max_tokens=MAX_TOKENS)
    return usable(question, str(message.content))
