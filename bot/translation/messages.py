"""What the agent console calls: a thread's message in the agent's language (stored, so a reload
never asks the model again), and an agent's reply in the shopper's language (the preview, and the
reply as sent, which `bot.live.translation.sent_record` keeps on the stored message)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.agent.models.calls import ChatModel
from bot.agent.models.translator import translate
from bot.domain.errors import NotFound
from bot.domain.translation import Outcome, Translation
from bot.storage.conversations import ConversationRepository
from bot.storage.translations import TranslationRepository

KEPT = frozenset({Outcome.OK, Outcome.DROPPED_TOKEN, Outcome.WRONG_LANGUAGE})
"""Outcomes stored with the message (the model decodes greedily: asked again, it writes the
same). A timeout, a failure or no model is not: the next reload
tries again (once a model is configured, or the model is less busy)."""


@dataclass(frozen=True)
class Interpreter:
    """The parts translation needs: the thread's messages, their stored translations, and the
    configured chat model with its timeout."""

    conversations: ConversationRepository
    translations: TranslationRepository
    model: ChatModel


async def translate_message(
    interpreter: Interpreter, store_id: str, conversation_id: str, seq: int, target: str
) -> Translation:
    """Message `seq` of the store's conversation in `target`: the stored translation, or one
    made, checked and stored now. `NotFound` if the store has no such message."""
    stored = await interpreter.translations.translation_for(store_id, conversation_id, seq, target)
    if stored is not None:
        return stored
    conversation = await interpreter.conversations.get(store_id, conversation_id)
    found = await interpreter.conversations.messages_after(
        store_id, conversation_id, after=seq - 1, limit=1
    )
    if not found or found[0].seq != seq:
        raise NotFound("message not found")
    message = found[0]
    source = message.language or conversation.language
    translation = await translate(interpreter.model, message.text, source, target)
    if translation.outcome not in KEPT:
        return translation
    return await interpreter.translations.save_translation(
        store_id, conversation_id, seq, translation
    )


async def translate_outgoing(
    interpreter: Interpreter, text: str, source: str | None, target: str
) -> Translation:
    """An agent's reply (`text` in `source`) in the shopper's `target`, checked: the preview
    and, unless `ok`, the reason the shopper gets the original."""
    return await translate(interpreter.model, text, source, target)
