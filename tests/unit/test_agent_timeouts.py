"""How long a chat model may take: longer for the local model on shared cores, always settable."""

from __future__ import annotations

import pytest

from bot.settings import LOCAL_LLM_TIMEOUT_S, PROVIDER_LLM_TIMEOUT_S, Settings


def test_the_local_model_waits_longer_than_a_provider_by_default() -> None:
    settings = Settings(llm="local")
    assert settings.llm_timeout_for() == LOCAL_LLM_TIMEOUT_S
    assert settings.llm_timeout_for("local:small") == LOCAL_LLM_TIMEOUT_S
    assert settings.llm_timeout_for("openai:gpt-4o-mini") == PROVIDER_LLM_TIMEOUT_S
    assert LOCAL_LLM_TIMEOUT_S > 60.0


def test_the_environment_sets_the_timeout_for_every_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARLEY_LLM_TIMEOUT_S", "240")
    settings = Settings()
    assert settings.llm_timeout_for() == 240.0
    assert settings.llm_timeout_for("ollama:qwen2.5") == 240.0
