"""One socket's view of its conversations: every message frame once, in sequence order.

Frames reach a socket from the bus, from its own acknowledgements and from catch-ups, in any
order and sometimes twice (a bus that reconnected, a resend). The socket keeps the last
sequence number it sent per conversation: a frame it already sent is dropped, and a gap is
filled from the database before the frame that revealed it. So a shopper or agent sees a
gap-free thread whatever the bus did."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from bot.storage import ConversationRepository

Send = Callable[[dict[str, Any]], Awaitable[None]]


class Delivery:
    """Ordered, de-duplicated sending of conversation frames to one socket."""

    def __init__(self, send: Send, conversations: ConversationRepository, store_id: str) -> None:
        self._send = send
        self._conversations = conversations
        self._store_id = store_id
        self._last: dict[str, int] = {}
        self._lock = asyncio.Lock()

    def follow(self, conversation_id: str, last_seq: int) -> None:
        """Send this conversation's messages after `last_seq` from now on."""
        self._last.setdefault(conversation_id, last_seq)

    def unfollow(self, conversation_id: str) -> None:
        """Stop sending this conversation's frames."""
        self._last.pop(conversation_id, None)

    def following(self, conversation_id: str) -> bool:
        """Whether frames of this conversation go to the socket."""
        return conversation_id in self._last

    async def frame(self, frame: dict[str, Any]) -> None:
        """Send any frame: a message frame only if it is the next one, after filling a gap."""
        async with self._lock:
            conversation_id = frame.get("conversation_id")
            if frame.get("type") != "message" or not isinstance(conversation_id, str):
                await self._send(frame)
                return
            last = self._last.get(conversation_id)
            if last is None:
                return
            seq = int(frame["seq"])
            if seq > last + 1:
                await self._fill(conversation_id, last)
                last = self._last[conversation_id]
            if seq <= last:
                return
            await self._send(frame)
            self._last[conversation_id] = seq

    async def acknowledge(self, frame: dict[str, Any], *, resent: bool) -> None:
        """Answer a client's own send with its stored message frame. A resend gets the stored
        frame back even though the socket sent it before; a new message is sent once, whether
        the bus's copy or this one comes first."""
        if resent:
            async with self._lock:
                conversation_id = str(frame["conversation_id"])
                if int(frame["seq"]) <= self._last.get(conversation_id, 0):
                    await self._send(frame)
                    return
        await self.frame(frame)

    async def catch_up(self, conversation_id: str, after: int) -> None:
        """Send every message after `after` again (a client's `resume`)."""
        async with self._lock:
            self._last[conversation_id] = after
            await self._fill(conversation_id, after)

    async def resync(self) -> None:
        """Fill every followed conversation from the database (the bus may have lost frames)."""
        async with self._lock:
            for conversation_id, last in list(self._last.items()):
                await self._fill(conversation_id, last)

    async def _fill(self, conversation_id: str, after: int) -> None:
        while True:
            missed = await self._conversations.messages_after(
                self._store_id, conversation_id, after
            )
            for message in missed:
                await self._send({**message.frame(), "conversation_id": conversation_id})
                after = message.seq
            self._last[conversation_id] = after
            if len(missed) < 500:  # messages_after's page size
                return
