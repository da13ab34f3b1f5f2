"""Write the unseen store's PDF and Word documents from the text below.

Run from the repository root: `python tests/data/suites/unseen-store/make_documents.py`.
The PDFs are written by hand (one standard font, WinAnsi text) because no PDF writer is
installed; the Word files use python-docx, which Parley already needs to read them.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import docx

DOCUMENTS = Path(__file__).parent / "documents"

# Each document: a title, then (heading, paragraphs) sections.
Sections = list[tuple[str, list[str]]]

EBIKE_BATTERY: tuple[str, Sections] = (
    "E-bike batteries: care, storage and shipping",
    [
        (
            "Charging",
            [
                "Charge the battery only with the original Bergwind charger. A full charge of "
                "the 625 Wh battery takes about 4.5 hours; the 750 Wh battery takes about 5.5 "
                "hours.",
                "Do not charge the battery below 0 °C or above 40 °C.",
            ],
        ),
        (
            "Storage",
            [
                "If you do not ride for several weeks, store the battery at 30 to 60 percent "
                "charge, in a dry room at 10 to 20 °C. Recharge it at least every 3 months.",
            ],
        ),
        (
            "Battery warranty",
            [
                "We guarantee that the battery keeps at least 70 percent of its capacity for "
                "2 years or 500 full charging cycles, whichever comes first.",
            ],
        ),
        (
            "Shipping a battery",
            [
                "Lithium batteries are dangerous goods. We ship spare e-bike batteries only by "
                "road, within the EU, to Switzerland and to Norway. We cannot send them to the "
                "United Kingdom.",
                "A spare battery whose seal has been broken can only be returned if it is "
                "defective.",
            ],
        ),
        (
            "Old batteries",
            [
                "Bring old e-bike batteries to any Bergwind shop: we dispose of them free of "
                "charge, whichever shop they were bought from.",
            ],
        ),
    ],
)

LEASING_NL: tuple[str, Sections] = (
    "Zakelijk fietsen leasen met Bergwind",
    [
        (
            "Voor wie",
            [
                "Werkgevers in Nederland, België en Oostenrijk kunnen via Bergwind fietsen en "
                "e-bikes leasen voor hun medewerkers.",
            ],
        ),
        (
            "Voorwaarden",
            [
                "Een contract omvat minimaal 5 fietsen en loopt 36 maanden. Eén onderhoudsbeurt "
                "per jaar is inbegrepen.",
                "Vanaf 10 fietsen krijgt u 8% korting op de catalogusprijs.",
                "Aan het einde van de looptijd kan de medewerker de fiets overnemen voor 15% van "
                "de oorspronkelijke catalogusprijs.",
            ],
        ),
        (
            "Contact",
            [
                "Vraag een offerte aan via zakelijk@bergwind.example. We reageren binnen 2 "
                "werkdagen.",
            ],
        ),
    ],
)

WORKSHOP_DE: tuple[str, Sections] = (
    "Werkstatt und Service",
    [
        (
            "Adresse und Öffnungszeiten",
            [
                "Bergwind Werkstatt, Grabenweg 71, 6020 Innsbruck (Eingang im Innenhof).",
                "Die Werkstatt ist Montag bis Freitag von 8:00 bis 17:00 Uhr geöffnet, am "
                "Samstag ist sie geschlossen.",
            ],
        ),
        (
            "Servicepakete",
            [
                "Basis-Check: 59 € (Bremsen und Schaltung einstellen, Sicherheitscheck).",
                "Komfort-Service: 109 € (Basis-Check, Kette und Lager reinigen und schmieren, "
                "Laufräder zentrieren).",
                "E-Bike-Service: 149 € (Komfort-Service und Software-Update des Motors).",
                "Ersatzteile werden extra berechnet.",
            ],
        ),
        (
            "Erstinspektion",
            [
                "Für Räder, die bei Bergwind gekauft wurden, ist die erste Inspektion kostenlos, "
                "wenn sie innerhalb von 3 Monaten oder 300 km nach dem Kauf gemacht wird.",
            ],
        ),
        (
            "Termine",
            [
                "Termine vereinbaren Sie online oder telefonisch unter +43 512 908 771. Die "
                "Wartezeit auf einen Termin beträgt zurzeit etwa 5 Werktage.",
            ],
        ),
    ],
)

RENTAL_IT: tuple[str, Sections] = (
    "Noleggio di bici ed e-bike",
    [
        (
            "Dove",
            [
                "Noleggiamo bici ed e-bike nei negozi Bergwind di Innsbruck e di Bolzano.",
            ],
        ),
        (
            "Prezzi",
            [
                "E-MTB Gipfel: 49 € al giorno oppure 220 € a settimana.",
                "Bici da trekking Alpenpass: 29 € al giorno oppure 130 € a settimana.",
                "Il casco è incluso nel prezzo.",
            ],
        ),
        (
            "Cauzione e documenti",
            [
                "Al ritiro chiediamo una cauzione di 300 € su carta di credito (non accettiamo "
                "carte prepagate) e un documento d'identità valido.",
            ],
        ),
        (
            "Prenotazione e disdetta",
            [
                "Prenota almeno 48 ore prima. La disdetta è gratuita fino a 24 ore prima del "
                "ritiro; dopo tratteniamo il prezzo di un giorno.",
                "Età minima: 16 anni; per i minorenni serve la firma di un genitore.",
            ],
        ),
    ],
)


def write_docx(path: Path, document: tuple[str, Sections], language: str) -> None:
    """A Word file with a title, Heading 1 sections and plain paragraphs."""
    title, sections = document
    word = docx.Document()
    word.core_properties.title = title
    word.core_properties.language = language
    word.add_heading(title, level=0)
    for heading, paragraphs in sections:
        word.add_heading(heading, level=1)
        for paragraph in paragraphs:
            word.add_paragraph(paragraph)
    word.save(str(path))


def _pdf_text(text: str) -> str:
    """A PDF string literal in WinAnsi encoding (Latin letters, €, °)."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return "(" + escaped + ")"


def write_pdf(path: Path, document: tuple[str, Sections]) -> None:
    """A text PDF of one or more A4 pages in Helvetica, with the title in its metadata."""
    title, sections = document
    lines: list[tuple[str, int]] = [(title, 16), ("", 11)]
    for heading, paragraphs in sections:
        lines.append((heading, 13))
        for paragraph in paragraphs:
            lines.extend((line, 11) for line in textwrap.wrap(paragraph, 88))
            lines.append(("", 11))
    per_page = 48
    pages = [lines[start : start + per_page] for start in range(0, len(lines), per_page)]
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")
    pages_id = add(b"")
    regular = add(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    bold = add(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
    )
    kids: list[int] = []
    for page in pages:
        stream = ["BT", "56 790 Td"]
        for text, size in page:
            font = "/F2" if size > 11 else "/F1"
            stream.append(f"{font} {size} Tf")
            stream.append(f"{_pdf_text(text)} Tj")
            stream.append(f"0 -{size + 5} Td")
        stream.append("ET")
        content = "\n".join(stream).encode("cp1252")
        content_id = add(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        kids.append(
            add(
                (
                    f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [0 0 595 842] "
                    f"/Resources << /Font << /F1 {regular} 0 R /F2 {bold} 0 R >> >> "
                    f"/Contents {content_id} 0 R >>"
                ).encode()
            )
        )
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages_id} 0 R >>".encode()
    kid_refs = " ".join(f"{kid} 0 R" for kid in kids)
    objects[pages_id - 1] = f"<< /Type /Pages /Kids [{kid_refs}] /Count {len(kids)} >>".encode()
    info = add(b"<< /Title " + _pdf_text(title).encode("cp1252") + b" /Producer (Bergwind) >>")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        catalog,
        info,
        xref,
    )
    path.write_bytes(bytes(out))


def main() -> None:
    """Write the four generated documents next to the hand-written ones."""
    write_pdf(DOCUMENTS / "ebike-battery.pdf", EBIKE_BATTERY)
    write_pdf(DOCUMENTS / "zakelijk-leasen.pdf", LEASING_NL)
    write_docx(DOCUMENTS / "werkstatt-service.docx", WORKSHOP_DE, "de-AT")
    write_docx(DOCUMENTS / "noleggio.docx", RENTAL_IT, "it-IT")


if __name__ == "__main__":
    main()
