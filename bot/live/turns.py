"""The bot's turns of the live chat: one conversation's messages in order, one turn at a time
for it across every worker, many conversations at once.

A shopper message is stored (and published) before its turn runs; the turn itself is found
later from the database: every shopper message after the conversation's `answered_seq` is
waiting. A worker runs a conversation's waiting messages only while it holds the thread's turn
lease (a conditional UPDATE, renewed while it works), so two tabs on two workers never start
two turns for one thread. A worker that dies leaves its lease to expire; the next socket that
opens on the thread (a reconnecting shopper) takes the waiting messages over. A turn that is
run twice (the worker died after the reply was stored) gets the stored reply back from the
pipeline (handed the stored message, it finds the reply after it), not a second one."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.agent.pipeline import TurnPipeline
from bot.agent.turn import TurnResult
from bot.domain.conversation import OwnerState
from bot.storage import ConversationRepository
from bot.storage.conversations import Conversation, Message
from bot.storage.tables import utcnow

log = logging.getLogger(__name__)
RETRY_AFTER_FAILURE_S = 1.0
"""Pause before a conversation's turns that failed outside the pipeline are tried again."""
Piece = Callable[[str, str, int, str], Awaitable[None]]
"""`(store_id, conversation_id, reply_to, text)`: a guarded piece of the reply, streamed."""
Finished = Callable[[str, str, Message, TurnResult | None, OwnerState], Awaitable[None]]
"""`(store_id, conversation_id, shopper_message, result, state_before)`: a turn has run
(`result` is `None` when the bot stayed silent or the turn failed)."""
Reopen = Callable[[str, str], Awaitable[None]]


class TurnRunner:
    """Runs the bot's turns of this worker's conversations, in order, one at a time each."""

    def __init__(
        self,
        *,
        conversations: ConversationRepository,
        pipeline: Callable[[], Awaitable[TurnPipeline]],
        on_piece: Piece,
        on_finished: Finished,
        on_reopen: Reopen,
        holder: str,
        lease_s: float,
        concurrent: int = 4,
    ) -> None:
        self.conversations = conversations
        self.pipeline = pipeline
        self.on_piece = on_piece
        self.on_finished = on_finished
        self.on_reopen = on_reopen
        self.holder = holder
        self.lease_s = lease_s
        self._slots = asyncio.Semaphore(concurrent)
        self._drains: dict[str, asyncio.Task[None]] = {}
        self._retries: dict[str, asyncio.Task[None]] = {}
        self._submitted: set[str] = set()
        """Conversations submitted again while their drain was running."""
        self._held: dict[str, set[str]] = {}
        """The threads whose turn lease this worker holds, by store: renewed together."""
        self._renewer: asyncio.Task[None] | None = None
        self._closing = False

    def submit(self, store_id: str, conversation_id: str) -> None:
        """Make sure the conversation's waiting messages get their turns (idempotent)."""
        running = self._drains.get(conversation_id)
        if running is not None and not running.done():
            # It reads the waiting messages again before it stops, even if the read under way
            # now began before this message was committed (its snapshot would miss it).
            self._submitted.add(conversation_id)
            return
        task = asyncio.create_task(self._drain(store_id, conversation_id))
        self._drains[conversation_id] = task
        task.add_done_callback(lambda done: self._forget(store_id, conversation_id, done))

    def _forget(self, store_id: str, conversation_id: str, task: asyncio.Task[None]) -> None:
        if self._drains.get(conversation_id) is task:
            del self._drains[conversation_id]
            self._submitted.discard(conversation_id)
        if not task.cancelled() and task.exception() is not None:
            log.error("bot turns of %s failed", conversation_id, exc_info=task.exception())
            if not self._closing:
                # A database that was briefly out of reach or of connections must not leave
                # the thread's messages waiting until the shopper writes again.
                later = utcnow() + timedelta(seconds=RETRY_AFTER_FAILURE_S)
                self._retry_at(store_id, conversation_id, later)

    async def _drain(self, store_id: str, conversation_id: str) -> None:
        while waiting := (await self._waiting(store_id, conversation_id))[1]:
            held_until = await self.conversations.claim_turns(
                store_id, conversation_id, self.holder, self.lease_s
            )
            if held_until is not None:  # another worker runs this thread's turns
                self._retry_at(store_id, conversation_id, held_until)
                return
            self._hold(store_id, conversation_id)
            try:
                # The messages read before claiming (one read fewer before the first token);
                # one that a holder before us answered meanwhile is skipped by `_turn`, which
                # reads the thread again for the first of them: it may have moved on before
                # the lease was ours. Each later turn starts from the thread as the previous
                # one left it (`mark_answered`), or as read with the messages, under the lease.
                thread: Conversation | None = None
                while waiting:
                    for message in waiting:
                        thread = await self._turn(store_id, conversation_id, message, thread)
                    thread, waiting = await self._waiting(store_id, conversation_id)
            finally:
                self._let_go(store_id, conversation_id)
                # Released even when cancelled (a clean shutdown): another worker may go on.
                await asyncio.shield(
                    self.conversations.release_turns(store_id, conversation_id, self.holder)
                )
            # A message stored while the lease was being released was submitted to a runner
            # that saw the lease held: the loop looks once more after releasing.

    async def _waiting(
        self, store_id: str, conversation_id: str
    ) -> tuple[Conversation, list[Message]]:
        """The thread and its unanswered messages. Read again when a message was submitted
        during the read: without this, a socket's opening drain that read nothing just before
        the shopper's first message was committed ended and left that message unanswered."""
        while True:
            self._submitted.discard(conversation_id)
            thread, waiting = await self.conversations.waiting_turns(store_id, conversation_id)
            if waiting or conversation_id not in self._submitted:
                return thread, waiting

    def _retry_at(self, store_id: str, conversation_id: str, until: datetime) -> None:
        if conversation_id in self._retries:
            return
        delay = max((until - utcnow()).total_seconds(), 0.0) + 0.05

        async def later() -> None:
            try:
                await asyncio.sleep(delay)
            finally:
                self._retries.pop(conversation_id, None)
            self.submit(store_id, conversation_id)

        self._retries[conversation_id] = asyncio.create_task(later())

    def _hold(self, store_id: str, conversation_id: str) -> None:
        self._held.setdefault(store_id, set()).add(conversation_id)
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.create_task(self._renew())

    def _let_go(self, store_id: str, conversation_id: str) -> None:
        held = self._held.get(store_id)
        if held is not None:
            held.discard(conversation_id)
            if not held:
                del self._held[store_id]

    async def _renew(self) -> None:
        """Renew every lease this worker holds, a third of a lease apart: one statement per
        store, however many threads wait for a turn slot (one statement per thread every ten
        seconds took a fifth of the event loop under a flood of 200 conversations)."""
        while self._held:
            await asyncio.sleep(self.lease_s / 3)
            for store_id, held in list(self._held.items()):
                asked = set(held)
                try:
                    renewed = await self.conversations.renew_turns(
                        store_id, asked, self.holder, self.lease_s
                    )
                except Exception:  # tried again in a third of a lease; the leases still run
                    log.exception("turn leases not renewed", extra={"store_id": store_id})
                    continue
                # Not renewed and still held (not released meanwhile): another worker took it
                # after this one failed to renew for a whole lease.
                if lost := (asked - renewed) & self._held.get(store_id, set()):
                    log.warning(
                        "turn leases lost to another worker: %s",
                        sorted(lost),
                        extra={"store_id": store_id},
                    )

    async def _turn(
        self,
        store_id: str,
        conversation_id: str,
        message: Message,
        thread: Conversation | None,
    ) -> Conversation | None:
        """Run the bot's turn of `message` (unless it was answered); the thread as the turn
        left it, when known. `thread`: the thread as read since the previous turn, if any."""
        conversation = thread or await self.conversations.get(store_id, conversation_id)
        if message.seq <= conversation.answered_seq:
            return None  # answered by the previous holder of the lease
        before = conversation.state
        result: TurnResult | None = None
        if before is OwnerState.HUMAN:
            pass  # the agent holding the thread answers; the bot stays out of it
        else:
            read: Conversation | None = conversation
            if before is OwnerState.RESOLVED:
                await self.on_reopen(store_id, conversation_id)
                before = OwnerState.BOT
                read = None  # changed since: the pipeline reads it again
            try:
                result = await self._run(store_id, conversation_id, message, read)
            except Exception:  # one failed turn must not stop the thread's later ones
                log.exception("bot turn failed", extra={"store_id": store_id})
        await self.on_finished(store_id, conversation_id, message, result, before)
        return await self.conversations.mark_answered(store_id, conversation_id, message.seq)

    async def _run(
        self,
        store_id: str,
        conversation_id: str,
        message: Message,
        conversation: Conversation | None,
    ) -> TurnResult:
        pipeline = await self.pipeline()
        result: TurnResult | None = None
        async with (
            self._slots,
            # The message is stored already: the pipeline neither stores it again nor looks
            # for its reply unless the thread has moved on (a turn run again gets its reply).
            # The thread as read here, after the lease was taken, is not read again.
            pipeline.stream(
                store_id, conversation_id, message.text, stored=message, conversation=conversation
            ) as items,
        ):
            async for item in items:
                if isinstance(item, TurnResult):
                    result = item
                else:
                    await self.on_piece(store_id, conversation_id, message.seq, item)
        assert result is not None, "the pipeline's stream ends with its result"
        return result

    async def close(self) -> None:
        """Stop every turn of this worker (their leases are released; messages stay waiting)."""
        self._closing = True
        tasks = [*self._drains.values(), *self._retries.values()]
        if self._renewer is not None:
            tasks.append(self._renewer)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
