"""Figures in a model's answer must come from the passages: numbers in either decimal notation,
and the passage's currency, never a "localised" one."""

from __future__ import annotations

import pytest

from bot.agent.grounding import ungrounded_figures

PASSAGE = (
    "Standard shipping is free on orders over €50; below that it costs €4.90. Express delivery "
    "(1–2 business days) costs €12.90. You can return any item within 30 days."
)


@pytest.mark.parametrize(
    "reply",
    [
        "Der Expressversand kostet 12,90 € und dauert 1–2 Werktage [1].",
        "Wysyłka ekspresowa kosztuje 12,90 EUR [1].",
        "返品できる期間は30日です。[1]",
        "الشحن السريع يكلف ١٢٫٩٠ يورو [1].",
        "You can return items within thirty days [1].",
        "寄往德国的快递费用为12.90欧元 [1]。",
    ],
)
def test_figures_the_passage_states_pass(reply: str) -> None:
    assert ungrounded_figures(reply, [PASSAGE]) == []


@pytest.mark.parametrize(
    ("reply", "missing"),
    [
        ("Wysyłka ekspresowa kosztuje 12,90 zł [1].", ["PLN"]),
        ("Express delivery costs €14.90 [1].", ["14.90"]),
        ("返品できる期間は14日です。[1]", ["14"]),
        ("Express costs $12.90 [1].", ["USD"]),
        ("快递费用为12.90元 [1]。", ["CNY"]),
    ],
)
def test_a_number_or_currency_the_passage_does_not_state_is_named(
    reply: str, missing: list[str]
) -> None:
    assert ungrounded_figures(reply, [PASSAGE]) == missing


def test_citation_marks_are_not_figures() -> None:
    assert ungrounded_figures("Returns are free from Germany [3].", ["Returns are free."]) == []
