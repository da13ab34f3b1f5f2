"""Test documents built in code: PDFs (Latin, CJK, scanned), .docx files and a zip bomb."""

from __future__ import annotations

import io
import zipfile


def _pdf(objects: list[bytes]) -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def _stream(content: bytes) -> bytes:
    return b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"


def text_pdf(pages: list[list[str]]) -> bytes:
    """A PDF whose pages hold these lines in Helvetica (an empty list makes an image-only page)."""
    page_count = len(pages)
    kids = " ".join(f"{3 + 2 * index} 0 R" for index in range(page_count)).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % page_count,
    ]
    font_number = 3 + 2 * page_count
    for index, lines in enumerate(pages):
        content = b"BT /F1 12 Tf 72 750 Td 14 TL\n"
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            content += b"(" + escaped.encode("latin-1") + b") Tj T*\n"
        content += b"ET"
        if not lines:  # a scanned page: a grey rectangle and no text
            content = b"0.5 g 72 72 400 600 re f"
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (4 + 2 * index, font_number)
        )
        objects.append(_stream(content))
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    return _pdf(objects)


def cjk_pdf(text: str) -> bytes:
    """A PDF with CJK text in a CID font whose ToUnicode map gives the characters back."""
    chars = sorted(set(text))
    cid = {char: index + 1 for index, char in enumerate(chars)}
    shown = "".join(f"{cid[char]:04X}" for char in text).encode()
    cmap = (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        b"/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n"
        b"1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
        + b"%d beginbfchar\n" % len(chars)
        + b"".join(b"<%04X> <%04X>\n" % (cid[char], ord(char)) for char in chars)
        + b"endbfchar\nendcmap CMapName currentdict /CMap defineresource pop end end"
    )
    content = b"BT /F1 12 Tf 72 750 Td <" + shown + b"> Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        _stream(content),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /NotoSansCJK /Encoding /Identity-H "
        b"/DescendantFonts [6 0 R] /ToUnicode 7 0 R >>",
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /NotoSansCJK "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
        b"/DW 1000 >>",
        _stream(cmap),
    ]
    return _pdf(objects)


def encrypted_pdf(lines: list[str], password: str = "s3cret") -> bytes:
    """A text PDF that opens only with a password."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf([lines]))))
    writer.encrypt(user_password=password, owner_password=password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_file(title: str, sections: list[tuple[str, list[str]]]) -> bytes:
    """A .docx with a title, Heading 1 sections and paragraphs."""
    import docx

    document = docx.Document()
    document.add_heading(title, level=0)
    for heading, paragraphs in sections:
        document.add_heading(heading, level=1)
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zip_bomb_docx() -> bytes:
    """A .docx whose one extra part unpacks to 300 MB of zeros (a few hundred KB packed)."""
    base = docx_file("Bomb", [("Section", ["Hello"])])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        info = zipfile.ZipInfo("word/media/padding.bin")
        info.compress_type = zipfile.ZIP_DEFLATED
        with target.open(info, "w") as handle:
            block = b"\0" * (1024 * 1024)
            for _ in range(300):
                handle.write(block)
    return out.getvalue()
