"""The one test double Parley allows: a scripted chat model at the LLM boundary.

It lives here, importable by the product, so `parley eval agent --llm scripted` can play a
suite's `model_reply` texts (a compromised model) as the tests do; `tests/fakes.py` re-exports it.

`FakeChatModel` answers each call with the next scripted `AIMessage` (text, tool calls, or both),
or raises the next scripted exception; it records every prompt and the tools bound to each call,
streams text word by word, and can be slowed down to exercise timeouts.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field, PrivateAttr

Scripted = AIMessage | BaseException


def reply(text: str) -> AIMessage:
    """A scripted plain-text answer."""
    return AIMessage(content=text)


def tool_call(name: str, /, **args: Any) -> AIMessage:
    """A scripted answer that calls one tool."""
    return AIMessage(
        content="",
        tool_calls=[{"name": name, "args": args, "id": f"call_{name}", "type": "tool_call"}],
    )


class Endless(list[Any]):
    """A script that gives the same answer to every call: for timing a pipeline that may ask
    the model more than once a turn (a restatement, then a translation). It holds one item, so
    the model's repr (which LangChain writes out on every call) stays short."""

    def __init__(self, answer: Any) -> None:
        super().__init__([answer])
        self.answer = answer

    def __len__(self) -> int:
        return sys.maxsize

    def __getitem__(self, index: Any) -> Any:
        return self.answer


@dataclass
class Call:
    """What the model was asked in one call."""

    messages: list[BaseMessage]
    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_choice: Any = None

    @property
    def prompt(self) -> str:
        """All message texts joined, for `in` assertions."""
        return "\n".join(message.text for message in self.messages)

    @property
    def tool_names(self) -> list[str]:
        """Names of the tools bound to this call."""
        return [tool["function"]["name"] for tool in self.tools]


class FakeChatModel(BaseChatModel):
    """Answers from `script` in order; fails the test loudly when the script runs out."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    script: list[Any] = Field(default_factory=list)
    """`AIMessage`s to answer with, or exceptions to raise, one per call (typed loosely: pydantic
    would try to coerce an exception into a message)."""
    delay_s: float = 0.0
    """Wait this long before answering (and between streamed words), to test timeouts."""

    _calls: list[Call] = PrivateAttr(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "fake-chat"

    @property
    def calls(self) -> list[Call]:
        """Every call made so far, in order."""
        return self._calls

    @property
    def prompts(self) -> list[list[BaseMessage]]:
        """The messages of every call so far."""
        return [call.messages for call in self._calls]

    @property
    def remaining(self) -> int:
        """Scripted answers not used yet."""
        return len(self.script) - len(self._calls)

    def bind_tools(
        self,
        tools: Sequence[Any],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Record the tools (OpenAI format) and the choice with each call, like a real model."""
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _next(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> AIMessage:
        index = len(self._calls)
        self._calls.append(
            Call(list(messages), list(kwargs.get("tools") or []), kwargs.get("tool_choice"))
        )
        if index >= len(self.script):
            raise AssertionError(
                f"FakeChatModel was called {index + 1} times but only "
                f"{len(self.script)} answers were scripted"
            )
        answer = self.script[index]
        if isinstance(answer, BaseException):
            raise answer
        if not isinstance(answer, AIMessage):
            raise TypeError(f"scripted answer {index} is neither an AIMessage nor an exception")
        return answer

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.delay_s:
            time.sleep(self.delay_s)
        return ChatResult(generations=[ChatGeneration(message=self._next(messages, kwargs))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        return ChatResult(generations=[ChatGeneration(message=self._next(messages, kwargs))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        answer = self._next(messages, kwargs)
        for chunk in _chunks(answer):
            if self.delay_s:
                time.sleep(self.delay_s)
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        answer = self._next(messages, kwargs)
        for chunk in _chunks(answer):
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            yield chunk


def _chunks(answer: AIMessage) -> list[ChatGenerationChunk]:
    """Text word by word (spaces kept), then one chunk per tool call."""
    text = answer.text
    chunks = [
        ChatGenerationChunk(message=AIMessageChunk(content=piece))
        for piece in re.findall(r"\S+\s*|\s+", text)
    ]
    for index, call in enumerate(answer.tool_calls):
        chunks.append(
            ChatGenerationChunk(
                message=AIMessageChunk(
                    content="",
                    tool_call_chunks=[
                        tool_call_chunk(
                            name=call["name"],
                            args=json.dumps(call["args"]),
                            id=call["id"],
                            index=index,
                        )
                    ],
                )
            )
        )
    return chunks or [ChatGenerationChunk(message=AIMessageChunk(content=""))]
