"""The store's reference questions (`knowledge.index.hubness`) in a real embedded Chroma index:
kept per store and language, once per question, capped, and they re-rank only their own store.
Vectors are set by hand (the index's bulk-load call) so the geometry is the test's own."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge import ChromaIndex, IndexedDocument
from knowledge.documents import Chunk
from knowledge.embeddings import HashingEmbedder, normalise
from knowledge.index import hubness

pytestmark = pytest.mark.integration
DIM = 512  # the hashing embedder's, which names the collections


def vector(*head: float) -> np.ndarray:
    row = np.zeros(DIM, dtype=np.float32)
    row[: len(head)] = head
    return normalise(row.reshape(1, -1))[0]


GENERIC = vector(0.8, 0.6, 0.0)  # "We are happy to help you." sits near every question
ANSWER = vector(0.6, 0.0, 0.8)  # "Returns are free within 30 days."
QUESTION = vector(0.85, 0.35, 0.45)  # nearer the generic passage than the answer


def near_generic(dim: int) -> np.ndarray:
    """Another shopper's question: near the generic passage, unlike the other questions."""
    row = np.zeros(DIM, dtype=np.float32)
    row[:2], row[3 + dim] = (0.8, 0.6), 0.35
    return normalise(row.reshape(1, -1))[0]


OTHERS = [near_generic(dim) for dim in range(5)]


def document() -> IndexedDocument:
    chunks = [
        Chunk("c-generic", "help.md", ("Service",), "We are happy to help you.", "en", 0),
        Chunk("c-answer", "help.md", ("Returns",), "Returns are free within 30 days.", "en", 1),
    ]
    return IndexedDocument("d-help", "help.md", "Help", 1, chunks)


@pytest.fixture
def index(tmp_path: Path) -> ChromaIndex:
    opened = ChromaIndex.embedded(tmp_path / "chroma", HashingEmbedder())
    opened.hub_weight = hubness.HUB_WEIGHT
    yield opened
    opened.close()


async def first(index: ChromaIndex, store: str) -> str:
    found = await index.search_vector(store, "Rückgabe?", QUESTION, k=2, language="en")
    return found.passages[0].chunk_id


async def test_a_stores_asked_questions_rank_down_its_hubs_and_no_other_stores(
    index: ChromaIndex,
) -> None:
    vectors = np.vstack([GENERIC, ANSWER])
    for store in ("shop-a", "shop-b"):
        await index.replace_document_vectors(store, document(), vectors)
    assert await first(index, "shop-a") == await first(index, "shop-b") == "c-generic"
    before = await index.search_vector("shop-a", "Rückgabe?", QUESTION, k=2, language="en")

    for asked in OTHERS:
        assert await index.remember_question("shop-a", asked, "en")

    assert await first(index, "shop-a") == "c-answer"
    assert await first(index, "shop-b") == "c-generic"  # shop-a's shoppers change nothing here
    found = await index.search_vector("shop-a", "Rückgabe?", QUESTION, k=2, language="en")
    # The similarity shown is still the plain cosine, and whether to answer is decided as
    # before: on the passage that led before the penalty, with the same confidence.
    assert found.passages[0].score == pytest.approx(float(ANSWER @ QUESTION), abs=1e-5)
    assert found.lead is not None and found.lead.chunk_id == "c-generic"
    assert found.confidence == before.confidence
    assert found.deciding(lambda passage: True) == found.lead
    assert found.deciding(lambda passage: passage.chunk_id != "c-generic") == found.passages[0]
    # Questions asked in another language are another language's references.
    assert await first(index, "shop-a") == "c-answer"
    thai = await index.search_vector("shop-a", "คืน?", QUESTION, k=2, language="th")
    assert thai.passages[0].chunk_id == "c-generic"


async def test_a_question_asked_again_is_kept_once_and_the_oldest_go_first(
    index: ChromaIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hubness, "MAX_ASKED", 3)
    assert await index.remember_question("shop-a", OTHERS[0], "de")
    assert not await index.remember_question("shop-a", OTHERS[0] * 1.0001, "de")
    assert await index.remember_question("shop-a", OTHERS[0], "fr")  # another language
    for asked in OTHERS[1:4]:
        assert await index.remember_question("shop-a", asked, "de")

    kept = index.collection("shop-a", "asked").get(include=["embeddings", "metadatas"])
    german = [
        np.asarray(row)
        for row, meta in zip(kept["embeddings"], kept["metadatas"], strict=True)
        if meta["language"] == "de"
    ]
    assert len(german) == 3 and len(kept["ids"]) == 4
    assert not any(np.allclose(row, OTHERS[0]) for row in german)  # the oldest went

    await index.drop_store("shop-a")
    assert len(index.asked.references("shop-a", "de")) == 0


async def test_a_shoppers_faq_question_is_kept_for_its_store_only_while_the_penalty_is_on(
    data_dir: Path,
) -> None:
    from bot.settings import RetrievalSettings, Settings
    from bot.shopper import ask
    from bot.wiring import open_parley
    from tests.conftest import CACHE_DIR

    for weight, kept in ((0.5, 1), (0.0, 0)):
        settings = Settings(
            data_dir=data_dir / str(weight),
            cache_dir=CACHE_DIR,
            llm="none",
            log_json=False,
            retrieval=RetrievalSettings(hub_weight=weight),
        )
        parley = await open_parley(settings)
        try:
            for store in ("shop-a", "shop-b"):
                await parley.stores.create(store)
            policy = data_dir / "policy.md"
            policy.write_text("# Gift cards\n\nGift cards are valid for three years.\n")
            assert (await parley.knowledge.ingest_paths("shop-a", [policy])).state == "done"

            reply = await ask(parley, "shop-a", "How long are gift cards valid?")
            assert reply["intent"] == "faq", reply

            mine = parley.index.collection("shop-a", "asked").get(include=["metadatas"])
            theirs = parley.index.collection("shop-b", "asked").get()
            assert len(mine["ids"]) == kept and not theirs["ids"]
            assert [meta["language"] for meta in mine["metadatas"]] == ["en"] * kept
        finally:
            await parley.close()
