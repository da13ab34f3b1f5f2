"""A restating that says the opposite of its answering sentences is not sent: read in code in
every language, and replaced by the quoted sentences at the model boundary."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.agent.facts import contradicts, denies
from bot.agent.replies import say
from bot.agent.turn import Outcome
from tests.fakes import FakeChatModel, reply
from tests.unit.test_agent_decisions import RETURNS, STORE, Shop

# (language, sentence that denies, a faithful restating, a "yes" that inverts it)
DENIED = [
    (
        "en",
        "We do not offer cash on delivery.",
        "No, cash on delivery isn't available [1].",
        "Yes, you can pay cash on delivery [1].",
    ),
    (
        "fr",
        "Nous ne proposons pas le paiement à la livraison (contre-remboursement).",
        "Non, le paiement à la livraison n'est pas proposé [1].",
        "Oui, vous pouvez payer à la livraison [1].",
    ),
    (
        "de",
        "Eine Zahlung per Nachnahme bieten wir nicht an.",
        "Nein, Nachnahme ist leider nicht möglich [1].",
        "Ja, Sie können per Nachnahme bezahlen [1].",
    ),
    (
        "es",
        "No ofrecemos pago contra reembolso.",
        "No, el pago contra reembolso no está disponible [1].",
        "Sí, puede pagar contra reembolso [1].",
    ),
    (
        "pt",
        "Não oferecemos pagamento na entrega.",
        "Não, o pagamento na entrega não está disponível [1].",
        "Sim, pode pagar na entrega [1].",
    ),
    (
        "it",
        "Non offriamo il pagamento in contrassegno.",
        "No, il pagamento in contrassegno non è previsto [1].",
        "Sì, può pagare in contrassegno [1].",
    ),
    (
        "nl",
        "Wij bieden geen betaling onder rembours aan.",
        "Nee, betalen onder rembours is niet mogelijk [1].",
        "Ja, u kunt onder rembours betalen [1].",
    ),
    (
        "pl",
        "Nie oferujemy płatności przy odbiorze.",
        "Nie, płatność przy odbiorze nie jest dostępna [1].",
        "Tak, można zapłacić przy odbiorze [1].",
    ),
    (
        "ru",
        "Мы не принимаем оплату наложенным платежом.",
        "Нет, оплата наложенным платежом не принимается [1].",
        "Да, вы можете оплатить наложенным платежом [1].",
    ),
    (
        "uk",
        "Ми не приймаємо оплату при отриманні.",
        "Ні, оплата при отриманні не приймається [1].",
        "Так, ви можете оплатити при отриманні [1].",
    ),
    (
        "tr",
        "Kapıda ödeme seçeneği sunmuyoruz.",
        "Hayır, kapıda ödeme yapılamaz [1].",
        "Evet, kapıda ödeme yapabilirsiniz [1].",
    ),
    (
        "ar",
        "لا نقدم خدمة الدفع عند الاستلام.",
        "لا، الدفع عند الاستلام غير متاح، لا نقدمه [1].",
        "نعم، يمكنك الدفع عند الاستلام [1].",
    ),
    (
        "hi",
        "हम डिलीवरी पर भुगतान की सुविधा नहीं देते।",
        "नहीं, डिलीवरी पर भुगतान उपलब्ध नहीं है [1]।",
        "हाँ, आप डिलीवरी पर भुगतान कर सकते हैं [1]।",
    ),
    (
        "ja",
        "代金引換でのお支払いは承っておりません。",
        "いいえ、代金引換はご利用いただけません[1]。",
        "はい、代金引換でお支払いいただけます[1]。",
    ),
    (
        "zh",
        "我们不提供货到付款服务。",
        "不，我们不支持货到付款[1]。",
        "是的，您可以货到付款[1]。",
    ),
    (
        "ko",
        "착불 결제는 제공하지 않습니다.",
        "아니요, 착불 결제는 불가능합니다[1].",
        "네, 착불로 결제하실 수 있습니다[1].",
    ),
    (
        "sv",
        "Vi erbjuder inte betalning vid leverans.",
        "Nej, betalning vid leverans erbjuds inte [1].",
        "Ja, du kan betala vid leverans [1].",
    ),
    (
        "cs",
        "Platbu na dobírku nenabízíme.",
        "Ne, platba na dobírku není možná [1].",
        "Ano, můžete zaplatit na dobírku [1].",
    ),
    (
        "ro",
        "Nu oferim plata ramburs.",
        "Nu, plata ramburs nu este disponibilă [1].",
        "Da, puteți plăti ramburs [1].",
    ),
    (
        "vi",
        "Chúng tôi không hỗ trợ thanh toán khi nhận hàng.",
        "Không, chúng tôi không nhận thanh toán khi nhận hàng [1].",
        "Có, bạn có thể thanh toán khi nhận hàng [1].",
    ),
]

# (language, sentence that affirms, a faithful restating that opens with yes)
AFFIRMED = [
    ("en", "Pickup is free in all three stores.", "Yes, pickup is free in all three stores [1]."),
    ("fr", "Oui, le retrait est gratuit dans nos trois magasins.", "Oui, c'est gratuit [1]."),
    ("de", "Die Abholung im Laden ist kostenlos.", "Ja, die Abholung ist kostenlos [1]."),
    ("es", "Puede recoger su pedido en tienda.", "Sí, puede recogerlo en tienda [1]."),
    ("pt", "A recolha na loja é gratuita.", "Sim, a recolha na loja é gratuita [1]."),
    ("pl", "Odbiór w sklepie jest bezpłatny.", "Tak, odbiór w sklepie jest bezpłatny [1]."),
    ("ru", "Самовывоз из магазина бесплатный.", "Да, самовывоз бесплатный [1]."),
    ("ar", "الاستلام من المتجر مجاني.", "نعم، الاستلام من المتجر مجاني [1]."),
    ("hi", "स्टोर से पिकअप मुफ़्त है।", "हाँ, स्टोर से पिकअप मुफ़्त है [1]।"),
    ("ja", "店舗での受け取りは無料です。", "はい、店舗受け取りは無料です[1]。"),
    ("zh", "门店自提免费。", "是的，门店自提是免费的[1]。"),
    ("it", "Il ritiro in negozio è gratuito.", "Sì, il ritiro in negozio è gratuito [1]."),
    ("tr", "Mağazadan teslim alma ücretsizdir.", "Evet, mağazadan teslim alma ücretsizdir [1]."),
    ("nl", "Afhalen in de winkel is gratis.", "Ja, afhalen is gratis [1]."),
]


@pytest.mark.parametrize(("language", "sentence", "faithful", "inverted"), DENIED)
def test_a_yes_to_what_the_sentence_denies_is_the_opposite_and_a_no_is_not(
    language: str, sentence: str, faithful: str, inverted: str
) -> None:
    assert denies(sentence, language)
    assert not contradicts(faithful, [sentence], language)
    assert contradicts(inverted, [sentence], language)


@pytest.mark.parametrize(("language", "sentence", "faithful", "inverted"), DENIED)
def test_a_denying_english_sentence_restated_in_another_language_keeps_its_polarity(
    language: str, sentence: str, faithful: str, inverted: str
) -> None:
    english = DENIED[0][1]
    assert not contradicts(faithful, [english], language, "en")
    assert contradicts(inverted, [english], language, "en")


@pytest.mark.parametrize(("language", "sentence", "faithful"), AFFIRMED)
def test_a_yes_to_what_the_sentence_affirms_is_not_the_opposite(
    language: str, sentence: str, faithful: str
) -> None:
    assert not denies(sentence, language)
    assert not contradicts(faithful, [sentence], language)
    assert not contradicts(faithful, [AFFIRMED[0][1]], language, "en")


@pytest.mark.parametrize(
    ("language", "sentence", "inverted"),
    [
        ("en", "Returns are free of charge.", "Returns are not free of charge [1]."),
        ("fr", "Les retours sont gratuits.", "Les retours ne sont pas gratuits [1]."),
        ("de", "Der Rückversand ist kostenlos.", "Der Rückversand ist nicht kostenlos [1]."),
        (
            "es",
            "No enviamos a Canarias.",
            "Enviamos a Canarias [1].",
        ),
        (
            "pl",
            "Nie wysyłamy paczek na Wyspy Kanaryjskie.",
            "Wysyłamy paczki na Wyspy Kanaryjskie.",
        ),
    ],
)
def test_a_clause_restated_with_its_negation_dropped_or_added_is_the_opposite(
    language: str, sentence: str, inverted: str
) -> None:
    assert contradicts(inverted, [sentence], language)


def test_a_no_where_the_sentence_itself_says_yes_is_the_opposite() -> None:
    sentence = "Oui, le retrait est gratuit dans nos trois magasins."
    assert contradicts("Nein, das ist nicht möglich [1].", [sentence], "de", "fr")
    assert not contradicts("Ja, die Abholung ist kostenlos [1].", [sentence], "de", "fr")


@pytest.mark.parametrize(
    ("sentence", "faithful"),
    [
        # "No" answers a question the sentence answers by saying what is done instead.
        ("We ship only within the EU.", "No, we ship only within the EU [1]."),
        ("We do not ship outside the EU.", "We only ship within the EU [1]."),
        (
            "Start the return in the chat, you do not have to print a label.",
            "You start the return in the chat; there is no label to print [1].",
        ),
        ("Returns are free, but bikes are not collected for free.", "Returns are free [1]."),
    ],
)
def test_faithful_restatements_that_reword_the_negation_are_not_the_opposite(
    sentence: str, faithful: str
) -> None:
    assert not contradicts(faithful, [sentence], "en")


CASH = replace(
    RETURNS,
    section="Payment",
    text=(
        "Can I pay cash on delivery? We do not offer cash on delivery. "
        "You can pay by card or PayPal."
    ),
)
QUESTION = "How long do I have to pay cash on delivery? Can I pay cash on delivery?"
FRENCH_CASH = replace(
    CASH,
    text=f"{QUESTION} Nous ne proposons pas le paiement à la livraison (contre-remboursement).",
    language="fr",
)


async def test_a_restated_yes_to_what_the_passage_denies_is_replaced_by_the_quoted_sentence() -> (
    None
):
    shop = Shop(FakeChatModel(script=[reply("Yes, you can pay cash on delivery [1].")]))
    shop.index.passages = [CASH]
    thread = shop.start("t1")
    result = await shop.pipeline.handle(STORE, thread, QUESTION)
    assert result.outcome is Outcome.ANSWERED
    assert not result.reply.startswith("Yes")
    lead = say("en", "faq_lead", document="Returns policy", section="Payment")
    assert result.reply.startswith(f"{lead}\n")
    assert "We do not offer cash on delivery." in result.reply


async def test_a_restated_no_to_what_the_passage_denies_is_sent() -> None:
    answer = "No, cash on delivery is not offered [1]."
    shop = Shop(FakeChatModel(script=[reply(answer)]))
    shop.index.passages = [CASH]
    thread = shop.start("t1")
    result = await shop.pipeline.handle(STORE, thread, QUESTION)
    assert result.reply == answer


async def test_a_streamed_yes_to_what_the_passage_denies_is_never_shown() -> None:
    shop = Shop(FakeChatModel(script=[reply("Yes, you can pay cash on delivery [1]. Easy.")]))
    shop.index.passages = [CASH]
    thread = shop.start("t1")
    pieces: list[str] = []
    async with shop.pipeline.stream(STORE, thread, QUESTION) as stream:
        async for piece in stream:
            if isinstance(piece, str):
                pieces.append(piece)
    assert pieces and not any(piece.startswith("Yes") for piece in pieces)
    assert "We do not offer cash on delivery." in pieces[-1]


async def test_a_translation_that_drops_the_negation_leaves_the_sentence_as_written() -> None:
    model = FakeChatModel(
        script=[
            reply("Yes, you can pay on delivery [1]."),
            reply("We offer payment on delivery (cash on delivery)."),
            reply("We offer payment on delivery (cash on delivery)."),
        ]
    )
    shop = Shop(model)
    shop.index.passages = [FRENCH_CASH]
    thread = shop.start("t1")
    result = await shop.pipeline.handle(STORE, thread, QUESTION)
    assert "Translate" in model.calls[1].prompt and "Translate" in model.calls[2].prompt
    assert result.reply.endswith(
        "Nous ne proposons pas le paiement à la livraison (contre-remboursement).\n"
        + say("en", "quoted_untranslated")
    )


@pytest.mark.parametrize(
    ("language", "sentence", "faithful"),
    [
        ("en", "There is no charge for returns within 30 days.", "Yes, returns are free [1]."),
        ("fr", "Aucuns frais ne sont facturés pour le retour.", "Oui, le retour est gratuit [1]."),
        ("de", "Für die Rücksendung fallen keine Kosten an.", "Ja, sie ist kostenlos [1]."),
        ("ja", "返品送料はかかりません。", "はい、返品送料は無料です[1]。"),
    ],
)
def test_a_yes_it_is_free_to_a_sentence_that_denies_a_charge_is_not_the_opposite(
    language: str, sentence: str, faithful: str
) -> None:
    assert not contradicts(faithful, [sentence], language)
    assert contradicts(faithful, ["Returns are not free."], language, "en")


@pytest.mark.parametrize(
    ("language", "faithful", "inverted"),
    [
        ("en", "Yes, you can pay with PayPal [1].", "Yes, you can pay by cheque [1]."),
        ("es", "Sí, puede pagar con PayPal [1].", "Sí, puede pagar con cheque [1]."),
        ("de", "Ja, Sie können mit PayPal bezahlen [1].", "Ja, Sie können per Scheck zahlen [1]."),
    ],
)
def test_a_yes_answers_the_sentence_it_shares_words_with_when_one_denies_and_one_affirms(
    language: str, faithful: str, inverted: str
) -> None:
    sentences = ["We accept card and PayPal.", "We do not accept cheques."]
    assert not contradicts(faithful, sentences, language, "en")
    assert contradicts(inverted, sentences, language, "en")


def test_a_yes_written_in_english_or_the_documents_language_instead_is_still_read() -> None:
    sentence = "Nous ne proposons pas le paiement à la livraison."
    assert contradicts("Yes, you can pay cash on delivery.", [sentence], "hi", "fr")
    assert contradicts("Oui, vous pouvez payer à la livraison.", [sentence], "hi", "fr")
    assert not contradicts("No, cash on delivery is not offered.", [sentence], "hi", "fr")
