"""Chat models from a `PARLEY_LLM` spec.

`none` means retrieval-only replies; `local` (and `local:small`) runs a GGUF model in-process
through llama-cpp-python, the weights joined from registry packages into the data dir; anything
else (`openai:…`, `anthropic:…`, `ollama:…`, `openai-compatible:<base_url>:<model>`) goes through
LangChain's `init_chat_model`, whose provider packages are optional installs.
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langchain_core.language_models import BaseChatModel

from bot.agent.models.weights import LOCAL_WEIGHTS, ensure_local_weights
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
        from bot.agent.models.local import LocalChatModel

        path = ensure_local_weights(LOCAL_WEIGHTS[parsed.model], settings.data_dir / "models")
        # Greedy decoding: a grounded answer or a tool call has one right shape, and repeated
        # evaluation runs (pass^k) should measure the pipeline, not sampling noise. Answers are
        # three sentences at most; 200 tokens bound a runaway at ~7 s on two cores.
        return LocalChatModel(
            model_path=str(path),
            timeout_s=settings.llm_timeout_for(spec),
            temperature=0.0,
            max_tokens=200,
            n_threads=settings.llm_threads,
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
