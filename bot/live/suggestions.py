"""A reply an agent may send, drafted in the language they read: the store's documents' answer to
the thread's last shopper question (through the turn pipeline's answer flow, with its retrieval,
answer floors, wording and reply checks) and where the verified shopper's orders stand.

Nothing here writes: the draft goes into the agent's reply box; sending it translates it for the
shopper like any reply (`LiveChat.agent_message`). Without a chat model the draft quotes the
answering passage in the language it is written in, and says so."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.agent.extract import find_order_ids
from bot.agent.flows.answer import Answers
from bot.agent.flows.status import order_status
from bot.agent.intents import Intent
from bot.agent.state import Memory, Turn
from bot.domain.conversation import HandoffReason, Role
from bot.domain.errors import Forbidden, ParleyError
from bot.domain.policy import Verification
from bot.live.translation import (
    SAME_LANGUAGE,
    TRANSLATED,
    Translation,
    reading_language,
    translate_for_thread,
)
from bot.storage import Agent, Conversation, Message
from bot.tools.store import OrderStore
from bot.translation import Interpreter

NO_MODEL = "no chat model is configured, so the passage is quoted in its own language"


@dataclass(frozen=True)
class Suggestion:
    """A draft reply for the agent to edit: `text` in `language` (empty when nothing in the
    documents or the orders answers), what it rests on, and whether it is in the agent's
    language (`untranslated` with `reason` when a passage is quoted in another)."""

    text: str
    language: str | None
    question: dict[str, Any] | None
    """The shopper's message it answers: seq, original, and as the agent reads it."""
    citations: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    untranslated: bool = False
    reason: str | None = None
    drafted_by: str | None = None
    """`model` (the chat model worded the documents' answer), `passage` (quoted, no model) or
    `None` (nothing in the documents answers; the draft is the order lines, if any)."""

    def as_json(self) -> dict[str, Any]:
        """The console's suggestion endpoint's answer."""
        return {
            "text": self.text,
            "language": self.language,
            "question": self.question,
            "citations": self.citations,
            "orders": self.orders,
            "untranslated": self.untranslated,
            "reason": self.reason,
            "drafted_by": self.drafted_by,
        }


class ReadingDesk:
    """The order tools as a suggestion sees them: the verified customer, and nothing else (a
    draft reads; it never calls a tool, verifies anyone or hands a thread off)."""

    def __init__(self, customer_id: str | None) -> None:
        self._customer_id = customer_id

    @property
    def customer_id(self) -> str | None:
        """The thread's verified customer, if any."""
        return self._customer_id

    async def call(self, name: str, arguments: dict[str, Any]) -> Any:
        """Refused: a draft does not act."""
        raise Forbidden(f"a reply suggestion does not call {name}")

    async def verify(self, customer_id: str) -> None:
        """Refused: a draft does not act."""
        raise Forbidden("a reply suggestion does not verify shoppers")

    async def hand_off(self, reason: HandoffReason) -> bool:
        """Refused: a person already owns the thread."""
        raise Forbidden("a reply suggestion does not hand threads off")

    @property
    def verified_by(self) -> set[str]:
        """No proof counts for a write here: a draft never writes."""
        return set()

    def prove(self, method: Verification) -> None:
        """Refused: a draft does not act."""
        raise Forbidden("a reply suggestion does not verify shoppers")


async def suggest_reply(
    *,
    answers: Answers,
    interpreter: Interpreter,
    orders: OrderStore,
    conversation: Conversation,
    messages: list[Message],
    agent: Agent,
) -> Suggestion:
    """A draft answer, in `agent`'s language, to the last shopper message of `conversation`."""
    language = reading_language(agent) or conversation.language or "en"
    question = next((m for m in reversed(messages) if m.role is Role.SHOPPER), None)
    if question is None:
        return Suggestion(text="", language=language, question=None)
    read = await translate_for_thread(
        interpreter,
        conversation.store_id,
        conversation.id,
        question.text,
        source=question.language or conversation.language,
        target=language,
        direction="to_agent",
        seq=question.seq,
    )
    asked = {
        "seq": question.seq,
        "text": question.text,
        "language": question.language,
        "read_as": read.as_json(),
    }
    turn = _turn(conversation, question, read, language, answers)
    parts: list[str] = []
    citations: list[dict[str, Any]] = []
    untranslated, reason, drafted_by = False, None, None
    decided = await answers.answer_if_sure(turn, Intent.FAQ)
    if decided is not None:
        result, _ = decided
        citations = [citation.as_json() for citation in result.citations]
        if answers.model.llm is None:
            # The flow's quoted reply leads in the turn's language; the agent wants the passage.
            first = result.citations[0]
            parts.append(first.quote.strip())
            drafted_by = "passage"
            if first.language != language:
                untranslated, reason = True, NO_MODEL
        else:
            parts.append(result.reply)
            drafted_by = "model"
    shown = await _orders(orders, conversation, messages, turn, language)
    parts += [order["line"] for order in shown]
    return Suggestion(
        text="\n\n".join(part for part in parts if part),
        language=language,
        question=asked,
        citations=citations,
        orders=shown,
        untranslated=untranslated,
        reason=reason,
        drafted_by=drafted_by,
    )


def _turn(
    conversation: Conversation,
    question: Message,
    read: Translation,
    language: str,
    answers: Answers,
) -> Turn:
    """The answer flow's turn: the question as the agent reads it, answered in their language;
    with neither a translation nor a model, the original in its own language (retrieval's
    language-aware floors then judge it as the shopper asked it)."""
    readable = read.status in (TRANSLATED, SAME_LANGUAGE)
    if readable:
        text, turn_language = read.text, language
    elif answers.model.llm is not None:
        text, turn_language = question.text, language
    else:
        text = question.text
        turn_language = question.language or conversation.language or language
    return Turn(
        store_id=conversation.store_id,
        conversation_id=conversation.id,
        text=text,
        language=turn_language,
        memory=Memory(),
        desk=ReadingDesk(conversation.customer_id),
    )


async def _orders(
    orders: OrderStore,
    conversation: Conversation,
    messages: list[Message],
    turn: Turn,
    language: str,
) -> list[dict[str, Any]]:
    """The verified customer's orders the shopper named in the thread (the latest first), or
    their only order; each with the status line the bot would write, in the agent's language.
    Read-only, and only the thread's own verified customer's orders."""
    if conversation.customer_id is None:
        return []
    named = [
        order_id
        for message in reversed(messages)
        if message.role is Role.SHOPPER
        for order_id in find_order_ids(message.text)
    ]
    wording = Turn(
        store_id=turn.store_id,
        conversation_id=turn.conversation_id,
        text=turn.text,
        language=language,
        memory=Memory(),
        desk=turn.desk,
    )
    shown: list[dict[str, Any]] = []
    async with orders.session(conversation.store_id) as session:
        account = await session.customer(conversation.customer_id)
        chosen = [o for o in dict.fromkeys(named) if o in account.orders]
        if not chosen and len(account.orders) == 1:
            chosen = list(account.orders)
        for order_id in chosen:
            try:
                order = await session.order(order_id)
            except ParleyError:  # listed by the account, no longer in the store
                continue
            shown.append(
                {
                    "order_id": order.order_id,
                    "status": order.status,
                    "line": order_status(wording, order).reply,
                }
            )
    return shown
