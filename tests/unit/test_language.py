"""Language identification within the store's languages, the conversation's as memory."""

from __future__ import annotations

import pytest

from bot.agent.language import LanguageIdentifier
from bot.domain.errors import ConfigurationError
from knowledge.language import _detector, supported_languages

STORE = [
    "en", "de", "fr", "es", "it", "pt", "nl", "pl",
    "ru", "tr", "ar", "zh", "ja", "ko", "th", "vi",
]  # fmt: skip

MESSAGES = {
    "en": "Hi, I ordered a jacket last week and it still hasn't arrived",
    "de": "Hallo, ich habe letzte Woche eine Jacke bestellt und sie ist noch nicht da",
    "fr": "Bonjour, j'ai commandé une veste la semaine dernière et je ne l'ai pas reçue",
    "es": "Hola, pedí una chaqueta la semana pasada y todavía no ha llegado",
    "it": "Ciao, ho ordinato una giacca la settimana scorsa e non è ancora arrivata",
    "pt": "Olá, encomendei um casaco na semana passada e ainda não chegou",
    "nl": "Hallo, ik heb vorige week een jas besteld en die is nog steeds niet aangekomen",
    "pl": "Dzień dobry, zamówiłem kurtkę w zeszłym tygodniu i nadal nie dotarła",
    "ru": "Здравствуйте, я заказал куртку на прошлой неделе, и она до сих пор не пришла",
    "tr": "Merhaba, geçen hafta bir ceket sipariş ettim ve hâlâ gelmedi",
    "ar": "مرحبا، طلبت سترة الأسبوع الماضي ولم تصل بعد",
    "zh": "你好，我上周订了一件夹克，到现在还没到",
    "ja": "こんにちは、先週ジャケットを注文しましたが、まだ届いていません",
    "ko": "안녕하세요, 지난주에 재킷을 주문했는데 아직 도착하지 않았어요",
    "th": "สวัสดีค่ะ สั่งเสื้อแจ็คเก็ตไปเมื่อสัปดาห์ที่แล้ว ยังไม่ได้รับของเลย",
    "vi": "Xin chào, tôi đã đặt một chiếc áo khoác tuần trước mà vẫn chưa nhận được",
    "uk": "Добрий день, я замовив куртку минулого тижня, і вона досі не прийшла",
    "sv": "Hej, jag beställde en jacka förra veckan och den har fortfarande inte kommit",
    "el": "Γεια σας, παρήγγειλα ένα μπουφάν την περασμένη εβδομάδα και δεν έχει έρθει ακόμα",
    "he": "שלום, הזמנתי מעיל בשבוע שעבר והוא עדיין לא הגיע",
    "hi": "नमस्ते, मैंने पिछले हफ्ते एक जैकेट ऑर्डर की थी और वह अभी तक नहीं आई",
    "id": "Halo, saya memesan jaket minggu lalu dan sampai sekarang belum datang",
}


@pytest.fixture(scope="module")
def store() -> LanguageIdentifier:
    identifier = LanguageIdentifier(STORE)
    identifier.warm_up()
    return identifier


@pytest.fixture(scope="module")
def wide() -> LanguageIdentifier:
    identifier = LanguageIdentifier(list(MESSAGES))
    identifier.warm_up()
    return identifier


@pytest.mark.parametrize("code", STORE)
def test_each_store_language_is_recognised(store: LanguageIdentifier, code: str) -> None:
    guess = store.detect(MESSAGES[code])
    assert guess.code == code
    assert not guess.carried


@pytest.mark.parametrize("code", list(MESSAGES))
def test_languages_beyond_the_core_sixteen(wide: LanguageIdentifier, code: str) -> None:
    assert wide.detect(MESSAGES[code], conversation_language="en").code == code


@pytest.mark.parametrize(
    ("text", "conversation"),
    [
        ("ok", "de"),
        ("yes", "fr"),
        ("ja", "en"),
        ("Danke", "en"),
        ("#W0000001", "es"),
        ("W1234567", "pt"),
        ("👍", "it"),
        ("👍👍 !!", "nl"),
        ("gracias", "pt"),
        ("https://example.com/orders/123", "pl"),
    ],
)
def test_short_messages_keep_the_conversation_language(
    store: LanguageIdentifier, text: str, conversation: str
) -> None:
    guess = store.detect(text, conversation_language=conversation)
    assert guess.code == conversation
    assert guess.carried


@pytest.mark.parametrize(
    ("text", "conversation", "expected"),
    [("はい", "en", "ja"), ("네", "de", "ko"), ("是的", "en", "zh"), ("ใช่", "fr", "th")],
)
def test_a_short_message_in_a_telling_script_switches(
    store: LanguageIdentifier, text: str, conversation: str, expected: str
) -> None:
    assert store.detect(text, conversation_language=conversation).code == expected


def test_a_short_message_without_history_uses_detection_or_the_default(
    store: LanguageIdentifier,
) -> None:
    assert store.detect("Привет").code == "ru"
    assert store.detect("12345").code == "en"  # the store's first language
    assert store.detect("").carried


def test_code_switching_follows_the_dominant_language(store: LanguageIdentifier) -> None:
    german = "Hi, ich habe meine Bestellung nicht bekommen, can you help?"
    english = "Ich will zurückgeben, the shoes are too small and I am not happy with them at all"
    assert store.detect(german, conversation_language="en").code == "de"
    assert store.detect(english, conversation_language="de").code == "en"
    spanish = "Hola, mi pedido no ha llegado todavía, order number is 1234 thanks"
    assert store.detect(spanish).code == "es"


def test_a_close_call_keeps_the_conversation_language(store: LanguageIdentifier) -> None:
    # Two words that read as Spanish or Portuguese: the conversation decides.
    assert store.detect("muito obrigado", conversation_language="pt").code == "pt"
    assert store.detect("muchas gracias", conversation_language="es").code == "es"


def test_detection_is_restricted_to_the_store_languages() -> None:
    shop = LanguageIdentifier(["en", "de"])
    for text in (MESSAGES["fr"], MESSAGES["ru"], MESSAGES["zh"]):
        assert shop.detect(text).code in {"en", "de"}


def test_a_single_language_store_always_answers_in_it() -> None:
    assert LanguageIdentifier(["de"]).detect(MESSAGES["en"]).code == "de"


def test_unknown_or_missing_languages_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="xx"):
        LanguageIdentifier(["en", "xx"])
    with pytest.raises(ConfigurationError):
        LanguageIdentifier([])
    assert {"en", "zh", "ja", "ko", "th", "vi", "ar"} <= supported_languages()
    assert len(supported_languages()) >= 70


def test_detectors_are_built_once_per_language_set(store: LanguageIdentifier) -> None:
    again = LanguageIdentifier(list(reversed(STORE)))
    assert _detector(frozenset(again.languages)) is _detector(frozenset(store.languages))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("もう10日経つのに何も届いていません。配達はどうなっていますか？", "ja"),
        ("这双运动鞋能给我43码而不是42码吗？", "zh"),
        ("สั่งไป 3 วันแล้วยังไม่ได้ของ", "th"),
    ],
)
def test_numbers_inside_unspaced_text_do_not_hide_it(
    store: LanguageIdentifier, text: str, expected: str
) -> None:
    # Numbers are removed as noise, but only the number: in Japanese or Chinese the sentence
    # around it is one space-free token and must still be read.
    guess = store.detect(text, conversation_language="en")
    assert guess.code == expected
    assert not guess.carried


@pytest.mark.parametrize(
    ("text", "conversation"),
    [
        ("Anna Schmidt, PLZ 10115", "de"),
        ("Yuki Tanaka, zip 53000", "en"),
        ("Yuki Tanaka 53000", "ja"),
        ("Somchai Boonmee 10110", "th"),
        ("Lucas Martin 75001", "fr"),
        ("Nguyen Van An 70000", "vi"),
    ],
)
def test_a_name_and_a_zip_code_keep_the_conversation_language(
    store: LanguageIdentifier, text: str, conversation: str
) -> None:
    # Statistics read a bare name as Turkish or Vietnamese; it answers "who are you?" in the
    # conversation's language, whichever script that language is written in.
    guess = store.detect(text, conversation_language=conversation)
    assert guess.code == conversation
    assert guess.carried


def test_an_email_glued_to_a_japanese_sentence_does_not_take_the_sentence_with_it(
    store: LanguageIdentifier,
) -> None:
    text = "注文 #W1000002 を返品したいです。anna.schmidt@example.com"
    assert store.detect(text, conversation_language="ja").code == "ja"
    assert store.detect(text).code == "ja"


def test_a_plain_sentence_is_not_split_into_another_language(store: LanguageIdentifier) -> None:
    # Splitting into runs may call a whole English sentence Italian: one run is no mixing.
    assert store.detect("I need to cancel an order").code == "en"
    assert store.detect("I need to cancel an order", conversation_language="en").code == "en"


def test_a_short_unsure_message_keeps_the_conversation_language(
    store: LanguageIdentifier,
) -> None:
    guess = store.detect("o meu email é maria.garcia@example.com", conversation_language="pt")
    assert guess.code == "pt"


def test_chinese_with_prices_and_citation_marks_is_chinese() -> None:
    # The guard checks a model's answer against the shopper's language and English.
    guard = LanguageIdentifier(["zh", "en"])
    assert guard.detect("寄往欧盟以外的国家（包括美国）运费为14.90欧元 [1]。").code == "zh"
    assert guard.detect("运费为14.90欧元", None).code == "zh"
