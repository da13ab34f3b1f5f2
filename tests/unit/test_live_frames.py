"""Client frames of the live chat are checked before anything is stored: a bad one becomes an
error with a stable code and a message saying what to fix."""

from __future__ import annotations

import json

import pytest

from bot.live.frames import Confirm, Contact, FrameError, Limits, Resume, SendMessage, parse

LIMITS = Limits(max_text_chars=20)


def code_of(raw: str) -> str:
    with pytest.raises(FrameError) as refused:
        parse(raw, LIMITS)
    assert refused.value.frame()["type"] == "error"
    return refused.value.code


def test_a_message_frame_is_read_with_its_client_id() -> None:
    frame = parse(json.dumps({"type": "message", "client_id": "c1", "text": "Hallo"}), LIMITS)
    assert isinstance(frame, SendMessage) and (frame.client_id, frame.text) == ("c1", "Hallo")


def test_a_message_without_client_id_gets_one_so_its_turn_stays_idempotent() -> None:
    first = parse('{"type": "message", "text": "hi"}', LIMITS)
    second = parse('{"type": "message", "text": "hi"}', LIMITS)
    assert isinstance(first, SendMessage) and isinstance(second, SendMessage)
    assert first.client_id and first.client_id != second.client_id


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{oops", "malformed_json"),
        ("[1, 2]", "malformed_frame"),
        ('{"text": "no type"}', "unknown_type"),
        ('{"type": "shout"}', "unknown_type"),
        ('{"type": "message", "text": "   "}', "empty_message"),
        ('{"type": "message", "text": "' + "x" * 21 + '"}', "message_too_long"),
        ('{"type": "resume", "after": -1}', "invalid_frame"),
        ('{"type": "confirm", "action_id": "a1"}', "invalid_frame"),
        ('{"type": "contact", "email": "nobody"}', "invalid_email"),
    ],
)
def test_bad_frames_are_refused_with_a_code(raw: str, code: str) -> None:
    assert code_of(raw) == code


def test_resume_confirm_and_contact_frames() -> None:
    assert parse('{"type": "resume", "after": 7}', LIMITS) == Resume(type="resume", after=7)
    confirm = parse('{"type": "confirm", "action_id": "a1", "accept": false}', LIMITS)
    assert isinstance(confirm, Confirm) and confirm.accept is False
    contact = parse('{"type": "contact", "email": "kenji@example.jp"}', LIMITS)
    assert isinstance(contact, Contact) and contact.email == "kenji@example.jp"
