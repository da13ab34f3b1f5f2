"""Chat models: provider strings, the local llama.cpp model and its weights, English renderings,
and the one bounded call every model call goes through."""

from bot.agent.models.calls import (
    ChatModel,
    ModelCall,
    falling_back,
    invoke_chat,
    model_errors,
    stream_chat,
)
from bot.agent.models.providers import ModelSpec, make_chat_model, parse_spec
from bot.agent.models.weights import LOCAL_WEIGHTS, LocalWeights, ensure_local_weights

__all__ = [
    "LOCAL_WEIGHTS",
    "ChatModel",
    "LocalWeights",
    "ModelCall",
    "ModelSpec",
    "ensure_local_weights",
    "falling_back",
    "invoke_chat",
    "make_chat_model",
    "model_errors",
    "parse_spec",
    "stream_chat",
]
