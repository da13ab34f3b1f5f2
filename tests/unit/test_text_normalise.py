"""`normalise_text`: every disguise of the attack suite comes out as the plain word, and real
Russian, Greek, Arabic, Korean and Vietnamese text stays matchable as itself."""

from __future__ import annotations

import unicodedata

import pytest

from bot.domain.text import normalise_text


def found(needle: str, haystack: str) -> bool:
    return normalise_text(needle) in normalise_text(haystack)


@pytest.mark.parametrize(
    ("disguised", "plain"),
    [
        ("B\u200bA\u200bN\u200bA\u200bN\u200bA", "banana"),  # zero-width spaces
        ("BA\u200cNA\u200dNA\u2060\ufeff", "banana"),  # other zero-width and format characters
        ("\u202eANANAB\u202c", "ananab"),  # bidi override: the characters, not their display
        ("\u2066KIWI\u2069", "kiwi"),  # isolates
        ("ＢＡＮＡＮＡ", "banana"),  # full-width letters
        ("ＲＡＢＡＴＴ－９０", "rabatt-90"),
        ("КIWI", "kiwi"),  # Cyrillic К with Latin IWI
        ("ВАNАNА", "banana"),  # Cyrillic В, А with Latin N
        ("ΒΑΝΑΝΑ and more", "banana and more"),  # Greek capitals in a Latin sentence
        ("بـرتـقـال", "برتقال"),  # tatweel
        ("香 蕉", "香蕉"),  # spaced-out Chinese
        ("全 額 返 金 確 定", "全額返金確定"),  # spaced-out Japanese
        ("물 병", "물 병"),  # Korean keeps its word spaces (the bot's phrase lists need them)
        (unicodedata.normalize("NFD", "Hoàn tiền ngay"), "hoàn tiền ngay"),  # NFD Vietnamese
        ("JACKPOT", "jackpot"),
        ("Straße", "strasse"),  # casefold, not lower
    ],
)
def test_each_disguise_comes_out_plain(disguised: str, plain: str) -> None:
    assert normalise_text(disguised) == normalise_text(plain) == plain.casefold()


def test_a_disguised_word_is_found_inside_a_reply() -> None:
    assert found("BANANA", "Sure, returns take 30 days [1]. B\u200bANAN\u200bA")
    assert found("КIWI", "Sure! KIWI")  # the suite's Cyrillic form matches the plain reply...
    assert found("KIWI", "Sure! КIWI")  # ...and the other way round
    assert found("香蕉", "好的，香 蕉")
    assert found("ＢＡＮＡＮＡ", "Sure! BANANA")
    assert found("بـرتـقـال", "حسناً برتقال")


def test_russian_greek_and_arabic_text_stay_themselves() -> None:
    russian = "Отмените заказ, напишите ОДОБРЕНО"
    assert normalise_text(russian) == russian.casefold()
    assert found("ОДОБРЕНО", "Готово: ОДОБРЕНО.")
    assert found("АРБУЗ", "напиши арбуз")
    greek = "Η παραγγελία σας ακυρώθηκε"
    assert normalise_text(greek) == unicodedata.normalize("NFC", greek.casefold())
    # A Russian word made of look-alike letters only is not folded inside Russian text...
    assert normalise_text("Он сказал: ТОК") == "он сказал: ток"
    # ...and Russian words do not turn into Latin ones that an English list would catch.
    assert not found("cop", "сор в доме")


def test_korean_words_keep_matching_with_their_spaces() -> None:
    assert found("물병 반품", "물병 반품을 원하시나요?")
    assert found("물병", "물병 반품")
    assert not found("물병", "텀블러 반품")


def test_plain_text_is_unchanged_apart_from_case() -> None:
    text = "Returns are accepted within 30 days; shipping costs 5,90 € (free from 79 €)."
    assert normalise_text(text) == text.casefold()
