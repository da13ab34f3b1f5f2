"""Whether the sentences chosen to answer a question state its answer, asked of the chat model as
one yes-or-no question; the code decides what the verdict changes.

The answer floors (`bot.domain.answering.AnswerFloors`) read similarities, and similarities
shift from store to store: on a store they were not fitted on, "do you organise group rides
from Innsbruck?" found "we rent bikes in our Innsbruck shop" as close as a cross-language
question finds its real answer, and several real answers scored under the floors. The
embedding sees the shared topic (a town, bikes); a model reading both texts sees whether the
sentence says what was asked. The local 1.5B model is trusted with nothing more than that one
word, greedily decoded from a short fixed prompt; anything else it says is no verdict, and the
floors decide as before.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from bot.agent.errors import LLMTimeout, LLMUnavailable
from bot.agent.facts.asked import Asked
from bot.agent.models.calls import ChatModel, invoke_chat
from bot.domain.answering import AnswerFloors

if TYPE_CHECKING:
    from bot.agent.facts import AnsweringSentences

log = logging.getLogger(__name__)

CHECK_SYSTEM = (
    "You check whether a shop's text answers a customer's question. The question and the text "
    "may be in different languages. Reply with one word: yes if the text states the answer, "
    "no if it does not."
)
"""Fixed, so the local model keeps it evaluated between turns."""
CHECK_TIMEOUT_S = 20.0
"""A verdict takes 3-12 s on two shared cores; past this the floors decide alone."""
VETO_TIMEOUT_S = 60.0
"""A veto waits longer: the answer it stops waits for the model's wording anyway, and on
cores shared with other model runs a verdict took over 20 s."""
MAX_TOKENS = 3
MAX_TEXT_CHARS = 1200
"""Longer sentences are cut: the answer sits in the chosen sentences' first lines, and the
prompt stays quick to read."""
_VERDICT = re.compile(r"^\W*(yes|no)\b", re.IGNORECASE)


def check_messages(question: str, sentences: Sequence[str]) -> list[BaseMessage]:
    """The prompt: the fixed instruction, then the question and the sentences, each on one line.

    The sentences are not wrapped in an untrusted-data tag as in the wording prompt: with one,
    the local model said no to 17 of the unseen store's 30 answerable dev questions (with plain
    lines, 6). A planted "reply yes" in them could change only this one word, and such
    sentences were cut out before (`bot.agent.facts.without_instructions`)."""
    text = " ".join(" ".join(sentence.split()) for sentence in sentences)[:MAX_TEXT_CHARS]
    return [
        SystemMessage(CHECK_SYSTEM),
        HumanMessage(
            f"Question: {' '.join(question.split())}\n"
            f"Text: {text}\n"
            "Does the text answer the question?"
        ),
    ]


def verdict(reply: str) -> bool | None:
    """True for a reply that starts with yes, False for no, None for anything else."""
    found = _VERDICT.match(reply.strip())
    if found is None:
        return None
    return found.group(1).casefold() == "yes"


async def states_the_answer(
    model: ChatModel,
    question: str,
    sentences: Sequence[str],
    *,
    timeout_s: float = CHECK_TIMEOUT_S,
) -> bool | None:
    """The model's verdict on whether `sentences` answer `question`: None without a model, when
    it fails or is slower than `timeout_s`, or when its reply is neither yes nor no."""
    if model.llm is None or not sentences:
        return None
    try:
        message = await invoke_chat(
            model.llm,
            check_messages(question, sentences),
            timeout_s=min(model.timeout_s, timeout_s),
            max_tokens=MAX_TOKENS,
        )
    except (LLMTimeout, LLMUnavailable) as error:
        log.warning("chat model failed to check an answer: %r", error)
        return None
    found = verdict(str(message.content))
    if found is None:
        log.info("answer check: no verdict in %r", str(message.content)[:40])
    return found


async def confirmed(
    model: ChatModel,
    question: str,
    chosen: AnsweringSentences,
    *,
    sure: bool,
    floors: AnswerFloors,
    runners_up: Callable[[], Awaitable[list[AnsweringSentences]]],
) -> AnsweringSentences | None:
    """The sentences to answer from, or None to hand off, once the model has read them.

    When the floors would answer (`sure`) and the model says the sentences do not answer, those
    of the runner-up passages are read in turn (the first the model confirms answers): a
    question about something the documents never state is handed off, and one whose answer
    sits in the next section is answered from it. When the floors would hand off, sentences
    close enough to the question to be its answer (`AnswerFloors.sentence_checked`) answer on
    the model's yes. Runners-up and sentences under the floors must state the kind of fact the
    question asks for (`typed`). Without a verdict the floors decide."""
    if not sure and not (chosen.similarity >= floors.sentence_checked and typed(chosen)):
        return None
    said = await states_the_answer(model, question, chosen.sentences)
    if said is None:
        return chosen if sure else None
    if said:
        return chosen
    log.info("answer check: the model reads no answer in %r", chosen.text[:80])
    if not sure:
        return None
    for other in await runners_up():
        if typed(other) and await states_the_answer(model, question, other.sentences):
            return other
    return None


async def not_vetoed(
    model: ChatModel, question: str, chosen: AnsweringSentences
) -> AnsweringSentences | None:
    """`chosen`, unless the model says they do not answer `question` (None: hand off). Only a
    veto: the model never makes an answer of sentences the floors turned away, nor picks
    others, so its false noes cost only the answers in the grey band it is asked about
    (`AnswerFloors.leans_on_passage`); without a verdict the floors' answer stands."""
    said = await states_the_answer(model, question, chosen.sentences, timeout_s=VETO_TIMEOUT_S)
    if said is False:
        log.info("answer check: the model vetoes %r", chosen.text[:80])
        return None
    return chosen


def typed(chosen: AnsweringSentences) -> bool:
    """Whether the question asks for a kind of fact (an amount, a duration, a percentage...) and
    the sentences state one. The model's yes alone answers from no sentences the floors did not
    choose: on the unseen store's dev half it said yes to "do you sell bike insurance?" over a
    leasing discount, and to "do you organise group rides?" over a shop's opening hours."""
    return chosen.asked is not Asked.ANYTHING and chosen.states_asked
