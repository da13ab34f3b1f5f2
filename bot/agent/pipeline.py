"""The turn pipeline: language, intent, handoff signals, retrieval or tools, the model, the guard,
persistence. Safety-critical decisions are made in code; the model only words grounded answers.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio
import numpy as np
from langchain_core.language_models import BaseChatModel
from numpy.typing import NDArray

from bot.agent.answerable import AnswerFloors
from bot.agent.extract import confirmation, find_email, find_name_zip, find_order_ids
from bot.agent.grounding import price_answered_with_time, ungrounded_figures
from bot.agent.guard import check_reply, looks_like_injection, repeats_question
from bot.agent.intents import Intent, IntentRoute
from bot.agent.language import LanguageIdentifier
from bot.agent.prompts import answer_prompt, without_citations
from bot.agent.replies import describe_action, refusal, say, status_name
from bot.agent.signals import HandoffSignal, handoff_signals
from bot.agent.swaps import choose_swap
from bot.agent.translation import TRANSLATION_WEIGHT, in_english
from bot.agent.turn import Citation, Outcome, ToolCall, TurnResult
from bot.domain.conversation import HandoffReason, OwnerState, Role
from bot.domain.errors import ParleyError
from bot.domain.orders import WrongStatus
from bot.domain.policy import AboveRefundLimit, StorePolicy
from bot.settings import RetrievalSettings
from bot.storage import ConversationRepository, StoreRepository
from bot.tools.context import ToolContext, ToolServices
from bot.tools.registry import call_tool
from knowledge import IndexUnavailable, Passage, SearchResult
from knowledge.embeddings import normalise

log = logging.getLogger(__name__)
RENDERING_TIMEOUT_S = 20.0
"""A rendering takes 1-2 s on two free cores; past this the question is searched alone."""

DEFAULT_LANGUAGES = (
    "en", "de", "fr", "es", "it", "pt", "nl", "pl", "ru", "tr", "ar", "zh", "ja", "ko", "th", "vi",
)  # fmt: skip
ORDER_INTENTS = frozenset(
    {Intent.ORDER_STATUS, Intent.RETURN, Intent.EXCHANGE, Intent.CANCEL, Intent.MODIFY_ORDER}
)
_MISTAKE = re.compile(
    r"mistake|by accident|accidentally|wrong (?:item|order)|irrtum|versehen|erreur|error|sbaglio"
    r"|engano|per ongeluk|pomyłk|ошибк|yanlışlık|خطأ|错|間違|실수|ผิด|nhầm",
    re.IGNORECASE,
)
_CLOSE_CALL = 0.03
"""An order intent must beat an informational runner-up by this much to start an order flow."""
_ORDER_TOKEN = re.compile(r"#?\b[Ww]\d{7}\b")
_CHARGEBACK = re.compile(
    r"chargeback|my bank|credit card company|paypal claim|rückbuchung|meine bank|ma banque"
    r"|mi banco|la mia banca|o meu banco|mijn bank|mój bank|мой банк|bankama|البنك|银行|銀行|은행"
    r"|ธนาคาร|ngân hàng",
    re.IGNORECASE,
)


Emit = Callable[[str], Awaitable[None]]
"""Sends a piece of the reply to the shopper while the turn is still running."""
Vector = NDArray[np.float32]


class Retriever(Protocol):
    """Finds a store's passages for a question (the knowledge index)."""

    async def search(
        self, store_id: str, query: str, *, k: int = 5, language: str | None = None
    ) -> SearchResult:
        """The best passages of this store for a question in `language`, with a calibrated
        confidence."""
        ...

    async def search_vector(
        self,
        store_id: str,
        query: str,
        vector: Vector,
        *,
        k: int = 5,
        language: str | None = None,
    ) -> SearchResult:
        """The same, with the query's embedding already computed."""
        ...

    async def remember_question(self, store_id: str, vector: Vector, language: str) -> bool:
        """Keep a shopper's question among the store's reference questions."""
        ...


class Router(Protocol):
    """Routes a message to an intent (the embedding router)."""

    def route(self, text: str, language: str | None = None) -> IntentRoute:
        """The message's intent with its score."""
        ...

    def route_vector(self, text: str, vector: Vector, language: str | None = None) -> IntentRoute:
        """The same, with the message's embedding already computed."""
        ...


@dataclass
class Memory:
    """What the bot carries from one turn to the next, kept in its last message's metadata."""

    intent: str | None = None
    awaiting: str | None = None
    """`identity`, `order`, `confirm` or `exchange`: what the last reply asked the shopper for."""
    order_id: str | None = None
    action_id: str | None = None
    summary: str | None = None
    """The proposed action's summary, repeated when the shopper confirms it."""
    failed: int = 0
    """Questions in a row the knowledge base could not answer."""
    request: str | None = None
    """The shopper's earlier words about an exchange, read again with their next answer."""

    def as_json(self) -> dict[str, Any]:
        """For the message's metadata."""
        return {
            "intent": self.intent,
            "awaiting": self.awaiting,
            "order_id": self.order_id,
            "action_id": self.action_id,
            "summary": self.summary,
            "failed": self.failed,
            "request": self.request,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Memory:
        """Back from the message's metadata."""
        data = data or {}
        return cls(
            intent=data.get("intent"),
            awaiting=data.get("awaiting"),
            order_id=data.get("order_id"),
            action_id=data.get("action_id"),
            summary=data.get("summary"),
            failed=int(data.get("failed") or 0),
            request=data.get("request"),
        )


@dataclass
class Turn:
    """The working state of one turn."""

    store_id: str
    conversation_id: str
    text: str
    language: str
    memory: Memory
    tools: ToolContext
    route: IntentRoute | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    vector: Vector | None = None
    """The message's query embedding, computed once for the router and the retriever."""
    emit: Emit | None = None
    """Where guarded pieces of a model's answer go while it is written (streaming turns)."""
    handback_note: str | None = None
    """What the agent who handed the thread back to the bot wrote for it (this turn only)."""

    def result(
        self, reply: str, intent: Intent | str, outcome: Outcome, **extra: Any
    ) -> TurnResult:
        """Finish the turn with this reply."""
        return TurnResult(
            session=self.conversation_id,
            reply=reply,
            language=self.language,
            intent=str(intent),
            outcome=outcome,
            tool_calls=self.tool_calls,
            **extra,
        )


class TurnPipeline:
    """Answers one shopper message in their language, acts through tools, or hands off."""

    def __init__(
        self,
        *,
        conversations: ConversationRepository,
        stores: StoreRepository,
        retriever: Retriever,
        router: Router,
        tools: ToolServices,
        llm: BaseChatModel | None = None,
        llm_timeout_s: float = 60.0,
        floors: AnswerFloors | None = None,
        translate_questions: bool = False,
        top_k: int = 5,
        languages: Callable[[Sequence[str]], LanguageIdentifier] | None = None,
        embed: Callable[[list[str]], Vector] | None = None,
    ) -> None:
        """`embed` is the query embedder the router and the retriever share: when given, each
        turn embeds the message once (while its language is detected) instead of twice.
        `floors` decide when retrieval is good enough to answer rather than hand off. With
        `translate_questions` and a chat model, a question not in English is searched with the
        model's English rendering mixed in (`bot.agent.translation`)."""
        self.conversations = conversations
        self.stores = stores
        self.retriever = retriever
        self.router = router
        self.tool_services = tools
        self.llm = llm
        self.llm_timeout_s = llm_timeout_s
        self.floors = floors or RetrievalSettings().floors()
        self.translate_questions = translate_questions
        self.top_k = top_k
        self.embed = embed
        self._identifiers: dict[tuple[str, ...], LanguageIdentifier] = {}
        self._make_identifier = languages or LanguageIdentifier

    def _identifier(self, languages: Sequence[str]) -> LanguageIdentifier:
        key = tuple(sorted(languages))
        if key not in self._identifiers:
            self._identifiers[key] = self._make_identifier(key)
        return self._identifiers[key]

    @asynccontextmanager
    async def stream(
        self, store_id: str, conversation_id: str, text: str, *, client_id: str | None = None
    ) -> AsyncIterator[AsyncIterator[str | TurnResult]]:
        """`handle`, streamed: yields an iterator of reply pieces, then the final `TurnResult`.

        A model's answer arrives sentence by sentence, each released only after the guard
        passed it; fixed replies come as one piece. The pieces join to exactly the reply that
        is stored. The turn runs to the end (and is stored) even if the reader stops early.

            async with pipeline.stream(store, conversation, text) as pieces:
                async for piece in pieces:
                    ...  # str: send a token frame; TurnResult: the final message
        """
        send, receive = anyio.create_memory_object_stream[str | TurnResult](math.inf)
        failure: list[Exception] = []

        async def run() -> None:
            streamed = False

            async def emit(piece: str) -> None:
                nonlocal streamed
                streamed = True
                await send.send(piece)

            async with send:
                try:
                    result = await self.handle(
                        store_id, conversation_id, text, client_id=client_id, emit=emit
                    )
                except Exception as error:  # re-raised to the caller once the stream is closed
                    failure.append(error)
                    return
                if not streamed:
                    await send.send(result.reply)
                await send.send(result)

        async with receive, anyio.create_task_group() as group:
            group.start_soon(run)
            yield receive
        if failure:
            raise failure[0]

    async def handle(
        self,
        store_id: str,
        conversation_id: str,
        text: str,
        *,
        client_id: str | None = None,
        emit: Emit | None = None,
    ) -> TurnResult:
        """Store the shopper's message, decide and store the bot's reply, return it."""
        vector: list[Vector] = []
        failure: Exception | None = None
        async with anyio.create_task_group() as group:
            if self.embed is not None:
                # The embedding does not depend on the language: compute it meanwhile.
                group.start_soon(self._embed_query, text, vector)
            try:
                conversation = await self.conversations.get(store_id, conversation_id)
                policy_document = await self.stores.policy(store_id)
                languages = list(policy_document.get("languages") or DEFAULT_LANGUAGES)
                guess = await anyio.to_thread.run_sync(
                    self._identifier(languages).detect, text, conversation.language
                )
            except Exception as error:  # raised as itself below, not wrapped in a group
                failure = error
        if failure is not None:
            raise failure
        language = guess.code
        message, created = await self.conversations.append(
            store_id, conversation_id, Role.SHOPPER, text, language=language, client_id=client_id
        )
        if not created:
            replayed = await self._reply_to(store_id, conversation_id, message.seq)
            if replayed is not None:
                return replayed
        if conversation.language != language:
            await self.conversations.set_language(store_id, conversation_id, language)

        if conversation.state in (OwnerState.QUEUED, OwnerState.HUMAN):
            # A person owns the thread: the bot stays silent apart from telling where things stand.
            result = TurnResult(
                session=conversation_id,
                reply=say(language, "waiting"),
                language=language,
                intent="human",
                outcome=Outcome.HANDOFF,
                handoff={
                    "state": conversation.state.value,
                    "reason": conversation.handoff_reason or "",
                },
            )
            await self._save(store_id, conversation_id, message.seq, result, None, Role.SYSTEM)
            return result
        if conversation.state is OwnerState.RESOLVED:
            await self.conversations.change_owner(store_id, conversation_id, OwnerState.BOT)

        memory = await self._memory(store_id, conversation_id, message.seq)
        tools = ToolContext(
            services=self.tool_services,
            store_id=store_id,
            policy=_policy(policy_document),
            conversation_id=conversation_id,
            customer_id=conversation.customer_id,
        )
        turn = Turn(store_id, conversation_id, text, language, memory, tools, emit=emit)
        turn.vector = vector[0] if vector else None
        if conversation.handback_note:  # an agent's note on handing back, read by this turn once
            turn.handback_note = await self.conversations.take_handback_note(
                store_id, conversation_id
            )
        try:
            result, memory = await self._decide(turn)
        except ParleyError as error:
            log.warning("turn failed: %s", error.message, extra={"store_id": store_id})
            result, memory = await self._hand_off(turn, HandoffReason.TOOL_ERROR), Memory()
        await self._save(
            store_id, conversation_id, message.seq, result, memory, Role.BOT, turn.handback_note
        )
        return result

    # -- deciding -------------------------------------------------------------------------------

    async def _decide(self, turn: Turn) -> tuple[TurnResult, Memory]:
        memory = turn.memory
        if memory.awaiting == "confirm" and memory.action_id:
            answer = confirmation(turn.text)
            if answer is not None:
                return await self._confirm(turn, answer), Memory(order_id=memory.order_id)

        if looks_like_injection(turn.text):
            # An instruction aimed at the bot is a misuse, not a request: decline, act on nothing.
            reply = say(turn.language, "greeting")
            return turn.result(reply, Intent.OTHER, Outcome.DECLINED), Memory()
        signals = handoff_signals(turn.text, [turn.language])
        if turn.vector is not None:
            route = self.router.route_vector(routing_text(turn.text), turn.vector, turn.language)
        else:
            route = await anyio.to_thread.run_sync(
                self.router.route, routing_text(turn.text), turn.language
            )
        turn.route = route
        signal = _first(signals, HandoffReason.LEGAL_OR_SAFETY)
        if signal:
            return await self._hand_off(turn, signal.reason, Intent.OTHER), Memory()
        if _first(signals, HandoffReason.DISPUTE):
            return await self._orders(turn, Intent.DISPUTE)
        if _first(signals, HandoffReason.SHOPPER_ASKED) or route.intent is Intent.HUMAN:
            return await self._hand_off(turn, HandoffReason.SHOPPER_ASKED, Intent.HUMAN), Memory()
        # Strong anger goes to a person at once, even when the message merely reads like a
        # dispute ("you are thieves, I paid weeks ago"); a named dispute or chargeback (above)
        # still opens its case first.
        if _first(signals, HandoffReason.ANGER):
            return await self._hand_off(turn, HandoffReason.ANGER, route.intent), Memory()
        if route.intent is Intent.DISPUTE:
            return await self._orders(turn, Intent.DISPUTE)

        intent: Intent = route.intent
        if (
            intent in ORDER_INTENTS
            and route.via == "embedding"
            and route.margin < _CLOSE_CALL
            and route.runner_up in (Intent.FAQ, Intent.OTHER)
        ):
            # Too close to call between acting on an order and answering: answer, act later.
            intent = route.runner_up
        carried = _carried_intent(turn.text, memory)
        if carried is not None:
            intent = carried
        if intent in ORDER_INTENTS and carried is None and _asks_about_policy(turn.text):
            # "How long do I have to return an item?" is a question about the policy, not a
            # return: answer it from the documents when they cover it well.
            answered, kept = await self._answer(turn, Intent.FAQ, handoff_when_unsure=False)
            if answered is not None:
                return answered, kept
        if intent in ORDER_INTENTS:
            return await self._orders(turn, intent)
        if intent is Intent.GREETING:
            return turn.result(say(turn.language, "greeting"), intent, Outcome.ANSWERED), Memory()
        return await self._answer(turn, intent)

    async def _confirm(self, turn: Turn, accept: bool) -> TurnResult:
        action_id = turn.memory.action_id
        assert action_id is not None
        intent = turn.memory.intent or "other"
        if not accept:
            return turn.result(say(turn.language, "kept"), intent, Outcome.ANSWERED)
        try:
            await self._tool(turn, "confirm_action", {"action_id": action_id})
        except ParleyError as error:
            return turn.result(refusal(turn.language, error), intent, Outcome.DECLINED)
        summary = turn.memory.summary or ""
        return turn.result(say(turn.language, "done", summary=summary), intent, Outcome.DONE)

    async def _orders(self, turn: Turn, intent: Intent) -> tuple[TurnResult, Memory]:
        order_ids = find_order_ids(turn.text)
        order_id = order_ids[0] if order_ids else turn.memory.order_id
        memory = Memory(intent=intent.value, order_id=order_id)
        if turn.tools.customer_id is None:
            verified = await self._verify(turn)
            if verified is not None:
                memory.awaiting = "identity"
                return turn.result(verified, intent, Outcome.NEEDS_INFO), memory
        if order_id is None:
            memory.awaiting = "order"
            return turn.result(await self._ask_order(turn), intent, Outcome.NEEDS_INFO), memory
        memory.order_id = order_id
        try:
            order = await self._tool(turn, "get_order_details", {"order_id": order_id})
            if intent is Intent.ORDER_STATUS:
                return self._status(turn, order), memory
            if intent is Intent.DISPUTE:
                return await self._dispute(turn, order_id), Memory(order_id=order_id)
            if intent is Intent.CANCEL:
                reason = "ordered by mistake" if _MISTAKE.search(turn.text) else "no longer needed"
                return await self._propose(
                    turn,
                    intent,
                    memory,
                    "cancel_pending_order",
                    {"order_id": order_id, "reason": reason},
                )
            if intent is Intent.RETURN:
                arguments = {
                    "order_id": order_id,
                    "item_ids": _named_items(turn.text, order),
                    "payment_method_id": order["payment_history"][0]["payment_method_id"],
                }
                return await self._propose(
                    turn, intent, memory, "return_delivered_order_items", arguments
                )
            return await self._exchange_or_modify(turn, intent, memory, order)
        except AboveRefundLimit:
            # Above what the store lets the bot approve: a person decides, the shopper is told.
            return await self._hand_off(turn, HandoffReason.ABOVE_LIMIT, intent), Memory()
        except ParleyError as error:
            reply = refusal(turn.language, error)
            return turn.result(reply, intent, Outcome.DECLINED), Memory(order_id=order_id)

    async def _exchange_or_modify(
        self, turn: Turn, intent: Intent, memory: Memory, order: dict[str, Any]
    ) -> tuple[TurnResult, Memory]:
        """Exchange or change items: the model maps the shopper's words onto ids (forced tool
        choice), code checks them and proposes; the shopper confirms as for a return."""
        asked_before = turn.memory.awaiting == "exchange"
        if self.llm is None:
            # Choosing the new variant needs a conversation about options; without a model a
            # person finishes it once the bot has collected what it can.
            if asked_before:
                return await self._hand_off(turn, HandoffReason.UNSUPPORTED, intent), Memory()
            memory.awaiting = "exchange"
            reply = say(turn.language, "exchange_help")
            return turn.result(reply, intent, Outcome.NEEDS_INFO), memory
        tool = _swap_tool(order)
        products: dict[str, dict[str, Any]] = {}
        for product_id in dict.fromkeys(str(item["product_id"]) for item in order["items"]):
            products[product_id] = await self._tool(
                turn, "get_product_details", {"product_id": product_id}
            )
        revising = turn.memory.awaiting == "confirm"  # a proposal the shopper wants changed
        earlier = turn.memory.request if asked_before or revising else None
        request = "\n".join(part for part in (earlier, turn.text) if part)
        attempt = await choose_swap(
            self.llm, tool, order, products, request, timeout_s=self.llm_timeout_s
        )
        if attempt.choice is not None:
            arguments = {
                "order_id": order["order_id"],
                "item_ids": attempt.choice.item_ids,
                "new_item_ids": attempt.choice.new_item_ids,
                "payment_method_id": order["payment_history"][0]["payment_method_id"],
            }
            memory.request = request[-500:]  # what a revision of this proposal builds on
            return await self._propose(turn, intent, memory, tool, arguments)
        if asked_before:
            # Asked once already and still no choice that fits: a person takes it from here.
            return await self._hand_off(turn, HandoffReason.UNSUPPORTED, intent), Memory()
        memory.awaiting = "exchange"
        memory.request = request[-500:]
        options = _variant_list(order, products)
        reply = say(turn.language, "exchange_help")
        if options:
            reply = f"{reply} {options}"
        return turn.result(reply, intent, Outcome.NEEDS_INFO), memory

    async def _verify(self, turn: Turn) -> str | None:
        """Verify the shopper from this message; the reply to send when that is not possible."""
        email = find_email(turn.text)
        name_zip = find_name_zip(turn.text)
        try:
            if email:
                user_id = await self._tool(turn, "find_user_id_by_email", {"email": email})
            elif name_zip:
                user_id = await self._tool(
                    turn,
                    "find_user_id_by_name_zip",
                    {
                        "first_name": name_zip.first_name,
                        "last_name": name_zip.last_name,
                        "zip": name_zip.zip_code,
                    },
                )
            else:
                return say(turn.language, "ask_identity")
        except ParleyError as error:
            refused = refusal(turn.language, error)
            return f"{refused} {say(turn.language, 'ask_identity')}"
        await turn.tools.verify(str(user_id))
        return None

    async def _ask_order(self, turn: Turn) -> str:
        customer_id = turn.tools.customer_id
        assert customer_id is not None
        user = await self._tool(turn, "get_user_details", {"user_id": customer_id})
        orders = list(user.get("orders") or [])
        if not orders:
            return say(turn.language, "ask_order")
        return say(turn.language, "ask_order_from", orders=", ".join(orders[-5:]))

    def _status(self, turn: Turn, order: dict[str, Any]) -> TurnResult:
        # Product names only: their options ("1000ml, glass, clear") are the catalogue's
        # English and would outweigh a short reply in the shopper's language.
        items = ", ".join(item["name"] for item in order["items"])
        reply = say(
            turn.language,
            "order_status",
            order_id=order["order_id"],
            status=status_name(turn.language, order["status"]),
            items=items,
        )
        tracking = [
            tid for fulfillment in order["fulfillments"] for tid in fulfillment["tracking_id"]
        ]
        if tracking:
            reply = f"{reply} {say(turn.language, 'tracking', tracking=', '.join(tracking))}"
        return turn.result(reply, Intent.ORDER_STATUS, Outcome.ANSWERED, confidence=1.0)

    async def _propose(
        self,
        turn: Turn,
        intent: Intent,
        memory: Memory,
        tool: str,
        arguments: dict[str, Any],
    ) -> tuple[TurnResult, Memory]:
        action = await self._tool(turn, tool, arguments)
        memory.awaiting = "confirm"
        memory.action_id = action["action_id"]
        # Confirmed, and later reported done, in the shopper's language; the English
        # summary stays with the pending action for the audit log and the console.
        memory.summary = describe_action(turn.language, action["details"])
        reply = say(turn.language, "confirm", summary=memory.summary)
        result = turn.result(reply, intent, Outcome.CONFIRM, action=action, confidence=1.0)
        return result, memory

    async def _dispute(self, turn: Turn, order_id: str) -> TurnResult:
        kind = "chargeback" if _CHARGEBACK.search(turn.text) else "dispute"
        case = await self._tool(
            turn,
            "open_dispute",
            {"order_id": order_id, "reason": turn.text[:500], "kind": kind},
        )
        reply = say(turn.language, "dispute", case_id=case["case_id"])
        if case.get("routed_to_human"):
            return turn.result(
                reply,
                Intent.DISPUTE,
                Outcome.HANDOFF,
                handoff={"state": OwnerState.QUEUED.value, "reason": HandoffReason.DISPUTE.value},
            )
        return turn.result(reply, Intent.DISPUTE, Outcome.ANSWERED)

    async def _remember(self, turn: Turn) -> None:
        """Keep the question for the store's hub penalty, after its own search so it never ranks
        against itself; the shopper's answer does not wait on a failed write."""
        if turn.vector is None:
            return
        try:
            await self.retriever.remember_question(turn.store_id, turn.vector, turn.language)
        except IndexUnavailable as error:
            log.warning("could not keep the question for store %s: %s", turn.store_id, error)

    async def _answer(
        self, turn: Turn, intent: Intent, *, handoff_when_unsure: bool = True
    ) -> tuple[Any, Memory]:
        if turn.vector is not None:
            vector = await self._with_rendering(turn, turn.vector)
            found = await self.retriever.search_vector(
                turn.store_id, turn.text, vector, k=self.top_k, language=turn.language
            )
            await self._remember(turn)
        else:
            found = await self.retriever.search(
                turn.store_id, turn.text, k=self.top_k, language=turn.language
            )
        passages = [p for p in found.passages if not looks_like_injection(p.text)]
        deciding = found.deciding(lambda passage: not looks_like_injection(passage.text))
        confident = (
            bool(passages)
            and deciding is not None
            and self.floors.met(deciding.score, found.confidence, deciding.language, turn.language)
        )
        if not confident and not handoff_when_unsure:
            return None, turn.memory
        if not confident:
            if intent is Intent.OTHER:
                result = turn.result(
                    say(turn.language, "no_answer"),
                    intent,
                    Outcome.DECLINED,
                    confidence=found.confidence,
                )
                return result, Memory(failed=turn.memory.failed + 1)
            reason = (
                HandoffReason.REPEATED_FAILURE
                if turn.memory.failed >= 1
                else HandoffReason.LOW_CONFIDENCE
            )
            result = await self._hand_off(turn, reason, intent)
            result.confidence = found.confidence
            return result, Memory()
        citations = [Citation(p.document, p.section, p.score, p.language) for p in passages[:3]]
        reply = await self._worded(turn, passages[:3])
        result = turn.result(
            reply, intent, Outcome.ANSWERED, citations=citations, confidence=found.confidence
        )
        return result, Memory()

    async def _with_rendering(self, turn: Turn, vector: Vector) -> Vector:
        """The question's vector with its English rendering's mixed in, when the pipeline
        translates questions; the vector alone if the model fails, is slow or says nothing."""
        if not self.translate_questions or self.llm is None or self.embed is None:
            return vector
        if turn.language == "en":
            return vector
        try:
            with anyio.fail_after(min(self.llm_timeout_s, RENDERING_TIMEOUT_S)):
                rendering = await in_english(self.llm, turn.text)
        except Exception as error:  # any provider failure: search with the question alone
            log.warning("chat model failed to render the question in English: %r", error)
            return vector
        if rendering is None:
            return vector
        rendered = await anyio.to_thread.run_sync(self.embed, [rendering])
        mixed: Vector = normalise(vector + TRANSLATION_WEIGHT * rendered[0])[0]
        return mixed

    async def _worded(self, turn: Turn, passages: list[Passage]) -> str:
        """The model's answer if it passes the guard; otherwise the best passage, quoted."""
        quoted = "\n".join(
            (
                say(
                    turn.language,
                    "faq_lead",
                    document=passages[0].document,
                    section=passages[0].section,
                ),
                passages[0].text.strip(),
            )
        )
        if self.llm is None:
            return quoted
        if turn.emit is not None:
            return await self._worded_streaming(turn, passages, quoted)
        try:
            with anyio.fail_after(self.llm_timeout_s):
                message = await self.llm.ainvoke(answer_prompt(turn.text, passages, turn.language))
        except Exception as error:  # any provider failure: answer without the model, offer a person
            log.warning("chat model failed, answering from the passage: %r", error)
            return f"{quoted}\n{say(turn.language, 'handoff_offer')}"
        reply = str(message.content).strip()
        if not _says_something(reply):
            # A small model sometimes answers with nothing but "[1]": that says nothing.
            log.info("chat model answered with citation marks only: %r", reply[:40])
            return quoted
        if not await self._passes_guard(turn, reply, passages):
            return quoted
        return reply

    async def _worded_streaming(self, turn: Turn, passages: list[Passage], quoted: str) -> str:
        """The model's answer released to the shopper sentence by sentence, each piece only once
        the guard has passed everything released so far with it. If the model fails or a later
        sentence is rejected, the rest is the quoted passage; the pieces sent join to the reply."""
        assert self.llm is not None and turn.emit is not None
        released = ""
        pending = ""
        tail = ""
        try:
            with anyio.fail_after(self.llm_timeout_s):
                prompt = answer_prompt(turn.text, passages, turn.language)
                async for chunk in self.llm.astream(prompt):
                    content = chunk.content
                    pending += content if isinstance(content, str) else chunk.text
                    if not released:
                        pending = pending.lstrip()
                    end = _sentences_end(pending)
                    if end == 0 or not _says_something(pending[:end]):
                        continue  # wait for a whole sentence (a lone "[1]" waits for more)
                    piece, pending = pending[:end], pending[end:]
                    if not await self._passes_guard(turn, released + piece, passages):
                        tail = quoted
                        break
                    await turn.emit(piece)
                    released += piece
        except Exception as error:  # any provider failure: the quoted passage, a person offered
            log.warning("chat model failed, answering from the passage: %r", error)
            tail = f"{quoted}\n{say(turn.language, 'handoff_offer')}"
        if not tail:
            rest = pending.rstrip()
            if _says_something(rest):
                if await self._passes_guard(turn, released + rest, passages):
                    await turn.emit(rest)
                    released += rest
                else:
                    tail = quoted
            elif not released:
                tail = quoted  # nothing but citation marks, or nothing at all
            elif rest:
                await turn.emit(rest)  # trailing citation marks after guarded sentences
                released += rest
        if not tail:
            return released
        piece = f"\n{tail}" if released else tail
        await turn.emit(piece)
        return released + piece

    async def _passes_guard(self, turn: Turn, reply: str, passages: list[Passage]) -> bool:
        """The guard's checks, and no figure (number, currency) the passages do not state."""
        guess = await anyio.to_thread.run_sync(
            self._identifier([turn.language, "en"]).detect, reply, None
        )
        verdict = check_reply(
            reply,
            expected_language=turn.language,
            detected_language=guess.code,
            sources=[text for p in passages for text in (p.text, p.document, p.section)],
        )
        if not verdict.ok:
            log.info("guard rejected the model's reply: %s", verdict.reason)
            return False
        if repeats_question(reply, turn.text):
            log.info("model's reply only repeats the question: %r", reply[:40])
            return False
        ungrounded = ungrounded_figures(reply, (passage.text for passage in passages))
        if ungrounded:
            log.info("model's reply states figures no passage does: %s", ungrounded)
            return False
        durations = price_answered_with_time(turn.text, reply)
        if durations:
            log.info("model's reply gives durations for a price: %s", durations)
            return False
        return True

    async def _embed_query(self, text: str, into: list[Vector]) -> None:
        assert self.embed is not None
        # Identifiers (emails, order numbers) are masked for the router; the retriever's
        # lexical channel still sees them in the raw text it is given with the vector.
        try:
            vectors = await anyio.to_thread.run_sync(self.embed, [routing_text(text)])
        except Exception as error:  # the router and retriever then embed on their own
            log.warning("query embedding failed: %s", error)
            return
        into.append(vectors[0])

    async def _hand_off(
        self, turn: Turn, reason: HandoffReason, intent: Intent | str = Intent.HUMAN
    ) -> TurnResult:
        await turn.tools.hand_off(reason)
        return turn.result(
            say(turn.language, "handoff"),
            intent,
            Outcome.HANDOFF,
            handoff={"state": OwnerState.QUEUED.value, "reason": reason.value},
        )

    async def _tool(self, turn: Turn, name: str, arguments: dict[str, Any]) -> Any:
        try:
            result = await call_tool(turn.tools, name, arguments)
        except ParleyError as error:
            turn.tool_calls.append(ToolCall(name, arguments, f"error: {error.message}"))
            raise
        turn.tool_calls.append(ToolCall(name, arguments, "ok"))
        return result

    # -- memory and persistence ---------------------------------------------------------------

    async def _memory(self, store_id: str, conversation_id: str, before_seq: int) -> Memory:
        recent = await self.conversations.messages_after(
            store_id, conversation_id, after=max(before_seq - 6, 0)
        )
        for message in reversed(recent):
            if message.seq < before_seq and message.role is Role.BOT:
                return Memory.from_json(message.meta.get("memory"))
        return Memory()

    async def _reply_to(self, store_id: str, conversation_id: str, seq: int) -> TurnResult | None:
        later = await self.conversations.messages_after(store_id, conversation_id, after=seq)
        for message in later:
            if message.meta.get("reply_to") == seq and "turn" in message.meta:
                return _from_json(message.meta["turn"])
        return None

    async def _save(
        self,
        store_id: str,
        conversation_id: str,
        reply_to: int,
        result: TurnResult,
        memory: Memory | None,
        role: Role,
        handback_note: str | None = None,
    ) -> None:
        meta: dict[str, Any] = {"reply_to": reply_to, "turn": result.as_json()}
        if handback_note:
            meta["handback_note"] = handback_note
        if memory is not None:
            meta["memory"] = memory.as_json()
        if result.action is not None:
            meta["action"] = result.action
        await self.conversations.append(
            store_id,
            conversation_id,
            role,
            result.reply,
            language=result.language,
            citations=[citation.as_json() for citation in result.citations],
            meta=meta,
        )


_SENTENCE_END = re.compile(r"[.!?؟](?:\s*\[\d+\])*(?=\s)|[。！？](?:\s*\[\d+\])*|\n")


def _sentences_end(text: str) -> int:
    """Where the last complete sentence of a growing answer ends (0 if none has yet).

    A full stop counts only once whitespace follows it, so "14.90" is never cut in two."""
    ends = [match.end() for match in _SENTENCE_END.finditer(text)]
    return ends[-1] if ends else 0


def _says_something(text: str) -> bool:
    """More than citation marks and punctuation."""
    return any(char.isalnum() for char in without_citations(text))


def _policy(document: dict[str, Any]) -> StorePolicy:
    known = {name: value for name, value in document.items() if name in StorePolicy.model_fields}
    return StorePolicy.model_validate(known)


def _first(signals: list[HandoffSignal], reason: HandoffReason) -> HandoffSignal | None:
    return next((signal for signal in signals if signal.reason is reason), None)


def _carried_intent(text: str, memory: Memory) -> Intent | None:
    """An order flow goes on when the shopper answers what the bot asked for."""
    if memory.intent is None or memory.awaiting is None:
        return None
    answered = {
        "identity": bool(find_email(text) or find_name_zip(text)),
        "order": bool(find_order_ids(text)),
        "exchange": True,
        # Neither yes nor no to a proposed exchange ("rather in black"): the shopper revises it,
        # unless they moved on to a question or another order.
        "confirm": memory.intent in (Intent.EXCHANGE, Intent.MODIFY_ORDER)
        and not _asks_about_policy(text)
        and all(order_id == memory.order_id for order_id in find_order_ids(text)),
    }.get(memory.awaiting, False)
    return Intent(memory.intent) if answered else None


_QUESTION = re.compile(
    r"[?？؟]|^\s*(?:how|what|when|where|which|can|could|do|does|is|are|wie|was|wann|kann|gibt|"
    r"comment|combien|quand|est-ce|cómo|cuánto|cuándo|puedo|come|quanto|quando|posso|como|"
    r"hoe|wanneer|jak|ile|kiedy|как|сколько|когда|можно|nasıl|ne zaman|كم|هل|كيف)\b"
    r"|(?:吗|呢|多久|怎么|如何|ですか|ますか|でしょうか|까요|나요|ไหม|หรือไม่|กี่|อย่างไร)",
    re.IGNORECASE,
)


def _asks_about_policy(text: str) -> bool:
    """A general question (no order number, no identity) rather than a request to act."""
    if find_order_ids(text) or find_email(text):
        return False
    return _QUESTION.search(text) is not None


def routing_text(text: str) -> str:
    """The message without emails, order numbers and name-with-zip: identifiers say nothing
    about what the shopper wants and pull embeddings towards whichever exemplars carry them."""
    masked = text
    email = find_email(text)
    if email is not None:
        masked = masked.replace(email, " ")
    masked = _ORDER_TOKEN.sub(" ", masked)
    name_zip = find_name_zip(masked)
    if name_zip is not None:
        masked = masked.replace(name_zip.zip_code, " ")
    cleaned = re.sub(r"\s+([,.;:!?])", r"\1", re.sub(r"\s{2,}", " ", masked)).strip(" ,;")
    return cleaned or text


def _swap_tool(order: dict[str, Any]) -> str:
    """Delivered orders are exchanged, pending ones changed; nothing else can swap items."""
    status = str(order["status"])
    if status == "delivered":
        return "exchange_delivered_order_items"
    if status == "pending":
        return "modify_pending_order_items"
    raise WrongStatus(
        f"order {order['order_id']} is {status}: only delivered orders can be exchanged "
        "and only pending orders changed"
    )


def _variant_list(order: dict[str, Any], products: dict[str, dict[str, Any]]) -> str:
    """The other available variants of the order's products, for the shopper to choose from."""
    owned = {str(item["item_id"]) for item in order["items"]}
    listed = [
        f"{product['name']} ({', '.join(str(v) for v in variant['options'].values())})"
        for product in products.values()
        for variant in product["variants"].values()
        if variant.get("available") and str(variant["item_id"]) not in owned
    ]
    return " · ".join(listed)


def _named_items(text: str, order: dict[str, Any]) -> list[str]:
    """The order's items the shopper named, or all of them when none is named."""
    lowered = text.lower()
    named = [item["item_id"] for item in order["items"] if item["name"].lower() in lowered]
    return named or [item["item_id"] for item in order["items"]]


def _from_json(data: dict[str, Any]) -> TurnResult:
    return TurnResult(
        session=data["session"],
        reply=data["reply"],
        language=data["language"],
        intent=data["intent"],
        outcome=Outcome(data["outcome"]),
        citations=[
            Citation(c["document"], c["section"], c["score"], c["language"])
            for c in data.get("citations", [])
        ],
        tool_calls=[
            ToolCall(c["name"], c["arguments"], c["status"]) for c in data.get("tool_calls", [])
        ],
        handoff=data.get("handoff"),
        confidence=data.get("confidence", 0.0),
    )
