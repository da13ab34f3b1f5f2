"""The frames of the WebSocket contract (DESIGN.md): what clients may send, checked, and the
frames the server sends. A bad frame becomes a `FrameError` with a stable code; the socket
answers it with an `error` frame and stays open."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


class FrameError(Exception):
    """A client frame the server refuses; `code` is stable, `message` says what to fix."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def frame(self) -> dict[str, Any]:
        """The `error` frame."""
        return error_frame(self.code, self.message)


class _Frame(BaseModel):
    model_config = ConfigDict(extra="ignore")


class SendMessage(_Frame):
    """A message from the shopper (or, with `conversation_id`, an agent)."""

    type: Literal["message"]
    text: str
    client_id: str = Field(default_factory=lambda: str(uuid.uuid4()), min_length=1, max_length=64)
    conversation_id: str | None = None


class Resume(_Frame):
    """Send everything after `after` again (a reconnect, a reload)."""

    type: Literal["resume"]
    after: int = Field(default=0, ge=0)
    conversation_id: str | None = None


class Confirm(_Frame):
    """The shopper's answer to an `action` card."""

    type: Literal["confirm"]
    action_id: str = Field(min_length=1, max_length=64)
    accept: bool


class RequestHuman(_Frame):
    """The shopper asks for a person."""

    type: Literal["request_human"]


class Typing(_Frame):
    """Someone is typing (not stored)."""

    type: Literal["typing"]
    conversation_id: str | None = None


class Contact(_Frame):
    """An email address the shopper leaves when nobody is on duty."""

    type: Literal["contact"]
    email: str = Field(max_length=320)


class Ping(_Frame):
    """A client heartbeat; answered with `pong`."""

    type: Literal["ping"]


ClientFrame = SendMessage | Resume | Confirm | RequestHuman | Typing | Contact | Ping
_TYPES = {"message", "resume", "confirm", "request_human", "typing", "contact", "ping"}
_ADAPTER: TypeAdapter[ClientFrame] = TypeAdapter(
    SendMessage | Resume | Confirm | RequestHuman | Typing | Contact | Ping
)


@dataclass(frozen=True)
class Limits:
    """What a socket accepts."""

    max_text_chars: int


def parse(raw: str, limits: Limits) -> ClientFrame:
    """The client frame in `raw`, or `FrameError` saying what is wrong with it."""
    try:
        data = json.loads(raw)
    except ValueError as error:
        raise FrameError("malformed_json", f"not JSON: {error}") from error
    if not isinstance(data, dict):
        raise FrameError("malformed_frame", "a frame is a JSON object with a `type`")
    kind = data.get("type")
    if kind not in _TYPES:
        raise FrameError(
            "unknown_type", f"unknown frame type {kind!r} (expected one of {sorted(_TYPES)})"
        )
    try:
        frame = _ADAPTER.validate_python(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'][1:])}: {item['msg']}"
            for item in error.errors()
        )
        raise FrameError("invalid_frame", f"{kind}: {problems}") from error
    if isinstance(frame, SendMessage):
        if not frame.text.strip():
            raise FrameError("empty_message", "the message has no text")
        if len(frame.text) > limits.max_text_chars:
            raise FrameError(
                "message_too_long",
                f"the message has {len(frame.text)} characters; at most "
                f"{limits.max_text_chars} are accepted",
            )
    if isinstance(frame, Contact) and not _EMAIL.match(frame.email.strip()):
        raise FrameError("invalid_email", "that does not look like an email address")
    return frame


def error_frame(code: str, message: str) -> dict[str, Any]:
    """`{"type": "error", "code", "message"}`."""
    return {"type": "error", "code": code, "message": message}
