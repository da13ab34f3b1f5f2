"""The turn pipeline's decision tree on in-memory parts and the scripted model: answering from the
documents, handing off when unsure, verifying before showing an order, proposing a write and
carrying it out on the shopper's yes, staying silent while a person owns the thread."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest

from bot.agent.intents import Intent
from bot.agent.pipeline import TurnPipeline
from bot.agent.replies import say
from bot.agent.turn import Outcome
from bot.domain.answering import AnswerFloors
from bot.domain.conversation import OwnerState, Role
from knowledge import Passage
from tests.fakes import FakeChatModel, reply
from tests.unit.memory_shop import (
    KeywordRouter,
    MemoryConversations,
    MemoryOrders,
    MemoryPolicies,
    WordIndex,
)

STORE = "acme"
RETURNS = Passage(
    chunk_id="c1",
    document_id="d1",
    document="Returns policy",
    section="Return window",
    text="How long do I have to return an item? You have 30 days from delivery to return an item.",
    language="en",
    score=0.0,
)
ROUTES = {
    "cancel": Intent.CANCEL,
    "where is": Intent.ORDER_STATUS,
    "how long": Intent.FAQ,
    "sell": Intent.FAQ,
}


class Shop:
    """One store's pipeline on in-memory parts."""

    def __init__(self, llm: FakeChatModel | None = None) -> None:
        self.conversations = MemoryConversations()
        self.orders = MemoryOrders(self.conversations)
        self.index = WordIndex([RETURNS])
        self.llm = llm
        self.pipeline = TurnPipeline(
            conversations=self.conversations,
            stores=MemoryPolicies({STORE: {"languages": ["en", "de"]}}),
            retriever=self.index,
            router=KeywordRouter(ROUTES),
            tools=self.orders,
            llm=llm,
            llm_timeout_s=5.0,
            floors=AnswerFloors(confidence=0.6, other_language=0.9, same_language=0.9),
        )

    def start(self, conversation: str, **header: object) -> str:
        self.conversations.start(STORE, conversation, **header)
        return conversation

    def state(self, conversation: str) -> OwnerState:
        return self.conversations.threads[STORE, conversation].state


def tool_names(calls: Sequence[object]) -> list[str]:
    return [getattr(call, "name", "") for call in calls]


async def test_a_covered_question_is_answered_in_the_models_words_with_its_citation() -> None:
    model = FakeChatModel(script=[reply("You have 30 days from delivery to return an item [1].")])
    shop = Shop(model)
    thread = shop.start("t1")
    result = await shop.pipeline.handle(STORE, thread, "How long do I have to return an item?")
    assert result.outcome is Outcome.ANSWERED
    assert result.intent == "faq"
    assert result.reply == "You have 30 days from delivery to return an item [1]."
    assert [c.document for c in result.citations] == ["Returns policy"]
    assert "30 days from delivery" in model.calls[0].prompt
    assert shop.state(thread) is OwnerState.BOT


async def test_a_figure_the_passage_does_not_state_is_replaced_by_the_quoted_sentence() -> None:
    shop = Shop(FakeChatModel(script=[reply("You have 60 days to return an item [1].")]))
    thread = shop.start("t1")
    result = await shop.pipeline.handle(STORE, thread, "How long do I have to return an item?")
    assert result.outcome is Outcome.ANSWERED
    assert "60" not in result.reply
    lead = say("en", "faq_lead", document="Returns policy", section="Return window")
    # The answering sentence, not the FAQ entry's own question.
    assert result.reply == f"{lead}\nYou have 30 days from delivery to return an item."


async def test_a_question_the_documents_do_not_cover_goes_to_a_person() -> None:
    shop = Shop(FakeChatModel(script=[]))  # the model must not be asked to word a guess
    thread = shop.start("t1")
    result = await shop.pipeline.handle(STORE, thread, "Do you sell gift wrapping paper?")
    assert result.outcome is Outcome.HANDOFF
    assert result.handoff == {"state": "queued", "reason": "low_confidence"}
    assert result.citations == []
    assert shop.state(thread) is OwnerState.QUEUED
    assert shop.conversations.threads[STORE, thread].handoff_reason == "low_confidence"


async def test_an_order_is_shown_only_after_the_shopper_is_verified() -> None:
    shop = Shop()
    thread = shop.start("t1")
    asked = await shop.pipeline.handle(STORE, thread, "Where is my order #W1000001?")
    assert asked.outcome is Outcome.NEEDS_INFO
    assert asked.reply == say("en", "ask_identity")
    assert "DE4410000001" not in asked.reply
    assert shop.orders.tool_names() == []

    shown = await shop.pipeline.handle(STORE, thread, "anna.schmidt@example.com")
    assert shown.outcome is Outcome.ANSWERED
    assert shown.intent == "order_status"
    assert "#W1000001" in shown.reply and "DE4410000001" in shown.reply
    assert "Desk Lamp" in shown.reply
    assert shop.orders.tool_names() == ["find_user_id_by_email", "get_order_details"]
    assert shop.conversations.threads[STORE, thread].customer_id == "anna_schmidt_1001"


async def test_another_customers_order_is_refused() -> None:
    shop = Shop()
    thread = shop.start("t1", customer_id="lucas_martin_1002")
    result = await shop.pipeline.handle(STORE, thread, "Where is my order #W1000001?")
    assert result.outcome is Outcome.DECLINED
    assert "DE4410000001" not in result.reply
    assert tool_names(result.tool_calls) == ["get_order_details"]
    assert result.tool_calls[0].status.startswith("error:")


async def test_a_cancellation_is_proposed_and_carried_out_on_yes() -> None:
    shop = Shop()
    thread = shop.start("t1", customer_id="anna_schmidt_1001")
    proposed = await shop.pipeline.handle(
        STORE, thread, "Please cancel order #W1000002, I ordered it by mistake"
    )
    assert proposed.outcome is Outcome.CONFIRM
    assert proposed.action is not None
    assert shop.orders.calls[-1] == (
        "cancel_pending_order",
        {"order_id": "#W1000002", "reason": "ordered by mistake"},
    )
    assert shop.orders.catalog.orders["#W1000002"].status == "pending"

    done = await shop.pipeline.handle(STORE, thread, "yes")
    assert done.outcome is Outcome.DONE
    assert done.intent == "cancel"
    assert done.reply.startswith("Done.")
    assert shop.orders.catalog.orders["#W1000002"].status == "cancelled"
    assert shop.orders.catalog.orders["#W1000002"].cancel_reason == "ordered by mistake"


async def test_a_no_keeps_the_order_as_it_is() -> None:
    shop = Shop()
    thread = shop.start("t1", customer_id="anna_schmidt_1001")
    await shop.pipeline.handle(STORE, thread, "Please cancel order #W1000002")
    kept = await shop.pipeline.handle(STORE, thread, "no")
    assert kept.reply == say("en", "kept")
    assert shop.orders.catalog.orders["#W1000002"].status == "pending"
    assert "confirm_action" not in shop.orders.tool_names()


async def test_while_a_person_owns_the_thread_the_bot_only_says_where_it_stands() -> None:
    shop = Shop(FakeChatModel(script=[]))  # any model call would fail the test
    thread = shop.start("t1", state=OwnerState.QUEUED, handoff_reason="anger")
    result = await shop.pipeline.handle(STORE, thread, "How long do I have to return an item?")
    assert result.outcome is Outcome.HANDOFF
    assert result.intent == "faq"  # what the message asks is still reported, never acted on
    assert result.reply == say("en", "waiting")
    assert result.handoff == {"state": "queued", "reason": "anger"}
    assert result.citations == [] and result.tool_calls == []
    assert [m.role for m in shop.conversations.replies(STORE, thread)] == [Role.SYSTEM]
    assert shop.orders.calls == []
    assert shop.state(thread) is OwnerState.QUEUED


async def test_a_yes_while_a_person_owns_the_thread_is_reported_as_what_it_asks_and_not_done() -> (
    None
):
    shop = Shop(FakeChatModel(script=[]))
    thread = shop.start("t1", state=OwnerState.QUEUED, handoff_reason="above_limit")
    result = await shop.pipeline.handle(STORE, thread, "yes, cancel order #W1000002")
    assert result.intent == "cancel" and result.outcome is Outcome.HANDOFF
    assert shop.orders.calls == []
    assert shop.orders.catalog.orders["#W1000002"].status == "pending"


async def test_a_message_sent_twice_is_answered_once() -> None:
    client_id = "m-1"
    model = FakeChatModel(script=[reply("You have 30 days from delivery to return an item [1].")])
    shop = Shop(model)
    thread = shop.start("t1")
    question = "How long do I have to return an item?"
    first = await shop.pipeline.handle(STORE, thread, question, client_id=client_id)
    again = await shop.pipeline.handle(STORE, thread, question, client_id=client_id)
    assert again.reply == first.reply and again.outcome is first.outcome
    assert len(shop.conversations.replies(STORE, thread)) == 1
    assert len(model.calls) == 1


async def test_a_streamed_answer_arrives_in_pieces_that_join_to_the_stored_reply() -> None:
    answer = "You have 30 days from delivery to return an item [1]. Returns are free [1]."
    shop = Shop(FakeChatModel(script=[reply(answer)]))
    shop.index.passages = [replace(RETURNS, text=f"{RETURNS.text} Returns are free.")]
    thread = shop.start("t1")
    pieces: list[str] = []
    final = None
    async with shop.pipeline.stream(
        STORE, thread, "How long do I have to return an item?"
    ) as stream:
        async for piece in stream:
            if isinstance(piece, str):
                pieces.append(piece)
            else:
                final = piece
    assert len(pieces) >= 2
    assert final is not None and "".join(pieces) == final.reply == answer
    assert shop.conversations.replies(STORE, thread)[-1].text == answer


async def test_a_figure_from_another_sentence_of_the_passage_is_replaced_by_the_quoted_one() -> (
    None
):
    # The passage states 14 days, but for bikes: the answering sentence says 30 days.
    model = FakeChatModel(script=[reply("You have 14 days from delivery to return an item.")])
    shop = Shop(model)
    text = (
        "How long do I have to return an item? You have 30 days from delivery to return an item. "
        "Bikes go back within 14 days."
    )
    shop.index.passages = [replace(RETURNS, text=text)]
    thread = shop.start("t1")
    result = await shop.pipeline.handle(STORE, thread, "How long do I have to return an item?")
    assert result.outcome is Outcome.ANSWERED
    assert "14" not in result.reply
    lead = say("en", "faq_lead", document="Returns policy", section="Return window")
    assert result.reply == f"{lead}\nYou have 30 days from delivery to return an item."
    # The model was given the answering sentence only, to restate.
    assert "30 days from delivery" in model.calls[0].prompt
    assert "Bikes go back" not in model.calls[0].prompt


async def test_a_reply_without_the_figure_that_answers_is_replaced_by_the_quoted_sentence() -> None:
    shop = Shop(FakeChatModel(script=[reply("You can return an item for a while after delivery.")]))
    thread = shop.start("t1")
    result = await shop.pipeline.handle(STORE, thread, "How long do I have to return an item?")
    lead = say("en", "faq_lead", document="Returns policy", section="Return window")
    assert result.reply == f"{lead}\nYou have 30 days from delivery to return an item."


GERMAN_RETURNS = replace(
    RETURNS,
    text=(
        "How long do I have to return an item? "
        "Sie haben 30 Tage ab Lieferung, um einen Artikel zurückzugeben."
    ),
    language="de",
)


async def test_a_rejected_wording_quotes_the_sentence_translated_when_it_keeps_the_figure() -> None:
    # The restating drops the figure; the model is then asked only to translate the sentence.
    model = FakeChatModel(
        script=[
            reply("You can return an item for a while."),
            reply("You have 30 days from delivery to return an item."),
        ]
    )
    shop = Shop(model)
    shop.index.passages = [GERMAN_RETURNS]
    thread = shop.start("t1")
    result = await shop.pipeline.handle(STORE, thread, "How long do I have to return an item?")
    lead = say("en", "faq_lead_document", document="Returns policy")
    assert result.reply == f"{lead}\nYou have 30 days from delivery to return an item."
    assert "Translate" in model.calls[1].prompt and "30 Tage" in model.calls[1].prompt


async def test_a_sentence_translated_once_is_quoted_again_without_asking_the_model() -> None:
    # The second shopper's restating is refused too: the translation already accepted for the
    # same sentence and language is checked again and quoted, with no second model call.
    model = FakeChatModel(
        script=[
            reply("You can return an item for a while."),
            reply("You have 30 days from delivery to return an item."),
            reply("You can send items back for some time."),
        ]
    )
    shop = Shop(model)
    shop.index.passages = [GERMAN_RETURNS]
    question = "How long do I have to return an item?"
    first = await shop.pipeline.handle(STORE, shop.start("t1"), question)
    again = await shop.pipeline.handle(STORE, shop.start("t2"), "How long can I return an item?")
    lead = say("en", "faq_lead_document", document="Returns policy")
    quoted = f"{lead}\nYou have 30 days from delivery to return an item."
    assert first.reply == again.reply == quoted
    assert len(model.calls) == 3


@pytest.mark.parametrize(
    "translation",
    [
        "You have a month from delivery to return an item.",  # the figure lost
        "How many days do I have, 30 days from delivery, to return an item?",  # made a question
    ],
)
async def test_a_translation_that_changes_the_sentence_twice_leaves_it_as_the_document_says(
    translation: str,
) -> None:
    # Refused twice (the second try insists on the language): the sentence goes out as the
    # document says it, and the shopper is told why in their language, and offered a person.
    model = FakeChatModel(
        script=[
            reply("You can return an item for a while."),
            reply(translation),
            reply(translation),
        ]
    )
    shop = Shop(model)
    shop.index.passages = [GERMAN_RETURNS]
    thread = shop.start("t1")
    result = await shop.pipeline.handle(STORE, thread, "How long do I have to return an item?")
    lead = say("en", "faq_lead_document", document="Returns policy")
    german = "Sie haben 30 Tage ab Lieferung, um einen Artikel zurückzugeben."
    assert result.reply == f"{lead}\n{german}\n{say('en', 'quoted_untranslated')}"
    assert "Write English only" in model.calls[2].prompt


async def test_without_a_model_a_quote_in_another_language_says_why_in_the_shoppers() -> None:
    shop = Shop()
    shop.index.passages = [GERMAN_RETURNS]
    thread = shop.start("t1")
    result = await shop.pipeline.handle(STORE, thread, "How long do I have to return an item?")
    lead = say("en", "faq_lead_document", document="Returns policy")
    german = "Sie haben 30 Tage ab Lieferung, um einen Artikel zurückzugeben."
    assert result.reply == f"{lead}\n{german}\n{say('en', 'quoted_untranslated')}"


async def test_a_quote_from_another_languages_document_names_no_heading_in_that_language() -> None:
    # The citation names the section; the reply does not set a German heading before the
    # shopper (a heading in the document's language read as the reply's language on short ones).
    shop = Shop()
    german = replace(GERMAN_RETURNS, section="Rückgabefrist")
    shop.index.passages = [german]
    thread = shop.start("t1")
    result = await shop.pipeline.handle(STORE, thread, "How long do I have to return an item?")
    assert "Rückgabefrist" not in result.reply
    assert result.citations[0].section == "Rückgabefrist"
    assert result.reply.startswith(say("en", "faq_lead_document", document="Returns policy"))


async def test_without_a_model_a_quote_in_the_shoppers_language_needs_no_note() -> None:
    shop = Shop()
    thread = shop.start("t1")
    result = await shop.pipeline.handle(STORE, thread, "How long do I have to return an item?")
    lead = say("en", "faq_lead", document="Returns policy", section="Return window")
    assert result.reply == f"{lead}\nYou have 30 days from delivery to return an item."


async def test_a_translation_refused_once_is_tried_again_and_sent_when_faithful() -> None:
    model = FakeChatModel(
        script=[
            reply("You can return an item for a while."),
            reply("How many days do I have, 30 days from delivery, to return an item?"),
            reply("You have 30 days from delivery to return an item."),
        ]
    )
    shop = Shop(model)
    shop.index.passages = [GERMAN_RETURNS]
    thread = shop.start("t1")
    result = await shop.pipeline.handle(STORE, thread, "How long do I have to return an item?")
    lead = say("en", "faq_lead_document", document="Returns policy")
    assert result.reply == f"{lead}\nYou have 30 days from delivery to return an item."


async def test_a_restating_that_asks_the_question_back_is_replaced_by_the_quoted_sentence() -> None:
    shop = Shop(FakeChatModel(script=[reply("How long do I have to return an item?")]))
    thread = shop.start("t1")
    result = await shop.pipeline.handle(STORE, thread, "How long do I have to return an item?")
    lead = say("en", "faq_lead", document="Returns policy", section="Return window")
    assert result.reply == f"{lead}\nYou have 30 days from delivery to return an item."


async def test_a_restated_figure_is_sent_as_the_passage_writes_it() -> None:
    shop = Shop(FakeChatModel(script=[reply("Returns from Belgium cost 6,90 € [1].")]))
    shop.index.passages = [
        replace(RETURNS, text="How much does a return cost? A return from Belgium costs €6.90.")
    ]
    thread = shop.start("t1")
    result = await shop.pipeline.handle(STORE, thread, "How much does a return cost?")
    assert result.reply == "Returns from Belgium cost 6.90 € [1]."


SWISS_SHIPPING = replace(
    RETURNS,
    text=(
        "Сколько стоит доставка в Швейцарию? 寄到瑞士的运费是多少？ "
        "Der Versand in die Schweiz kostet 19,90 € und dauert 4–8 Werktage."
    ),
    language="de",
)


@pytest.mark.parametrize(
    ("question", "restated", "expected"),
    [
        # Russian writes decimals as German does: the figures as the passage writes them.
        (
            "Сколько стоит доставка в Швейцарию?",
            "Доставка в Швейцарию стоит 19.90 € и занимает 4-8 рабочих дней.",
            "Доставка в Швейцарию стоит 19,90 € и занимает 4–8 рабочих дней.",
        ),
        # Chinese writes 19.90: a localised figure is what that shopper reads, and stays.
        (
            "寄到瑞士的运费是多少？",
            "寄往瑞士的运费为19.90欧元，需要4-8个工作日。",
            "寄往瑞士的运费为19.90欧元，需要4-8个工作日。",
        ),
    ],
)
async def test_figures_are_written_as_the_passage_writes_them_where_the_shopper_writes_alike(
    question: str, restated: str, expected: str
) -> None:
    shop = Shop(FakeChatModel(script=[reply(restated)]))
    shop.index.passages = [SWISS_SHIPPING]
    thread = shop.start("t1")
    result = await shop.pipeline.handle(STORE, thread, question)
    assert result.outcome is Outcome.ANSWERED
    assert result.reply == expected


async def test_a_restating_that_turns_the_deadline_into_a_delay_is_replaced_by_the_quote() -> None:
    # The figure survives ("30"), the meaning does not: "after 30 days" for "within 30 days".
    shop = Shop(FakeChatModel(script=[reply("You can return an item after 30 days [1].")]))
    shop.index.passages = [
        replace(RETURNS, text="How long do I have? You can return an item within 30 days.")
    ]
    thread = shop.start("t1")
    result = await shop.pipeline.handle(STORE, thread, "How long do I have to return an item?")
    lead = say("en", "faq_lead", document="Returns policy", section="Return window")
    assert result.reply == f"{lead}\nYou can return an item within 30 days."


async def test_a_restating_that_keeps_the_deadline_is_sent() -> None:
    shop = Shop(FakeChatModel(script=[reply("You have up to 30 days to return an item [1].")]))
    shop.index.passages = [
        replace(RETURNS, text="How long do I have? You can return an item within 30 days.")
    ]
    thread = shop.start("t1")
    result = await shop.pipeline.handle(STORE, thread, "How long do I have to return an item?")
    assert result.reply == "You have up to 30 days to return an item [1]."
