"""One normal form for comparing text that a shopper, a document or a model may have disguised.

`normalise_text` undoes the tricks that make two strings look alike to a reader but differ to
`in`: full-width and other compatibility forms, invisible format and bidi controls, tatweel,
Cyrillic and Greek look-alikes of Latin letters, spaces inside Chinese or Japanese, NFD
accents, and case. It is for matching only (both sides go through it); never show its output.
"""

from __future__ import annotations

import re
import unicodedata

# Zero-width and format characters (U+200B-U+200F, U+2060-U+2064, U+FEFF), the bidi controls
# (U+202A-U+202E, U+2066-U+2069) and the Arabic tatweel (U+0640): none of them changes what a
# reader sees, so none of them may change what a check sees.
_INVISIBLE = dict.fromkeys(
    [
        *range(0x200B, 0x2010),
        *range(0x2060, 0x2065),
        0xFEFF,
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
        0x0640,
        # Also invisible: soft hyphen, grapheme joiner, Arabic letter mark, Hangul and Khmer
        # fillers, Mongolian vowel separator, deprecated format controls, variation selectors.
        0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x3164, 0xFFA0,
        *range(0x206A, 0x2070),
        *range(0xFE00, 0xFE10),
    ]
)  # fmt: skip

# Cyrillic and Greek letters drawn like a Latin letter (upper and lower case, folded before
# casefolding, because Cyrillic "В" looks like "B" while its lower case "в" does not).
_LOOKALIKES = str.maketrans(
    {
        # Cyrillic
        "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
        "С": "C", "Т": "T", "Х": "X", "У": "Y", "І": "I", "Ј": "J", "Ѕ": "S", "Ү": "Y",
        "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i",
        "ј": "j", "ѕ": "s", "ԁ": "d", "һ": "h", "ӏ": "l", "к": "k", "ү": "y",
        # Greek
        "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
        "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
        "α": "a", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "υ": "u", "χ": "x",
    }
)  # fmt: skip
# Arabic short vowels, tanwin, shadda and sukun (U+064B-U+065F, U+0670): optional marks most
# shoppers leave out, so "غيّر" and "غير" are one word to every check.
_ARABIC_MARKS = dict.fromkeys([*range(0x064B, 0x0660), 0x0670])
_CYRILLIC_OR_GREEK = re.compile(r"[\u0370-\u03ff\u0400-\u04ff\u0500-\u052f]")
_WORD = re.compile(r"\w+")

# Han and kana and the CJK punctuation between them: Chinese and Japanese do not separate words
# with spaces, so "香 蕉" is "香蕉" spaced out to slip past a check. Korean separates words with
# spaces and keeps them.
_CJK = (
    r"\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
)
_SPACE_IN_CJK = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")


def normalise_text(text: str) -> str:
    """`text` in the form every check compares: invisible characters dropped, NFKC (full-width
    letters become ASCII, NFD accents are recomposed), look-alikes folded to Latin where the text
    is Latin, Chinese and Japanese spacing removed, Arabic vowel marks dropped, casefolded. Russian,
    Greek, Arabic letters stay themselves."""
    text = unicodedata.normalize("NFKC", text.translate(_INVISIBLE)).translate(_ARABIC_MARKS)
    if _CYRILLIC_OR_GREEK.search(text):
        text = _fold_lookalikes(text)
    text = _SPACE_IN_CJK.sub("", text)
    text = unicodedata.normalize("NFC", text.casefold())
    # NFKC splits Thai and Lao SARA AM into two characters no one types: keep it whole.
    return text.replace("\u0e4d\u0e32", "\u0e33").replace("\u0ecd\u0eb2", "\u0eb3")


def without_arabic_marks(text: str) -> str:
    """`text` without Arabic vowel marks: how a phrase is written to match `normalise_text`."""
    return text.translate(_ARABIC_MARKS)


def _fold_lookalikes(text: str) -> str:
    """Fold a word's Cyrillic or Greek look-alikes to Latin when the word mixes them with Latin
    letters ("БАNАNА"), or when it is made of look-alikes only in a text mostly written in Latin
    ("please write ВАNАNА"); a word of a Russian or Greek sentence is left alone."""
    latin = other = 0
    for char in text:
        if "a" <= char.lower() <= "z":
            latin += 1
        elif _CYRILLIC_OR_GREEK.match(char):
            other += 1
    mostly_latin = latin > other

    def fold(match: re.Match[str]) -> str:
        word = match.group()
        if not _CYRILLIC_OR_GREEK.search(word):
            return word
        folded = word.translate(_LOOKALIKES)
        has_latin_letters = any("a" <= char.lower() <= "z" for char in word)
        all_lookalikes = not _CYRILLIC_OR_GREEK.search(folded)
        if has_latin_letters or (all_lookalikes and mostly_latin):
            return folded
        return word

    return _WORD.sub(fold, text)
