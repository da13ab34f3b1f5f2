"""A LangChain chat model around llama-cpp-python, for GGUF models run in-process.

Prompts are built with the model's own chat template (tools included, so Qwen's template describes
them). Tool calls come three ways: a named tool (`tool_choice="lookup_order"`) is forced by
prefilling the answer with the start of a `<tool_call>` naming it, so the model only writes the
arguments, which small models do reliably; `"any"` prefills the block and lets the model name one
of the bound tools; `"auto"` lets the model write `<tool_call>{…}</tool_call>` itself, which is
parsed when present. Generation stops at the deadline (`timeout_s`) and raises `LLMTimeout`.

The `Llama` instance is loaded once per process and reused; llama.cpp keeps the evaluated tokens,
so a prompt that starts with the previous one's prefix (system prompt, tools) skips re-reading it.
That alone keeps one prefix: a turn that also translates, renders a question or calls a tool
would leave the next answer to read its whole fixed part again (~250 tokens, 3 s on two cores).
So each prompt's fixed part, everything before its last message, is kept aside (`Prefixes`) and
put back into the context when a later prompt starts with it; so is the opening paragraph of the
last message (the answering sentences, a translation's instruction), which recurs as shoppers
ask about the same few passages.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolCall,
    ToolMessage,
)
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, PrivateAttr

from bot.agent.errors import LLMTimeout, LLMUnavailable
from bot.domain.errors import ConfigurationError

log = logging.getLogger(__name__)
_TOOL_CALL = re.compile(r"<tool_call>\s*(\{.*?\})\s*</tool_call>", re.DOTALL)
_FENCED_CALL = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL)


class LoadedModel:
    """One `llama_cpp.Llama`, its chat formatter, and a lock: llama.cpp is not thread-safe."""

    def __init__(self, path: str, n_ctx: int, n_threads: int | None) -> None:
        try:
            import llama_cpp
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter
        except ImportError as error:
            raise ConfigurationError(
                "PARLEY_LLM=local needs llama-cpp-python: pip install 'parley[local]'"
            ) from error
        self.lock = threading.Lock()
        self.threads = Threads(llama_cpp, n_threads)
        # Typed as Any: llama-cpp-python's TypedDict signatures do not fit LangChain's dicts.
        self.llama: Any = llama_cpp.Llama(
            model_path=path,
            n_ctx=n_ctx,
            n_threads=self.threads.fewest,
            n_threads_batch=self.threads.fewest,
            n_batch=512,
            verbose=False,
        )
        template = self.llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise ConfigurationError(f"{path} has no chat template")
        eos = self.llama.token_eos()
        bos = self.llama.token_bos()
        vocab = self.llama._model
        self.formatter: Any = Jinja2ChatFormatter(
            template=template,
            eos_token=vocab.token_get_text(eos) if eos != -1 else "",
            bos_token=vocab.token_get_text(bos) if bos != -1 else "",
        )
        self.stopping_type = llama_cpp.StoppingCriteriaList
        self.prefixes = Prefixes(self.llama)
        self.usage = Usage()


@dataclass
class Usage:
    """What the loaded model has done in this process, for measuring a turn's cost in model work
    (wall times on a shared machine are noisy; these counts are not)."""

    calls: int = 0
    prompt_tokens: int = 0
    read_tokens: int = 0
    """Prompt tokens evaluated: neither in the context already nor put back from a kept prefix."""
    generated_tokens: int = 0


PREFIX_BYTES = 256 * 1024 * 1024
"""Memory for kept prefixes (their attention keys and values): about 28 KB a token for the 1.5B
model, so a 250-token answer prefix takes 7 MB and this holds every prompt kind Parley has."""
OPENING_MIN_TOKENS = 8
"""A shorter opening paragraph is read again rather than kept."""
MESSAGE_START = b"<|im_start|>"
"""The token that opens each message of a ChatML template (Qwen's): a prompt's fixed part ends
where its last message starts. Other templates keep llama.cpp's own one-prefix reuse."""


class Prefixes:
    """The fixed parts of recent prompts, evaluated once and kept as llama.cpp sequence state.

    Before a completion, `restore` makes the context start with the prompt's fixed part: kept
    already (nothing to do), put back from a saved state (a copy of a few MB instead of reading
    hundreds of tokens), or read now and saved. llama-cpp-python's own prefix match then reads
    only the rest. Callers hold the model's lock."""

    def __init__(self, llama: Any, capacity_bytes: int = PREFIX_BYTES) -> None:
        import llama_cpp

        self._llama = llama
        self._api = llama_cpp
        self._capacity = capacity_bytes
        self._saved: OrderedDict[tuple[int, ...], bytes] = OrderedDict()
        self._openings: OrderedDict[tuple[int, ...], bytes] = OrderedDict()
        """States that also hold a last message's opening paragraph (at most half the
        memory: they come and go with the sentences asked about, the fixed parts stay)."""
        start = llama.tokenize(MESSAGE_START, add_bos=False, special=True)
        self._start = start[0] if len(start) == 1 else None
        self.restored = 0
        """Prompts whose fixed part was put back from a saved state (not read again)."""

    def fixed_length(self, tokens: Sequence[int]) -> int:
        """Tokens before the prompt's last message (0: no fixed part to keep). The prompt ends
        with the opening of the answer (and a tool call's prefill): the last message starts at
        the last message start before that one."""
        if self._start is None:
            return 0
        starts = [index for index, token in enumerate(tokens) if token == self._start]
        return starts[-2] if len(starts) >= 2 else 0

    def opening_length(self, tokens: Sequence[int], fixed: int) -> int:
        """Where the last message's opening paragraph ends (0: it has none before its end):
        the tokens up to its first blank line, which the answer prompt fills with the
        answering sentences and the translation prompt with its instruction for one pair of
        languages. A store's popular answers come from the same few sentences, so that
        paragraph recurs while the question after it changes."""
        text = b""
        for index in range(fixed, len(tokens) - 1):
            text += self._llama.detokenize([tokens[index]])
            if b"\n\n" in text:
                return index + 1 if index + 1 - fixed >= OPENING_MIN_TOKENS else 0
        return 0

    def restore(self, tokens: Sequence[int]) -> int:
        """Make the context hold the fixed part of the prompt `tokens`, and the opening
        paragraph of its last message; returns the tokens that had to be read for them (0:
        kept or put back)."""
        fixed = self.fixed_length(tokens)
        if fixed == 0:
            return 0
        llama = self._llama
        held = shared_length(llama, tokens)
        opening = self.opening_length(tokens, fixed)
        if opening and held < opening:
            key = tuple(tokens[:opening])
            saved = self._openings.get(key)
            if saved is not None and self._put_back(key, saved, self._openings):
                self._openings.move_to_end(key)
                self.restored += 1
                return 0
        read = self._restore_fixed(tokens, fixed, held)
        held = shared_length(llama, tokens)
        if opening and held < opening:
            # Read the opening paragraph too and keep it apart (after the fixed part).
            llama.n_tokens = held
            llama.eval(list(tokens[held:opening]))
            self._keep(tuple(tokens[:opening]), self._openings, self._capacity // 2)
            read += opening - held
        return read

    def _restore_fixed(self, tokens: Sequence[int], fixed: int, held: int) -> int:
        llama = self._llama
        key = tuple(tokens[:fixed])
        if held >= fixed:
            if key in self._saved:
                self._saved.move_to_end(key)
            return 0
        saved = self._saved.get(key)
        if saved is not None and self._put_back(key, saved, self._saved):
            self._saved.move_to_end(key)
            self.restored += 1
            return 0
        # Read the fixed part on its own (after what the context already shares with it), keep
        # it, and leave the rest of the prompt to the completion.
        llama.n_tokens = held
        llama.eval(list(tokens[held:fixed]))
        self._keep(key, self._saved, self._capacity)
        return fixed - held

    def _keep(
        self,
        key: tuple[int, ...],
        kept: OrderedDict[tuple[int, ...], bytes],
        capacity: int,
    ) -> None:
        context = self._llama._ctx.ctx
        size = self._api.llama_state_seq_get_size(context, 0)
        if size > capacity:
            return
        buffer = (ctypes.c_uint8 * size)()
        written = self._api.llama_state_seq_get_data(context, buffer, size, 0)
        if written == 0:
            return
        kept[key] = bytes(buffer)[:written]
        while sum(len(state) for state in kept.values()) > capacity:
            kept.popitem(last=False)

    def _put_back(
        self, key: tuple[int, ...], state: bytes, kept: OrderedDict[tuple[int, ...], bytes]
    ) -> bool:
        llama = self._llama
        llama._ctx.kv_cache_clear()
        buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
        if self._api.llama_state_seq_set_data(llama._ctx.ctx, buffer, len(state), 0) == 0:
            log.warning("a kept prompt prefix could not be put back; reading it again")
            llama.n_tokens = 0
            del kept[key]
            return False
        llama.input_ids[: len(key)] = key
        llama.n_tokens = len(key)
        llama._requires_eval = True  # no logits yet: the completion reads at least one token
        return True


def shared_length(llama: Any, tokens: Sequence[int]) -> int:
    """How many of `tokens`, from the start, the context holds already."""
    held = 0
    for have, want in zip(llama.input_ids[: llama.n_tokens].tolist(), tokens, strict=False):
        if have != want:
            break
        held += 1
    return held


_loaded: dict[tuple[str, int, int | None], LoadedModel] = {}
_loaded_lock = threading.Lock()


class Threads:
    """How many threads llama.cpp computes with, chosen per completion when not configured.

    llama.cpp's threads meet at a spinning barrier after every step, which stalls whenever
    another thread holds a core. On this shared 2-core machine, at load average 5-8, the 1.5B
    model wrote 4-5 tokens/s on one thread and 0.3-1.3 on two, and read a prompt at 13-17
    tokens/s against 4-7; at rest two threads answered faster (first token p50 3.5 s against
    4.8 s). So a completion gets every core while nothing else runs (now, nor on average since
    the last completion ended), and every core but the ones others use (at least one)
    otherwise; and if, with every core, a token takes far longer than tokens did at rest
    (another process started), the rest of it is written on one core fewer."""

    SLOWER = 2.5
    """A token this many times slower than the fastest with every core means a core is taken."""

    def __init__(self, api: Any, configured: int | None) -> None:
        self._api = api
        self.configured = configured
        self.cores = os.cpu_count() or 2
        self.fewest = configured or max(1, self.cores - 1)
        """The count the model is loaded with, and falls back to under contention."""
        self.current = self.fewest
        self._fastest: float | None = None
        """Seconds of the fastest token written with every core (at rest)."""
        self._finished: CpuMark | None = None

    def choose(self, context: Any) -> int:
        """Set the threads for the next completion from what else runs: right now (a snapshot
        misses a process between two bursts) or, on average, since the last completion."""
        others = others_running()
        if self._finished is not None:
            others = max(others, round(self._finished.others_since()))
        count = self.configured or max(self.fewest, self.cores - others)
        self._set(context, count)
        return count

    def finished(self) -> None:
        """Note the end of a completion: what others use until the next one is measured."""
        self._finished = CpuMark.now()

    def paced(self, context: Any, seconds: float) -> None:
        """After a token that took `seconds`: fall back to fewer threads if it was far slower
        than every core writes one at rest."""
        if self.configured or self.current <= self.fewest:
            return
        if self._fastest is None or seconds < self._fastest:
            self._fastest = seconds
        elif seconds > self.SLOWER * self._fastest:
            log.info("llama.cpp token took %.2f s on %d threads: fewer", seconds, self.current)
            self._set(context, self.fewest)

    def _set(self, context: Any, count: int) -> None:
        if count != self.current:
            self._api.llama_set_n_threads(context, count, count)
            self.current = count


@dataclass(frozen=True)
class CpuMark:
    """The machine's and this process's CPU time at one moment (seconds; machine: -1 unknown)."""

    at: float
    machine: float
    own: float

    @classmethod
    def now(cls) -> CpuMark:
        """The mark for this moment."""
        machine = -1.0
        try:
            with open("/proc/stat", encoding="ascii") as status:
                ticks = [int(value) for value in status.readline().split()[1:9]]
            idle = ticks[3] + ticks[4]  # idle and waiting for the disk
            machine = (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            pass
        times = os.times()
        return cls(time.monotonic(), machine, times.user + times.system)

    def others_since(self) -> float:
        """Cores other processes used on average since this mark (0 when unknown)."""
        now = CpuMark.now()
        wall = now.at - self.at
        if self.machine < 0 or now.machine < 0 or wall < 0.05:
            return 0.0
        return max(0.0, (now.machine - self.machine) - (now.own - self.own)) / wall


def others_running(samples: int = 3, gap_s: float = 0.002) -> int:
    """Tasks other than the caller that the kernel runs or would run right now (the most of a
    few samples a few milliseconds apart; /proc/loadavg's fourth field counts the reader too).
    Without /proc: the one-minute load average, which also counts this process's own work."""
    most = 0
    for sample in range(samples):
        try:
            with open("/proc/loadavg", encoding="ascii") as status:
                running = int(status.read().split()[3].split("/")[0])
        except (OSError, ValueError, IndexError):
            return round(os.getloadavg()[0]) if hasattr(os, "getloadavg") else 1
        most = max(most, running - 1)
        if sample + 1 < samples:
            time.sleep(gap_s)
    return most


def load_model(path: str, n_ctx: int = 4096, n_threads: int | None = None) -> LoadedModel:
    """The process-wide loaded model for `path` (loading takes seconds and ~1 GB)."""
    key = (path, n_ctx, n_threads)
    with _loaded_lock:
        if key not in _loaded:
            _loaded[key] = LoadedModel(path, n_ctx, n_threads)
        return _loaded[key]


class LocalChatModel(BaseChatModel):
    """Chat with a local GGUF model; supports `bind_tools`, streaming and a generation deadline."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: str
    n_ctx: int = 4096
    n_threads: int | None = None
    """llama.cpp threads (None: chosen per completion from what else runs, see `Threads`)."""
    max_tokens: int = 512
    temperature: float = 0.2
    timeout_s: float | None = None
    """Stop generating and raise `LLMTimeout` after this long (prompt reading is not cut short)."""

    _model: LoadedModel | None = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx}

    def loaded(self) -> LoadedModel:
        """Load the model now (or return it if already loaded in this process)."""
        if self._model is None:
            self._model = load_model(self.model_path, self.n_ctx, self.n_threads)
        return self._model

    def keep_prefix(self, messages: list[BaseMessage]) -> int:
        """Read the fixed part of a prompt made of `messages` (everything before the last
        message) and keep it, so the first real prompt of that kind only reads its own last
        message. Loads the model if needed; returns the tokens kept (0: no fixed part)."""
        model = self.loaded()
        rendered = model.formatter(messages=_to_openai(messages))
        with model.lock:
            prompt = model.llama.tokenize(rendered.prompt.encode("utf-8"), special=True)
            model.threads.choose(model.llama._ctx.ctx)
            model.prefixes.restore(prompt)
            model.threads.finished()
            return model.prefixes.fixed_length(prompt)

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Any | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Offer `tools`; `tool_choice` is a tool name (forced), `any`/`required`, or `auto`."""
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        names = {tool["function"]["name"] for tool in formatted}
        if (
            tool_choice not in (None, "auto", "none", "any", "required")
            and tool_choice not in names
        ):
            raise ValueError(f"tool_choice {tool_choice!r} is not one of the bound tools")
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        chunks = list(self._stream(messages, stop, run_manager, **kwargs))
        message = AIMessage(content="")
        if chunks:
            merged = chunks[0].message
            for chunk in chunks[1:]:
                merged = merged + chunk.message
            message = AIMessage(
                content=merged.content,
                tool_calls=list(getattr(merged, "tool_calls", []) or []),
                response_metadata=merged.response_metadata,
            )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        model = self.loaded()
        tools: list[dict[str, Any]] = kwargs.get("tools") or []
        choice = kwargs.get("tool_choice")
        forced = _forced_tools(tools, choice)
        rendered = model.formatter(messages=_to_openai(messages), tools=tools or None)
        # Forcing by prefilling the answer: the model only completes the call's JSON. (A JSON
        # grammar does the same but llama.cpp checks it against all 151k Qwen tokens per step:
        # measured 60 s for a 20-token call with the 0.5B model, against ~1 s this way.)
        prefill = _prefill(forced) if forced else ""
        stops = [*(stop or []), *(rendered.stop or []), *(["</tool_call>"] if forced else [])]
        deadline = time.monotonic() + self.timeout_s if self.timeout_s else None
        timed_out = False

        def past_deadline(tokens: Any, logits: Any) -> bool:
            nonlocal timed_out
            if deadline is not None and time.monotonic() > deadline:
                timed_out = True
            return timed_out

        threads = model.threads
        last: float | None = None  # the first call comes after the prompt was read
        waited = 0.0  # while the caller held the stream (checking a sentence): not the model's

        def pace(tokens: Any, logits: Any) -> bool:
            nonlocal last, waited
            model.usage.generated_tokens += 1  # called once a token is chosen
            now = time.monotonic()
            if last is not None:
                threads.paced(model.llama._ctx.ctx, now - last - waited)
            last, waited = now, 0.0
            return False

        criteria = model.stopping_type([past_deadline, pace])
        if rendered.stopping_criteria is not None:
            criteria.extend(rendered.stopping_criteria)
        with model.lock:
            try:
                # Tokens rather than text: the kept prefix is found in exactly what is read.
                prompt = model.llama.tokenize(
                    (rendered.prompt + prefill).encode("utf-8"), special=True
                )
                threads.choose(model.llama._ctx.ctx)
                read = model.prefixes.restore(prompt)
                # llama-cpp-python reads what the context does not hold (at least one token).
                read += max(1, len(prompt) - shared_length(model.llama, prompt))
                usage = model.usage
                usage.calls += 1
                usage.prompt_tokens += len(prompt)
                usage.read_tokens += read
                pieces = model.llama.create_completion(
                    prompt=prompt,
                    max_tokens=kwargs.get("max_tokens", self.max_tokens),
                    temperature=kwargs.get("temperature", self.temperature),
                    stop=stops,
                    stream=True,
                    stopping_criteria=criteria,
                )
                text = ""
                for piece in pieces:
                    delta = piece["choices"][0]["text"]
                    if not delta:
                        continue
                    text += delta
                    if tools and choice != "none":
                        continue  # a turn that may call tools is returned whole, not streamed
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                    if run_manager:
                        run_manager.on_llm_new_token(delta, chunk=chunk)
                    held = time.monotonic()
                    yield chunk
                    waited += time.monotonic() - held
            except (RuntimeError, ValueError) as error:
                raise LLMUnavailable(f"local model failed: {error}") from error
            finally:
                threads.finished()
        if timed_out:
            raise LLMTimeout(f"the local model did not finish within {self.timeout_s:g} s")
        if forced:
            yield _tool_chunk(_forced_call(prefill, text, forced), 0)
        elif tools and choice != "none":
            calls, rest = _parse_tool_calls(text, {tool["function"]["name"] for tool in tools})
            if rest or not calls:
                yield ChatGenerationChunk(message=AIMessageChunk(content=rest))
            for index, call in enumerate(calls):
                yield _tool_chunk(call, index)


def _forced_tools(tools: list[dict[str, Any]], choice: Any) -> list[dict[str, Any]]:
    """The tools a call is forced among: the named one, or all of them for `any`."""
    if not tools or choice in (None, "auto", "none"):
        return []
    if choice in ("any", "required"):
        return tools
    name = choice if isinstance(choice, str) else choice.get("function", {}).get("name")
    return [tool for tool in tools if tool["function"]["name"] == name]


def _prefill(tools: list[dict[str, Any]]) -> str:
    """The start of Qwen's `<tool_call>` block, naming the tool when only one is allowed."""
    if len(tools) == 1:
        # The arguments' opening brace too: with greedy decoding the 0.5B model otherwise
        # writes `"arguments": 1234567` for an order id.
        name = str(tools[0]["function"]["name"])
        return '<tool_call>\n{"name": "' + name + '", "arguments": {'
    return '<tool_call>\n{"name": "'


def _forced_call(prefill: str, text: str, tools: list[dict[str, Any]]) -> ToolCall:
    """The call from the prefilled start plus what the model wrote; invalid JSON is a failure."""
    body = prefill.removeprefix("<tool_call>\n") + text
    data: Any = None
    for candidate in (body, body + "}", body + "}}"):
        try:
            data, _ = json.JSONDecoder().raw_decode(candidate.strip())
            break
        except json.JSONDecodeError:
            continue
    names = {tool["function"]["name"] for tool in tools}
    if not isinstance(data, dict) or data.get("name") not in names:
        raise LLMUnavailable(f"the local model wrote an invalid tool call: {body[:200]!r}")
    arguments = data.get("arguments") or {}
    if not isinstance(arguments, dict):
        raise LLMUnavailable(f"the local model wrote invalid tool arguments: {body[:200]!r}")
    return ToolCall(name=data["name"], args=arguments, id=_call_id())


def _parse_tool_calls(text: str, names: set[str]) -> tuple[list[ToolCall], str]:
    """Tool calls the model wrote and the text around them.

    Qwen writes `<tool_call>{"name": …, "arguments": …}</tool_call>`; small models sometimes write
    the same object in a ```json fence instead, which counts when it names a bound tool.
    """
    calls: list[ToolCall] = []
    blocks = _TOOL_CALL.findall(text)
    pattern = _TOOL_CALL
    if not blocks:
        blocks = _FENCED_CALL.findall(text)
        pattern = _FENCED_CALL
    for block in blocks:
        try:
            data = json.loads(block)
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict) and data.get("name") in names:
            arguments = data.get("arguments")
            if isinstance(arguments, dict):
                calls.append(ToolCall(name=data["name"], args=arguments, id=_call_id()))
    rest = pattern.sub("", text).strip() if calls else text.strip()
    return calls, rest


def _tool_chunk(call: ToolCall, index: int) -> ChatGenerationChunk:
    return ChatGenerationChunk(
        message=AIMessageChunk(
            content="",
            tool_call_chunks=[
                tool_call_chunk(
                    name=call["name"], args=json.dumps(call["args"]), id=call["id"], index=index
                )
            ],
        )
    )


def _call_id() -> str:
    return f"call_{uuid.uuid4().hex[:12]}"


def _to_openai(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """LangChain messages as the dicts chat templates expect (tool arguments as objects)."""
    result: list[dict[str, Any]] = []
    for message in messages:
        content = message.content if isinstance(message.content, str) else message.text
        if isinstance(message, SystemMessage):
            result.append({"role": "system", "content": content})
        elif isinstance(message, HumanMessage):
            result.append({"role": "user", "content": content})
        elif isinstance(message, AIMessage):
            entry: dict[str, Any] = {"role": "assistant", "content": content}
            if message.tool_calls:
                entry["tool_calls"] = [
                    {
                        "id": call["id"],
                        "type": "function",
                        "function": {"name": call["name"], "arguments": call["args"]},
                    }
                    for call in message.tool_calls
                ]
            result.append(entry)
        elif isinstance(message, ToolMessage):
            result.append(
                {"role": "tool", "content": content, "tool_call_id": message.tool_call_id}
            )
        else:
            result.append({"role": "user", "content": content})
    return result
