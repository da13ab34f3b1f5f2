"""The order tools as LangChain `StructuredTool`s bound to one conversation.

A failed call comes back as `Error: <message>`, the text an agent relays (as τ² shows it).
`confirm_action` is left out on purpose: only the shopper's own yes (a widget confirmation or
the pipeline reading their reply) may run a pending action, never the model on its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from langchain_core.tools import StructuredTool

from bot.domain.errors import ParleyError
from bot.tools.context import ToolContext
from bot.tools.registry import TOOLS, Tool, call_tool

NOT_FOR_THE_MODEL = frozenset({"confirm_action"})


def _as_text(result: Any) -> str:
    return result if isinstance(result, str) else json.dumps(result)


def _structured(ctx: ToolContext, tool: Tool) -> StructuredTool:
    async def run(**arguments: Any) -> str:
        try:
            return _as_text(await call_tool(ctx, tool.name, arguments))
        except ParleyError as error:
            return f"Error: {error.message}"

    return StructuredTool.from_function(
        coroutine=run,
        name=tool.name,
        description=tool.description,
        args_schema=tool.args,
    )


def langchain_tools(ctx: ToolContext, names: Iterable[str] | None = None) -> list[StructuredTool]:
    """The named tools (default: all the model may call) for one conversation."""
    wanted = list(names) if names is not None else [n for n in TOOLS if n not in NOT_FOR_THE_MODEL]
    return [_structured(ctx, TOOLS[name]) for name in wanted]
