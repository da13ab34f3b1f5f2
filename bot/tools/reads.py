"""Read tools and the two generic ones (`calculate`, `transfer_to_human_agents`)."""

from __future__ import annotations

import ast
import json
import operator
from collections.abc import Callable
from typing import Any

from bot.domain.conversation import HandoffReason
from bot.domain.orders import InvalidRequest, to_tau2
from bot.domain.policy import Verification
from bot.tools.context import ToolContext
from bot.tools.schemas import (
    EmailArgs,
    ExpressionArgs,
    ItemIdArgs,
    NameZipArgs,
    NoArgs,
    OrderIdArgs,
    ProductIdArgs,
    SummaryArgs,
    UserIdArgs,
)


async def find_user_id_by_email(ctx: ToolContext, args: EmailArgs) -> str:
    """The user id of the customer with this email; verifies the conversation as them."""
    ctx.policy.check_verification(Verification.EMAIL)
    async with ctx.services.orders.session(ctx.store_id) as session:
        user_id = await session.customer_by_email(args.email)
    await ctx.verify(user_id, Verification.EMAIL)
    return user_id


async def find_user_id_by_name_zip(ctx: ToolContext, args: NameZipArgs) -> str:
    """The user id of the customer with this name and zip; verifies the conversation as them."""
    ctx.policy.check_verification(Verification.NAME_ZIP)
    async with ctx.services.orders.session(ctx.store_id) as session:
        user_id = await session.customer_by_name_zip(args.first_name, args.last_name, args.zip)
    await ctx.verify(user_id, Verification.NAME_ZIP)
    return user_id


async def get_user_details(ctx: ToolContext, args: UserIdArgs) -> dict[str, Any]:
    """The verified customer's own profile, payment methods and order ids; a card's brand
    and last four digits only for a shopper verified strongly enough to write (someone who
    merely knows the email must not learn which card the account holds)."""
    ctx.require_owner(args.user_id)
    async with ctx.services.orders.session(ctx.store_id) as session:
        details = to_tau2(await session.customer(args.user_id))
    if not ctx.may_write:
        for method in details.get("payment_methods", {}).values():
            if method.get("source") == "credit_card":
                method.update(brand="", last_four="")
    return details


async def get_order_details(ctx: ToolContext, args: OrderIdArgs) -> dict[str, Any]:
    """One of the verified customer's orders, with status, items, shipments and payments."""
    ctx.verified()
    async with ctx.services.orders.session(ctx.store_id) as session:
        order = await session.order(args.order_id)
    ctx.require_owner(order.user_id)
    return to_tau2(order)


async def get_product_details(ctx: ToolContext, args: ProductIdArgs) -> dict[str, Any]:
    """A product type with every variant, its options, availability and price."""
    async with ctx.services.orders.session(ctx.store_id) as session:
        return to_tau2(await session.product(args.product_id))


async def get_item_details(ctx: ToolContext, args: ItemIdArgs) -> dict[str, Any]:
    """One variant by item id."""
    async with ctx.services.orders.session(ctx.store_id) as session:
        return to_tau2(await session.item(args.item_id))


async def list_all_product_types(ctx: ToolContext, _args: NoArgs) -> str:
    """Every product name with its product id, as JSON text sorted by name."""
    async with ctx.services.orders.session(ctx.store_id) as session:
        types = await session.product_types()
    return json.dumps(types, sort_keys=True)


async def transfer_to_human_agents(ctx: ToolContext, args: SummaryArgs) -> str:
    """Queue the conversation for a person, with the reason; the bot stops answering."""
    await ctx.hand_off(HandoffReason.AGENT_TRANSFER, args.summary)
    return "Transfer successful"


_ALLOWED_CHARACTERS = set("0123456789+-*/(). ")
_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}


def _evaluate(node: ast.AST) -> Any:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > 64:
            raise InvalidRequest("exponent too large")
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand))
    raise InvalidRequest("invalid syntax (<string>, line 1)")


async def calculate(_ctx: ToolContext, args: ExpressionArgs) -> str:
    """Evaluate arithmetic (digits, + - * /, parentheses) and round the result to cents."""
    if not set(args.expression) <= _ALLOWED_CHARACTERS:
        raise InvalidRequest("Invalid characters in expression")
    try:
        tree = ast.parse(args.expression, filename="<string>", mode="eval")
        value = _evaluate(tree)
        return str(round(float(value), 2))
    except SyntaxError as error:
        raise InvalidRequest(str(error)) from error
    except (ZeroDivisionError, OverflowError) as error:
        raise InvalidRequest(str(error)) from error
