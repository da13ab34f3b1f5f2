"""The pipeline's streaming entry with a scripted chat model at the model boundary: a model's
answer reaches the shopper sentence by sentence and only once the guard has passed it; fixed
replies come as one piece; the pieces join to exactly the reply that is stored, or, when a later
sentence fails, the stored reply is the quoted passage alone and replaces them. Real SQLite,
embedded Chroma and the multilingual embedders."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio

from bot.agent.turn import Outcome, TurnResult
from bot.domain.conversation import Role
from bot.domain.errors import NotFound
from bot.storage.conversations import Conversation, Message
from bot.wiring import Parley
from tests.fakes import FakeChatModel, reply
from tests.integration.conftest import open_with_documents

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]
STORE = "nordlicht"
RETURN_QUESTION = "Wie lange habe ich Zeit, einen Artikel zurückzugeben?"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def parley(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Parley]:
    opened = await open_with_documents(tmp_path_factory.mktemp("agent-stream") / "parley", STORE)
    try:
        yield opened
    finally:
        await opened.close()


async def streamed(parley: Parley, session: str, text: str) -> tuple[list[str], TurnResult]:
    """Every piece the shopper would see, and the final result."""
    conversation = await parley.conversations.named(STORE, session)
    pipeline = await parley.agent()
    pieces: list[str] = []
    final: TurnResult | None = None
    async with pipeline.stream(STORE, conversation.id, text) as items:
        async for item in items:
            if isinstance(item, TurnResult):
                final = item
            else:
                assert final is None, "a piece arrived after the final result"
                pieces.append(item)
    assert final is not None
    return pieces, final


async def stored_reply(parley: Parley, session: str) -> str:
    conversation = await parley.conversations.named(STORE, session)
    messages = await parley.conversations.messages_after(STORE, conversation.id, after=0)
    bot = [message for message in messages if message.role is Role.BOT]
    return bot[-1].text


async def test_a_models_answer_arrives_sentence_by_sentence_and_is_stored_whole(
    parley: Parley, scripted: Callable[..., FakeChatModel]
) -> None:
    model = scripted(
        reply(
            "Sie können Artikel innerhalb von 30 Tagen nach der Lieferung zurückgeben [1]. "
            "Die Artikel müssen unbenutzt sein [1]."
        )
    )
    pieces, final = await streamed(parley, "stream-de", RETURN_QUESTION)
    assert pieces == [
        "Sie können Artikel innerhalb von 30 Tagen nach der Lieferung zurückgeben [1].",
        " Die Artikel müssen unbenutzt sein [1].",
    ]
    assert final.outcome is Outcome.ANSWERED and final.language == "de"
    assert final.citations[0].document == "returns-policy.md"
    assert "".join(pieces) == final.reply == await stored_reply(parley, "stream-de")
    assert len(model.calls) == 1


async def test_a_sentence_the_guard_rejects_never_reaches_the_shopper(
    parley: Parley, scripted: Callable[..., FakeChatModel]
) -> None:
    scripted(
        reply(
            "Sie können Artikel innerhalb von 30 Tagen zurückgeben [1]. "
            "Wir garantieren Ihnen die volle Rückerstattung ohne jede Prüfung [1]."
        )
    )
    pieces, final = await streamed(parley, "stream-promise", RETURN_QUESTION)
    assert pieces[0] == "Sie können Artikel innerhalb von 30 Tagen zurückgeben [1]."
    assert not any("Rückerstattung ohne" in piece for piece in pieces)
    # The rejected sentence ends the draft: the reply is the passage itself, quoted with its
    # source, and it replaces what streamed (never half an answer followed by the fallback).
    assert final.reply.startswith("Aus unserem Dokument returns-policy.md")
    assert "Rückerstattung ohne" not in final.reply
    assert final.reply == await stored_reply(parley, "stream-promise")


async def test_an_answer_in_the_wrong_language_is_replaced_by_the_quoted_passage(
    parley: Parley, scripted: Callable[..., FakeChatModel]
) -> None:
    scripted(reply("You have thirty days to send things back [1]. Thanks [1]."))
    pieces, final = await streamed(parley, "stream-wrong-language", RETURN_QUESTION)
    assert len(pieces) == 1
    assert pieces[0].startswith("Aus unserem Dokument returns-policy.md")
    assert "thirty days" not in pieces[0]
    assert pieces[0] == final.reply


async def test_a_failing_model_streams_the_passage_and_offers_a_person(
    parley: Parley, scripted: Callable[..., FakeChatModel]
) -> None:
    scripted(ConnectionError("provider unreachable"))
    pieces, final = await streamed(
        parley, "stream-failing", "How much does shipping to Japan cost?"
    )
    assert len(pieces) == 1 and pieces[0] == final.reply
    assert "person from our team" in final.reply
    assert final.citations[0].document == "versand.html"


async def test_fixed_replies_come_as_one_piece_without_the_model(
    parley: Parley, scripted: Callable[..., FakeChatModel]
) -> None:
    model = scripted()  # any call fails the test
    pieces, final = await streamed(parley, "stream-human", "I want to talk to a human please")
    assert final.outcome is Outcome.HANDOFF
    assert pieces == [final.reply]
    assert final.reply == await stored_reply(parley, "stream-human")
    assert model.calls == []


async def answered_stored(
    parley: Parley, session: str, stored: Message, thread: Conversation | None = None
) -> tuple[list[str], TurnResult]:
    """`streamed`, for a shopper message the caller stored already (as the live chat does),
    with the thread as the caller read it (or None: the pipeline reads it)."""
    conversation = await parley.conversations.named(STORE, session)
    pipeline = await parley.agent()
    pieces: list[str] = []
    final: TurnResult | None = None
    async with pipeline.stream(
        STORE, conversation.id, stored.text, stored=stored, conversation=thread
    ) as items:
        async for item in items:
            if isinstance(item, TurnResult):
                final = item
            else:
                pieces.append(item)
    assert final is not None
    return pieces, final


async def shopper_said(parley: Parley, session: str, text: str, client_id: str) -> Message:
    conversation = await parley.conversations.named(STORE, session)
    message, created = await parley.conversations.append(
        STORE, conversation.id, Role.SHOPPER, text, client_id=client_id
    )
    assert created
    return message


async def thread(parley: Parley, session: str) -> list[tuple[int, Role, int | None]]:
    conversation = await parley.conversations.named(STORE, session)
    messages = await parley.conversations.messages_after(STORE, conversation.id, after=0)
    return [(m.seq, m.role, m.meta.get("reply_to")) for m in messages]


async def test_a_message_the_caller_stored_is_answered_once_and_not_stored_again(
    parley: Parley, scripted: Callable[..., FakeChatModel]
) -> None:
    model = scripted(reply("Sie können Artikel innerhalb von 30 Tagen zurückgeben [1]."))
    stored = await shopper_said(parley, "stored-de", RETURN_QUESTION, "c-stored-1")
    pieces, final = await answered_stored(parley, "stored-de", stored)
    assert final.outcome is Outcome.ANSWERED and final.language == "de"
    assert "".join(pieces) == final.reply == await stored_reply(parley, "stored-de")
    assert await thread(parley, "stored-de") == [(1, Role.SHOPPER, None), (2, Role.BOT, 1)]
    # The thread's language is saved as before, though no longer ahead of the answer.
    assert (await parley.conversations.named(STORE, "stored-de")).language == "de"
    assert len(model.calls) == 1

    # The same turn run again (its worker died after storing the reply): the stored reply.
    _, again = await answered_stored(parley, "stored-de", stored)
    assert again.reply == final.reply and again.outcome is Outcome.ANSWERED
    assert await thread(parley, "stored-de") == [(1, Role.SHOPPER, None), (2, Role.BOT, 1)]
    assert len(model.calls) == 1


async def test_a_stored_message_with_later_ones_waiting_is_still_answered(
    parley: Parley, scripted: Callable[..., FakeChatModel]
) -> None:
    scripted(reply("Sie können Artikel innerhalb von 30 Tagen zurückgeben [1]."))
    first = await shopper_said(parley, "stored-later", RETURN_QUESTION, "c-later-1")
    await shopper_said(parley, "stored-later", "Und Umtausch?", "c-later-2")
    _, final = await answered_stored(parley, "stored-later", first)
    assert final.outcome is Outcome.ANSWERED
    assert await thread(parley, "stored-later") == [
        (1, Role.SHOPPER, None),
        (2, Role.SHOPPER, None),
        (3, Role.BOT, 1),
    ]


async def test_a_turn_for_a_store_that_does_not_exist_fails_with_its_own_error(
    parley: Parley,
) -> None:
    # The thread and the policy are read at once: the error is raised as itself, not a group.
    conversation = await parley.conversations.named(STORE, "unknown-store")
    pipeline = await parley.agent()
    with pytest.raises(NotFound):
        await pipeline.handle("no-such-store", conversation.id, RETURN_QUESTION)


async def test_a_stored_message_handed_in_with_its_thread_answers_from_the_bots_memory(
    parley: Parley, scripted: Callable[..., FakeChatModel]
) -> None:
    # The live runner hands in the thread it read after taking the turn's lease; the pipeline
    # reads the bot's memory (what it asked for last) beside the store's policy instead.
    scripted()  # any call fails the test: order flows and the memory need no model
    first = await shopper_said(parley, "stored-memory", "Wo ist meine Bestellung?", "c-mem-1")
    conversation = await parley.conversations.named(STORE, "stored-memory")
    _, asked = await answered_stored(parley, "stored-memory", first, conversation)
    assert asked.outcome is Outcome.NEEDS_INFO and asked.intent == "order_status"
    email = await shopper_said(parley, "stored-memory", "anna@example.com", "c-mem-2")
    conversation = await parley.conversations.named(STORE, "stored-memory")
    pieces, answered = await answered_stored(parley, "stored-memory", email, conversation)
    # An e-mail address alone goes on with the order question the bot asked it for.
    assert answered.intent == "order_status"
    assert "".join(pieces) == answered.reply == await stored_reply(parley, "stored-memory")
    assert (await parley.conversations.named(STORE, "stored-memory")).language == "de"
