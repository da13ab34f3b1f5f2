"""The turn pipeline, as a conductor: store the shopper's message (once, however often it is
sent), read its language, let the decision and its flows answer, store the reply.

Safety-critical decisions are made in code (`decision`, `flows`); the model only words grounded
answers (`flows.answer`), and every reply it writes passes the reply checks (`checks`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar, cast

import anyio
from langchain_core.language_models import BaseChatModel

from bot.agent.checks import undisguised
from bot.agent.decision import Decider, read_route, routing_text
from bot.agent.flows.answer import Answers
from bot.agent.flows.orders import Orders
from bot.agent.language import LanguageIdentifier
from bot.agent.models.calls import ChatModel
from bot.agent.ports import (
    ConversationLog,
    Desks,
    Emit,
    Retriever,
    Router,
    StorePolicies,
    Vector,
)
from bot.agent.replies import english_fallback, say
from bot.agent.state import Memory, ToolDesks, Turn, result_from_json
from bot.agent.turn import Outcome, TurnResult
from bot.domain.answering import AnswerFloors
from bot.domain.conversation import HandoffReason, OwnerState, Role, bot_may_answer
from bot.domain.errors import ParleyError
from bot.domain.languages import store_languages
from bot.domain.policy import StorePolicy, Verification
from bot.settings import RetrievalSettings
from bot.storage.conversations import Conversation, Message
from bot.tools.context import ToolServices

__all__ = ["Emit", "Memory", "Retriever", "Router", "Turn", "TurnPipeline", "routing_text"]
"""`TurnPipeline`, and the names callers used to import from here before they had rooms."""

log = logging.getLogger(__name__)
T = TypeVar("T")


class _InRoom(Generic[T]):
    """A pipeline attribute that lives in one of its rooms (`room.name`), read and set there."""

    def __init__(self, room: str, name: str) -> None:
        self.room = room
        self.name = name

    def __get__(self, pipeline: object, owner: type | None = None) -> T:
        return cast(T, getattr(getattr(pipeline, self.room), self.name))

    def __set__(self, pipeline: object, value: T) -> None:
        setattr(getattr(pipeline, self.room), self.name, value)


class TurnPipeline:
    """Answers one shopper message in their language, acts through tools, or hands off."""

    def __init__(
        self,
        *,
        conversations: ConversationLog,
        stores: StorePolicies,
        retriever: Retriever,
        router: Router,
        tools: ToolServices | Desks,
        llm: BaseChatModel | None = None,
        llm_timeout_s: float = 60.0,
        floors: AnswerFloors | None = None,
        translate_questions: bool = False,
        check_answers: bool = False,
        veto_answers: bool = False,
        top_k: int = 5,
        languages: Callable[[Sequence[str]], LanguageIdentifier] | None = None,
        embed: Callable[[list[str]], Vector] | None = None,
    ) -> None:
        """`tools` are the process's tool services (or any `Desks`, e.g. in unit tests).
        `embed` is the query embedder the router and the retriever share: when given, each
        turn embeds the message once (while its language is detected) instead of twice.
        `floors` decide when retrieval is good enough to answer rather than hand off. With
        `translate_questions` and a chat model, a question not in English is searched with the
        model's English rendering mixed in (`bot.agent.models.translation`)."""
        self.conversations = conversations
        self.stores = stores
        self.desks: Desks = ToolDesks(tools) if isinstance(tools, ToolServices) else tools
        self.model = ChatModel(llm, llm_timeout_s)
        self._identifiers: dict[tuple[str, ...], LanguageIdentifier] = {}
        self._make_identifier = languages or LanguageIdentifier
        self.answers = Answers(
            retriever=retriever,
            model=self.model,
            floors=floors or RetrievalSettings().floors(),
            top_k=top_k,
            translate_questions=translate_questions,
            check_answers=check_answers,
            veto_answers=veto_answers,
            embed=embed,
            identifier=self._identifier,
        )
        self.decider = Decider(router, Orders(self.model, lambda: self.answers.embed), self.answers)

    # Harnesses and tests swap these on a running pipeline; the rooms that use them follow.
    llm: _InRoom[BaseChatModel | None] = _InRoom("model", "llm")
    """The chat model that words answers and picks exchanges (None: retrieval only)."""
    llm_timeout_s: _InRoom[float] = _InRoom("model", "timeout_s")
    """How long one model call may take before the turn goes on without it."""
    router: _InRoom[Router] = _InRoom("decider", "router")
    retriever: _InRoom[Retriever] = _InRoom("answers", "retriever")
    embed: _InRoom[Callable[[list[str]], Vector] | None] = _InRoom("answers", "embed")
    """The query embedder shared by the router and the retriever (None: each embeds)."""
    translate_questions: _InRoom[bool] = _InRoom("answers", "translate_questions")
    check_answers: _InRoom[bool] = _InRoom("answers", "check_answers")
    """Whether the chat model is asked if the chosen sentences answer (off: the floors decide;
    harnesses whose model plays one scripted reply a turn leave it off)."""
    veto_answers: _InRoom[bool] = _InRoom("answers", "veto_answers")
    """Whether the chat model may veto an answer in the answer floors' grey band (off for the
    same harnesses)."""

    def _identifier(self, languages: Sequence[str], *, every: bool = False) -> LanguageIdentifier:
        # every=True: a shopper's message, read among every language, the store's preferred.
        key = (*sorted(languages), "*") if every else tuple(sorted(languages))
        if key not in self._identifiers:
            make = self._make_identifier
            self._identifiers[key] = LanguageIdentifier.preferring(key[:-1]) if every else make(key)
        return self._identifiers[key]

    @asynccontextmanager
    async def stream(
        self,
        store_id: str,
        conversation_id: str,
        text: str,
        *,
        client_id: str | None = None,
        stored: Message | None = None,
        conversation: Conversation | None = None,
    ) -> AsyncIterator[AsyncIterator[str | TurnResult]]:
        """`handle`, streamed: yields an iterator of reply pieces, then the final `TurnResult`.

        A model's answer arrives sentence by sentence, each released only after the checks
        passed it; fixed replies come as one piece. The pieces join to exactly the reply that
        is stored, except when the model fails or a later sentence is rejected: then the pieces
        were a draft and the final reply (the quoted passage) replaces them. The turn runs to
        the end (and is stored) even if the reader stops early.

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
                        store_id,
                        conversation_id,
                        text,
                        client_id=client_id,
                        emit=emit,
                        stored=stored,
                        conversation=conversation,
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
        stored: Message | None = None,
        conversation: Conversation | None = None,
    ) -> TurnResult:
        """Store the shopper's message, decide and store the bot's reply, return it.

        `stored` is the shopper's message when the caller already stored it (the live chat
        does, before publishing it): it is not stored again, and its reply is looked for only
        if the thread has messages after it (a turn run again after its worker died gets the
        stored reply back). `conversation` is the thread as the caller read it after storing
        `stored` (the live runner does, to see whether the message waits for its turn): it is
        not read again."""
        vector: list[Vector] = []
        failure: Exception | None = None
        threads: list[Conversation] = [] if conversation is None else [conversation]
        policies: list[dict[str, Any]] = []
        recent: list[list[Message]] = []
        read_failures: list[Exception] = []
        async with anyio.create_task_group() as group:
            if self.embed is not None:
                # The embedding does not depend on the language: compute it meanwhile.
                group.start_soon(self._embed_query, text, vector)
            try:
                # What the turn reads first is read at once: the thread, the store's policy and,
                # for a message stored already, the messages before it (the bot's memory).
                async with anyio.create_task_group() as reads:
                    if conversation is None:
                        reads.start_soon(
                            _read_into,
                            lambda: self.conversations.get(store_id, conversation_id),
                            threads,
                            read_failures,
                        )
                    reads.start_soon(
                        _read_into, lambda: self.stores.policy(store_id), policies, read_failures
                    )
                    if stored is not None:
                        reads.start_soon(
                            _read_into,
                            lambda: self._recent(store_id, conversation_id, stored.seq),
                            recent,
                            read_failures,
                        )
                if read_failures:
                    raise read_failures[0]
                guess = await anyio.to_thread.run_sync(
                    self._identifier(store_languages(policies[0]), every=True).detect,
                    undisguised(text),
                    threads[0].language,
                )
            except Exception as error:  # raised as itself below, not wrapped in a group
                failure = error
        if failure is not None:
            raise failure
        conversation, policy_document = threads[0], policies[0]
        language = guess.code
        if stored is None:
            message, created = await self.conversations.append(
                store_id,
                conversation_id,
                Role.SHOPPER,
                text,
                language=language,
                client_id=client_id,
            )
        else:
            # Nothing after it in the thread (read above, after it was stored): no reply yet.
            message, created = stored, conversation.last_seq <= stored.seq
        if not created:
            replayed = await self._reply_to(store_id, conversation_id, message.seq)
            if replayed is not None:
                return replayed

        # The thread's language is saved while the turn answers (nothing in the turn reads it
        # back from the store), and before the reply is stored: the same record, sooner.
        language_failure: list[Exception] = []

        async def save_language() -> None:
            try:
                await self.conversations.set_language(store_id, conversation_id, language)
            except Exception as error:  # raised as itself below, not wrapped in a group
                language_failure.append(error)

        async with anyio.create_task_group() as group:
            if conversation.language != language:
                group.start_soon(save_language)
            try:
                answered = await self._answer(
                    store_id,
                    conversation_id,
                    text,
                    language,
                    message,
                    conversation,
                    policy_document,
                    vector,
                    emit,
                    recent[0] if recent else None,
                )
            except Exception as error:  # raised as itself below, not wrapped in a group
                failure = error
        if failure is not None:
            raise failure
        if language_failure:
            raise language_failure[0]
        result, memory, role, handback_note = answered
        await self._save(
            store_id, conversation_id, message.seq, result, memory, role, handback_note
        )
        return result

    async def _answer(
        self,
        store_id: str,
        conversation_id: str,
        text: str,
        language: str,
        message: Message,
        conversation: Conversation,
        policy_document: dict[str, Any],
        vector: list[Vector],
        emit: Emit | None,
        recent: list[Message] | None = None,
    ) -> tuple[TurnResult, Memory | None, Role, str | None]:
        """The bot's reply to `message`, the memory and role it is stored with, and the agent's
        hand-back note it read (stored beside it). `recent`: the thread's last messages up to
        `message`, when already read (`_recent`)."""
        if not bot_may_answer(conversation.state):
            # A person owns the thread: the bot stays silent apart from telling where things
            # stand. What the message asks is still read, for the person and the transcript.
            result = TurnResult(
                session=conversation_id,
                reply=say(language, "waiting"),
                language=language,
                intent=await self._intent(text, vector, language),
                outcome=Outcome.HANDOFF,
                handoff={
                    "state": conversation.state.value,
                    "reason": conversation.handoff_reason or "",
                },
            )
            return result, None, Role.SYSTEM, None
        if conversation.state is OwnerState.RESOLVED:
            await self.conversations.change_owner(store_id, conversation_id, OwnerState.BOT)

        if recent is None:
            recent = await self._recent(store_id, conversation_id, message.seq)
        memory = _memory(recent, message.seq)
        policy = _policy(policy_document)
        verified_by = set(memory.verified_by)
        if conversation.customer_id is not None and not verified_by:
            # Bound before the chat verified anyone: the storefront's signed identity.
            verified_by.add(Verification.SIGNED.value)
        desk = self.desks.open(
            store_id, policy, conversation_id, conversation.customer_id, verified_by
        )
        turn = Turn(store_id, conversation_id, text, language, memory, desk, emit=emit)
        turn.vector = vector[0] if vector else None
        turn.policy = policy
        turn.verified_by = desk.verified_by  # one record: what the flows prove, the tools check
        if conversation.handback_note:  # an agent's note on handing back, read by this turn once
            turn.handback_note = await self.conversations.take_handback_note(
                store_id, conversation_id
            )
        try:
            result, memory = await self.decider.decide(turn)
        except ParleyError as error:
            log.warning("turn failed: %s", error.message, extra={"store_id": store_id})
            result, memory = await turn.hand_off(HandoffReason.TOOL_ERROR), Memory()
        return result, memory, Role.BOT, turn.handback_note

    async def _intent(self, text: str, vector: list[Vector], language: str) -> str:
        """The intent the router reads in `text`, only to be reported: nothing acts on it."""
        route = await read_route(self.router, text, vector[0] if vector else None, language)
        return route.intent.value

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

    async def _recent(self, store_id: str, conversation_id: str, seq: int) -> list[Message]:
        """The thread's messages from a few before `seq` on, where the bot's memory is."""
        return await self.conversations.messages_after(
            store_id, conversation_id, after=max(seq - 6, 0)
        )

    async def _reply_to(self, store_id: str, conversation_id: str, seq: int) -> TurnResult | None:
        later = await self.conversations.messages_after(store_id, conversation_id, after=seq)
        for message in later:
            if message.meta.get("reply_to") == seq and "turn" in message.meta:
                return result_from_json(message.meta["turn"])
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
        if fallback := english_fallback(result.language, result.reply):
            meta["reply_fallback"] = fallback  # shown to the console: why English went out
        await self.conversations.append(
            store_id,
            conversation_id,
            role,
            result.reply,
            language=result.language,
            citations=[citation.as_json() for citation in result.citations],
            meta=meta,
        )


async def _read_into(
    read: Callable[[], Awaitable[T]], into: list[T], failures: list[Exception]
) -> None:
    """`read()`'s value into `into`; its error into `failures`, to be raised as itself rather
    than wrapped in a task group's exception group."""
    try:
        into.append(await read())
    except Exception as error:
        failures.append(error)


def _memory(recent: Sequence[Message], before_seq: int) -> Memory:
    """What the bot remembered after its last reply before `before_seq`."""
    for message in reversed(recent):
        if message.seq < before_seq and message.role is Role.BOT:
            return Memory.from_json(message.meta.get("memory"))
    return Memory()


def _policy(document: dict[str, Any]) -> StorePolicy:
    known = {name: value for name, value in document.items() if name in StorePolicy.model_fields}
    return StorePolicy.model_validate(known)
