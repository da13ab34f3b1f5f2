"""Facts read from a shopper's message without a model: they decide verification and writes."""

from __future__ import annotations

import pytest

from bot.agent.extract import (
    NameZip,
    confirmation,
    find_email,
    find_name_zip,
    find_order_ids,
)


def test_order_numbers_are_found_and_normalised() -> None:
    text = "Where are W2611340 and #w1234567? Not 12345678 or X#W7654321."
    assert find_order_ids(text) == ["#W2611340", "#W1234567"]


def test_order_numbers_touching_cjk_words_are_found() -> None:
    # Japanese and Chinese put no space around a number; it is still the order.
    assert find_order_ids("注文W1000005がまだ届きません。今どこにありますか？") == ["#W1000005"]
    assert find_order_ids("你好，我的订单W1000005到哪儿了？") == ["#W1000005"]
    assert find_order_ids("주문W1000007 배송 상태") == ["#W1000007"]
    assert find_order_ids("W10000051 is not one, nor aW1000005") == []


def test_email_is_found_without_trailing_punctuation() -> None:
    assert find_email("Meine E-Mail: anna.schmidt@example.com.") == "anna.schmidt@example.com"
    assert find_email("no address here @ all") is None


@pytest.mark.parametrize(
    "text",
    ["My name is Noah Brown, zip 80279", "Noah Brown 80279", "Ich bin Anna Schmidt, PLZ 10115"],
)
def test_name_and_zip(text: str) -> None:
    found = find_name_zip(text)
    assert found is not None and found.zip_code in ("80279", "10115")
    assert found == NameZip("Noah", "Brown", "80279") or found.first_name == "Anna"


@pytest.mark.parametrize(
    "text",
    [
        "yes",
        "Yes!",
        "ja",
        "oui",
        "sí",
        "sim",
        "tak",
        "да",
        "evet",
        "نعم",
        "是的",
        "はい",
        "네",
        "ใช่",
        "có",
    ],
)
def test_yes_in_sixteen_languages(text: str) -> None:
    assert confirmation(text) is True


@pytest.mark.parametrize(
    "text",
    ["no", "Nein.", "non", "nie", "нет", "hayır", "لا", "不要", "いいえ", "아니요", "ไม่", "không"],
)
def test_no_in_many_languages(text: str) -> None:
    assert confirmation(text) is False


@pytest.mark.parametrize(
    "text", ["yes but what about the other order?", "where is my order", "maybe"]
)
def test_anything_else_is_not_a_confirmation(text: str) -> None:
    assert confirmation(text) is None


@pytest.mark.parametrize("text", ["yes please", "Ja, bitte.", "oui merci", "yes, go ahead"])
def test_a_yes_with_polite_words_is_a_yes(text: str) -> None:
    assert confirmation(text) is True


def test_an_email_inside_chinese_text_is_just_the_address() -> None:
    assert find_email("我的邮箱是yuki.tanaka@example.com，谢谢") == "yuki.tanaka@example.com"


@pytest.mark.parametrize("text", ["sì", "Sì, grazie", "はい、お願いします", "是的，谢谢"])
def test_yes_with_accents_and_cjk_commas(text: str) -> None:
    assert confirmation(text) is True
