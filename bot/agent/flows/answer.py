"""Answering a question from the store's documents: retrieval, the answer floors, the sentences
of the cited passage that answer (`bot.agent.facts`), the model's restating of those sentences in
the shopper's language (streamed sentence by sentence when the shopper watches), and the quoted
sentences when there is no model, or it fails, or the reply checks reject its wording."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence

import anyio
import numpy as np
from langchain_core.messages import BaseMessage

from bot.agent.checks import passes_checks, says_something, sentences_end
from bot.agent.checks.answerable import confirmed, not_vetoed
from bot.agent.facts import (
    AnsweringSentences,
    answering_sentences,
    asks_back,
    carries_the_answer,
    contradicts,
    denies,
    states,
    turns_deadline_into_delay,
    without_instructions,
    written_as_stated,
)
from bot.agent.intents import Intent
from bot.agent.models.calls import ChatModel, falling_back
from bot.agent.models.translation import TRANSLATION_WEIGHT, in_english
from bot.agent.models.translator import translate_passage
from bot.agent.ports import Retriever, Vector
from bot.agent.prompts import restate_prompt
from bot.agent.replies import say, writes_decimal_comma
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
_WORDING = "restate the answering sentences; quoting them"
RUNNERS_UP = 2
"""Passages after the first whose sentences may answer when the first's state nothing of what
the question asks for..."""
RUNNER_UP_GAP = 0.03
"""...as long as they score within this of the first."""
SENTENCE_CACHE = 4096
"""Sentence vectors kept per process (a store's passages are few; emptied when full)."""
TRANSLATION_CACHE = 1024
"""Translations of answering sentences kept per process (emptied when full): a refused
restating falls back to the same quote in the same language again and again, and each
translation is a model call of its own before the shopper reads anything."""


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
        check_answers: bool = False,
        veto_answers: bool = False,
    ) -> None:
        self.retriever = retriever
        self.model = model
        self.floors = floors
        self.top_k = top_k
        self.translate_questions = translate_questions
        self.embed = embed
        self.identifier = identifier
        self.check_answers = check_answers
        """Ask the chat model whether the chosen sentences answer, when retrieval's calibrated
        confidence alone does not settle it (`bot.agent.checks.answerable.confirmed`)."""
        self.veto_answers = veto_answers
        """Let the chat model veto an answer in the floors' grey band (`AnswerFloors.
        leans_on_passage`, `bot.agent.checks.answerable.not_vetoed`)."""
        self._sentence_vectors: dict[str, Vector] = {}
        self._translations: dict[tuple[str, str, str], str] = {}
        """Accepted translations of answering sentences by (text, source, target); checked
        again, as a new one would be, before each use."""
        self._sentence_lock = threading.Lock()  # turns embed from worker threads

    async def answer(self, turn: Turn, intent: Intent) -> Decision:
        """The documents' answer; when they do not cover the question well, a hand-off (or,
        for small talk, a polite "I cannot answer that")."""
        found, passages, confident = await self._search(turn)
        chosen = await self._answering(turn, found, passages, confident)
        if chosen is not None:
            return await self._answered(turn, intent, found, passages, chosen)
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
        found, passages, confident = await self._search(turn)
        chosen = await self._answering(turn, found, passages, confident)
        if chosen is None:
            return None
        return await self._answered(turn, intent, found, passages, chosen)

    async def _answering(
        self, turn: Turn, found: SearchResult, passages: list[Passage], confident: bool
    ) -> AnsweringSentences | None:
        """The sentences that answer: the first passage's best, or, when none of its sentences
        states what the question asks for, the best-scoring sentences of the runners-up that
        score close to it and do. None when the passages did not meet the floors and neither
        does that sentence, or when no sentence states what the question asks for (a price
        question whose best sentence names no amount is not answered from it), or when the
        answer check (`check_answers`) finds no answer in them."""
        if not passages:
            return None
        chosen = await self._sentences(turn, passages[0])
        if chosen.asked.required and not chosen.states_asked:
            # The best of them, not the first: an opening hour states a time as well as the
            # cancellation deadline two passages down does.
            stating = [
                runner_up
                for runner_up in await self._runners_up(turn, passages, chosen)
                if runner_up.states_asked
            ]
            if stating:
                chosen = max(stating, key=lambda runner_up: runner_up.score)
        # Without an embedder the sentences' scores are shared words, not similarities.
        similarity = chosen.similarity if self.embed is not None else None
        typed = chosen.asked.required and chosen.states_asked
        sure = self.floors.answers(
            passage_met=confident,
            confidence=found.confidence,
            similarity=similarity,
            sentence_language=chosen.passage.language,
            language=turn.language,
            typed=typed,
        )
        if chosen.asked.required and not chosen.states_asked:
            if sure:
                log.info(
                    "no answering sentence states the %s asked for: %r", chosen.asked, chosen.text
                )
            return None
        if self.check_answers and found.confidence < self.floors.confidence:
            # The floors' similarities do not carry from store to store: the model reads
            # whether the sentences say what was asked (`bot.agent.checks.answerable`).
            return await confirmed(
                self.model,
                turn.text,
                chosen,
                sure=sure,
                floors=self.floors,
                runners_up=lambda: self._runners_up(turn, passages, chosen),
            )
        if not sure:
            return None
        if self.veto_answers and self.floors.leans_on_passage(
            confidence=found.confidence,
            similarity=similarity,
            sentence_language=chosen.passage.language,
            language=turn.language,
            typed=typed,
        ):
            # Answered on the passage floors alone, whose similarities do not carry from store
            # to store: the model may say the sentences do not answer (it only vetoes).
            return await not_vetoed(self.model, turn.text, chosen)
        return chosen

    async def _runners_up(
        self, turn: Turn, passages: list[Passage], chosen: AnsweringSentences
    ) -> list[AnsweringSentences]:
        """The answering sentences of the passages after the first that score close to it."""
        first = passages[0].score
        return [
            await self._sentences(turn, passage)
            for passage in passages[1 : RUNNERS_UP + 1]
            if passage is not chosen.passage and first - passage.score <= RUNNER_UP_GAP
        ]

    async def _sentences(self, turn: Turn, passage: Passage) -> AnsweringSentences:
        embed = self._embed_sentences if self.embed is not None else None
        vector = turn.vector.reshape(-1) if turn.vector is not None else None
        return await anyio.to_thread.run_sync(
            lambda: answering_sentences(turn.text, passage, embed, question_vector=vector)
        )

    def _embed_sentences(self, texts: list[str]) -> Vector:
        """Sentence vectors, each sentence embedded once per process (passages recur)."""
        assert self.embed is not None
        with self._sentence_lock:
            known = dict(self._sentence_vectors)
        missing = [text for text in dict.fromkeys(texts) if text not in known]
        if missing:
            known.update(zip(missing, self.embed(missing), strict=True))
            with self._sentence_lock:
                if len(self._sentence_vectors) + len(missing) > SENTENCE_CACHE:
                    self._sentence_vectors.clear()
                self._sentence_vectors.update((text, known[text]) for text in missing)
        vectors: Vector = np.stack([known[text] for text in texts])
        return vectors

    async def _search(self, turn: Turn) -> tuple[SearchResult, list[Passage], bool]:
        """The search result, its usable passages (the sentences that try to steer the bot cut
        out, a passage of nothing else never used), and whether the best of them meets the
        answer floors."""
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
        # Reading every sentence of every passage for instructions is CPU work: one pass, in a
        # thread, so sockets are not held up while it runs.
        read = [found.lead, *found.passages] if found.lead is not None else found.passages
        kept = await anyio.to_thread.run_sync(lambda: [without_instructions(p) for p in read])
        usable = {id(passage) for passage, clean in zip(read, kept, strict=True) if clean}
        passages = [clean for clean in kept[len(read) - len(found.passages) :] if clean]
        deciding = found.deciding(lambda passage: id(passage) in usable)
        confident = (
            bool(passages)
            and deciding is not None
            and self.floors.met(deciding.score, found.confidence, deciding.language, turn.language)
        )
        return found, passages, confident

    async def _answered(
        self,
        turn: Turn,
        intent: Intent,
        found: SearchResult,
        passages: list[Passage],
        chosen: AnsweringSentences,
    ) -> Decision:
        cited = [chosen.passage, *(p for p in passages[:3] if p is not chosen.passage)][:3]
        citations = [Citation(p.document, p.section, p.score, p.language, p.text) for p in cited]
        reply = await self._worded(turn, chosen, cited)
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

    async def _passes(
        self, turn: Turn, reply: str, chosen: AnsweringSentences, passages: list[Passage]
    ) -> bool:
        if contradicts(reply, chosen.sentences, turn.language, chosen.passage.language):
            # The checks read figures: a "yes" to what the sentences deny has none wrong.
            log.info("model's reply says the opposite of its sentences: %r", reply[:60])
            return False
        if _delays(reply, chosen, turn):
            log.info("model's reply turns its sentences' deadline into a delay: %r", reply[:60])
            return False
        return await passes_checks(
            reply,
            question=turn.text,
            language=turn.language,
            passages=passages,
            identifier=self.identifier([turn.language, "en"]),
            facts=[*chosen.sentences, turn.text],
            instruction=turn.instruction,
        )

    async def _worded(self, turn: Turn, chosen: AnsweringSentences, passages: list[Passage]) -> str:
        """The model's restating of the answering sentences if it passes the checks; otherwise
        the sentences, quoted."""
        quoted = _quote(turn, chosen, chosen.text)
        llm = self.model.llm
        if llm is None:
            return _as_written(turn, chosen)
        if turn.emit is not None:
            return await self._worded_streaming(turn, chosen, passages, quoted)
        reply = ""
        async with falling_back(_WORDING, self.model.timeout_s) as call:
            message = await llm.ainvoke(self._prompt(turn, chosen))
            reply = _as_stated(str(message.content).strip(), turn, chosen)
        if call.failed:
            return _as_written(turn, chosen, offer=True)
        if not says_something(reply):
            # A small model sometimes answers with nothing but "[1]": that says nothing.
            log.info("chat model answered with citation marks only: %r", reply[:40])
            return await self._quoted(turn, chosen)
        if not await self._passes(turn, reply, chosen, passages) or not _carries(reply, chosen):
            return await self._quoted(turn, chosen)
        return reply

    async def _quoted(self, turn: Turn, chosen: AnsweringSentences) -> str:
        """The answering sentences quoted after the lead, translated into the shopper's language
        when they are in another and the model's translation keeps every figure, address and
        code (`bot.agent.models.translator` checks that in code); else as the document says.
        Only a translation is asked of the model here, never an answer."""
        text = chosen.text
        source = chosen.passage.language
        if self.model.llm is None or not source or source == turn.language:
            return _quote(turn, chosen, text)

        def faithful(translated: str) -> str | None:
            if not _carries(_as_stated(translated, turn, chosen), chosen):
                return "it changed the answering sentences"
            if _drops_negation(translated, chosen, turn):
                return "it lost a 'not'"
            if _delays(translated, chosen, turn):
                return "it turned a deadline into a delay"
            return None

        key = (text, source, turn.language)
        known = self._translations.get(key)
        if known is not None and faithful(known) is None:
            return _quote(turn, chosen, _as_stated(known, turn, chosen))
        rendered = await translate_passage(self.model, text, source, turn.language, faithful)
        if rendered.ok:
            if len(self._translations) >= TRANSLATION_CACHE:
                self._translations.clear()
            self._translations[key] = rendered.text
            return _quote(turn, chosen, _as_stated(rendered.text, turn, chosen))
        log.info("answering sentences quoted untranslated: %s", rendered.reason)
        return _as_written(turn, chosen)

    def _prompt(self, turn: Turn, chosen: AnsweringSentences) -> list[BaseMessage]:
        return restate_prompt(turn.text, chosen.sentences, chosen.passage.document, turn.language)

    async def _worded_streaming(
        self, turn: Turn, chosen: AnsweringSentences, passages: list[Passage], quoted: str
    ) -> str:
        """The model's answer released to the shopper sentence by sentence, each piece only once
        the checks have passed everything released so far with it. If the model fails or a later
        sentence is rejected, the reply is the quoted sentences alone, which replace the pieces
        already sent (a draft); otherwise the pieces sent join to the reply."""
        llm, emit = self.model.llm, turn.emit
        assert llm is not None and emit is not None
        released = ""
        pending = ""
        tail = ""
        async with falling_back(_WORDING, self.model.timeout_s) as call:
            async for chunk in llm.astream(self._prompt(turn, chosen)):
                content = chunk.content
                pending += content if isinstance(content, str) else chunk.text
                if not released:
                    pending = pending.lstrip()
                end = sentences_end(pending)
                if end == 0 or not says_something(pending[:end]):
                    continue  # wait for a whole sentence (a lone "[1]" waits for more)
                piece, pending = _as_stated(pending[:end], turn, chosen), pending[end:]
                if not await self._passes(turn, released + piece, chosen, passages):
                    tail = quoted
                    break
                await emit(piece)
                released += piece
        if call.failed:
            tail = _as_written(turn, chosen, offer=True)
        if not tail:
            rest = _as_stated(pending.rstrip(), turn, chosen)
            if says_something(rest):
                if await self._passes(turn, released + rest, chosen, passages):
                    await emit(rest)
                    released += rest
                else:
                    tail = quoted
            elif not released:
                tail = quoted  # nothing but citation marks, or nothing at all
            elif rest:
                await emit(rest)  # trailing citation marks after guarded sentences
                released += rest
        if not tail and not _carries(released, chosen):
            tail = quoted  # every piece passed, but the figure that answers went missing
        if not tail:
            return released
        if tail == quoted:  # the wording was rejected, the model still answers: translate
            tail = await self._quoted(turn, chosen)
        if released:
            # What streamed was a draft: half an answer followed by the fallback would not read
            # as one reply, so the reply is the fallback alone and replaces the draft.
            return tail
        await emit(tail)
        return tail


def _as_stated(text: str, turn: Turn, chosen: AnsweringSentences) -> str:
    """`text` with its figures written as the answering sentences write them ("19,90", "3–6"),
    when it is in their language or in one that writes decimals as they do (a Russian reply
    to a German "19,90"); otherwise a localised figure ("14.90" for a Chinese shopper, from a
    German "14,90") is what that shopper reads, and stays."""
    source = chosen.passage.language
    notation_differs = writes_decimal_comma(source or "") != writes_decimal_comma(turn.language)
    if source and source != turn.language and notation_differs:
        return text
    return written_as_stated(text, chosen.sentences)


def _quote(turn: Turn, chosen: AnsweringSentences, text: str) -> str:
    """`text` (the answering sentences, as the document says them or translated) after the lead
    that names where they come from, in the shopper's language. The section is named only when
    the document is in the shopper's language: a heading in another ("Versand und Lieferung >
    Lieferzeiten") is words the shopper may not read, and the citation names it anyway."""
    passage = chosen.passage
    if passage.language and passage.language != turn.language:
        lead = say(turn.language, "faq_lead_document", document=passage.document)
    else:
        lead = say(turn.language, "faq_lead", document=passage.document, section=passage.section)
    return f"{lead}\n{text}"


def _as_written(turn: Turn, chosen: AnsweringSentences, *, offer: bool = False) -> str:
    """The answering sentences quoted as the document writes them. In another language than the
    shopper's, followed by why, in the shopper's language, and the offer of a person who can
    explain them; in the shopper's own language, with that offer only if `offer` (the model
    failed)."""
    quoted = _quote(turn, chosen, chosen.text)
    source = chosen.passage.language
    if source and source != turn.language:
        return f"{quoted}\n{say(turn.language, 'quoted_untranslated')}"
    if offer:
        return f"{quoted}\n{say(turn.language, 'handoff_offer')}"
    return quoted


def _carries(reply: str, chosen: AnsweringSentences) -> bool:
    """Whether the model's restating (or translation) of the answering sentences keeps one of
    them whole (its figures, addresses and codes), and asks nothing they do not."""
    if asks_back(reply, chosen.sentences):
        log.info("model's reply asks a question its sentences do not: %r", reply[:60])
        return False
    if not carries_the_answer(reply, chosen.sentences, chosen.asked):
        log.info("model's reply drops a figure, address or code of its sentences: %r", reply[:60])
        return False
    if not keeps_the_best(reply, chosen):
        log.info("model's reply keeps another row's figures than the best one's: %r", reply[:60])
        return False
    return True


def keeps_the_best(reply: str, chosen: AnsweringSentences) -> bool:
    """Whether a reply keeps the best answering row whole when it is a table row quoted beside
    other rows and it states what the question asks for: the rows beside it state the
    same kind of fact for other cases, and asked the shipping fee to the United Kingdom, the
    model gave the 19,90 of the Switzerland row quoted beside the UK's 24,90. Prose sentences
    are left to the other checks: there the best-scoring one was "below 50 € shipping costs
    4,90" and a reply rightly giving the 14,90 outside the EU would have been refused."""
    best = chosen.best
    rows = bool(_ROW.match(best)) and sum(bool(_ROW.match(s)) for s in chosen.sentences) > 1
    if not rows or not chosen.asked.required or not states(best, chosen.asked):
        return True
    return carries_the_answer(reply, [best], chosen.asked)


_ROW = re.compile(r"^[^:;]{1,60}: [^;]*(?:; [^:;]{1,60}: [^;]*)+$")
"""A table row as `split_sentences` writes it: "Land: Österreich; Versandkosten: 3,90 €"."""


def _drops_negation(translated: str, chosen: AnsweringSentences, turn: Turn) -> bool:
    """Whether a translation of sentences that deny something denies nothing: the "not" was
    lost on the way, and the quote would say the opposite."""
    source = chosen.passage.language or turn.language
    return any(denies(sentence, source) for sentence in chosen.sentences) and not denies(
        translated, turn.language
    )


def _delays(text: str, chosen: AnsweringSentences, turn: Turn) -> bool:
    """Whether `text`, in the shopper's language, says "after" where the answering sentences
    say "within" (`turns_deadline_into_delay`)."""
    source = chosen.passage.language or turn.language
    return turns_deadline_into_delay(chosen.sentences, source, text, turn.language)
