"""What a FAQ turn costs the local model before its first streamed piece, counted rather than
timed (wall times on a shared 2-core machine swing with others' work): model calls, prompt
tokens read beyond the kept prefixes, tokens generated, the llama.cpp threads chosen; with the
wall times beside them. In this process, on the test knowledge base, the questions of
`bench_live`'s local first-token part asked in turn (the first turn, which loads the model,
apart). Not part of `make bench`:

    nice -n 5 .venv/bin/python -m tests.bench.local_turn_costs [--rounds 2] [--question TEXT]

Needs the machine's PostgreSQL and Redis (PARLEY_TEST_POSTGRES, PARLEY_TEST_REDIS) and the
local model's weight packages.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bot.agent.models import local
from bot.agent.models.weights import LOCAL_WEIGHTS, ensure_local_weights
from bot.agent.turn import TurnResult
from bot.settings import Settings
from bot.wiring import open_parley
from tests.bench.bench_live import LOCAL_QUESTIONS
from tests.conftest import CACHE_DIR, REDIS_URL, _create_pg_database, _drop_pg_database
from tests.integration.conftest import KB


class Watch:
    """The thread counts chosen (a negative one: fallen back to mid-answer) and when the
    model's first piece came, per turn."""

    def __init__(self) -> None:
        self.threads: list[int] = []
        self.model_started: float | None = None

    def install(self) -> None:
        """Wrap the local model's thread choice and stream (this process only)."""
        choose, set_count = local.Threads.choose, local.Threads._set
        stream = local.LocalChatModel._stream
        watch = self

        def chosen(threads: local.Threads, context: Any) -> int:
            count = choose(threads, context)
            watch.threads.append(count)
            return count

        def set_to(threads: local.Threads, context: Any, count: int) -> None:
            if watch.threads and count < threads.current and count != watch.threads[-1]:
                watch.threads.append(-count)
            set_count(threads, context, count)

        def streamed(model: local.LocalChatModel, *args: Any, **kwargs: Any) -> Iterator[Any]:
            if watch.model_started is None:
                watch.model_started = time.perf_counter()
            yield from stream(model, *args, **kwargs)

        local.Threads.choose = chosen  # type: ignore[method-assign,assignment]
        local.Threads._set = set_to  # type: ignore[method-assign,assignment]
        local.LocalChatModel._stream = streamed  # type: ignore[method-assign,assignment]


async def main(rounds: int, questions: list[str]) -> dict[str, Any]:
    weights = ensure_local_weights(LOCAL_WEIGHTS["default"], CACHE_DIR / "models")
    watch = Watch()
    watch.install()
    name, url = await _create_pg_database()
    turns: list[dict[str, Any]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="parley-turn-costs-") as directory:
            base = Path(directory)
            (base / "models").symlink_to(weights.parent)
            settings = Settings(
                data_dir=base,
                cache_dir=CACHE_DIR,
                llm="local",
                log_json=False,
                database_url=url,
                redis_url=REDIS_URL,
                session_secret=uuid.uuid4().hex * 2,
            )
            parley = await open_parley(settings)
            try:
                store = f"costs{uuid.uuid4().hex[:8]}"
                await parley.stores.create(store)
                job = await parley.knowledge.ingest_paths(store, sorted(KB.iterdir()))
                assert job.state == "done", job.errors
                pipeline = await parley.agent()
                llm = pipeline.model.llm
                assert isinstance(llm, local.LocalChatModel)
                usage = llm.loaded().usage
                for n in range(rounds * len(questions) + 1):
                    question = questions[n % len(questions)]
                    conversation = await parley.conversations.start(store)
                    watch.threads, watch.model_started = [], None
                    before = (usage.calls, usage.read_tokens, usage.generated_tokens)
                    at_first: tuple[int, int, int] | None = None
                    first = 0.0
                    pieces: list[str] = []
                    reply = ""
                    started = time.perf_counter()
                    async with pipeline.stream(store, conversation.id, question) as stream:
                        async for piece in stream:
                            if isinstance(piece, TurnResult):
                                reply = piece.reply
                                continue
                            if at_first is None:
                                first = time.perf_counter() - started
                                at_first = (
                                    usage.calls - before[0],
                                    usage.read_tokens - before[1],
                                    usage.generated_tokens - before[2],
                                )
                            pieces.append(piece)
                    assert at_first is not None
                    turn = {
                        "question": question,
                        "first_piece_s": round(first, 2),
                        "model_started_s": round(watch.model_started - started, 2)
                        if watch.model_started
                        else None,
                        "calls": at_first[0],
                        "prompt_tokens_read": at_first[1],
                        "tokens_generated": at_first[2],
                        "threads": watch.threads,
                        "draft_replaced": "".join(pieces) != reply,
                        "load_average": round(os.getloadavg()[0], 2),
                        "reply": reply,
                    }
                    print(("first turn " if n == 0 else "") + json.dumps(turn), flush=True)
                    if n:
                        turns.append(turn)
            finally:
                await parley.close()
    finally:
        await _drop_pg_database(name)
    return {
        "turns": len(turns),
        "first_piece_p50_s": statistics.median(t["first_piece_s"] for t in turns),
        **{
            f"mean_{key}": round(statistics.fmean(t[key] for t in turns), 2)
            for key in ("calls", "prompt_tokens_read", "tokens_generated")
        },
        "load_average_at_end": [round(value, 2) for value in os.getloadavg()],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=2, help="times each question is asked")
    parser.add_argument(
        "--question", action="append", help="ask these instead of bench_live's questions"
    )
    options = parser.parse_args()
    summary = asyncio.run(main(options.rounds, options.question or list(LOCAL_QUESTIONS)))
    print(json.dumps(summary, indent=2))
