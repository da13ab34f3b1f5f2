"""The demo store's own documents are plain files the seed indexes once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.demo.seed import DEMO_STORE, seed_demo
from bot.settings import RetrievalSettings, Settings
from bot.wiring import open_parley

pytestmark = pytest.mark.integration


async def test_seed_indexes_the_demo_documents_once(data_dir: Path) -> None:
    settings = Settings(
        data_dir=data_dir, llm="none", retrieval=RetrievalSettings(embedder="hashing")
    )
    first = await seed_demo(settings)
    assert "demo documents: 6 indexed, 0 unchanged, 0 failed" in first
    again = await seed_demo(settings)
    assert "demo documents: 0 indexed, 6 unchanged, 0 failed" in again

    parley = await open_parley(settings)
    try:
        documents = {d.name: d for d in await parley.knowledge.list(DEMO_STORE)}
        lamp = await parley.knowledge.search(DEMO_STORE, "NL-4410", k=10)
        german = await parley.knowledge.search(DEMO_STORE, "Wie lange dauert die Lieferung?")
    finally:
        await parley.close()
    assert {name: d.language for name, d in documents.items()} == {
        "faq-de.html": "de",
        "faq-fr.csv": "fr",
        "garantia-y-cuidado-es.txt": "es",
        "products-faq.json": "en",
        "shipping-and-returns.md": "en",
        "shopping-guide-ja.txt": "ja",
    }
    assert all(p.exact_match for p in lamp.passages[:4])
    assert {p.language for p in lamp.passages if p.exact_match} >= {"de", "fr", "en", "ja"}
    assert (
        german.passages[0].section == "Häufige Fragen > Versand > Wie lange dauert die Lieferung?"
    )
