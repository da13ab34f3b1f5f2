"""Answering a question from the store's documents: retrieval, the answer floors, the model's
wording (streamed sentence by sentence when the shopper watches) and the quoted passage when
the model fails, is unsure or is rejected by the reply checks."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import anyio

from bot.agent.checks import looks_like_injection, passes_checks, says_something, sentences_end
from bot.agent.intents import Intent
from bot.agent.models.calls import ChatModel, falling_back
from bot.agent.models.translation import TRANSLATION_WEIGHT, in_english
from bot.agent.ports import Retriever, Vector
from bot.agent.prompts import answer_prompt
from bot.agent.replies import say
from bot.agent.state import Decision, Memory, Turn
from bot.agent.turn import Citation, Outcome
from bot.domain.answering import AnswerFloors
from bot.domain.conversation import HandoffReason
from knowledge import IndexUnavailable, Passage, SearchResult
from knowledge.embeddings import normalise
from knowledge.language import LanguageIdentifier

log = logging.getLogger(__name__)

RENDERING_TIMEOUT_S = 20.0
"""A rendering takes 1-2 s on two free cores; past this the question is searched alone."""
_WORDING = "word the answer; quoting the passage"


class Answers:
    """Answers questions from one store's documents, or says it cannot."""

    def __init__(
        self,
        *,
        retriever: Retriever,
        model: ChatModel,
        floors: AnswerFloors,
        top_k: int,
        translate_questions: bool,
        embed: Callable[[list[str]], Vector] | None,
        identifier: Callable[[Sequence[str]], LanguageIdentifier],
    ) -> None:
        self.retriever = retriever
        self.model = model
        self.floors = floors
        self.top_k = top_k
        self.translate_questions = translate_questions
        self.embed = embed
        self.identifier = identifier

    async def answer(self, turn: Turn, intent: Intent) -> Decision:
        """The documents' answer; when they do not cover the question well, a hand-off (or,
        for small talk, a polite "I cannot answer that")."""
        found, passages = await self._search(turn)
        if passages:
            return await self._answered(turn, intent, found, passages)
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
        result = await turn.hand_off(reason, intent)
        result.confidence = found.confidence
        return result, Memory()

    async def answer_if_sure(self, turn: Turn, intent: Intent) -> Decision | None:
        """The documents' answer when they cover the question well, else None."""
        found, passages = await self._search(turn)
        if not passages:
            return None
        return await self._answered(turn, intent, found, passages)

    async def _search(self, turn: Turn) -> tuple[SearchResult, list[Passage]]:
        """The search result and its usable passages; no passages when they do not meet the
        answer floors (passages that try to steer the bot are never used)."""
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
        return found, passages if confident else []

    async def _answered(
        self, turn: Turn, intent: Intent, found: SearchResult, passages: list[Passage]
    ) -> Decision:
        citations = [
            Citation(p.document, p.section, p.score, p.language, p.text) for p in passages[:3]
        ]
        reply = await self._worded(turn, passages[:3])
        result = turn.result(
            reply, intent, Outcome.ANSWERED, citations=citations, confidence=found.confidence
        )
        return result, Memory()

    async def _remember(self, turn: Turn) -> None:
        """Keep the question for the store's hub penalty, after its own search so it never ranks
        against itself; the shopper's answer does not wait on a failed write."""
        if turn.vector is None:
            return
        try:
            await self.retriever.remember_question(turn.store_id, turn.vector, turn.language)
        except IndexUnavailable as error:
            log.warning("could not keep the question for store %s: %s", turn.store_id, error)

    async def _with_rendering(self, turn: Turn, vector: Vector) -> Vector:
        """The question's vector with its English rendering's mixed in, when the pipeline
        translates questions; the vector alone if the model fails, is slow or says nothing."""
        llm = self.model.llm
        if not self.translate_questions or llm is None or self.embed is None:
            return vector
        if turn.language == "en":
            return vector
        rendering = None
        timeout_s = min(self.model.timeout_s, RENDERING_TIMEOUT_S)
        async with falling_back("render the question in English", timeout_s) as call:
            rendering = await in_english(llm, turn.text)
        if call.failed or rendering is None:
            return vector
        rendered = await anyio.to_thread.run_sync(self.embed, [rendering])
        mixed: Vector = normalise(vector + TRANSLATION_WEIGHT * rendered[0])[0]
        return mixed

    async def _passes(self, turn: Turn, reply: str, passages: list[Passage]) -> bool:
        return await passes_checks(
            reply,
            question=turn.text,
            language=turn.language,
            passages=passages,
            identifier=self.identifier([turn.language, "en"]),
        )

    async def _worded(self, turn: Turn, passages: list[Passage]) -> str:
        """The model's answer if it passes the checks; otherwise the best passage, quoted."""
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
        llm = self.model.llm
        if llm is None:
            return quoted
        if turn.emit is not None:
            return await self._worded_streaming(turn, passages, quoted)
        reply = ""
        async with falling_back(
            "word the answer; quoting the passage", self.model.timeout_s
        ) as call:
            message = await llm.ainvoke(answer_prompt(turn.text, passages, turn.language))
            reply = str(message.content).strip()
        if call.failed:
            return f"{quoted}\n{say(turn.language, 'handoff_offer')}"
        if not says_something(reply):
            # A small model sometimes answers with nothing but "[1]": that says nothing.
            log.info("chat model answered with citation marks only: %r", reply[:40])
            return quoted
        if not await self._passes(turn, reply, passages):
            return quoted
        return reply

    async def _worded_streaming(self, turn: Turn, passages: list[Passage], quoted: str) -> str:
        """The model's answer released to the shopper sentence by sentence, each piece only once
        the checks have passed everything released so far with it. If the model fails or a later
        sentence is rejected, the reply is the quoted passage alone, which replaces the pieces
        already sent (a draft); otherwise the pieces sent join to the reply."""
        llm, emit = self.model.llm, turn.emit
        assert llm is not None and emit is not None
        released = ""
        pending = ""
        tail = ""
        async with falling_back(
            "word the answer; quoting the passage", self.model.timeout_s
        ) as call:
            prompt = answer_prompt(turn.text, passages, turn.language)
            async for chunk in llm.astream(prompt):
                content = chunk.content
                pending += content if isinstance(content, str) else chunk.text
                if not released:
                    pending = pending.lstrip()
                end = sentences_end(pending)
                if end == 0 or not says_something(pending[:end]):
                    continue  # wait for a whole sentence (a lone "[1]" waits for more)
                piece, pending = pending[:end], pending[end:]
                if not await self._passes(turn, released + piece, passages):
                    tail = quoted
                    break
                await emit(piece)
                released += piece
        if call.failed:
            tail = f"{quoted}\n{say(turn.language, 'handoff_offer')}"
        if not tail:
            rest = pending.rstrip()
            if says_something(rest):
                if await self._passes(turn, released + rest, passages):
                    await emit(rest)
                    released += rest
                else:
                    tail = quoted
            elif not released:
                tail = quoted  # nothing but citation marks, or nothing at all
            elif rest:
                await emit(rest)  # trailing citation marks after guarded sentences
                released += rest
        if not tail:
            return released
        if released:
            # What streamed was a draft: half an answer followed by the fallback would not read
            # as one reply, so the reply is the fallback alone and replaces the draft.
            return tail
        await emit(tail)
        return tail
