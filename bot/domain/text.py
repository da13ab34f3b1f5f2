"""Text as every check reads it: one form for the many ways a word can be written.

A shopper (or a planted document) can hide a word from a phrase list with full-width letters,
zero-width or bidi characters, tatweel, look-alike letters of another script, spaces between
CJK characters or decomposed accents. `normalise_text` undoes all of these, so a check that
compares words compares what a reader sees."""

from __future__ import annotations

import re
import unicodedata

_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u2069\u206a-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]"
)
_TATWEEL = "\u0640"
# Letters of Cyrillic and Greek that look like Latin ones, folded to them when they stand in a
# word with Latin letters (a Russian word of only Cyrillic letters stays Russian).
_LOOKALIKES = str.maketrans(
    "АВСЕНІЈКМОРЅТХУасеіјорѕхуԁһӏԛԝΑΒΕΖΗΙΚΜΝΟΡΤΥΧαοιν",
    "ABCEHIJKMOPSTXYaceijopsxydhlqwABEZHIKMNOPTYXaoiv",
)
_MIXED_WORD = re.compile(r"\w+")
# Chinese and Japanese are written without spaces, so a space between two of their characters
# only breaks a word apart; Korean separates words with spaces and keeps them.
_CJK = (
    "\u2e80-\u2fdf\u3005\u3040-\u30ff\u3100-\u312f\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
)
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")


def normalise_text(text: str) -> str:
    """`text` in NFKC, without invisible and bidi characters or tatweel, look-alike letters
    folded to Latin inside Latin words, no spaces between Chinese or Japanese characters,
    case-folded."""
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text).replace(_TATWEEL, "")
    text = _MIXED_WORD.sub(_fold_lookalikes, text)
    text = _CJK_GAP.sub("", text)
    text = unicodedata.normalize("NFKC", text.casefold())
    # NFKC splits Thai and Lao SARA AM into two characters no one types: keep it whole.
    return text.replace("\u0e4d\u0e32", "\u0e33").replace("\u0ecd\u0eb2", "\u0eb3")


def _fold_lookalikes(word: re.Match[str]) -> str:
    text = word.group(0)
    folded = text.translate(_LOOKALIKES)
    if folded == text:
        return text
    # Fold only a word that mixes scripts: "ВАNАNА" is an attack on a Latin word, "СОК"
    # (Russian, without a Latin letter) stays as written.
    has_latin = any("a" <= char.lower() <= "z" for char in text)
    return folded if has_latin else text
