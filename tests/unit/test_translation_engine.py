"""The translation engine with the scripted model: a translation that loses a fact of the
original is never sent, and every failure passes the original through with its reason."""

from __future__ import annotations

import pytest

from bot.agent.extract import find_codes, find_emails, find_urls
from bot.agent.models.calls import ChatModel
from bot.agent.models.translator import translate_passage
from bot.agent.replies import say
from bot.translation import Outcome, lost_facts, translate
from tests.fakes import FakeChatModel, reply

ORIGINAL = "Meine Bestellung #W1234567 über 12,90 € ist nicht angekommen, Mail: yuki@example.com"


def _model(*answers: object, delay_s: float = 0.0, timeout_s: float = 5.0) -> ChatModel:
    return ChatModel(FakeChatModel(script=list(answers), delay_s=delay_s), timeout_s)


async def test_a_faithful_translation_is_sent_and_the_prompt_names_both_languages() -> None:
    english = "My order #W1234567 for €12.90 has not arrived, mail: yuki@example.com"
    model = _model(reply(f' "{english}" '))

    result = await translate(model, ORIGINAL, "de", "en")

    assert result.outcome is Outcome.OK and result.ok and result.reason is None
    assert result.text == english and result.original == ORIGINAL
    assert isinstance(model.llm, FakeChatModel)
    prompt = model.llm.calls[0].prompt
    assert "from German into English" in prompt and ORIGINAL in prompt


async def test_the_whole_request_is_one_user_turn_ending_where_the_translation_starts() -> None:
    # With the instruction as a system turn and the text alone as the user's, the local 1.5B
    # model answered a French passage or asked "can I translate this message into Arabic?"
    # instead of translating it (issue 19).
    passage = "Les retours sont acceptés dans un délai de 30 jours après la livraison."
    model = _model(reply("تُقبل المرتجعات خلال 30 يومًا من التسليم."))

    result = await translate(model, passage, "fr", "ar")

    assert result.ok
    assert isinstance(model.llm, FakeChatModel)
    (call,) = model.llm.calls
    assert [message.type for message in call.messages] == ["human"]
    assert call.prompt.rstrip().endswith(f"French: {passage}\nArabic:")


async def test_without_a_known_source_the_text_is_still_labelled() -> None:
    model = _model(reply("Where is my order?"))

    await translate(model, "Wo ist meine Bestellung?", None, "en")

    assert isinstance(model.llm, FakeChatModel)
    prompt = model.llm.calls[0].prompt
    assert "this text into English" in prompt
    assert prompt.rstrip().endswith("Text: Wo ist meine Bestellung?\nEnglish:")


@pytest.mark.parametrize(
    ("written", "lost"),
    [
        ("My order #W1234567 has not arrived, mail: yuki@example.com", "12,90"),
        ("My order #W1234567 for €13.90 has not arrived, mail: yuki@example.com", "+13.90"),
        ("My order #W1234567 for 12.90 zł has not arrived, mail: yuki@example.com", "EUR"),
        ("My order for €12.90 has not arrived, mail: yuki@example.com", "#W1234567"),
        (
            "My order #W1234567 for €12.90 has not arrived, mail: yuki@example.org",
            "yuki@example.com",
        ),
    ],
)
async def test_a_translation_that_drops_or_changes_a_fact_is_refused(
    written: str, lost: str
) -> None:
    result = await translate(_model(reply(written)), ORIGINAL, "de", "en")

    assert result.outcome is Outcome.DROPPED_TOKEN and not result.ok
    assert result.text == ORIGINAL  # the original goes out, not the wrong figure
    assert lost in result.dropped
    assert result.reason is not None and lost in result.reason
    assert result.candidate == written


async def test_a_timeout_passes_the_original_through() -> None:
    result = await translate(
        _model(reply("late"), delay_s=0.5, timeout_s=0.05), ORIGINAL, "de", "en"
    )

    assert result.outcome is Outcome.TIMEOUT
    assert result.text == ORIGINAL and result.reason == (
        "the translation took too long, so the original is shown"
    )


async def test_a_failing_model_or_an_empty_answer_passes_the_original_through() -> None:
    failed = await translate(_model(RuntimeError("connection reset")), ORIGINAL, "de", "en")
    empty = await translate(_model(reply("  ")), ORIGINAL, "de", "en")

    assert failed.outcome is Outcome.FAILED and failed.text == ORIGINAL
    assert empty.outcome is Outcome.FAILED and empty.text == ORIGINAL


async def test_without_a_model_the_text_passes_through_with_the_reason() -> None:
    result = await translate(ChatModel(None, 5.0), ORIGINAL, "de", "en")

    assert result.outcome is Outcome.NO_MODEL and result.text == ORIGINAL
    assert result.reason is not None and "translation is off" in result.reason


async def test_the_same_language_needs_no_model() -> None:
    result = await translate(_model(), ORIGINAL, "de", "de")  # no answer scripted: not called

    assert result.ok and result.text == ORIGINAL


def test_the_facts_a_translation_must_keep() -> None:
    message = (
        "Tracking 1Z999AA10123456784 for item NL-4410, see https://shop.example/t?id=AB12. "
        "Write to Yuki@Example.com"
    )
    assert find_codes(message) == ["1Z999AA10123456784", "NL-4410"]
    assert find_urls(message) == ["https://shop.example/t?id=AB12"]
    assert find_emails(message) == ["Yuki@Example.com"]
    japanese = (
        "追跡番号1Z999AA10123456784、商品NL-4410、https://shop.example/t?id=AB12 をご覧ください。"
        "yuki@example.comまで"
    )
    assert lost_facts(message, japanese) == []
    assert lost_facts(message, japanese.replace("NL-4410", "NL-4411")) == ["NL-4410"]
    assert lost_facts("Returns within 30 days", "30日以内に返品できます") == []
    assert lost_facts("Who did they beat in 2015?", "Кого они победили в 2015 году?") == []
    assert lost_facts("A 3-year warranty", "3ヶ月の保証") == ["3 year", "+3 month"]
    assert lost_facts("Returns within 30 days", "30週間以内に返品できます") == [
        "30 day",
        "+30 week",
    ]


# A German passage and faithful translations into languages whose unit words the figure check
# once did not know: every duration lost its unit, so each translation was refused and the
# passage went out in German.
PASSAGE = (
    "Die Lieferung dauert 3–6 Werktage. Die Garantie gilt 2 Jahre. Der Akku lädt in 5 Stunden. "
    "Punkte verfallen nach 24 Monaten. Die Lieferung dauert 2 Wochen."
)
FAITHFUL = {
    "sv": "Leveransen tar 3–6 arbetsdagar. Garantin gäller i 2 år. Batteriet laddas på 5 timmar. "
    "Poängen förfaller efter 24 månader. Leveransen tar 2 veckor.",
    "da": "Leveringen tager 3–6 hverdage. Garantien gælder i 2 år. Batteriet oplades på 5 timer. "
    "Point udløber efter 24 måneder. Leveringen tager 2 uger.",
    "uk": "Доставка триває 3–6 робочих днів. Гарантія діє 2 роки. Акумулятор заряджається за 5 "
    "годин. Бали згорають через 24 місяці. Доставка триває 2 тижні.",
    "id": "Pengiriman memakan waktu 3–6 hari kerja. Garansi berlaku 2 tahun. Baterai terisi dalam "
    "5 jam. Poin hangus setelah 24 bulan. Pengiriman memakan waktu 2 minggu.",
    "hi": "डिलीवरी में 3–6 कार्य दिवस लगते हैं। वारंटी 2 साल की है। बैटरी 5 घंटे में चार्ज होती है। "
    "पॉइंट 24 महीने बाद समाप्त हो जाते हैं। डिलीवरी में 2 सप्ताह लगते हैं।",
    "cs": "Doručení trvá 3–6 pracovních dnů. Záruka platí 2 roky. Baterie se nabije za 5 hodin. "
    "Body propadají po 24 měsících. Doručení trvá 2 týdny.",
    "pl": "Dostawa trwa 3–6 dni roboczych. Gwarancja obowiązuje 2 lata. Bateria ładuje się w 5 "
    "godzin. Punkty wygasają po 24 miesiącach. Dostawa trwa 2 tygodnie.",
    "nl": "De levering duurt 3–6 werkdagen. De garantie geldt 2 jaar. De accu laadt in 5 uur. "
    "Punten vervallen na 24 maanden. De levering duurt 2 weken.",
    "el": "Η παράδοση διαρκεί 3–6 εργάσιμες ημέρες. Η εγγύηση ισχύει 2 χρόνια. Η μπαταρία "
    "φορτίζει σε 5 ώρες. Οι πόντοι λήγουν μετά από 24 μήνες. Η παράδοση διαρκεί 2 εβδομάδες.",
    "fi": "Toimitus kestää 3–6 arkipäivää. Takuu on voimassa 2 vuotta. Akku latautuu 5 tunnissa. "
    "Pisteet vanhenevat 24 kuukauden jälkeen. Toimitus kestää 2 viikkoa.",
    "hu": "A szállítás 3–6 munkanapig tart. A garancia 2 évig érvényes. Az akkumulátor 5 óra "
    "alatt töltődik. A pontok 24 hónap után lejárnak. A szállítás 2 hétig tart.",
    "ro": "Livrarea durează 3–6 zile lucrătoare. Garanția este valabilă 2 ani. Bateria se încarcă "
    "în 5 ore. Punctele expiră după 24 de luni. Livrarea durează 2 săptămâni.",
    "ja": "配送には3～6営業日かかります。保証期間は2年です。バッテリーは5時間で充電されます。"
    "ポイントは24か月後に失効します。配送には2週間かかります。",
}


@pytest.mark.parametrize("language", sorted(FAITHFUL))
def test_a_faithful_translation_keeps_its_units_in_every_language(language: str) -> None:
    assert lost_facts(PASSAGE, FAITHFUL[language]) == []


@pytest.mark.parametrize(
    ("language", "year", "month"),
    [("sv", "2 år", "2 månader"), ("id", "2 tahun", "2 bulan"), ("uk", "2 роки", "2 місяці")],
)
def test_a_year_turned_into_months_is_refused(language: str, year: str, month: str) -> None:
    assert lost_facts(PASSAGE, FAITHFUL[language].replace(year, month)) == ["2 year", "+2 month"]


@pytest.mark.parametrize(
    ("source", "target", "written"),
    [
        # What the local model did: the Hindi and Swedish requests answered in English...
        ("de", "hi", "You can return the bike within 14 days of delivery."),
        ("de", "sv", "You have 30 days from delivery to return an item."),
        # ...or the original copied back.
        ("fr", "ar", "Les retours sont acceptés dans un délai de 30 jours après la livraison."),
    ],
)
async def test_a_translation_written_in_english_or_the_original_language_is_not_sent(
    source: str, target: str, written: str
) -> None:
    original = {
        "de": "Sie haben 30 Tage ab Lieferung, um einen Artikel zurückzugeben.",
        "fr": "Les retours sont acceptés dans un délai de 30 jours après la livraison.",
    }[source]
    if "14" in written:
        original = "Sie können das Fahrrad innerhalb von 14 Tagen nach Lieferung zurückgeben."
    model = _model(reply(written))

    result = await translate(model, original, source, target)

    assert result.outcome is Outcome.WRONG_LANGUAGE and not result.ok
    assert result.text == original and result.candidate == written
    assert result.reason is not None and "another language" in result.reason


@pytest.mark.parametrize(
    ("target", "written"),
    [
        ("sv", "Du har 30 dagar från leveransen att returnera en vara."),
        ("da", "Du har 30 dage fra levering til at returnere en vare."),
        ("hi", "आप डिलीवरी के 30 दिनों के भीतर कोई वस्तु वापस कर सकते हैं।"),
        ("id", "Anda memiliki 30 hari sejak pengiriman untuk mengembalikan barang."),
        ("en", "You have 30 days from delivery to return an item."),
    ],
)
async def test_a_translation_in_the_asked_language_is_sent(target: str, written: str) -> None:
    original = "Sie haben 30 Tage ab Lieferung, um einen Artikel zurückzugeben."

    result = await translate(_model(reply(written)), original, "de", target)

    assert result.ok and result.text == written


GERMAN = "Sie haben 30 Tage ab Lieferung, um einen Artikel zurückzugeben."
HINDI = "आप डिलीवरी के 30 दिनों के भीतर कोई वस्तु वापस कर सकते हैं।"
ENGLISH = "You have 30 days from delivery to return an item."


async def test_a_passage_written_in_english_instead_is_translated_on_from_that_english() -> None:
    # The local model asked for Hindi often writes a faithful English translation: the second
    # try starts from it, insisting on Hindi with an example of it.
    model = _model(reply(ENGLISH), reply(HINDI))

    result = await translate_passage(model, GERMAN, "de", "hi")

    assert result.ok and result.text == HINDI and result.original == GERMAN
    assert isinstance(model.llm, FakeChatModel)
    second = model.llm.calls[1].prompt
    assert second.rstrip().endswith(f"English: {ENGLISH}\nHindi:")
    assert "Write Hindi only, never English" in second
    assert say("hi", "greeting") in second


async def test_a_second_try_is_checked_against_the_original() -> None:
    # From the English, the model wrote 14 days: the original's 30 days were lost.
    model = _model(reply(ENGLISH), reply(HINDI.replace("30", "14")))

    result = await translate_passage(model, GERMAN, "de", "hi")

    assert not result.ok and result.text == GERMAN
    assert result.outcome is Outcome.DROPPED_TOKEN


async def test_a_passage_refused_twice_passes_the_original_through() -> None:
    model = _model(reply("Sie haben 30 Tage."), reply(GERMAN))

    result = await translate_passage(model, GERMAN, "de", "sv")

    assert not result.ok and result.text == GERMAN and result.candidate == GERMAN
    assert result.outcome is Outcome.WRONG_LANGUAGE
    assert isinstance(model.llm, FakeChatModel)
    second = model.llm.calls[1].prompt
    assert "Write Swedish only, never English or German" in second
    assert second.rstrip().endswith(f"German: {GERMAN}\nSwedish:")


async def test_the_callers_check_refuses_a_translation_and_the_second_try_is_sent() -> None:
    question = "Wie viele Tage habe ich, 30 Tage ab Lieferung?"
    swedish = "Du har 30 dagar från leveransen att returnera en vara."
    model = _model(reply("Hur många dagar har jag, 30 dagar?"), reply(swedish))

    result = await translate_passage(
        model, GERMAN, "de", "sv", lambda text: "a question" if "?" in text else None
    )

    assert result.ok and result.text == swedish
    assert question not in result.text


async def test_the_models_preamble_before_a_translation_is_not_part_of_it() -> None:
    thai = "คุณมีเวลา 30 วันนับจากวันที่ได้รับสินค้าเพื่อคืนสินค้า"
    written = f'Here is the translation of the given German text into Thai:\n\n"{thai}"'

    result = await translate(_model(reply(written)), GERMAN, "de", "th")

    assert result.ok and result.text == thai


async def test_a_timeout_is_not_tried_again() -> None:
    model = _model(reply(ENGLISH), delay_s=1.0, timeout_s=0.05)

    result = await translate_passage(model, GERMAN, "de", "hi")

    # One answer scripted: a second call would have failed, not timed out.
    assert result.outcome is Outcome.TIMEOUT and result.text == GERMAN


async def test_the_models_comment_after_a_translation_and_its_label_are_not_part_of_it() -> None:
    korean = "30일 이내에 반품할 수 있습니다."
    written = (
        "Here is the translation of the given German text into Korean:\n\n"
        f"한국어: {korean}\n\nThis translation keeps the number of days."
    )

    result = await translate(_model(reply(written)), GERMAN, "de", "ko")

    assert result.ok and result.text == korean


async def test_a_text_of_several_paragraphs_keeps_them_all() -> None:
    original = "Sie haben 30 Tage.\n\nDie Rücksendung ist kostenlos."
    written = "You have 30 days.\n\nThe return is free."

    result = await translate(_model(reply(written)), original, "de", "en")

    assert result.ok and result.text == written


async def test_a_model_that_fails_outright_is_not_tried_again() -> None:
    # One answer scripted, and it fails: a second call would fail on the script instead.
    model = _model(RuntimeError("llama.cpp crashed"))

    result = await translate_passage(model, GERMAN, "de", "hi")

    assert result.outcome is Outcome.FAILED and result.text == GERMAN
    assert isinstance(model.llm, FakeChatModel)
    assert len(model.llm.calls) == 1
