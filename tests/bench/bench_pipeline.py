"""Turn-pipeline latency: from a shopper's message to the handoff decision (before any model),
to the first streamed piece and to the final reply, with no chat model and with a scripted one.

    .venv/bin/python -m tests.bench.bench_pipeline --out bench-results/pipeline.json \
        [--eval-dir ../shared/eval] [--turns 240]

The turns are the conversation suite's (tests/data/conversations), played through the pipeline's
streaming entry (what the widget's socket uses), repeated until enough turns are timed. Model time
is excluded: the scripted model answers at once. The first token is the first piece the shopper
would see (a guarded sentence of the model's answer, or the whole fixed reply). With
`--eval-dir`, the order store also holds the full τ²-bench retail database and verified order-status
turns against it are mixed in. Figures, not pass/fail; targets p50 ≤ 60 ms, p99 ≤ 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from numpy.typing import NDArray

from bot.agent.intents import IntentRoute
from bot.agent.turn import TurnResult
from bot.settings import Settings
from bot.tools.tau2_files import import_file
from bot.wiring import Parley, open_parley
from evals.agent_suite import Case, SuiteStores, SuiteTurn, load_suite
from tests.conftest import CACHE_DIR, SUITE_DIR
from tests.fakes import Endless, FakeChatModel, reply

TARGET_P50_MS = 60.0
TARGET_P99_MS = 200.0


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (nearest rank), in milliseconds."""
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank] * 1000


def summary(samples: Sequence[float]) -> dict[str, float | int]:
    """Count, p50, p99 and mean in milliseconds."""
    if not samples:
        return {"n": 0}
    return {
        "n": len(samples),
        "p50_ms": round(percentile(samples, 50), 1),
        "p99_ms": round(percentile(samples, 99), 1),
        "mean_ms": round(statistics.fmean(samples) * 1000, 1),
    }


class TimedRouter:
    """The pipeline's router, noting when routing ends: the handoff decision is made right then."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.decided_at: float | None = None

    def route(self, text: str, language: str | None = None) -> IntentRoute:
        route: IntentRoute = self.inner.route(text, language)
        self.decided_at = time.perf_counter()
        return route

    def route_vector(
        self, text: str, vector: NDArray[Any], language: str | None = None
    ) -> IntentRoute:
        route: IntentRoute = self.inner.route_vector(text, vector, language)
        self.decided_at = time.perf_counter()
        return route


@dataclass
class Samples:
    """Latencies of one mode, in seconds."""

    decision: list[float] = field(default_factory=list)
    first_token: list[float] = field(default_factory=list)
    final: list[float] = field(default_factory=list)
    model_calls: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def figures(self) -> dict[str, Any]:
        return {
            "turns": len(self.final),
            "model_calls": self.model_calls,
            "outcomes": self.outcomes,
            "handoff_decision": summary(self.decision),
            "first_token": summary(self.first_token),
            "final_reply": summary(self.final),
        }


def tau2_turns(eval_dir: Path, count: int, seed: int = 7) -> list[Case]:
    """Verified order-status questions against the τ² database, one conversation each."""
    from evals.agent_suite import Expectation

    db = json.loads((eval_dir / "tau2_retail" / "db.json").read_text(encoding="utf-8"))
    users = [user for user in db["users"].values() if user.get("orders")]
    picked = random.Random(seed).sample(users, min(count, len(users)))
    return [
        Case(
            id=f"tau2-{index}",
            language="en",
            category="tau2_status",
            turns=(
                SuiteTurn(
                    f"Where is my order {user['orders'][0]}? My email is {user['email']}",
                    Expectation(),
                ),
            ),
        )
        for index, user in enumerate(picked)
    ]


async def play(
    parley: Parley,
    stores: SuiteStores,
    cases: Sequence[Case],
    tau2: Sequence[Case],
    tau2_store: str | None,
    turns: int,
    model: FakeChatModel | None,
    label: str,
    offset: int,
) -> Samples:
    """Play the cases in order, again and again, until `turns` turns are timed."""
    pipeline = await parley.agent()
    router = TimedRouter(pipeline.router)
    pipeline.router = router
    pipeline.llm = model
    samples = Samples()
    mixed: list[Case] = []
    extra = list(tau2)
    for index, case in enumerate(cases):
        mixed.append(case)
        if extra and index % 6 == 5:  # a τ² order question between every six suite cases
            mixed.append(extra.pop())
    mixed.extend(extra)
    try:
        round_ = 0
        while len(samples.final) < turns:
            for case in mixed:
                if len(samples.final) >= turns:
                    break
                if case.category == "tau2_status":
                    store = tau2_store or stores.shared
                else:
                    store = await stores.for_case(case, offset + round_)
                session = f"{label}-{round_}-{case.id}"
                conversation = await parley.conversations.named(store, session)
                for turn in case.turns:
                    calls = 0
                    if model is not None:
                        # A reply in the shopper's language, so the guard lets it through, to
                        # every call of the turn (a restatement, a translation).
                        model.script = Endless(reply(f"{turn.message} [1]"))
                        calls = len(model.calls)
                    router.decided_at = None
                    first: float | None = None
                    result: TurnResult | None = None
                    started = time.perf_counter()
                    async with pipeline.stream(store, conversation.id, turn.message) as items:
                        async for item in items:
                            if isinstance(item, TurnResult):
                                result = item
                            elif first is None:
                                first = time.perf_counter()
                    ended = time.perf_counter()
                    assert result is not None
                    samples.final.append(ended - started)
                    samples.first_token.append((first or ended) - started)
                    if model is not None and len(model.calls) > calls:
                        samples.model_calls += 1
                    if router.decided_at is not None:
                        samples.decision.append(router.decided_at - started)
                    outcome = result.outcome.value
                    samples.outcomes[outcome] = samples.outcomes.get(outcome, 0) + 1
            round_ += 1
    finally:
        pipeline.router = router.inner
        pipeline.llm = None
    return samples


async def main(eval_dir: Path | None, turns: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as directory:
        settings = Settings(
            data_dir=Path(directory) / "parley", cache_dir=CACHE_DIR, llm="none", log_json=False
        )
        parley = await open_parley(settings)
        try:
            suite = load_suite(SUITE_DIR)
            stores = SuiteStores(parley, suite, "bench")
            started = time.perf_counter()
            await stores.setup()
            await parley.agent()
            setup_s = time.perf_counter() - started
            tau2: list[Case] = []
            tau2_store = None
            if eval_dir is not None:
                tau2_store = "bench-tau2"
                await parley.stores.create(tau2_store)
                await import_file(parley.orders, tau2_store, eval_dir / "tau2_retail" / "db.json")
                tau2 = tau2_turns(eval_dir, 40)
            # One untimed pass warms caches and models the way a running server has them.
            await play(parley, stores, suite.cases[:16], [], tau2_store, 16, None, "warm", 900)
            modes = {}
            for offset, (label, model) in enumerate(
                (("none", None), ("scripted", FakeChatModel()))
            ):
                samples = await play(
                    parley, stores, suite.cases, tau2, tau2_store, turns, model, label, offset * 100
                )
                modes[label] = samples.figures()
        finally:
            await parley.close()
    figures = {
        "about": {
            "turns_per_mode": turns,
            "suite_cases": len(suite.cases),
            "tau2_turns": len(tau2),
            "setup_s": round(setup_s, 1),
            "cpus": os.cpu_count(),
            "load_average": [round(value, 2) for value in os.getloadavg()],
            "target": {"p50_ms": TARGET_P50_MS, "p99_ms": TARGET_P99_MS},
        },
        "modes": modes,
    }
    return figures


def print_figures(figures: dict[str, Any]) -> None:
    about = figures["about"]
    print(
        f"pipeline latency, {about['turns_per_mode']} turns per mode, "
        f"load average {about['load_average']} on {about['cpus']} cpus"
    )
    print(f"{'mode':<10}{'stage':<18}{'n':>6}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}")
    for mode, data in figures["modes"].items():
        for stage in ("handoff_decision", "first_token", "final_reply"):
            row = data[stage]
            print(
                f"{mode:<10}{stage:<18}{row.get('n', 0):>6}{row.get('p50_ms', '-'):>10}"
                f"{row.get('p99_ms', '-'):>10}{row.get('mean_ms', '-'):>10}"
            )
        print(f"{'':<10}model calls {data['model_calls']}, outcomes {data['outcomes']}")
    print(f"target: p50 <= {TARGET_P50_MS:.0f} ms, p99 <= {TARGET_P99_MS:.0f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path("bench-results/pipeline.json"))
    parser.add_argument("--eval-dir", type=Path, default=None)
    parser.add_argument("--turns", type=int, default=240, help="timed turns per mode")
    arguments = parser.parse_args()
    if arguments.turns < 200:
        print(f"note: {arguments.turns} turns per mode; p99 needs >= 200 to mean much")
    result = asyncio.run(main(arguments.eval_dir, arguments.turns))
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print_figures(result)
    print(f"written to {arguments.out}")
