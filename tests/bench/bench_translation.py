"""Translation benchmark: seconds per message for the local chat model, uncached.

    .venv/bin/python -m tests.bench.bench_translation --out bench-results/translation.json

Translates one XQuAD-R question per direction (each language into English and English into
each: 20 messages) through the engine the console uses, with its fact check, and prints seconds
per message p50/p95 and how each translation ended. Figures, not pass/fail; quality (chrF) is
`parley eval translation`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import anyio

from bot.agent.models.calls import ChatModel
from bot.settings import Settings
from bot.translation import translate
from bot.wiring import chat_model
from evals.translation import samples


async def _timed(model: ChatModel, data: Path, per_direction: int) -> list[tuple[float, str]]:
    timings = []
    for sample in samples(data, per_direction):
        started = time.perf_counter()
        result = await translate(model, sample.text, sample.source, sample.target)
        timings.append((time.perf_counter() - started, result.outcome.value))
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("bench-results/translation.json"))
    parser.add_argument("--eval-dir", type=Path, default=Path("../shared/eval"))
    parser.add_argument("--llm", default="local")
    parser.add_argument("--per-direction", type=int, default=1)
    args = parser.parse_args()
    settings = Settings()
    loading = time.perf_counter()
    model = ChatModel(chat_model(args.llm, settings), settings.llm_timeout_for(args.llm))
    load_s = time.perf_counter() - loading
    timings = anyio.run(_timed, model, args.eval_dir / "xquad_r", args.per_direction)
    seconds = sorted(second for second, _ in timings)
    outcomes: dict[str, int] = {}
    for _, outcome in timings:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    figures = {
        "model": args.llm,
        "messages": len(seconds),
        "load_s": round(load_s, 2),
        "seconds_p50": round(seconds[len(seconds) // 2], 2),
        "seconds_p95": round(seconds[min(len(seconds) - 1, round(0.95 * (len(seconds) - 1)))], 2),
        "outcomes": outcomes,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
    }
    print(
        f"translation ({args.llm}, {len(seconds)} messages): p50 {figures['seconds_p50']} s, "
        f"p95 {figures['seconds_p95']} s per message; {outcomes}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
