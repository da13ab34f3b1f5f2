"""`parley eval translation`: the translation engine measured on XQuAD-R questions.

The same question exists in eleven languages, so each question is translated from its language
into English and from English into each language, and the translation is scored against the
human one with chrF (sacrebleu). Beside it: the share of translations the engine's fact check
let through (numbers, codes and the rest survived), how each ended, and seconds per message.
Translations are cached as they come, so a stopped run resumes and a repeat run costs nothing
(its seconds are those measured when each was made).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from bot.agent.models.calls import ChatModel
from bot.agent.models.translator import INSTRUCTION, lost_facts, translate
from bot.domain.translation import Outcome

PIVOT = "en"


@dataclass(frozen=True)
class Sample:
    """One question to translate, with the human translation it is scored against."""

    group: str
    source: str
    target: str
    text: str
    reference: str

    @property
    def direction(self) -> str:
        """`de>en`, `en>th`."""
        return f"{self.source}>{self.target}"


def samples(data: Path, per_direction: int) -> list[Sample]:
    """The first `per_direction` question groups, each from every language into English and
    from English into every language."""
    path = data / "questions.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found (the xquad_r folder of the eval data)")
    groups: dict[str, dict[str, str]] = {}
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            groups.setdefault(record["group"], {})[record["lang"]] = record["question"]
    chosen = sorted(groups)[:per_direction]
    languages = sorted({lang for group in chosen for lang in groups[group]} - {PIVOT})
    found: list[Sample] = []
    for lang in languages:
        for source, target in ((lang, PIVOT), (PIVOT, lang)):
            for group in chosen:
                texts = groups[group]
                found.append(Sample(group, source, target, texts[source], texts[target]))
    return found


def _cache_key(sample: Sample) -> str:
    return f"{sample.direction}\t{sample.text}"


async def _translate_all(
    model: ChatModel,
    todo: Sequence[Sample],
    done: dict[str, dict[str, Any]],
    save: Callable[[], None],
    echo: Callable[[str], None],
) -> None:
    started = time.perf_counter()
    for count, sample in enumerate(todo, 1):
        began = time.perf_counter()
        result = await translate(model, sample.text, sample.source, sample.target)
        done[_cache_key(sample)] = {
            "outcome": result.outcome.value,
            "candidate": result.candidate,
            "dropped": list(result.dropped),
            "seconds": round(time.perf_counter() - began, 3),
        }
        if count % 10 == 0 or count == len(todo):
            save()
            rate = (time.perf_counter() - started) / count
            echo(f"{count}/{len(todo)} translated ({rate:.2f} s each)")


def _percentile(values: Sequence[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def score(chosen: Sequence[Sample], done: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """chrF, facts kept and seconds for these samples. A translation the model did not give
    (timeout, failure) is scored as the original passed through, as the shopper would see it."""
    import sacrebleu

    # The check is run again on what the model wrote, so a changed check re-scores the cache.
    made = [_checked(sample, done[_cache_key(sample)]) for sample in chosen]
    hypotheses = [row["candidate"] or sample.text for sample, row in zip(chosen, made, strict=True)]
    references = [sample.reference for sample in chosen]
    # Chinese and Thai have no spaces between words: chrF reads characters, so it needs no
    # tokenizer, which is why it is the score here rather than BLEU.
    chrf = sacrebleu.corpus_chrf(hypotheses, [references]).score
    translated = [row for row in made if row["candidate"] is not None]
    # Against an empty translation, everything the question carries is lost: its facts.
    with_facts = [sample for sample in chosen if lost_facts(sample.text, "")]
    kept_with_facts = [
        sample
        for sample in with_facts
        if _checked(sample, done[_cache_key(sample)])["outcome"] == Outcome.OK.value
    ]
    seconds = [float(row["seconds"]) for row in made]
    outcomes: dict[str, int] = {}
    for row in made:
        outcomes[row["outcome"]] = outcomes.get(row["outcome"], 0) + 1
    return {
        "messages": len(chosen),
        "chrf": round(chrf, 1),
        "facts_kept": _share(
            sum(1 for row in translated if row["outcome"] == Outcome.OK.value), len(translated)
        ),
        "with_facts": len(with_facts),
        "facts_kept_where_present": _share(len(kept_with_facts), len(with_facts)),
        "outcomes": outcomes,
        "seconds_p50": _round(_percentile(seconds, 0.5)),
        "seconds_p95": _round(_percentile(seconds, 0.95)),
    }


def _checked(sample: Sample, made: dict[str, Any]) -> dict[str, Any]:
    """`made` with its outcome from the engine's check as it is now."""
    if made["candidate"] is None:
        return made
    lost = lost_facts(sample.text, made["candidate"])
    outcome = Outcome.DROPPED_TOKEN if lost else Outcome.OK
    return {**made, "outcome": outcome.value, "dropped": lost}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def run_translation_eval(
    data: Path,
    out: Path,
    model: ChatModel,
    label: str,
    *,
    per_direction: int,
    cache_dir: Path | None,
    echo: Callable[[str], None],
) -> dict[str, Any]:
    """Translate, score per direction and overall, write `out` (JSON) and print a table."""
    chosen = samples(data, per_direction)
    prompt = hashlib.sha256(INSTRUCTION.encode()).hexdigest()[:8]
    path = cache_dir / f"translations-{label}-{prompt}.json" if cache_dir is not None else None
    done: dict[str, dict[str, Any]] = {}
    if path is not None and path.exists():
        done = json.loads(path.read_text(encoding="utf-8"))

    def save() -> None:
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(done, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)

    todo = list({_cache_key(s): s for s in chosen if _cache_key(s) not in done}.values())
    echo(f"{len(chosen)} translations, {len(chosen) - len(todo)} cached; model {label}")
    anyio.run(_translate_all, model, todo, done, save, echo)
    directions: dict[str, Any] = {}
    for direction in dict.fromkeys(sample.direction for sample in chosen):
        directions[direction] = score([s for s in chosen if s.direction == direction], done)
    report: dict[str, Any] = {
        "model": label,
        "per_direction": per_direction,
        "prompt": INSTRUCTION,
        "overall": score(chosen, done),
        "into_english": score([s for s in chosen if s.target == PIVOT], done),
        "from_english": score([s for s in chosen if s.source == PIVOT], done),
        "directions": directions,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    echo(f"{'direction':<14}{'chrF':>6}{'kept':>7}{'p50 s':>8}{'p95 s':>8}  outcomes")
    rows: dict[str, dict[str, Any]] = {
        "ALL": report["overall"],
        "into en": report["into_english"],
    }
    rows |= {"from en": report["from_english"], **directions}
    for name, figures in rows.items():
        kept = figures["facts_kept"]
        echo(
            f"{name:<14}{figures['chrf']:>6}{'-' if kept is None else f'{kept:.2f}':>7}"
            f"{figures['seconds_p50'] or 0:>8.2f}{figures['seconds_p95'] or 0:>8.2f}  "
            + ", ".join(f"{key} {value}" for key, value in sorted(figures["outcomes"].items()))
        )
    echo(f"wrote {out}")
    return report
