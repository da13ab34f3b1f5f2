"""The one test double Parley allows: the scripted chat model, which lives in
`evals.scripted_model` so `parley eval agent --llm scripted` can use it too."""

from evals.scripted_model import Call, Endless, FakeChatModel, Scripted, reply, tool_call

__all__ = ["Call", "Endless", "FakeChatModel", "Scripted", "reply", "tool_call"]
