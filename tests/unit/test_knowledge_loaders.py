"""Loaders: every supported format, types told by content, encodings, and bad files refused
with a reason a merchant understands."""

from __future__ import annotations

import codecs
import json

import pytest

from knowledge import NeedsColumnMapping, UnreadableDocument, load_document
from tests.unit.knowledge_files import (
    cjk_pdf,
    docx_file,
    encrypted_pdf,
    text_pdf,
    zip_bomb_docx,
)

MARKDOWN = """# Nordlicht Home policies

Intro line.

## Returns

### Return window
You can return any item within **30 days** of delivery.

## Shipping
We ship to [30 countries](https://example.com/countries).
"""

HTML = """<!doctype html><html><head><title>Hilfe</title>
<script>var tracking = "SCRIPT TEXT";</script><style>.x{color:red}</style></head>
<body><nav><a href="/">Startseite</a> <a href="/shop">Shop</a></nav>
<header class="site-header">Nordlicht Home – Kopfzeile</header>
<main><h1>Häufige Fragen</h1>
<h2>Versand</h2><p>Wir liefern in 30 Länder.</p>
<div style="display: none">Versteckter Rabattcode GEHEIM</div>
<p hidden>Noch ein Geheimnis</p>
<span class="sr-only">nur für Screenreader</span>
<h2>Rückgabe</h2><ul><li>Innerhalb von 30 Tagen.</li><li>Kostenlos.</li></ul></main>
<footer>Impressum · Datenschutz</footer></body></html>"""


def sections(name: str, data: bytes) -> list[tuple[tuple[str, ...], str]]:
    return [(section.path, section.text) for section in load_document(name, data).sections]


def test_markdown_keeps_the_heading_path_and_drops_markup() -> None:
    document = load_document("policy.md", MARKDOWN.encode())
    assert document.kind == "markdown"
    assert document.title == "Nordlicht Home policies"
    paths = {section.path: section.text for section in document.sections}
    assert paths[("Nordlicht Home policies", "Returns", "Return window")] == (
        "You can return any item within 30 days of delivery."
    )
    assert paths[("Nordlicht Home policies", "Shipping")] == "We ship to 30 countries."


def test_html_drops_navigation_footer_scripts_and_hidden_text() -> None:
    document = load_document("faq.html", HTML.encode())
    text = document.text
    assert "Wir liefern in 30 Länder." in text
    assert "Innerhalb von 30 Tagen." in text
    for gone in ("SCRIPT TEXT", "Startseite", "Kopfzeile", "GEHEIM", "Geheimnis", "Impressum"):
        assert gone not in text, gone
    assert ("Häufige Fragen", "Versand") in [section.path for section in document.sections]
    assert document.title == "Hilfe"


def test_type_comes_from_content_not_the_extension() -> None:
    assert load_document("faq.txt", HTML.encode()).kind == "html"
    assert load_document("upload.bin", MARKDOWN.encode()).kind == "markdown"
    assert load_document("export", text_pdf([["Returns within 30 days."]])).kind == "pdf"
    faq = json.dumps([{"question": "Do you ship to Norway?", "answer": "Yes."}])
    assert load_document("faq.txt", faq.encode()).kind == "json"


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        ("cp1252", "Retours acceptés sous 30 jours. Expédition gratuite dès 50 €."),
        (
            "shift_jis",
            "返品は配達から三十日以内に受け付けます。送料は無料です。ご注文ありがとうございます。",
        ),
        ("utf-16", "Rücksendungen innerhalb von 30 Tagen möglich. Versand in 30 Länder."),
        ("utf-8-sig", "Devoluciones en un plazo de 30 días. Envío gratuito."),
    ],
)
def test_encodings_are_detected(encoding: str, text: str) -> None:
    data = text.encode(encoding)
    assert load_document("policy.txt", data).text == text


def test_csv_faq_maps_column_names_in_other_languages() -> None:
    data = (
        "Kategorie;Frage;Antwort\n"
        'Versand;"Wie lange dauert der Versand?";"2–4 Werktage; Express 1 Tag."\n'
        "Rückgabe;Kann ich zurückgeben?;Ja, 30 Tage lang.\n"
    ).encode()
    found = sections("faq_de.csv", data)
    assert found == [
        (
            ("Versand", "Wie lange dauert der Versand?"),
            "Wie lange dauert der Versand?\n2–4 Werktage; Express 1 Tag.",
        ),
        (("Rückgabe", "Kann ich zurückgeben?"), "Kann ich zurückgeben?\nJa, 30 Tage lang."),
    ]


def test_csv_with_unknown_columns_asks_for_a_mapping_and_accepts_one() -> None:
    data = b"Thema,Kundenfrage,Unsere Antwort,Notiz\nVersand,Wohin liefert ihr?,In 30 Laender.,x\n"
    with pytest.raises(NeedsColumnMapping) as caught:
        load_document("faq.csv", data)
    assert "Kundenfrage" in caught.value.message and "question_column" in caught.value.message
    mapped = load_document(
        "faq.csv", data, columns={"question": "Kundenfrage", "answer": "Unsere Antwort"}
    )
    assert mapped.sections[0].text == "Wohin liefert ihr?\nIn 30 Laender."


def test_csv_with_broken_quoting_fails_with_the_line() -> None:
    data = b'question,answer\n"Do you ship?","Yes"\n"Broken "quote" here,"no"\n'
    with pytest.raises(UnreadableDocument, match="malformed near line 3"):
        load_document("faq.csv", data)


def test_json_faq_shapes() -> None:
    nested = {"faq": [{"pregunta": "¿Envían a Chile?", "respuesta": "Sí."}]}
    assert sections("faq.json", json.dumps(nested).encode()) == [
        (("¿Envían a Chile?",), "¿Envían a Chile?\nSí.")
    ]
    flat = {"Do you ship to Norway?": "Yes, in 5 days."}
    assert sections("faq.json", json.dumps(flat).encode())[0][1] == (
        "Do you ship to Norway?\nYes, in 5 days."
    )
    with pytest.raises(UnreadableDocument, match="not a FAQ"):
        load_document("data.json", b'{"a": 1, "b": [1], "c": [2]}')


def test_pdf_text_and_scanned_pages_are_reported() -> None:
    data = text_pdf([["Returns", "", "Items can be returned within 30 days of delivery."], []])
    document = load_document("policy.pdf", data)
    assert "returned within 30 days" in document.text
    assert document.warnings == ["no text on page(s) 2 (scanned images are not indexed)"]


def test_pdf_with_cjk_text() -> None:
    text = "返品は配達から30日以内に受け付けます。"
    assert load_document("返品.pdf", cjk_pdf(text)).text == text


def test_docx_headings_become_sections() -> None:
    data = docx_file(
        "Rücksendungen",
        [("Frist", ["Sie haben 30 Tage Zeit."]), ("Kosten", ["Die Rücksendung ist kostenlos."])],
    )
    document = load_document("returns.docx", data)
    assert document.kind == "docx"
    assert document.title == "Rücksendungen"
    assert [(s.path, s.text) for s in document.sections] == [
        (("Frist",), "Sie haben 30 Tage Zeit."),
        (("Kosten",), "Die Rücksendung ist kostenlos."),
    ]


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.md", b"", "the file is empty"),
        ("blank.txt", b" \n\t\n", "the file is empty"),
        ("scan.pdf", text_pdf([[], []]), "no text: the PDF's 2 page(s) are images"),
        ("secret.pdf", encrypted_pdf(["Returns within 30 days."]), "password-protected"),
        ("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog", "the PDF is damaged"),
        ("broken.docx", b"PK\x03\x04" + b"\x00" * 200, "damaged"),
        ("bomb.docx", zip_bomb_docx(), "looks like a zip bomb"),
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "unsupported file type: this is a PNG"),
        ("blob.dat", bytes(range(256)) * 40, "unsupported file type"),
        ("locked.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500, "password-protected"),
    ],
)
def test_bad_files_fail_with_a_reason(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(UnreadableDocument) as caught:
        load_document(name, data)
    assert reason in caught.value.message


def test_too_big_files_are_refused_before_parsing() -> None:
    with pytest.raises(UnreadableDocument, match=r"too big \(3 MB; the limit is 2 MB\)"):
        load_document("huge.txt", b"a" * (3 * 1024 * 1024), max_bytes=2 * 1024 * 1024)


def test_utf16_without_garbage_and_bom_markdown_headings() -> None:
    data = codecs.BOM_UTF8 + b"# Titel\n\nText hier."
    assert sections("x.md", data) == [(("Titel",), "Text hier.")]
