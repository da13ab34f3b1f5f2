"""A reply's figures written as the sentences it restates write them: "6.90" stays "6.90" in a
German reply, "3–6" keeps its dash. The model and the translator may localise a decimal comma
or a range's dash; the shopper reads the figure as the cited passage states it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_RANGE = re.compile(r"(?<![\d.,])(\d+(?:[.,]\d+)?)(\s?)([-–—~〜])(\s?)(\d+(?:[.,]\d+)?)(?![\d])")
_NUMBER = re.compile(r"(?<![\d.,])\d+(?:[.,]\d+)+(?![\d])")


def written_as_stated(reply: str, sentences: Sequence[str]) -> str:
    """`reply` with each decimal number and each range of numbers that the sentences write
    otherwise ("6,90" for "6.90", "3-6" for "3–6") written as the sentences write it; a figure
    the sentences write in two ways, or not at all, is left as it is."""
    source = " ".join(sentences)
    ranges = _spellings((_range_key(match), match.group(0)) for match in _RANGE.finditer(source))
    numbers = _spellings((_number_key(found), found) for found in _NUMBER.findall(source))

    def range_as_stated(match: re.Match[str]) -> str:
        return ranges.get(_range_key(match), match.group(0))

    def number_as_stated(match: re.Match[str]) -> str:
        return numbers.get(_number_key(match.group(0)), match.group(0))

    reply = _RANGE.sub(range_as_stated, reply)
    return _NUMBER.sub(number_as_stated, reply)


def _spellings(pairs: Iterable[tuple[tuple[str, ...], str]]) -> dict[tuple[str, ...], str]:
    """Each figure's one spelling in the sentences (figures spelled in two ways dropped)."""
    seen: dict[tuple[str, ...], set[str]] = {}
    for key, spelling in pairs:
        seen.setdefault(key, set()).add(spelling)
    return {key: next(iter(found)) for key, found in seen.items() if len(found) == 1}


def _number_key(number: str) -> tuple[str, ...]:
    return tuple(re.split(r"[.,]", number))


def _range_key(match: re.Match[str]) -> tuple[str, ...]:
    return ("range", *_number_key(match.group(1)), "to", *_number_key(match.group(5)))
