"""The live chat of one worker: what shoppers and agents do, written to the database first and
then published on the bus to every socket of the conversation, on any worker.

Channels: `parley:<store>:conversation:<id>` carries a thread's frames (messages, tokens,
state, actions, typing); `parley:<store>:queue` carries the store's queue events to agents."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.agent.pipeline import TurnPipeline
from bot.agent.replies import describe_action, say
from bot.agent.turn import TurnResult
from bot.domain.conversation import HandoffReason, OwnerState, Role
from bot.domain.errors import Forbidden, ServiceUnavailable
from bot.domain.policy import StorePolicy
from bot.live.allowance import Allowance
from bot.live.assignment import offer_thread, offer_to_agent
from bot.live.frames import FrameError, error_frame
from bot.live.notices import notice, when
from bot.live.translation import reading_language, reply_for_shopper, sent_record
from bot.live.turns import TurnRunner
from bot.logins import LoginState
from bot.realtime import EventBus, store_channel
from bot.settings import LiveSettings
from bot.storage import ConversationRepository, StoreRepository
from bot.storage.conversations import Conversation, Message
from bot.storage.tables import utcnow
from bot.translation import Interpreter

log = logging.getLogger(__name__)


def conversation_channel(store_id: str, conversation_id: str) -> str:
    """The bus channel of one thread's frames."""
    return store_channel(store_id, f"conversation:{conversation_id}")


def queue_channel(store_id: str) -> str:
    """The bus channel of a store's queue events (for its agents)."""
    return store_channel(store_id, "queue")


class LiveChat:
    """Shopper and agent actions of the live chat, and the bot turns they start."""

    def __init__(
        self,
        *,
        conversations: ConversationRepository,
        stores: StoreRepository,
        bus: EventBus,
        pipeline: Callable[[], Awaitable[TurnPipeline]],
        interpreter: Callable[[], Awaitable[Interpreter]],
        settings: LiveSettings,
        counters: LoginState,
        worker: str,
    ) -> None:
        """`interpreter` gives the translation engine on the configured chat model (agents'
        replies are sent translated); `counters` keep the per-session message rate (the login
        state: memory or Redis)."""
        self.conversations = conversations
        self.counters = counters
        self.stores = stores
        self.bus = bus
        self.interpreter = interpreter
        self.settings = settings
        self.runner = TurnRunner(
            conversations=conversations,
            pipeline=pipeline,
            on_piece=self._piece,
            on_finished=self._finished,
            on_reopen=self._reopen,
            holder=worker,
            lease_s=settings.turn_lease_s,
            concurrent=settings.concurrent_turns,
        )

    async def close(self) -> None:
        """Stop this worker's bot turns (their messages wait for the next worker)."""
        await self.runner.close()

    # -- publishing ------------------------------------------------------------------------------

    async def publish(self, store_id: str, conversation_id: str, frame: dict[str, Any]) -> None:
        """Send a frame to every socket of the thread; a bus failure is logged, not raised: what
        matters is stored, and sockets catch up from the database once the bus is back."""
        event = {**frame, "conversation_id": conversation_id}
        try:
            await self.bus.publish(conversation_channel(store_id, conversation_id), event)
        except ServiceUnavailable as error:
            log.warning("frame not published: %s", error.message, extra={"store_id": store_id})

    async def publish_message(self, store_id: str, conversation_id: str, message: Message) -> None:
        """Publish a stored message as its frame."""
        await self.publish(store_id, conversation_id, message.frame())

    async def _publish_queue(self, store_id: str, event: dict[str, Any]) -> None:
        try:
            await self.bus.publish(queue_channel(store_id), {"type": "queue", **event})
        except ServiceUnavailable as error:
            log.warning("queue event not published: %s", error.message)

    # -- the shopper -----------------------------------------------------------------------------

    def allowance(self, store_id: str, session_id: str) -> Allowance:
        """The message rate of a widget session, for one of its sockets. The window is counted
        in the login state, so with Redis every worker counts the same session (two tabs on two
        workers cannot double the rate); each socket counts its next message ahead
        (`Allowance`), so no message waits for the count before it is stored."""
        return Allowance(
            self.counters,
            store_channel(store_id, f"live:rate:{session_id}"),
            limit=self.settings.rate_limit_messages,
            window_s=self.settings.rate_limit_window_s,
            store_id=store_id,
        )

    async def shopper_message(
        self, store_id: str, conversation_id: str, text: str, client_id: str
    ) -> tuple[Message, bool]:
        """Store the shopper's message (once per `client_id`), publish it, start its turn;
        `(stored message, False)` for a resend."""
        message, created = await self.conversations.append(
            store_id, conversation_id, Role.SHOPPER, text, client_id=client_id
        )
        if created:
            await self.publish_message(store_id, conversation_id, message)
        # Also for a resend: a message whose turn a dead worker never ran gets it now; one
        # that was answered starts nothing.
        self.runner.submit(store_id, conversation_id)
        return message, created

    async def confirm(
        self, store_id: str, conversation_id: str, action_id: str, accept: bool
    ) -> tuple[Message, bool]:
        """The shopper's Confirm/Cancel on an action card: written into the thread as the plain
        yes/no in their language, so the turn confirms through the same single-use path as a
        typed yes. A repeated tap returns the stored answer; a stale card is refused."""
        client_id = f"confirm:{action_id}"
        conversation = await self.conversations.get(store_id, conversation_id)
        recent = await self.conversations.messages_after(
            store_id, conversation_id, max(conversation.last_seq - 20, 0)
        )
        for message in recent:
            if message.client_id == client_id:
                return message, False
        latest_bot = next((m for m in reversed(recent) if m.role is Role.BOT), None)
        pending = (latest_bot.meta.get("action") or {}) if latest_bot else {}
        if pending.get("action_id") != action_id:
            raise FrameError("stale_action", "this action is no longer waiting for an answer")
        word = notice(conversation.language, "yes" if accept else "no")
        return await self.shopper_message(store_id, conversation_id, word, client_id)

    async def request_human(self, store_id: str, conversation_id: str) -> None:
        """The shopper asks for a person: queue the thread (if the bot has it) and say so."""
        conversation = await self.conversations.get(store_id, conversation_id)
        if conversation.state in (OwnerState.QUEUED, OwnerState.HUMAN):
            await self.publish(store_id, conversation_id, await self.state_frame(conversation))
            return
        language = conversation.language or "en"
        message, _ = await self.conversations.append(
            store_id, conversation_id, Role.SYSTEM, say(language, "handoff"), language=language
        )
        await self.publish_message(store_id, conversation_id, message)
        await self.change_owner(
            store_id,
            conversation_id,
            OwnerState.QUEUED,
            HandoffReason.SHOPPER_ASKED.value,
            actor="shopper",
        )

    async def leave_contact(self, store_id: str, conversation_id: str, email: str) -> Message:
        """Keep the email address the shopper left and thank them in their language."""
        email = email.strip()
        await self.conversations.set_contact_email(store_id, conversation_id, email)
        conversation = await self.conversations.get(store_id, conversation_id)
        language = conversation.language or "en"
        message, _ = await self.conversations.append(
            store_id,
            conversation_id,
            Role.SYSTEM,
            notice(language, "contact_saved", email=email),
            language=language,
        )
        await self.publish_message(store_id, conversation_id, message)
        return message

    async def typing(self, store_id: str, conversation_id: str, role: Role) -> None:
        """Someone is typing in the thread (not stored)."""
        await self.publish(store_id, conversation_id, {"type": "typing", "role": role.value})

    # -- agents ----------------------------------------------------------------------------------

    async def agent_message(
        self, store_id: str, conversation_id: str, agent_id: int, text: str, client_id: str | None
    ) -> tuple[Message, bool]:
        """An agent's reply in a thread they hold: rendered for the shopper (translated into
        the thread's language when the agent reads another, checked in code; as written, with
        the reason, when it cannot be), stored with that rendering in one write, then published;
        `(stored message, False)` for a resend."""
        conversation = await self.conversations.get(store_id, conversation_id)
        if conversation.state is not OwnerState.HUMAN or conversation.assigned_agent_id != agent_id:
            raise Forbidden("take the conversation before writing in it")
        if client_id is not None:  # a resend gets the stored message, not a second translation
            recent = await self.conversations.messages_after(
                store_id, conversation_id, max(conversation.last_seq - 20, 0)
            )
            for earlier in recent:
                if earlier.client_id == client_id:
                    return earlier, False
        agent = await self.stores.agent(agent_id)
        rendering = await reply_for_shopper(await self.interpreter(), agent, conversation, text)
        sent = sent_record(rendering)
        message, created = await self.conversations.append(
            store_id,
            conversation_id,
            Role.AGENT,
            text,
            language=reading_language(agent),
            client_id=client_id,
            meta={"sent": sent} if sent is not None else None,
        )
        if created:
            await self.publish_message(store_id, conversation_id, message)
        return message, created

    async def change_owner(
        self,
        store_id: str,
        conversation_id: str,
        target: OwnerState,
        reason: str | None = None,
        *,
        actor: str,
        agent_id: int | None = None,
    ) -> Conversation:
        """Move the thread (the domain decides if it may, storage audits it), then tell the
        thread's sockets and the store's agents; an agent who let a thread go is offered the
        queue's next one they may take."""
        before = None
        if target in (OwnerState.BOT, OwnerState.RESOLVED):
            before = await self.conversations.get(store_id, conversation_id)
        changed = await self.conversations.change_owner(
            store_id, conversation_id, target, reason, actor=actor, agent_id=agent_id
        )
        await self._announce(changed)
        if before is not None and before.state is OwnerState.HUMAN and before.assigned_agent_id:
            await self.offer_freed(store_id, before.assigned_agent_id)
        return changed

    # -- state -----------------------------------------------------------------------------------

    async def state_frame(self, conversation: Conversation) -> dict[str, Any]:
        """The `state` frame: the owner, and for a queued thread its place and, outside the
        store's support hours, when a person is back (with notices in the thread's language)."""
        frame: dict[str, Any] = {
            "type": "state",
            "state": conversation.state.value,
            "reason": conversation.handoff_reason or "",
            "position": None,
            "back_at": None,
            "notice": None,
        }
        if conversation.state is not OwnerState.QUEUED:
            return frame
        position = await self.conversations.queue_position(conversation.store_id, conversation.id)
        frame["position"] = position
        notices = [notice(conversation.language, "position", position=position)]
        back_at = await self.back_at(conversation.store_id)
        if back_at is not None:
            frame["back_at"] = back_at.isoformat()
            notices.append(notice(conversation.language, "back_at", when=when(back_at)))
        frame["notice"] = " ".join(notices)
        return frame

    async def back_at(self, store_id: str) -> Any:
        """When a person is on duty again, or `None` if someone is now (or hours are unset)."""
        policy = StorePolicy.model_validate(await self.stores.policy(store_id))
        hours = policy.support()
        return None if hours is None else hours.back_at(utcnow())

    async def hand_back(
        self, store_id: str, conversation_id: str, agent_id: int, note: str
    ) -> Conversation:
        """Give the thread back to the bot with the agent's note, which its next turn reads
        (`TurnPipeline` takes it from the conversation) and the audit trail keeps."""
        note = note.strip()
        if note:
            await self.conversations.set_handback_note(store_id, conversation_id, note)
        reason = f"handed back: {note}" if note else "released"
        return await self.change_owner(
            store_id, conversation_id, OwnerState.BOT, reason, actor=f"agent:{agent_id}"
        )

    async def offer_waiting(self, store_id: str) -> None:
        """Offer the queued threads nobody was offered (an agent just opened their console)."""
        for queued in await self.conversations.in_state(store_id, OwnerState.QUEUED):
            if queued.offered_agent_id is not None:
                continue
            offered_to = await offer_thread(
                self.conversations,
                self.stores,
                queued,
                present_within_s=3 * self.settings.heartbeat_s,
            )
            if offered_to is not None:
                await self._publish_offer(queued, offered_to)

    async def offer_freed(self, store_id: str, agent_id: int) -> None:
        """An agent has room again (let a thread go, raised their capacity, turned translation
        on): offer them the oldest queued threads nobody was offered that they may take."""
        for queued in await offer_to_agent(
            self.conversations,
            self.stores,
            store_id,
            agent_id,
            present_within_s=3 * self.settings.heartbeat_s,
        ):
            await self._publish_offer(queued, agent_id)

    async def _publish_offer(self, queued: Conversation, offered_to: int) -> None:
        await self._publish_queue(
            queued.store_id,
            {
                "event": "offered",
                "conversation_id": queued.id,
                "state": queued.state.value,
                "reason": queued.handoff_reason or "",
                "language": queued.language,
                "agent_id": None,
                "offered_to": offered_to,
            },
        )

    async def _announce(self, conversation: Conversation) -> None:
        store_id = conversation.store_id
        offered_to: int | None = None
        if conversation.state is OwnerState.QUEUED:
            offered_to = await offer_thread(
                self.conversations,
                self.stores,
                conversation,
                present_within_s=3 * self.settings.heartbeat_s,
            )
            back_at = await self.back_at(store_id)
            if back_at is not None:  # stored, so a reload still says when a person is back
                language = conversation.language or "en"
                message, _ = await self.conversations.append(
                    store_id,
                    conversation.id,
                    Role.SYSTEM,
                    notice(language, "back_at", when=when(back_at)),
                    language=language,
                )
                await self.publish_message(store_id, conversation.id, message)
        await self.publish(store_id, conversation.id, await self.state_frame(conversation))
        await self._publish_queue(
            store_id,
            {
                "event": conversation.state.value,
                "conversation_id": conversation.id,
                "state": conversation.state.value,
                "reason": conversation.handoff_reason or "",
                "language": conversation.language,
                "agent_id": conversation.assigned_agent_id,
                "offered_to": offered_to,
                "first_message": await self.conversations.first_words(store_id, conversation.id),
                "since": (conversation.state_since or utcnow()).isoformat(),
            },
        )
        # Everyone behind a thread that joined or left the queue has a new place.
        for queued in await self.conversations.in_state(store_id, OwnerState.QUEUED):
            if queued.id != conversation.id:
                await self.publish(store_id, queued.id, await self.state_frame(queued))

    # -- the bot's turns -------------------------------------------------------------------------

    async def _piece(self, store_id: str, conversation_id: str, reply_to: int, text: str) -> None:
        await self.publish(
            store_id, conversation_id, {"type": "token", "delta": text, "reply_to": reply_to}
        )

    async def _reopen(self, store_id: str, conversation_id: str) -> None:
        await self.change_owner(
            store_id, conversation_id, OwnerState.BOT, "reopened", actor="shopper"
        )

    async def _finished(
        self,
        store_id: str,
        conversation_id: str,
        message: Message,
        result: TurnResult | None,
        before: OwnerState,
    ) -> None:
        if result is None:
            if before is not OwnerState.HUMAN:
                await self.publish(
                    store_id,
                    conversation_id,
                    error_frame("turn_failed", "the bot could not answer; please try again"),
                )
            return
        await self.conversations.set_message_language(
            store_id, conversation_id, message.seq, result.language
        )
        # The turn's reply (with `reply_to`): it replaces the draft the tokens built. Also a
        # reply stored by a worker that died before publishing it.
        for stored in await self.conversations.messages_after(
            store_id, conversation_id, message.seq
        ):
            if stored.meta.get("reply_to") == message.seq:
                await self.publish_message(store_id, conversation_id, stored)
        if result.action is not None:
            await self.publish(store_id, conversation_id, action_frame(result, message.seq))
        conversation = await self.conversations.get(store_id, conversation_id)
        if conversation.state is not before:
            await self._announce(conversation)


def action_frame(result: TurnResult, reply_to: int) -> dict[str, Any]:
    """The `action` frame of a proposed write: its summary in the shopper's language, and the
    turn's tool calls with the status the turn reports for each."""
    action = result.action or {}
    details = action.get("details")
    summary = (
        describe_action(result.language, details)
        if isinstance(details, dict)
        else str(action.get("summary", ""))
    )
    return {
        "type": "action",
        "action_id": action.get("action_id"),
        "summary": summary,
        "needs_confirmation": True,
        "expires_at": action.get("expires_at"),
        "reply_to": reply_to,
        "tool_calls": [call.as_json() for call in result.tool_calls],
    }
