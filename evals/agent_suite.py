"""The multilingual conversation suite: play scripted shopper conversations through `ask` and
score every bot turn against its expectations, per language and per category.

The suite is data (the repository's `tests/data/conversations/`, read from the path given): a
`suite.json` manifest naming the documents and orders every store starts with, and one
`<lang>.json` per language holding cases. A case is one conversation; each turn is a shopper
message with what the bot must (and must not) do.
"""

from __future__ import annotations

import json
import math
import re
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from bot.agent.language import LanguageIdentifier
from bot.domain.errors import ParleyError
from bot.settings import Settings
from bot.shopper import ask
from bot.wiring import Parley, chat_model, open_parley

_EXECUTES = "confirm_action"
"""The one tool that executes a write: the others (`bot.tools.writes.WRITE_TOOLS`) only propose."""
PASS_K = (1, 2, 3, 4)


class SuiteNotFound(ParleyError):
    """The suite folder given (or the default, relative to the current directory) is absent."""

    code = "suite_not_found"


@dataclass(frozen=True)
class Expectation:
    """What one bot turn must show; a field left out is not checked."""

    intent: tuple[str, ...] = ()
    outcome: tuple[str, ...] = ()
    language: str | None = None
    """The message language the bot must report."""
    reply_language: str | None = None
    citation: str | None = None
    """The document the first citation must name; `""` means no citation at all."""
    facts: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()
    handoff: bool | None = None
    tools: tuple[str, ...] = ()
    """Tools that must be called in this turn (any status)."""
    not_tools: tuple[str, ...] = ()
    """Tools that must not be called; `*` forbids every tool."""

    @classmethod
    def from_json(cls, data: dict[str, Any], language: str) -> Expectation:
        """From a turn's `expect` object; languages default to the case's language."""

        def many(name: str) -> tuple[str, ...]:
            value = data.get(name, ())
            return (value,) if isinstance(value, str) else tuple(value)

        return cls(
            intent=many("intent"),
            outcome=many("outcome"),
            language=data.get("language", language),
            reply_language=data.get("reply_language", data.get("language", language)),
            citation=data.get("citation"),
            facts=many("facts"),
            forbidden=many("forbidden"),
            handoff=data.get("handoff"),
            tools=many("tools"),
            not_tools=many("not_tools"),
        )


@dataclass(frozen=True)
class SuiteTurn:
    """One shopper message and what must follow."""

    message: str
    expect: Expectation
    model_reply: str | None = None
    """For runs with a scripted chat model: what the model answers to this turn."""


@dataclass(frozen=True)
class Case:
    """One conversation of the suite."""

    id: str
    language: str
    category: str
    turns: tuple[SuiteTurn, ...]
    fresh_store: bool = False
    """Run in a store of its own (cases that write, so no other case sees the change)."""
    orders_after: dict[str, str] = field(default_factory=dict)
    """Order statuses the store must show after the last turn."""
    note: str = ""


@dataclass(frozen=True)
class Suite:
    """All cases, and what every store starts with."""

    cases: tuple[Case, ...]
    documents: tuple[Path, ...]
    orders: Path


def load_suite(
    path: Path, languages: Iterable[str] | None = None, *, with_model: bool = False
) -> Suite:
    """The suite in `path` (a folder with `suite.json`), limited to some languages if given.

    A turn may hold `expect_with_model`: what the bot must do when a chat model runs, where that
    differs from the model-free path (an exchange is proposed instead of handed to a person)."""
    manifest_path = path / "suite.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    wanted = set(languages) if languages else None
    cases: list[Case] = []
    for file in sorted(path.glob("*.json")):
        if file.name == "suite.json":
            continue
        data = json.loads(file.read_text(encoding="utf-8"))
        language = data["language"]
        if wanted is not None and language not in wanted:
            continue
        for raw in data["cases"]:
            case_language = raw.get("language", language)
            turns = tuple(
                SuiteTurn(
                    message=turn["message"],
                    expect=Expectation.from_json(
                        turn.get("expect_with_model" if with_model else "expect")
                        or turn.get("expect", {}),
                        case_language,
                    ),
                    model_reply=turn.get("model_reply"),
                )
                for turn in raw["turns"]
            )
            cases.append(
                Case(
                    id=raw["id"],
                    language=case_language,
                    category=raw["category"],
                    turns=turns,
                    fresh_store=bool(raw.get("fresh_store", False)),
                    orders_after=dict(raw.get("orders_after", {})),
                    note=raw.get("note", ""),
                )
            )
    ids = [case.id for case in cases]
    duplicates = {case_id for case_id in ids if ids.count(case_id) > 1}
    if duplicates:
        raise ValueError(f"duplicate case ids in {path}: {sorted(duplicates)}")
    documents = tuple((path / name).resolve() for name in manifest.get("documents", []))
    orders = (path / manifest["orders"]).resolve()
    return Suite(tuple(cases), documents, orders)


@dataclass
class TurnScore:
    """One bot turn checked against its expectation."""

    case: str
    language: str
    category: str
    index: int
    message: str
    reply: dict[str, Any]
    reply_language: str
    checks: dict[str, bool] = field(default_factory=dict)
    facts_found: int = 0
    facts_total: int = 0
    forbidden_hits: list[str] = field(default_factory=list)
    unconfirmed_write: bool = False
    grounded: bool = False
    """The reply rests on passages (quoted or worded by the model) rather than a fixed text."""
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """Every check holds, every key fact is there, nothing forbidden, no unconfirmed write."""
        return (
            all(self.checks.values())
            and self.facts_found == self.facts_total
            and not self.forbidden_hits
            and not self.unconfirmed_write
        )

    def failures(self) -> list[str]:
        """What went wrong, for the report."""
        failed = [name for name, ok in self.checks.items() if not ok]
        if self.facts_found < self.facts_total:
            failed.append("facts")
        if self.forbidden_hits:
            failed.append("forbidden")
        if self.unconfirmed_write:
            failed.append("unconfirmed_write")
        return failed


@dataclass
class CaseRun:
    """One play of a case."""

    case: Case
    repeat: int
    turns: list[TurnScore]
    orders_ok: bool | None = None
    orders_seen: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """All turns pass and the store ends as expected."""
        return all(turn.passed for turn in self.turns) and self.orders_ok is not False


def score_turn(
    case: Case,
    index: int,
    reply: dict[str, Any],
    previous: dict[str, Any] | None,
    identify: Callable[[str], str],
) -> TurnScore:
    """Check one reply of the contract against the case's expectation for that turn."""
    spec = case.turns[index]
    expect = spec.expect
    text = str(reply["reply"])
    lowered = text.casefold()
    calls = list(reply["tool_calls"])
    names = [call["name"] for call in calls]
    citations = list(reply["citations"])
    score = TurnScore(
        case=case.id,
        language=case.language,
        category=case.category,
        index=index,
        message=spec.message,
        reply=reply,
        reply_language=identify(text),
        grounded=bool(citations),
    )
    checks = score.checks
    if expect.intent:
        checks["intent"] = reply["intent"] in expect.intent
    if expect.outcome:
        checks["outcome"] = reply["outcome"] in expect.outcome
    if expect.language:
        checks["message_language"] = reply["language"] == expect.language
    if expect.reply_language:
        checks["reply_language"] = score.reply_language == expect.reply_language
    if expect.citation is not None:
        if expect.citation == "":
            checks["citation"] = not citations
        else:
            checks["citation"] = bool(citations) and citations[0]["document"] == expect.citation
    if expect.handoff is not None:
        checks["handoff"] = (reply["handoff"] is not None) == expect.handoff
    if expect.tools or expect.not_tools:
        must = all(name in names for name in expect.tools)
        banned = set(names) if "*" in expect.not_tools else set(expect.not_tools) & set(names)
        checks["tools"] = must and not banned
    score.facts_total = len(expect.facts)
    score.facts_found = sum(1 for fact in expect.facts if fact.casefold() in lowered)
    score.forbidden_hits = [item for item in expect.forbidden if item.casefold() in lowered]
    executed = reply["outcome"] == "done" or any(
        call["name"] == _EXECUTES and call["status"] == "ok" for call in calls
    )
    confirmed_before = previous is not None and previous["outcome"] == "confirm"
    score.unconfirmed_write = executed and not confirmed_before
    return score


async def play_case(
    parley: Parley,
    store: str,
    case: Case,
    session: str,
    identify: Callable[[str], str],
    repeat: int = 0,
    before_turn: Callable[[SuiteTurn], None] | None = None,
) -> CaseRun:
    """One conversation of the suite, turn by turn, scored."""
    turns: list[TurnScore] = []
    previous: dict[str, Any] | None = None
    for index, turn in enumerate(case.turns):
        if before_turn is not None:
            before_turn(turn)
        started = time.perf_counter()
        reply = await ask(parley, store, turn.message, session)
        elapsed = time.perf_counter() - started
        score = score_turn(case, index, reply, previous, identify)
        score.seconds = elapsed
        turns.append(score)
        previous = reply
    run = CaseRun(case, repeat, turns)
    if case.orders_after:
        async with parley.orders.session(store) as orders:
            for order_id in case.orders_after:
                run.orders_seen[order_id] = (await orders.order(order_id)).status
        run.orders_ok = run.orders_seen == case.orders_after
    return run


class SuiteStores:
    """The shared store with the suite's documents and orders, and fresh stores on demand."""

    def __init__(self, parley: Parley, suite: Suite, prefix: str = "suite") -> None:
        self.parley = parley
        self.suite = suite
        self.prefix = prefix
        self.shared = f"{prefix}-shared"
        self._ready = False

    async def setup(self) -> None:
        """Create the shared store, import the orders, ingest the documents (once)."""
        from bot.tools.tau2_files import import_file

        if self._ready:
            return
        await self.parley.stores.create(self.shared)
        await import_file(self.parley.orders, self.shared, self.suite.orders)
        if self.suite.documents:
            job = await self.parley.knowledge.ingest_paths(self.shared, list(self.suite.documents))
            if job.state != "done" or job.errors:
                raise RuntimeError(f"ingesting the suite's documents failed: {job.errors}")
            # With questions on (PARLEY_RETRIEVAL__GENERATE_QUESTIONS), the store is searched
            # as a store whose questions job has run.
            for done in await self.parley.knowledge.write_queued_questions(self.shared):
                if done.errors:
                    raise RuntimeError(f"writing the suite's questions failed: {done.errors}")
        self._ready = True

    async def for_case(self, case: Case, repeat: int) -> str:
        """The store this play of the case runs in."""
        if not case.fresh_store:
            return self.shared
        from bot.tools.tau2_files import import_file

        store = re.sub(r"[^a-z0-9_-]", "-", f"{self.prefix}-r{repeat}-{case.id}".lower())[:63]
        await self.parley.stores.create(store)
        await import_file(self.parley.orders, store, self.suite.orders)
        return store


def language_identifier(languages: Sequence[str] = ()) -> Callable[[str], str]:
    """Detect a reply's language among the suite's languages and Parley's sixteen (no
    conversation language to lean on): a Swedish reply must not be scored German."""
    from bot.domain.languages import DEFAULT_LANGUAGES

    identifier = LanguageIdentifier(sorted({*DEFAULT_LANGUAGES, *languages}))
    return lambda text: identifier.detect(text, None).code


async def run_suite(
    parley: Parley,
    suite: Suite,
    *,
    repeats: int = 1,
    prefix: str = "suite",
    progress: Callable[[str], None] | None = None,
    stores: SuiteStores | None = None,
) -> list[CaseRun]:
    """Play every case once, then the multi-turn cases `repeats - 1` more times."""
    stores = stores or SuiteStores(parley, suite, prefix)
    await stores.setup()
    identify = language_identifier(sorted({case.language for case in suite.cases}))
    runs: list[CaseRun] = []
    for repeat in range(max(repeats, 1)):
        for case in suite.cases:
            if repeat > 0 and len(case.turns) < 2:
                continue
            store = await stores.for_case(case, repeat)
            run = await play_case(parley, store, case, f"{case.id}-r{repeat}", identify, repeat)
            runs.append(run)
            if progress is not None and not run.passed:
                failed = [f"t{t.index}:{','.join(t.failures())}" for t in run.turns if not t.passed]
                progress(f"FAIL {case.id} r{repeat} {' '.join(failed)}")
    return runs


# -- metrics ------------------------------------------------------------------------------------


def pass_hat_k(passes: int, runs: int, k: int) -> float | None:
    """τ²-bench's pass^k: the chance that k plays drawn from n all pass, C(c,k)/C(n,k)."""
    if k > runs:
        return None
    return math.comb(passes, k) / math.comb(runs, k)


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def metrics(turns: Sequence[TurnScore], runs: Sequence[CaseRun]) -> dict[str, Any]:
    """The suite's figures over these turns (first play) and case plays."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for turn in turns:
        for name, ok in turn.checks.items():
            counts[name][0] += int(ok)
            counts[name][1] += 1
        if "reply_language" in turn.checks:
            kind = "reply_language_grounded" if turn.grounded else "reply_language_fixed"
            counts[kind][0] += int(turn.checks["reply_language"])
            counts[kind][1] += 1
    found = sum(turn.facts_found for turn in turns)
    total = sum(turn.facts_total for turn in turns)
    first = [run for run in runs if run.repeat == 0]
    figures: dict[str, Any] = {
        "cases": len(first),
        "turns": len(turns),
        "case_pass": _rate(sum(run.passed for run in first), len(first)),
        "turn_pass": _rate(sum(turn.passed for turn in turns), len(turns)),
    }
    for name in (
        "intent",
        "outcome",
        "message_language",
        "reply_language",
        "reply_language_fixed",
        "reply_language_grounded",
        "citation",
        "handoff",
        "tools",
    ):
        hits, seen = counts.get(name, [0, 0])
        figures[name] = _rate(hits, seen)
    figures["key_fact_recall"] = _rate(found, total)
    figures["forbidden"] = sum(len(turn.forbidden_hits) for turn in turns)
    figures["unconfirmed_writes"] = sum(turn.unconfirmed_write for turn in turns)
    orders = [run.orders_ok for run in first if run.orders_ok is not None]
    figures["orders_after"] = _rate(sum(orders), len(orders))
    figures["pass_hat_k"] = _pass_hat(runs)
    return figures


def _pass_hat(runs: Sequence[CaseRun]) -> dict[str, float | None]:
    plays: dict[str, list[bool]] = defaultdict(list)
    for run in runs:
        if len(run.case.turns) >= 2:
            plays[run.case.id].append(run.passed)
    result: dict[str, float | None] = {}
    for k in PASS_K:
        values = [pass_hat_k(sum(p), len(p), k) for p in plays.values()]
        known = [value for value in values if value is not None]
        result[str(k)] = (
            round(sum(known) / len(known), 4) if known and len(known) == len(values) else None
        )
    return result


def report(runs: Sequence[CaseRun], **about: Any) -> dict[str, Any]:
    """The JSON report: overall, per language, per category, pass^k, and every failure."""
    first = [run for run in runs if run.repeat == 0]
    turns = [turn for run in first for turn in run.turns]

    def grouped(key: Callable[[Case], str]) -> dict[str, Any]:
        names = sorted({key(run.case) for run in first})
        return {
            name: metrics(
                [t for r in first if key(r.case) == name for t in r.turns],
                [r for r in runs if key(r.case) == name],
            )
            for name in names
        }

    failures = []
    for run in runs:
        for turn in run.turns:
            if not turn.passed:
                failures.append(
                    {
                        "case": run.case.id,
                        "repeat": run.repeat,
                        "turn": turn.index,
                        "message": turn.message,
                        "failed": turn.failures(),
                        "got": {
                            "intent": turn.reply["intent"],
                            "outcome": turn.reply["outcome"],
                            "language": turn.reply["language"],
                            "reply_language": turn.reply_language,
                            "citations": [c["document"] for c in turn.reply["citations"]],
                            "tools": [
                                f"{c['name']}:{c['status'][:40]}" for c in turn.reply["tool_calls"]
                            ],
                            "handoff": turn.reply["handoff"],
                            "forbidden_hits": turn.forbidden_hits,
                            "reply": turn.reply["reply"][:300],
                        },
                    }
                )
        if run.orders_ok is False:
            failures.append(
                {
                    "case": run.case.id,
                    "repeat": run.repeat,
                    "failed": ["orders_after"],
                    "got": run.orders_seen,
                    "expected": run.case.orders_after,
                }
            )
    seconds = sorted(turn.seconds for turn in turns)
    return {
        "about": about,
        "overall": metrics(turns, runs),
        "languages": grouped(lambda case: case.language),
        "categories": grouped(lambda case: case.category),
        "turn_seconds": {
            "p50": round(seconds[len(seconds) // 2], 4) if seconds else None,
            "max": round(seconds[-1], 4) if seconds else None,
        },
        "failures": failures,
    }


_COLUMNS = (
    ("turns", "turns"),
    ("intent", "intent"),
    ("outcome", "outc"),
    ("message_language", "lang"),
    ("reply_language", "rlang"),
    ("citation", "cite"),
    ("key_fact_recall", "facts"),
    ("handoff", "hoff"),
    ("tools", "tools"),
    ("forbidden", "forb"),
    ("unconfirmed_writes", "unconf"),
    ("case_pass", "pass"),
)


def table(data: dict[str, Any]) -> str:
    """A compact text table of a report: overall, languages, categories, pass^k."""

    def cell(value: Any) -> str:
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:.2f}"
        return str(value)

    header = f"{'':<16}" + "".join(f"{label:>7}" for _, label in _COLUMNS)
    lines = [header]

    def row(name: str, figures: dict[str, Any]) -> None:
        lines.append(f"{name:<16}" + "".join(f"{cell(figures[k]):>7}" for k, _ in _COLUMNS))

    row("overall", data["overall"])
    for name, figures in data["languages"].items():
        row(name, figures)
    for name, figures in data["categories"].items():
        row(name[:16], figures)
    pass_k = data["overall"]["pass_hat_k"]
    lines.append(
        "pass^k (multi-turn): " + "  ".join(f"k={k}: {cell(v)}" for k, v in pass_k.items())
    )
    lines.append(f"failures: {len(data['failures'])}")
    return "\n".join(lines)


async def evaluate_agent(
    suite_path: Path,
    llm: str | None,
    base: Settings,
    *,
    repeats: int = 1,
    languages: Sequence[str] | None = None,
    out: Path | None = None,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """`parley eval agent`: the suite in a fresh temporary data dir with the chosen chat model
    (default: `base.llm`); models and caches come from `base`'s data and cache dirs."""
    if not (suite_path / "suite.json").is_file():
        raise SuiteNotFound(
            f"no conversation suite at {suite_path} (a folder with suite.json): run from the "
            "repository root or pass --suite"
        )
    spec = llm or base.llm
    suite = load_suite(suite_path, languages, with_model=spec != "none")
    with tempfile.TemporaryDirectory(prefix="parley-eval-") as directory:
        settings = Settings(
            data_dir=Path(directory) / "parley",
            cache_dir=base.resolved_cache_dir,
            llm="none",
            log_json=False,
        )
        parley = await open_parley(settings)
        try:
            pipeline = await parley.agent()
            # The model comes from the usual data dir so local weights are joined only once.
            pipeline.llm = chat_model(spec, base)
            pipeline.llm_timeout_s = base.llm_timeout_for(spec)
            started = time.perf_counter()
            runs = await run_suite(parley, suite, repeats=repeats, progress=echo)
            elapsed = time.perf_counter() - started
        finally:
            await parley.close()
    data = report(
        runs,
        llm=spec,
        repeats=repeats,
        languages=sorted({case.language for case in suite.cases}),
        seconds=round(elapsed, 1),
    )
    echo(table(data))
    if out is not None:
        target = anyio.Path(out)
        await target.parent.mkdir(parents=True, exist_ok=True)
        await target.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        echo(f"report written to {out}")
    return data
