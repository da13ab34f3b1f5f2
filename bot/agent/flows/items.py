"""Which of an order's items a shopper means, in whatever language they name them: all of them
when they say so, an item's name or option value written as the catalogue has it, else the
closest item by meaning (the multilingual query embedder), else the same two checks on the chat
model's English rendering of the request, else nothing, so the flow asks. Never more items than
the shopper named."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import anyio
import numpy as np

from bot.agent.extract import find_order_ids
from bot.agent.phrases import mentions
from bot.agent.ports import Vector
from bot.domain.orders import Order, OrderItem
from bot.domain.text import normalise_text

Embed = Callable[[list[str]], Vector]
"""A query embedder: texts in, one row per text out."""
English = Callable[[str], Awaitable[str | None]]
"""The chat model's English rendering of a shopper's words (None: no model, or no rendering)."""

_IDENTIFIERS = re.compile(r"#?[Ww]\d{7}|\S+@\S+")
# Arabic and Urdu write their own comma and semicolon, Hindi its danda; Thai separates clauses
# with a space ("ขอคืนขวดน้ำ กาต้มน้ำเก็บไว้": return the bottle, keep the kettle).
_CLAUSE = re.compile(
    r"[.,;:!?。，；：！？、،؛۔।\n]+|(?<=[\u0e00-\u0e7f])\s+|\s+(?=[\u0e00-\u0e7f])"
)
_CLOSEST_FLOOR = 0.74
"""An item closer to the shopper's words than this (cosine, e5 queries) may be the one meant..."""
_CLOSEST_MARGIN = 0.02
"""...and only when it is closer than every other item of the order by this much."""
_WORDS_FLOOR = 0.79
"""A few words of the asking clause this close to an item's product name name that item
("مصباح المكتب" .86 to Desk Lamp, "린넨 셔츠만" .86 to Linen Shirt)..."""
_WORDS_MARGIN = 0.02
"""...when they are closer to it than to any other item's name by this much (their best words
were .07 to .12 ahead; "сорочку" alone only .002, so the bot asks)."""
_UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff]")
_MESSAGE_MARGIN = 0.04
"""The margin when the whole message, not just its asking clause, is compared: "return the
helmet, I keep the gloves" put the gloves .026 ahead; "return order #W…, the lamp is not what
I wanted" (in Korean) put the lamp .051 ahead."""


def item_label(item: OrderItem) -> str:
    """The item as the catalogue names it: product name and option values."""
    return f"{item.name} ({', '.join(item.options.values())})" if item.options else item.name


def item_choices(items: list[OrderItem]) -> str:
    """An order's items for the shopper to choose from, as the catalogue names them: the
    product name, with its options only where two different items share that name (the
    options are the catalogue's English and would outweigh a short question in the
    shopper's language)."""
    names: dict[str, set[str]] = {}
    for item in items:
        names.setdefault(item.name, set()).add(item.item_id)
    labels = [item_label(item) if len(names[item.name]) > 1 else item.name for item in items]
    return ", ".join(dict.fromkeys(labels))


def request_clause(text: str) -> str:
    """The part of the message that asks: the clause naming the order, else the first one.
    "Return only the bottle, I keep the lamp": the lamp is named too, but not asked for."""
    clauses = [part.strip() for part in _CLAUSE.split(text) if part.strip()]
    if not clauses:
        return text
    for clause in clauses:
        if find_order_ids(clause) and len(clause) > len(find_order_ids(clause)[0]) + 6:
            return clause
    return clauses[0]


def named_exactly(text: str, order: Order) -> list[str]:
    """Items whose name, or an option value only they have, the text holds as written."""
    plain = normalise_text(text)
    named = [item.item_id for item in order.items if normalise_text(item.name) in plain]
    if named:
        return named
    by_option: list[str] = []
    for item in order.items:
        others = {
            normalise_text(value)
            for other in order.items
            if other is not item
            for value in other.options.values()
        }
        for value in item.options.values():
            folded = normalise_text(value)
            if len(folded) >= 3 and folded not in others and _word_in(folded, plain):
                by_option.append(item.item_id)
                break
    return by_option


def _word_in(word: str, text: str, ending: int = 0) -> bool:
    """`word` in `text` as a whole word, or followed by up to `ending` more letters."""
    return re.search(rf"(?<!\w){re.escape(word)}\w{{0,{ending}}}(?!\w)", text) is not None


async def named_items(
    text: str, order: Order, embed: Embed | None, english: English | None = None
) -> list[str]:
    """The order's items the shopper asks about; empty when it is not clear which."""
    if len(order.items) == 1 or mentions("whole_order", request_clause(text)):
        return [item.item_id for item in order.items]
    found = await _named_in(text, order, embed)
    if found or english is None:
        return found
    # Words the catalogue's (English) names and the embedder both miss ("сорочку" for a
    # linen shirt): the model's English rendering of the asking clause, checked the same way.
    rendering = await english(request_clause(text))
    if not rendering:
        return []
    if mentions("whole_order", rendering):
        return []  # "everything" from a rendering alone is too much to propose
    return await _named_in(rendering, order, embed)


async def _named_in(text: str, order: Order, embed: Embed | None) -> list[str]:
    clause = request_clause(text)
    exact = (
        named_exactly(clause, order)
        or named_by_word(clause, order)
        or named_exactly(text, order)
        or named_by_word(text, order)
    )
    if exact or embed is None:
        return exact
    closest = await _closest_words(clause, order, embed)
    if closest is None:
        closest = await _closest(clause, order, embed, _CLOSEST_MARGIN)
    if closest is None and clause != text:
        # The asking clause names no item ("return order #W…, the lamp is broken"): the whole
        # message, with a wider margin, since it may also name what the shopper keeps ("return
        # the helmet, I keep the gloves"), and a guess there would propose that.
        closest = await _closest(text, order, embed, _MESSAGE_MARGIN)
    return [closest] if closest is not None else []


def named_by_word(text: str, order: Order) -> list[str]:
    """Items named by a word of their product name that no other item of the order has
    ("the lamp" for a Desk Lamp beside a Water Bottle), or by that word with a short ending
    ("die Lampe", "la lampada")."""
    plain = normalise_text(text)
    words_of = {
        item.item_id: {w for w in re.findall(r"\w+", normalise_text(item.name)) if len(w) >= 4}
        for item in order.items
    }
    named: list[str] = []
    for item in order.items:
        shared = set().union(*(w for i, w in words_of.items() if i != item.item_id))
        if any(_word_in(word, plain, ending=3) for word in words_of[item.item_id] - shared):
            named.append(item.item_id)
    return named


def word_runs(text: str) -> list[str]:
    """The runs of one to three words of `text` (of two to four characters where words are
    not spaced: Chinese, Japanese, Thai), where an item's name in any language may stand."""
    words = _IDENTIFIERS.sub(" ", text).split()
    runs = [" ".join(words[at : at + size]) for size in (1, 2, 3) for at in range(len(words))]
    unspaced = "".join(word for word in words if _UNSPACED.search(word))
    runs += [unspaced[at : at + size] for size in (2, 3, 4) for at in range(len(unspaced))]
    return list(dict.fromkeys(run for run in runs if run))


async def _closest_words(clause: str, order: Order, embed: Embed) -> str | None:
    """The item whose product name a few of the clause's words say in another language: each
    item's name against its closest run of words, the best one clearly ahead. Product names
    alone, without the catalogue's (English) options, which would outweigh a short run."""
    runs = word_runs(clause)
    names = list(dict.fromkeys(item.name for item in order.items))
    if not runs or len(names) < 2:
        return None
    vectors = await anyio.to_thread.run_sync(embed, [*names, *runs])
    by_name = {
        name: max(_cosine(vectors[index], run) for run in vectors[len(names) :])
        for index, name in enumerate(names)
    }
    ranked = sorted(by_name.items(), key=lambda pair: -pair[1])
    (best, score), runner_up = ranked[0], ranked[1][1]
    if score < _WORDS_FLOOR or score - runner_up < _WORDS_MARGIN:
        return None
    named = [item.item_id for item in order.items if item.name == best]
    return named[0] if len(named) == 1 else None


async def _closest(words: str, order: Order, embed: Embed, margin: float) -> str | None:
    labels = [item_label(item) for item in order.items]
    # The order number and the email say nothing about which item is meant.
    words = _IDENTIFIERS.sub(" ", words)
    vectors = await anyio.to_thread.run_sync(embed, [words, *labels])
    query, rest = vectors[0], vectors[1:]
    scores = sorted(
        (
            (_cosine(query, vector), item.item_id)
            for vector, item in zip(rest, order.items, strict=True)
        ),
        reverse=True,
    )
    best, runner_up = scores[0], scores[1]
    if best[0] >= _CLOSEST_FLOOR and best[0] - runner_up[0] >= margin:
        return best[1]
    return None


def _cosine(a: Vector, b: Vector) -> float:
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.dot(a, b)) / norm if norm else 0.0
