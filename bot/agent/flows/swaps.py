"""Exchanges and item changes: the model maps the shopper's words onto item ids, code checks them.

The pipeline has already verified the shopper and read the order and its products. The model is
forced to call one tool (`exchange_delivered_order_items` or `modify_pending_order_items`) whose
only arguments are the order's item ids and the variant ids wanted instead; code fills the order
and the payment method. Every id the model writes is checked here against the order and the
catalogue; a wrong pick goes back to the model once with the reason (a bounded loop), after
that the shopper is asked. Nothing here writes: a valid choice becomes a proposal the shopper
must confirm.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from bot.agent.models.calls import falling_back
from bot.agent.prompts import swap_prompt

log = logging.getLogger(__name__)

MAX_STEPS = 2
"""Model calls per turn: the first choice and one correction after a rejected pick."""

SWAP_TOOLS = {
    "exchange_delivered_order_items": (
        "Exchange items of a delivered order for other available variants of the same products."
    ),
    "modify_pending_order_items": (
        "Change items of a pending order to other available variants of the same products."
    ),
}


def swap_tool(name: str) -> dict[str, Any]:
    """The tool the model is forced to call: item ids only (order and payment come from code)."""
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": SWAP_TOOLS[name],
            "parameters": {
                "type": "object",
                "properties": {
                    "item_ids": {
                        "type": "array",
                        "items": {"type": "string"},
                        "description": "Item ids of the order that the shopper wants to change.",
                    },
                    "new_item_ids": {
                        "type": "array",
                        "items": {"type": "string"},
                        "description": "For each item id, the item id of the variant the shopper "
                        "wants instead; an empty list if the shopper has not said which.",
                    },
                },
                "required": ["item_ids", "new_item_ids"],
            },
        },
    }


@dataclass(frozen=True)
class SwapChoice:
    """Which of the order's items become which variants."""

    item_ids: list[str]
    new_item_ids: list[str]


@dataclass
class SwapAttempt:
    """What the bounded loop ended with: a checked choice, or why there is none."""

    choice: SwapChoice | None = None
    problem: str = ""
    """`unspecified` (the shopper has not said which variant), `model_failed`, or the reason the
    last pick was rejected."""
    steps: int = 0
    picks: list[dict[str, Any]] = field(default_factory=list)
    """Every call the model wrote, checked or not, for the turn's record."""


def variants_by_product(products: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Products (as `get_product_details` returns them) by product id."""
    return {str(product["product_id"]): product for product in products}


def check_choice(
    order: Mapping[str, Any],
    products: Mapping[str, Mapping[str, Any]],
    item_ids: Sequence[str],
    new_item_ids: Sequence[str],
) -> str | None:
    """Why this pick cannot be proposed (in words the model can act on), or None if it can."""
    if not item_ids:
        return "item_ids is empty: name the order's items the shopper wants to change"
    owned = Counter(str(item["item_id"]) for item in order["items"])
    for item_id, count in Counter(item_ids).items():
        if owned[item_id] < count:
            return f"item {item_id} is not in order {order['order_id']}"
    if not new_item_ids:
        return "unspecified"
    if len(new_item_ids) != len(item_ids):
        return "new_item_ids must have one entry per item id"
    product_of = {str(item["item_id"]): str(item["product_id"]) for item in order["items"]}
    for old, new in zip(item_ids, new_item_ids, strict=True):
        variants = products.get(product_of[old], {}).get("variants", {})
        variant = variants.get(new)
        if variant is None:
            return f"{new} is not a variant of the same product as item {old}"
        if new == old:
            return f"{new} is the variant the shopper already has"
        if not variant.get("available"):
            return f"variant {new} is not available"
    return None


async def choose_swap(
    llm: BaseChatModel,
    tool: str,
    order: Mapping[str, Any],
    products: Mapping[str, Mapping[str, Any]],
    request: str,
    *,
    timeout_s: float,
) -> SwapAttempt:
    """Ask the model (forced tool choice) which items become which variants; check its pick."""
    attempt = SwapAttempt()
    messages: list[BaseMessage] = swap_prompt(order, products, request)
    bound = llm.bind_tools([swap_tool(tool)], tool_choice=tool)
    for _ in range(MAX_STEPS):
        attempt.steps += 1
        message = None
        async with falling_back("choose the swap", timeout_s) as call:
            message = await bound.ainvoke(messages)
        if call.failed:  # the shopper is asked instead
            attempt.problem = "model_failed"
            return attempt
        call = _call(message, tool)
        if call is None:
            attempt.problem = "model_failed"
            return attempt
        item_ids, new_item_ids = (
            _ids(call["args"].get("item_ids")),
            _ids(call["args"].get("new_item_ids")),
        )
        attempt.picks.append({"item_ids": item_ids, "new_item_ids": new_item_ids})
        problem = check_choice(order, products, item_ids, new_item_ids)
        if problem is None:
            attempt.choice = SwapChoice(item_ids, new_item_ids)
            attempt.problem = ""
            return attempt
        attempt.problem = problem
        if problem == "unspecified":
            return attempt
        log.info("model picked an impossible swap (%s): %s", problem, call["args"])
        messages = [
            *messages,
            AIMessage(content="", tool_calls=[call]),
            ToolMessage(
                f"Rejected: {problem}. Use only ids from the lists above.",
                tool_call_id=call["id"] or "call",
            ),
        ]
    return attempt


def _call(message: Any, tool: str) -> Any:
    calls = getattr(message, "tool_calls", None) or []
    for call in calls:
        if call["name"] == tool and isinstance(call.get("args"), dict):
            return call
    return None


def _ids(value: Any) -> list[str]:
    """Ids as strings: small models sometimes write `8100000012` as a number or a bare string."""
    if value is None:
        return []
    if isinstance(value, str | int):
        value = [value]
    if not isinstance(value, list):
        return []
    return [str(item).strip() for item in value if str(item).strip()]
