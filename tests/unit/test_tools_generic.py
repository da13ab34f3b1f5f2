"""Tools that need no database: `calculate`, argument checking, the LangChain adapters."""

from __future__ import annotations

from typing import cast

import pytest

from bot.domain.orders import InvalidRequest
from bot.tools import TOOLS, ToolContext
from bot.tools.langchain import langchain_tools
from bot.tools.reads import calculate
from bot.tools.registry import UnknownTool, parse_arguments
from bot.tools.schemas import ExpressionArgs

NO_CONTEXT = cast(ToolContext, None)


@pytest.mark.parametrize(
    ("expression", "result"),
    [("2 + 2", "4.0"), ("10/3", "3.33"), ("(1.5 + 2) * 4 - -1", "15.0"), ("2 ** 3 // 3", "2.0")],
)
async def test_calculate_rounds_like_the_reference(expression: str, result: str) -> None:
    assert await calculate(NO_CONTEXT, ExpressionArgs(expression=expression)) == result


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("2 + x", "Invalid characters in expression"),
        ("__import__('os')", "Invalid characters in expression"),
        ("1/0", "division by zero"),
        ("1 2", "invalid syntax (<string>, line 1)"),
        ("(2", "'(' was never closed (<string>, line 1)"),
        ("9 ** 9 ** 9", "exponent too large"),
    ],
)
async def test_calculate_refuses_what_is_not_arithmetic(expression: str, message: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        await calculate(NO_CONTEXT, ExpressionArgs(expression=expression))
    assert raised.value.message == message


def test_all_sixteen_retail_tools_and_the_dispute_tool_exist() -> None:
    retail = {
        "calculate",
        "cancel_pending_order",
        "exchange_delivered_order_items",
        "find_user_id_by_email",
        "find_user_id_by_name_zip",
        "get_item_details",
        "get_order_details",
        "get_product_details",
        "get_user_details",
        "list_all_product_types",
        "modify_pending_order_address",
        "modify_pending_order_items",
        "modify_pending_order_payment",
        "modify_user_address",
        "return_delivered_order_items",
        "transfer_to_human_agents",
    }
    assert retail | {"open_dispute", "confirm_action"} == set(TOOLS)
    writes = {name for name, tool in TOOLS.items() if tool.kind == "write"}
    assert writes == {n for n in retail if n.startswith(("cancel", "exchange", "modify", "return"))}


def test_unknown_tools_and_arguments_are_typed_errors() -> None:
    with pytest.raises(UnknownTool) as unknown:
        parse_arguments("refund_everything", {})
    assert unknown.value.message == "Tool 'refund_everything' not found."
    with pytest.raises(InvalidRequest, match="foo"):
        parse_arguments("get_order_details", {"order_id": "#W1", "foo": 1})
    with pytest.raises(InvalidRequest, match="order_id"):
        parse_arguments("get_order_details", {})
    with pytest.raises(InvalidRequest, match="item_ids"):
        parse_arguments(
            "return_delivered_order_items",
            {"order_id": "#W1", "item_ids": "1", "payment_method_id": "x"},
        )


async def test_langchain_tools_relay_results_and_errors_as_text() -> None:
    tools = {tool.name: tool for tool in langchain_tools(NO_CONTEXT)}
    assert "confirm_action" not in tools  # only the shopper's own yes runs an action
    assert set(tools) == set(TOOLS) - {"confirm_action"}
    assert await tools["calculate"].ainvoke({"expression": "1 + 1"}) == "2.0"
    assert await tools["calculate"].ainvoke({"expression": "1/0"}) == "Error: division by zero"
    schema = tools["cancel_pending_order"].args
    assert set(schema) == {"order_id", "reason"}
