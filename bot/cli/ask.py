"""`parley ask`: talk to a store's bot as a shopper, one message or a JSONL batch."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.domain.errors import ParleyError
from bot.settings import Settings
from bot.shopper import ask
from bot.wiring import open_parley


class BadBatch(ParleyError):
    """A batch file line that is not `{"session": "...", "message": "..."}`."""

    code = "bad_batch"


def read_batch(path: Path) -> list[tuple[str, str]]:
    """The (session, message) pairs of a JSONL batch, in file order."""
    pairs: list[tuple[str, str]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            pairs.append((str(entry["session"]), str(entry["message"])))
        except (ValueError, KeyError, TypeError) as error:
            expected = '{"session": "...", "message": "..."}'
            raise BadBatch(f"{path}:{number}: expected {expected}, got {line[:80]!r}") from error
    return pairs


async def run_ask(
    settings: Settings,
    store: str,
    messages: list[tuple[str | None, str]],
    emit: Callable[[dict[str, Any]], None],
) -> None:
    """Ask every message in order, emitting each reply as soon as it is ready."""
    parley = await open_parley(settings)
    try:
        for session, message in messages:
            emit(await ask(parley, store, message, session))
    finally:
        await parley.close()
