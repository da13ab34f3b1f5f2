"""Ranking without Chroma: the backend-neutral ranking over hand-made candidates, and searches
over the memory backend (`memory://`), whose geometry the tests set by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge.confidence import confidence
from knowledge.documents import Chunk
from knowledge.embeddings import HashingEmbedder, Vectors, normalise
from knowledge.index import ChromaIndex, IndexedDocument, VectorIndex, connect_index
from knowledge.index.hubness import HUB_WEIGHT
from knowledge.index.languages import CROSS_LANGUAGE_OFFSET
from knowledge.index.question_cache import WrittenQuestions
from knowledge.index.ranking import EXACT_BONUS, Candidate, rank
from knowledge.questions import QUESTION_LIFT

DIM = 512  # the hashing embedder's


def unit(*head: float) -> Vectors:
    row = np.zeros(DIM, dtype=np.float32)
    row[: len(head)] = head
    vector: Vectors = normalise(row.reshape(1, -1))[0]
    return vector


def candidate(
    chunk: str, score: float, *, language: str = "en", exact: bool = False, **meta: object
) -> Candidate:
    fields = {
        "chunk_id": chunk,
        "document_id": f"doc-{chunk}",
        "document": f"{chunk}.md",
        "section": chunk,
        "language": language,
        **meta,
    }
    return Candidate(f"text of {chunk}", fields, score, exact, unit(1.0))


def test_a_passage_quoting_the_code_leads_and_makes_the_index_sure() -> None:
    ranked = rank(
        "is NL-4410 dimmable?",
        [candidate("close", 0.82), candidate("code", 0.61, exact=True)],
        k=2,
        language="en",
    )
    assert [p.chunk_id for p in ranked.passages] == ["code", "close"]
    assert ranked.passages[0].score == pytest.approx(0.61 + EXACT_BONUS)
    assert ranked.confidence >= 0.9 and ranked.lead == ranked.passages[0]


def test_a_passage_in_another_language_gets_the_offset_only_when_the_language_is_known() -> None:
    gap = CROSS_LANGUAGE_OFFSET / 2
    found = [candidate("same", 0.80), candidate("other", 0.80 - gap, language="de")]
    assert rank("q", found, k=2, language="en").passages[0].chunk_id == "other"
    assert rank("q", found, k=2, language=None).passages[0].chunk_id == "same"
    # the offset moves the order, never the similarity a citation shows
    assert {p.score for p in rank("q", found, k=2, language="en").passages} == {0.80, 0.80 - gap}


def test_a_chunk_with_questions_is_scored_on_the_plain_scale() -> None:
    ranked = rank("q", [candidate("asked", 0.90, questions=3)], k=1, language="en")
    assert ranked.passages[0].score == pytest.approx(0.90 - QUESTION_LIFT)


def test_the_hub_penalty_changes_the_citation_but_not_the_decision() -> None:
    hub, answer = unit(0.8, 0.6, 0.0), unit(0.6, 0.0, 0.8)
    found = [
        candidate("hub", 0.80)._replace(vector=hub),
        candidate("answer", 0.79)._replace(vector=answer),
    ]
    references = np.vstack([unit(0.8, 0.6, 0.1 * n) for n in range(5)])
    ranked = rank("q", found, k=2, language="en", references=references, hub_weight=HUB_WEIGHT)
    assert [p.chunk_id for p in ranked.passages] == ["answer", "hub"]
    assert ranked.lead is not None and ranked.lead.chunk_id == "hub"
    assert ranked.confidence == confidence([0.80, 0.79])
    unpenalised = rank("q", found, k=2, language="en", references=references, hub_weight=0)
    assert [p.chunk_id for p in unpenalised.passages] == ["hub", "answer"]


@pytest.fixture
def memory() -> VectorIndex:
    return connect_index("memory://", None, HashingEmbedder())


def help_document(
    version: int = 1, answer: str = "Returns are free within 30 days."
) -> IndexedDocument:
    chunks = [
        Chunk("c-generic", "help.md", ("Service",), "We are happy to help you.", "en", 0),
        Chunk("c-answer", "help.md", ("Returns",), answer, "en", 1),
    ]
    return IndexedDocument("d-help", "help.md", "Help", version, chunks)


async def test_the_memory_backend_ranks_a_stores_hubs_down_with_its_own_questions(
    memory: VectorIndex,
) -> None:
    memory.hub_weight = HUB_WEIGHT
    vectors = np.vstack([unit(0.8, 0.6, 0.0), unit(0.6, 0.0, 0.8)])
    question = unit(0.85, 0.35, 0.45)
    for store in ("shop-a", "shop-b"):
        await memory.replace_document_vectors(store, help_document(), vectors)
    for extra in range(5):  # other shoppers' questions of shop-a sit near the generic passage
        asked = np.zeros(DIM, dtype=np.float32)
        asked[:2], asked[3 + extra] = (0.8, 0.6), 0.35
        assert await memory.remember_question("shop-a", normalise(asked)[0], "en")

    mine = await memory.search_vector("shop-a", "devoluciones?", question, k=2, language="en")
    theirs = await memory.search_vector("shop-b", "devoluciones?", question, k=2, language="en")
    assert mine.passages[0].chunk_id == "c-answer"
    assert mine.lead is not None and mine.lead.chunk_id == "c-generic"
    assert theirs.passages[0].chunk_id == "c-generic"
    assert mine.passages[0].score == pytest.approx(float(vectors[1] @ question), abs=1e-5)


async def test_the_memory_backend_keeps_only_the_live_version_and_mixes_in_questions(
    memory: VectorIndex,
) -> None:
    await memory.replace_document("s", help_document(1))
    await memory.replace_document("s", help_document(2, "Returns are free within 60 days."))
    assert await memory.count("s") == 2
    assert all(":2:" in chunk for chunk in await memory.document_chunks("s", "d-help"))
    found = await memory.search("s", "Are returns free within 60 days?", k=1, language="en")
    assert found.passages[0].text == "Returns are free within 60 days."

    unasked = await memory.unasked_chunks("s", "d-help")
    assert len(unasked) == 2
    key = next(key for key, text in unasked.items() if "60 days" in text)
    written = {key: WrittenQuestions(["How long are returns free?"], unit(0.0, 1.0))}
    assert await memory.add_questions("s", "d-help", written) == 1
    assert list(await memory.unasked_chunks("s", "d-help")) == [k for k in unasked if k != key]
    cached = await memory.cached_questions("s", [key])  # kept by chunk key
    assert cached[key].questions == ["How long are returns free?"]
    await memory.delete_document("s", "d-help")
    assert await memory.count("s") == 0 and await memory.cached_questions("s", [key]) == {}


def test_chroma_stays_the_default_and_memory_is_chosen_by_url(tmp_path: Path) -> None:
    embedded = connect_index(None, tmp_path / "chroma", HashingEmbedder())
    server = connect_index("http://127.0.0.1:1", None, HashingEmbedder())
    assert isinstance(embedded, ChromaIndex) and isinstance(server, ChromaIndex)
    assert not isinstance(connect_index("memory://", None, HashingEmbedder()), ChromaIndex)
    embedded.close()
    server.close()
