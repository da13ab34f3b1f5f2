"""The console's translation seam: what an agent reads of a shopper's message and what a shopper
will receive of an agent's reply.

`translate_for_thread` puts the translation engine (`bot.translation`) behind the frames, the
thread view, the preview and the transcript. A text the engine does not translate (no model, a
timeout, a figure or code it would lose) passes through with status `untranslated` and the
reason, so an agent is never shown an original as if translated."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from bot.translation import Interpreter, translate_message, translate_outgoing

Direction = Literal["to_agent", "to_shopper"]
UNTRANSLATED = "untranslated"
TRANSLATED = "translated"


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
    interpreter: Interpreter,
    store_id: str,
    conversation_id: str,
    text: str,
    *,
    source: str | None,
    target: str | None,
    direction: Direction,
    seq: int | None = None,
) -> Translation:
    """Render `text` from `source` into `target` for the thread's other side: a shopper's
    message `seq` for the agent (stored with the message, never recomputed on reload), or an
    agent's draft for the shopper (checked, not stored: the preview). A translation the engine
    refuses (a figure or code lost, a timeout, no model) leaves the original, with the reason."""
    if source and target and source.split("-")[0] == target.split("-")[0]:
        return Translation(text=text, language=target, status="same_language")
    if not target:
        return Translation(
            text=text, language=source, status=UNTRANSLATED, reason="no language to translate into"
        )
    if direction == "to_agent" and seq is not None:
        done = await translate_message(interpreter, store_id, conversation_id, seq, target)
    else:
        done = await translate_outgoing(interpreter, text, source, target)
    if done.ok:
        return Translation(text=done.text, language=target, status=TRANSLATED)
    return Translation(text=text, language=source, status=UNTRANSLATED, reason=done.reason)
