"""The console's translation seam: what an agent reads of a shopper's message and what a shopper
will receive of an agent's reply.

`translate_for_thread` is the one function the translation engine replaces (it exposes
`translate_message(...)` for shopper messages and `translate_outgoing(...)` for agents'
replies). Until then every text passes through untranslated, and the frames and the preview
say so with status `untranslated`, so an agent is never shown an original as if translated."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Direction = Literal["to_agent", "to_shopper"]
UNTRANSLATED = "untranslated"
NOT_CONFIGURED = "translation not configured yet"


@dataclass(frozen=True)
class Translation:
    """A text rendered for its reader: `status` is `translated`, `same_language` or
    `untranslated` (then `reason` says why and `text` is the original)."""

    text: str
    language: str | None
    status: str
    reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        """For frames, the preview endpoint and transcripts."""
        return {
            "text": self.text,
            "language": self.language,
            "status": self.status,
            "reason": self.reason,
        }


async def translate_for_thread(
    store_id: str,
    conversation_id: str,
    text: str,
    *,
    source: str | None,
    target: str | None,
    direction: Direction,
    seq: int | None = None,
) -> Translation:
    """Render `text` from `source` into `target` for the thread's other side.

    THE HOOK THE TRANSLATION ENGINE REPLACES: `direction == "to_agent"` becomes
    `translate_message(...)` (stored with the message `seq`, never recomputed on reload) and
    `"to_shopper"` becomes `translate_outgoing(...)`. Until then: a pass-through."""
    del store_id, conversation_id, seq, direction  # what the real engine needs
    if source and target and source.split("-")[0] == target.split("-")[0]:
        return Translation(text=text, language=target, status="same_language")
    return Translation(text=text, language=source, status=UNTRANSLATED, reason=NOT_CONFIGURED)
