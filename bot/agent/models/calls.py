"""Every call to a chat model is bounded in time here, and every failure has one shape.

`model_errors` turns a deadline passed into `LLMTimeout` and any provider failure (HTTP, auth,
rate limit, a crashed local model) into `LLMUnavailable`. `invoke_chat` and `stream_chat` raise
those typed errors; `falling_back` is for callers that have an answer without the model (the
quoted passage, the question searched alone, asking the shopper): it logs the failure and
marks the call failed instead of raising.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import anyio
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage

from bot.agent.errors import LLMTimeout, LLMUnavailable

log = logging.getLogger(__name__)


@contextmanager
def model_errors(deadline: float, timed_out: str) -> Iterator[None]:
    """Run the block until `deadline` (anyio clock): `LLMTimeout` with `timed_out` past it,
    `LLMUnavailable` for any other failure of the model."""
    try:
        with anyio.fail_at(deadline):
            yield
    except TimeoutError as error:
        raise LLMTimeout(timed_out) from error
    except (LLMUnavailable, StopAsyncIteration):
        raise
    except Exception as error:  # Providers raise many types (HTTP, auth, rate limit, crashes).
        raise LLMUnavailable(f"the model failed: {type(error).__name__}: {error}") from error


@dataclass
class ModelCall:
    """How a call under `falling_back` went: `failed` once the model timed out or failed."""

    failed: bool = False


@asynccontextmanager
async def falling_back(purpose: str, timeout_s: float) -> AsyncIterator[ModelCall]:
    """Bound the block to `timeout_s`; a failure is logged ("chat model failed to <purpose>")
    and swallowed, and the caller reads `failed` to use its answer without the model."""
    call = ModelCall()
    try:
        with model_errors(
            anyio.current_time() + timeout_s, f"the model did not answer within {timeout_s:g} s"
        ):
            yield call
    except LLMUnavailable as error:
        log.warning("chat model failed to %s: %r", purpose, error)
        call.failed = True


async def invoke_chat(
    model: BaseChatModel,
    messages: Sequence[BaseMessage],
    *,
    timeout_s: float,
    **kwargs: Any,
) -> AIMessage:
    """One model call; a timeout raises `LLMTimeout`, any provider failure `LLMUnavailable`."""
    deadline = anyio.current_time() + timeout_s
    with model_errors(deadline, f"the model did not answer within {timeout_s:g} s"):
        result = await model.ainvoke(list(messages), **kwargs)
    if not isinstance(result, AIMessage):
        raise LLMUnavailable(f"the model returned {type(result).__name__}, not a message")
    return result


async def stream_chat(
    model: BaseChatModel,
    messages: Sequence[BaseMessage],
    *,
    timeout_s: float,
    first_token_timeout_s: float | None = None,
    **kwargs: Any,
) -> AsyncIterator[AIMessageChunk]:
    """Stream chunks; the whole stream (and the first token, if set) is bounded in time."""
    deadline = anyio.current_time() + timeout_s
    first_deadline = (
        anyio.current_time() + first_token_timeout_s if first_token_timeout_s else deadline
    )
    stream = model.astream(list(messages), **kwargs).__aiter__()
    first = True
    while True:
        limit = min(deadline, first_deadline) if first else deadline
        late = (
            "the model did not start answering in time"
            if first
            else f"the model did not finish within {timeout_s:g} s"
        )
        try:
            with model_errors(limit, late):
                chunk = await stream.__anext__()
        except StopAsyncIteration:
            return
        except LLMTimeout:
            await _close(stream)
            raise
        first = False
        if isinstance(chunk, AIMessageChunk):
            yield chunk


async def _close(stream: AsyncIterator[Any]) -> None:
    closer = getattr(stream, "aclose", None)
    if closer is not None:
        await closer()


@dataclass
class ChatModel:
    """The configured chat model (None: retrieval-only replies) and how long a call may take;
    shared by the flows, so a harness that swaps the model swaps it for all of them."""

    llm: BaseChatModel | None
    timeout_s: float
