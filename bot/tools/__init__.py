"""The order tools (τ²-bench retail semantics), their policy checks, confirmations and disputes."""

from bot.tools.context import ToolContext, ToolServices
from bot.tools.registry import TOOLS, Tool, call_tool, confirm
from bot.tools.store import OrderSession, OrderStore

__all__ = [
    "TOOLS",
    "OrderSession",
    "OrderStore",
    "Tool",
    "ToolContext",
    "ToolServices",
    "call_tool",
    "confirm",
]
