"""Every order tool by name: call one with a JSON object of arguments, as the agent, the API
and the τ² replay do. Writes return a pending action; `confirm` runs it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from bot.domain.errors import NotFound
from bot.domain.orders import InvalidRequest
from bot.tools import reads
from bot.tools.context import ToolContext
from bot.tools.disputes import open_dispute
from bot.tools.schemas import (
    ConfirmArgs,
    DisputeArgs,
    EmailArgs,
    ExpressionArgs,
    ItemIdArgs,
    NameZipArgs,
    NoArgs,
    OrderIdArgs,
    ProductIdArgs,
    SummaryArgs,
    ToolArgs,
    UserIdArgs,
)
from bot.tools.writes import WRITE_TOOLS, perform, propose


class UnknownTool(NotFound):
    """No tool has this name."""

    code = "unknown_tool"


@dataclass(frozen=True)
class Tool:
    """A tool as the agent sees it: name, description, argument schema, kind."""

    name: str
    description: str
    args: type[ToolArgs]
    kind: str
    """`read`, `write` (needs confirmation), or `generic`."""
    run: Callable[[ToolContext, Any], Awaitable[Any]]


def _write_runner(name: str) -> Callable[[ToolContext, Any], Awaitable[Any]]:
    async def run(ctx: ToolContext, args: ToolArgs) -> Any:
        return await propose(ctx, name, args)

    return run


async def confirm(ctx: ToolContext, args: ConfirmArgs) -> Any:
    """Run a pending action after its shopper's explicit yes: once, before it expires, and
    only for a shopper verified strongly enough to write (checked before the action is
    claimed, so a refused yes leaves it waiting for the stronger proof)."""
    customer_id = ctx.require_write()
    action = await ctx.services.actions.claim(
        ctx.store_id, args.action_id, customer_id, ctx.conversation_id, now=ctx.clock()
    )
    tool = WRITE_TOOLS[action.tool]
    try:
        result = await perform(ctx, action.tool, tool.args.model_validate(action.arguments))
    except Exception as error:
        await ctx.services.actions.record_result(ctx.store_id, action.id, {"error": str(error)})
        raise
    await ctx.services.actions.record_result(ctx.store_id, action.id, {"ok": True})
    return result


_READS: tuple[Tool, ...] = (
    Tool(
        "find_user_id_by_email",
        "Find the customer's user id by email, to verify who they are. Use this first.",
        EmailArgs,
        "read",
        reads.find_user_id_by_email,
    ),
    Tool(
        "find_user_id_by_name_zip",
        "Find the customer's user id by first name, last name and zip code, to verify who "
        "they are, when the email is unknown or was not found.",
        NameZipArgs,
        "read",
        reads.find_user_id_by_name_zip,
    ),
    Tool(
        "get_user_details",
        "The verified customer's profile, payment methods (with gift card balances) and orders.",
        UserIdArgs,
        "read",
        reads.get_user_details,
    ),
    Tool(
        "get_order_details",
        "Status, items, shipments and payments of one of the verified customer's orders.",
        OrderIdArgs,
        "read",
        reads.get_order_details,
    ),
    Tool(
        "get_product_details",
        "A product type with all its variants (item ids, options, availability, price).",
        ProductIdArgs,
        "read",
        reads.get_product_details,
    ),
    Tool(
        "get_item_details",
        "One product variant by item id.",
        ItemIdArgs,
        "read",
        reads.get_item_details,
    ),
    Tool(
        "list_all_product_types",
        "The names of all product types with their product ids.",
        NoArgs,
        "read",
        reads.list_all_product_types,
    ),
    Tool(
        "calculate",
        "Calculate an arithmetic expression; the result is rounded to 2 decimals.",
        ExpressionArgs,
        "generic",
        reads.calculate,
    ),
    Tool(
        "transfer_to_human_agents",
        "Hand the conversation to a human agent, with a summary of the issue, when the request "
        "cannot be handled with the other tools or the shopper asks for a person.",
        SummaryArgs,
        "generic",
        reads.transfer_to_human_agents,
    ),
    Tool(
        "open_dispute",
        "Open a payment dispute or chargeback case for an order: offers what the store's policy "
        "allows first, collects the evidence and routes the case as the policy says.",
        DisputeArgs,
        "case",
        open_dispute,
    ),
    Tool(
        "confirm_action",
        "Carry out an action the shopper has explicitly confirmed, by its action id.",
        ConfirmArgs,
        "confirm",
        confirm,
    ),
)

TOOLS: dict[str, Tool] = {tool.name: tool for tool in _READS} | {
    name: Tool(name, tool.description, tool.args, "write", _write_runner(name))
    for name, tool in WRITE_TOOLS.items()
}
"""Every tool by name: the 16 τ² retail tools, `open_dispute` and `confirm_action`."""


def parse_arguments(name: str, arguments: dict[str, Any]) -> ToolArgs:
    """Validate a tool's arguments; an unknown tool or a bad argument is a typed error."""
    tool = TOOLS.get(name)
    if tool is None:
        raise UnknownTool(f"Tool '{name}' not found.")
    try:
        return tool.args.model_validate(arguments)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc']) or 'arguments'}: {item['msg']}"
            for item in error.errors()
        )
        raise InvalidRequest(f"{name}(): {problems}") from error


async def call_tool(ctx: ToolContext, name: str, arguments: dict[str, Any]) -> Any:
    """Call a tool by name; raises the typed error an agent can relay."""
    args = parse_arguments(name, arguments)
    return await TOOLS[name].run(ctx, args)
