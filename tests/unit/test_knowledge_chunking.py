"""Chunking: headings followed, section path kept, one language per chunk, stable ids."""

from __future__ import annotations

from knowledge import load_document
from knowledge.chunking import chunk_document, embedding_text

POLICY = """# Nordlicht Home

## Returns
You can return any item within 30 days of delivery. Refunds reach your account in 5 days.

## Rückgabe (Deutsch)
Sie können jeden Artikel innerhalb von 30 Tagen nach der Lieferung zurückgeben.

## Long section
""" + " ".join(f"Sentence number {n} talks about lamps and bottles." for n in range(60))


def test_chunks_follow_headings_and_keep_the_section_path() -> None:
    chunks = chunk_document(load_document("policy.md", POLICY.encode()))
    returns = [chunk for chunk in chunks if chunk.section[-1] == "Returns"]
    assert len(returns) == 1
    assert returns[0].section == ("Nordlicht Home", "Returns")
    assert returns[0].section_title == "Nordlicht Home > Returns"
    long = [chunk for chunk in chunks if chunk.section[-1] == "Long section"]
    assert len(long) > 2
    assert all(len(chunk.text) <= 700 for chunk in long)
    assert " ".join(chunk.text for chunk in long).count("Sentence number") == 60


def test_each_chunk_has_its_own_language() -> None:
    chunks = chunk_document(load_document("policy.md", POLICY.encode()))
    by_section = {chunk.section[-1]: chunk.language for chunk in chunks}
    assert by_section["Returns"] == "en"
    assert by_section["Rückgabe (Deutsch)"] == "de"


def test_chunk_ids_are_stable_and_depend_on_content() -> None:
    first = chunk_document(load_document("policy.md", POLICY.encode()))
    again = chunk_document(load_document("policy.md", POLICY.encode()))
    assert [chunk.id for chunk in first] == [chunk.id for chunk in again]
    changed = chunk_document(
        load_document("policy.md", POLICY.replace("30 days", "60 days").encode())
    )
    assert [c.id for c in changed if c.section[-1] == "Returns"] != [
        c.id for c in first if c.section[-1] == "Returns"
    ]
    unchanged = {c.id for c in changed if c.section[-1] != "Returns"}
    assert unchanged <= {c.id for c in first}
    assert len({chunk.id for chunk in first}) == len(first)


def test_identical_passages_are_indexed_once() -> None:
    text = "# FAQ\n\n## A\nSame answer here.\n\n## B\nSame answer here.\n"
    chunks = chunk_document(load_document("faq.md", text.encode()))
    assert [chunk.text for chunk in chunks] == ["Same answer here."]


def test_faq_pairs_stay_whole_and_embedding_text_carries_title_and_section() -> None:
    data = b"question,answer\nHow long is the warranty on the NL-4410?,Two years.\n"
    document = load_document("faq.csv", data)
    [chunk] = chunk_document(document)
    assert chunk.text == "How long is the warranty on the NL-4410?\nTwo years."
    policy = chunk_document(load_document("policy.md", POLICY.encode()))[0]
    assert embedding_text(policy, "Nordlicht Home").startswith("Nordlicht Home > Returns\n")
