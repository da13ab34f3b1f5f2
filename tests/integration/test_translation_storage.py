"""Stored translations on SQLite and PostgreSQL: made once, read back on reload, per store."""

from __future__ import annotations

from dataclasses import replace

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from bot.agent.models.calls import ChatModel
from bot.domain import NotFound, Role
from bot.live.translation import sent_record, translate_for_thread
from bot.storage import ConversationRepository, Database, StoreRepository
from bot.storage.tables import Base
from bot.storage.translations import TranslationRepository
from bot.translation import Interpreter, Outcome, translate_message, translate_outgoing
from tests.fakes import FakeChatModel, reply

pytestmark = pytest.mark.integration


def _interpreter(database: Database, *answers: object, timeout_s: float = 5.0) -> Interpreter:
    model = ChatModel(FakeChatModel(script=list(answers)), timeout_s)
    return Interpreter(ConversationRepository(database), TranslationRepository(database), model)


async def _shopper_wrote(
    database: Database, text: str, language: str, *answers: object
) -> tuple[Interpreter, str]:
    """Store acme with one thread whose message 1 is the shopper's `text`; the model scripted."""
    await StoreRepository(database).create("acme")
    interpreter = _interpreter(database, *answers)
    thread = await interpreter.conversations.start("acme", language=language)
    await interpreter.conversations.append("acme", thread.id, Role.SHOPPER, text, language=language)
    return interpreter, thread.id


def _calls(interpreter: Interpreter) -> int:
    assert isinstance(interpreter.model.llm, FakeChatModel)
    return len(interpreter.model.llm.calls)


async def test_a_translation_is_stored_and_read_back_without_the_model(database: Database) -> None:
    interpreter, thread = await _shopper_wrote(
        database, "注文#W1234567はどこですか？", "ja", reply("Where is my order #W1234567?")
    )

    first = await translate_message(interpreter, "acme", thread, 1, "en")
    again = await translate_message(interpreter, "acme", thread, 1, "en")

    assert first.outcome is Outcome.OK and first.text == "Where is my order #W1234567?"
    assert again == first  # the reload reads it back ...
    assert _calls(interpreter) == 1  # ... and the model was asked once
    assert "from Japanese into English" in interpreter.model.llm.calls[0].prompt  # type: ignore[union-attr]


async def test_a_refused_translation_is_stored_with_its_reason(database: Database) -> None:
    interpreter, thread = await _shopper_wrote(
        database, "Ich habe 12,90 € bezahlt", "de", reply("I paid 12 euros")
    )

    first = await translate_message(interpreter, "acme", thread, 1, "en")
    again = await translate_message(interpreter, "acme", thread, 1, "en")

    assert first.outcome is Outcome.DROPPED_TOKEN and first.text == "Ich habe 12,90 € bezahlt"
    assert again.outcome is Outcome.DROPPED_TOKEN and again.dropped == first.dropped
    assert again.reason == first.reason and _calls(interpreter) == 1


async def test_a_timeout_is_not_stored_so_the_next_reload_tries_again(database: Database) -> None:
    interpreter, thread = await _shopper_wrote(
        database, "Hallo", "de", TimeoutError(), reply("Hello")
    )

    late = await translate_message(interpreter, "acme", thread, 1, "en")
    later = await translate_message(interpreter, "acme", thread, 1, "en")

    assert late.outcome is Outcome.TIMEOUT and late.text == "Hallo"
    assert later.outcome is Outcome.OK and later.text == "Hello" and _calls(interpreter) == 2


async def test_one_stores_translation_is_never_returned_for_another(database: Database) -> None:
    stores = StoreRepository(database)
    await stores.create("acme")
    await stores.create("globex")
    interpreter = _interpreter(database, reply("My secret order"), reply("Globex hello"))
    acme = await interpreter.conversations.start("acme", language="de")
    globex = await interpreter.conversations.start("globex", language="de")
    await interpreter.conversations.append(
        "acme", acme.id, Role.SHOPPER, "Meine geheime Bestellung"
    )
    await interpreter.conversations.append("globex", globex.id, Role.SHOPPER, "Hallo Globex")

    await translate_message(interpreter, "acme", acme.id, 1, "en")

    assert await interpreter.translations.translation_for("globex", acme.id, 1, "en") is None
    with pytest.raises(NotFound):
        await translate_message(interpreter, "globex", acme.id, 1, "en")
    with pytest.raises(NotFound):
        await interpreter.translations.save_translation(
            "globex", acme.id, 1, await translate_outgoing(interpreter, "x", "en", "en")
        )
    own = await translate_message(interpreter, "globex", globex.id, 1, "en")
    assert own.text == "Globex hello" and _calls(interpreter) == 2


async def test_an_agents_reply_is_kept_as_the_shopper_received_it(database: Database) -> None:
    await StoreRepository(database).create("acme")
    interpreter = _interpreter(database, reply("ご注文#W1234567は発送済みです。"))
    thread = await interpreter.conversations.start("acme", language="ja")
    text = "Your order #W1234567 has shipped."

    rendered = await translate_for_thread(
        interpreter, "acme", thread.id, text, source="en", target="ja", direction="to_shopper"
    )
    sent, _ = await interpreter.conversations.append(
        "acme", thread.id, Role.AGENT, text, language="en", meta={"sent": sent_record(rendered)}
    )
    (stored,) = await interpreter.conversations.messages_after("acme", thread.id, sent.seq - 1)
    frame = stored.frame()

    assert stored.text == text and stored.language == "en"  # the agent's words, as written
    assert frame["text"] == "ご注文#W1234567は発送済みです。" and frame["language"] == "ja"
    assert frame["original"] == {"text": text, "language": "en"}
    assert frame["translation"] == {"status": "translated", "reason": None}
    assert _calls(interpreter) == 1


async def test_without_a_model_nothing_is_stored(database: Database) -> None:
    scripted, thread = await _shopper_wrote(database, "Hallo", "de")
    interpreter = replace(scripted, model=ChatModel(None, 5.0))  # PARLEY_LLM=none

    result = await translate_message(interpreter, "acme", thread, 1, "en")

    assert result.outcome is Outcome.NO_MODEL and result.text == "Hallo"
    assert await interpreter.translations.translation_for("acme", thread, 1, "en") is None


async def test_the_migration_builds_the_table_the_code_declares(database: Database) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return [
            diff
            for diff in compare_metadata(context, Base.metadata)
            if "message_translations" in repr(diff)
        ]

    async with database.engine.connect() as connection:
        assert await connection.run_sync(differences) == []
