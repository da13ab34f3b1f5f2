"""The console's translation seam: what an agent reads of a shopper's message and what a shopper
receives of an agent's reply.

`translate_for_thread` puts the translation engine (`bot.translation`) behind the frames, the
thread view, the preview and the transcript. A text the engine does not translate (no model, a
timeout, a figure or code it would lose) passes through with status `untranslated` and the
reason, so an agent is never shown an original as if translated.

An agent's reply is translated once, as it is sent (`reply_for_shopper`), and what the shopper
received is kept on the stored message itself (`sent_record`, read back by `Message.frame`), so a
reload, a resume or a transcript shows the same words without asking the model again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from bot.storage import Agent, Conversation
from bot.translation import Interpreter, translate_message, translate_outgoing

Direction = Literal["to_agent", "to_shopper"]
UNTRANSLATED = "untranslated"
TRANSLATED = "translated"
SAME_LANGUAGE = "same_language"
TRANSLATION_OFF = "translation is off in this agent's preferences, so the text is sent as written"


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


def reading_language(agent: Agent) -> str | None:
    """The language an agent reads a shopper's words in and writes their replies in."""
    return agent.languages[0] if agent.languages else None


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
    agent's reply for the shopper (checked; `reply_for_shopper` keeps it with the sent message).
    A translation the engine refuses (a figure or code lost, a timeout, no model) leaves the
    original, with the reason."""
    if _same(source, target):
        return Translation(text=text, language=target, status=SAME_LANGUAGE)
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


async def reply_for_shopper(
    interpreter: Interpreter, agent: Agent, conversation: Conversation, text: str
) -> Translation:
    """What the shopper receives of `text`, written by `agent` in the language they read: the
    thread's language through the configured model (checked in code), or the text as written
    when the languages match, the agent turned translation off, or translation failed (then
    `untranslated` with the reason both sides are told). The preview and the send share it."""
    source = reading_language(agent)
    target = conversation.language
    if not agent.translation and not _same(source, target):
        return Translation(text=text, language=source, status=UNTRANSLATED, reason=TRANSLATION_OFF)
    return await translate_for_thread(
        interpreter,
        conversation.store_id,
        conversation.id,
        text,
        source=source,
        target=target,
        direction="to_shopper",
    )


def sent_record(translation: Translation) -> dict[str, Any] | None:
    """What the stored agent message keeps of its rendering for the shopper (its `meta["sent"]`):
    the text the shopper received, its language, `translated` or `untranslated` and why. `None`
    when the shopper reads the agent's language (the message is sent as it is)."""
    if translation.status == SAME_LANGUAGE:
        return None
    return {
        "text": translation.text,
        "language": translation.language,
        "status": translation.status,
        "reason": translation.reason,
    }


def _same(source: str | None, target: str | None) -> bool:
    return bool(source and target and source.split("-")[0] == target.split("-")[0])
