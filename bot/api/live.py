"""The live chat's WebSockets: `/api/v1/widget/ws` for shoppers, `/api/v1/agent/ws` for agents.

A token that is missing, forged or expired is refused at the handshake: the socket is accepted
and closed at once with code 4401 (4403: a token that may not open this socket, 4404: a
conversation that does not exist in the token's store) and the reason, which a browser can
read from its `close` event. A bad frame gets an `error` frame and the socket stays open. The
server sends `{"type": "ping"}` every `PARLEY_LIVE__HEARTBEAT_S` seconds and answers a client's
`ping` with `pong`. On shutdown uvicorn closes every socket with 1012 (service restart): clients
reconnect, to another worker if need be, and `resume` from the last `seq` they saw."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import anyio
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from bot.api.console import thread_summary
from bot.api.deps import agent_from_token
from bot.api.widget import WidgetSession, widget_claims
from bot.domain.conversation import OwnerState, Role
from bot.domain.errors import ParleyError
from bot.live import (
    Delivery,
    FrameError,
    Limits,
    LiveChat,
    conversation_channel,
    error_frame,
    parse,
    queue_channel,
)
from bot.live.frames import (
    ClientFrame,
    Confirm,
    Contact,
    Ping,
    RequestHuman,
    Resume,
    SendMessage,
    Typing,
)
from bot.live.translation import UNTRANSLATED, Translation, translate_for_thread
from bot.realtime import RESYNC, Event, Subscription
from bot.storage import Agent, ConversationRepository
from bot.storage.conversations import Conversation
from bot.wiring import Parley

log = logging.getLogger(__name__)
router = APIRouter(tags=["live"])

REFUSAL_CODES = {"unauthorized": 4401, "forbidden": 4403, "not_found": 4404}
_CLOSED = (WebSocketDisconnect, OSError, RuntimeError, anyio.ClosedResourceError)
"""What sending on a socket the client has left raises, depending on the moment."""


async def _refuse(websocket: WebSocket, error: ParleyError) -> None:
    code = REFUSAL_CODES.get(error.code, 4400)
    await websocket.close(code=code, reason=error.message.encode()[:120].decode(errors="ignore"))


class _Socket:
    """What both sockets share: sending, heartbeats, the bus, and running until either side
    leaves."""

    def __init__(self, websocket: WebSocket, parley: Parley, store_id: str) -> None:
        self.websocket = websocket
        self.live: LiveChat = parley.live
        self.store_id = store_id
        self.limits = Limits(max_text_chars=parley.settings.live.max_text_chars)
        self.heartbeat_s = parley.settings.live.heartbeat_s
        self.delivery = Delivery(self._send, parley.conversations, store_id)
        self.subscription: Subscription = parley.bus.listen()

    async def _send(self, frame: dict[str, Any]) -> None:
        if self.websocket.application_state is not WebSocketState.CONNECTED:
            return
        if isinstance(frame, Event):  # relayed as it came: not decoded and encoded again
            await self.websocket.send_text(frame.encoded)
        else:
            await self.websocket.send_json(frame)

    async def serve(self) -> None:
        """Read the client's frames here and forward the bus's in one more task, until the
        client leaves (two tasks per socket: idle sockets are most of a worker's sockets)."""
        forwarder = asyncio.create_task(self._forward())
        try:
            await self._read()
        except _CLOSED:
            pass
        finally:
            forwarder.cancel()
            with contextlib.suppress(asyncio.CancelledError, *_CLOSED):
                await forwarder
            await asyncio.shield(self.subscription.close())

    async def _forward(self) -> None:
        """Bus events to the client; a `ping` frame whenever the socket was quiet for a
        heartbeat."""
        while True:
            event: dict[str, Any] | None = None
            with anyio.move_on_after(self.heartbeat_s):
                event = await self.subscription.get()
            if event is None:
                await self.delivery.frame({"type": "ping"})
            elif event is RESYNC:
                await self.delivery.resync()
            else:
                await self.on_event(event)

    async def on_event(self, event: dict[str, Any]) -> None:
        """A frame from the bus."""
        await self.delivery.frame(event)

    async def _read(self) -> None:
        while True:
            received = await self.websocket.receive()
            if received["type"] == "websocket.disconnect":
                return
            raw = received.get("text")
            if raw is None:
                try:
                    raw = bytes(received.get("bytes") or b"").decode()
                except UnicodeDecodeError:
                    raw = ""
            try:
                await self.handle(parse(raw, self.limits))
            except FrameError as error:
                await self.delivery.frame(error.frame())
            except ParleyError as error:
                await self.delivery.frame(error_frame(error.code, error.message))
            except _CLOSED:
                raise
            except Exception:  # one failed frame must not end the shopper's chat
                log.exception("live frame failed", extra={"store_id": self.store_id})
                await self.delivery.frame(
                    error_frame("internal", "internal error; see the server log")
                )

    async def handle(self, frame: ClientFrame) -> None:
        """One client frame."""
        raise NotImplementedError


class ShopperSocket(_Socket):
    """A widget's socket on its one conversation."""

    def __init__(self, websocket: WebSocket, parley: Parley, session: WidgetSession) -> None:
        super().__init__(websocket, parley, session.store_id)
        self.session = session
        self.conversation_id = session.conversation_id
        self.allowance = self.live.allowance(session.store_id, session.session_id)

    async def open(self, last_seq: int) -> None:
        """Listen to the thread, say where it stands, and run any turn a dead worker left."""
        await self.subscription.add(conversation_channel(self.store_id, self.conversation_id))
        self.delivery.follow(self.conversation_id, last_seq)
        conversation = await self.live.conversations.get(self.store_id, self.conversation_id)
        await self.delivery.frame(
            {**await self.live.state_frame(conversation), "conversation_id": conversation.id}
        )
        self.live.runner.submit(self.store_id, self.conversation_id)

    async def serve(self) -> None:
        """Serve the widget until it leaves; a message count taken ahead is given back."""
        try:
            await super().serve()
        finally:
            await asyncio.shield(self.allowance.close())

    async def handle(self, frame: ClientFrame) -> None:
        """One frame from the widget."""
        store, conversation = self.store_id, self.conversation_id
        if isinstance(frame, SendMessage):
            if not await self.allowance.take():
                raise FrameError("rate_limited", "too many messages in a short time; wait a moment")
            message, created = await self.live.shopper_message(
                store, conversation, frame.text, frame.client_id
            )
            await self.delivery.acknowledge(
                {**message.frame(), "conversation_id": conversation}, resent=not created
            )
        elif isinstance(frame, Resume):
            await self.delivery.catch_up(conversation, frame.after)
        elif isinstance(frame, Confirm):
            message, created = await self.live.confirm(
                store, conversation, frame.action_id, frame.accept
            )
            await self.delivery.acknowledge(
                {**message.frame(), "conversation_id": conversation}, resent=not created
            )
        elif isinstance(frame, RequestHuman):
            await self.live.request_human(store, conversation)
        elif isinstance(frame, Typing):
            await self.live.typing(store, conversation, Role.SHOPPER)
        elif isinstance(frame, Contact):
            await self.live.leave_contact(store, conversation, frame.email)
        elif isinstance(frame, Ping):
            await self.delivery.frame({"type": "pong"})


class AgentSocket(_Socket):
    """An agent's socket: the store's queue events and the threads the agent holds."""

    def __init__(self, websocket: WebSocket, parley: Parley, agent: Agent) -> None:
        super().__init__(websocket, parley, agent.store_id)
        self.parley = parley
        self.agent = agent
        self.stores = parley.stores
        self._translating: set[asyncio.Task[None]] = set()

    async def open(self) -> None:
        """Listen to the queue and the held threads; send the queue as it stands."""
        await self.stores.mark_seen(self.store_id, self.agent.id)
        await self.subscription.add(queue_channel(self.store_id))
        await self.live.offer_waiting(self.store_id)
        held = await self.live.conversations.held_by(self.store_id, self.agent.id)
        for conversation in held:
            await self._hold(conversation.id, conversation.last_seq)
        queued = await self.live.conversations.in_state(self.store_id, OwnerState.QUEUED)
        conversations = self.live.conversations
        await self.delivery.frame(
            {
                "type": "queue",
                "event": "snapshot",
                "queued": [await _snapshot(conversations, c) for c in queued],
                "held": [await _snapshot(conversations, c) for c in held],
            }
        )

    async def serve(self) -> None:
        """Serve the console until it leaves; meanwhile keep the agent marked present."""
        presence = asyncio.create_task(self._present())
        try:
            await super().serve()
        finally:
            presence.cancel()
            for task in (presence, *self._translating):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, *_CLOSED):
                    await task
            await asyncio.shield(self.stores.mark_away(self.store_id, self.agent.id))

    async def _present(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            await self.stores.mark_seen(self.store_id, self.agent.id)

    async def _send(self, frame: dict[str, Any]) -> None:
        """Send the frame; a shopper's message is followed by its `translation` frame."""
        await super()._send(frame)
        if frame.get("type") == "message" and frame.get("role") == Role.SHOPPER.value:
            # Off the delivery lock: a model's translation must not hold up the thread's frames.
            task = asyncio.create_task(self._translate(frame))
            self._translating.add(task)
            task.add_done_callback(self._translating.discard)

    async def _translate(self, frame: dict[str, Any]) -> None:
        conversation_id = str(frame["conversation_id"])
        try:
            translation = await translate_for_thread(
                await self.parley.interpreter(),
                self.store_id,
                conversation_id,
                str(frame["text"]),
                source=frame.get("language"),
                target=self.agent.languages[0] if self.agent.languages else None,
                direction="to_agent",
                seq=int(frame["seq"]),
            )
        except Exception:  # the agent still has the original; say so rather than go quiet
            log.exception("translation failed", extra={"store_id": self.store_id})
            translation = Translation(
                str(frame["text"]), frame.get("language"), UNTRANSLATED, "translation failed"
            )
        await self.delivery.frame(
            {
                "type": "translation",
                "conversation_id": conversation_id,
                "seq": frame["seq"],
                **translation.as_json(),
            }
        )

    async def _hold(self, conversation_id: str, last_seq: int) -> None:
        await self.subscription.add(conversation_channel(self.store_id, conversation_id))
        self.delivery.follow(conversation_id, last_seq)

    async def on_event(self, event: dict[str, Any]) -> None:
        """Queue events also start and stop following the threads this agent takes."""
        if event.get("type") == "queue":
            conversation_id = str(event.get("conversation_id"))
            mine = event.get("agent_id") == self.agent.id
            if event.get("state") == OwnerState.HUMAN.value and mine:
                if not self.delivery.following(conversation_id):
                    await self._hold(conversation_id, 0)  # the whole thread, to answer it
                    await self.delivery.catch_up(conversation_id, 0)
            elif self.delivery.following(conversation_id):
                await self.subscription.remove(conversation_channel(self.store_id, conversation_id))
                self.delivery.unfollow(conversation_id)
        await self.delivery.frame(event)

    async def handle(self, frame: ClientFrame) -> None:
        """One frame from the agent (messages and typing name their conversation)."""
        if isinstance(frame, Ping):
            await self.delivery.frame({"type": "pong"})
            return
        conversation_id = getattr(frame, "conversation_id", None)
        if not isinstance(frame, SendMessage | Resume | Typing):
            raise FrameError("unknown_type", f"agents do not send {frame.type!r} frames")
        if not conversation_id:
            raise FrameError("invalid_frame", f"{frame.type}: conversation_id is required")
        if isinstance(frame, SendMessage):
            message, created = await self.live.agent_message(
                self.store_id, conversation_id, self.agent.id, frame.text, frame.client_id
            )
            await self.delivery.acknowledge(
                {**message.frame(), "conversation_id": conversation_id}, resent=not created
            )
        elif isinstance(frame, Resume):
            await self.live.conversations.get(self.store_id, conversation_id)  # same store
            if not self.delivery.following(conversation_id):
                await self._hold(conversation_id, frame.after)
            await self.delivery.catch_up(conversation_id, frame.after)
        else:
            await self.live.typing(self.store_id, conversation_id, Role.AGENT)


async def _snapshot(
    conversations: ConversationRepository, conversation: Conversation
) -> dict[str, Any]:
    return (await thread_summary(conversations, conversation)).model_dump(mode="json")


@router.websocket("/api/v1/widget/ws")
async def widget_socket(websocket: WebSocket, token: str = "") -> None:
    """The shopper's live chat (frames: DESIGN.md, WebSocket contract)."""
    parley: Parley = websocket.state.parley
    await websocket.accept()
    try:
        session = widget_claims(token, parley.secret)
        conversation = await parley.conversations.get(session.store_id, session.conversation_id)
    except ParleyError as error:
        await _refuse(websocket, error)
        return
    socket = ShopperSocket(websocket, parley, session)
    try:
        await socket.open(conversation.last_seq)
    except _CLOSED:
        return
    await socket.serve()


@router.websocket("/api/v1/agent/ws")
async def agent_socket(websocket: WebSocket, token: str = "") -> None:
    """An agent's live view: the store's queue events and the threads they hold."""
    parley: Parley = websocket.state.parley
    await websocket.accept()
    try:
        agent = await agent_from_token(parley, token)
    except ParleyError as error:
        await _refuse(websocket, error)
        return
    socket = AgentSocket(websocket, parley, agent)
    try:
        await socket.open()
    except _CLOSED:
        return
    await socket.serve()
