"""Builders of real documents for tests: PDFs, Word and ODF files, hostile ones included."""

from __future__ import annotations

import functools
import io
import struct
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import escape

import docx
from fpdf import FPDF
from PIL import Image, ImageDraw
from pypdf import PdfReader, PdfWriter

UNICODE_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
"""A Unicode TTF (Debian package fonts-dejavu-core); without it PDFs use a core font and
latin-1 text, so French accents still work but other scripts become "?"."""


# --- PDF ---------------------------------------------------------------------------------


def make_pdf(pages: Sequence[str]) -> bytes:
    """Return a PDF with one page per string, the text laid out as real, extractable text."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    encode: Callable[[str], str]
    if UNICODE_FONT.exists():
        pdf.add_font("DejaVu", fname=str(UNICODE_FONT))
        pdf.set_font("DejaVu", size=10)
        encode = str
    else:
        pdf.set_font("Helvetica", size=10)
        encode = _latin1
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 5, encode(text))
    return bytes(pdf.output())


def _latin1(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2013", "-").replace("\u2014", "-")
    return text.encode("latin-1", "replace").decode("latin-1")


def make_scanned_pdf() -> bytes:
    """Return a one-page PDF holding only an image of a letter: no text layer at all."""
    image = Image.new("L", (600, 800), color=255)
    draw = ImageDraw.Draw(image)
    draw.text((40, 40), "Dear Sir or Madam, I am writing to apply.", fill=0)
    for y in range(100, 700, 20):
        draw.line((40, y, 560, y), fill=96, width=3)
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.image(image, x=10, y=10, w=190)
    return bytes(pdf.output())


def make_encrypted_pdf(
    user_password: str = "secret", owner_password: str = "owner", *, aes: bool = True
) -> bytes:
    """Return a PDF encrypted with AES-256 or RC4-128; an empty user password opens it."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(["Confidential application"]))))
    writer.encrypt(user_password, owner_password, algorithm="AES-256" if aes else "RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_owner_only_pdf(*, aes: bool = False) -> bytes:
    """Return a PDF with only an owner password (printing and copying restricted)."""
    return make_encrypted_pdf("", "owner", aes=aes)


def make_truncated_pdf() -> bytes:
    """Return the first half of a real PDF, as a broken upload or a cut message leaves it."""
    data = make_pdf(["Curriculum vitae", "References"])
    return data[: len(data) // 2]


def _stream(data: bytes, dictionary: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n%s\nendstream" % (len(data), dictionary, data)


def _assemble_pdf(objects: Sequence[bytes]) -> bytes:
    """Number ``objects`` from 1 (object 1 is the catalog) and add a classic xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


_CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
_PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] %s>>"


def make_many_pages_pdf(n: int) -> bytes:
    """Return a PDF with ``n`` empty pages (cheap to build even for tens of thousands)."""
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(n))
    pages = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n)
    return _assemble_pdf([_CATALOG, pages, *([_PAGE % b""] * n)])


def make_lying_count_pdf(declared: int = 1_000_000_000) -> bytes:
    """Return a one-page PDF whose page tree claims ``declared`` pages."""
    pages = b"<< /Type /Pages /Kids [3 0 R] /Count %d >>" % declared
    return _assemble_pdf([_CATALOG, pages, _PAGE % b""])


def make_slow_text_pdf(pages: int = 50) -> bytes:
    """Return a PDF whose page count is instant but whose text takes about 0.3 s a page.

    Every page shares one content stream of 95,000 tokens of tiny text operations, just
    under the worker's parsing limit: what a slow, not hostile, document looks like.
    """
    content = b"BT /F1 1 Tf (a) Tj ET " * 19_000
    font = (
        b"/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> "
    )
    kids = b" ".join(b"%d 0 R" % (4 + i) for i in range(pages))
    tree = b"<< /Type /Pages /Kids [%s] /Count %d %s>>" % (kids, pages, font)
    stream = _stream(zlib.compress(content, 9), b"/Filter /FlateDecode ")
    return _assemble_pdf([_CATALOG, tree, stream, *([_PAGE % b"/Contents 3 0 R "] * pages)])


def make_nested_pdf(depth: int) -> bytes:
    """Return a PDF whose catalog holds arrays nested ``depth`` deep (recursion bomb)."""
    catalog = b"<< /Type /Catalog /Pages 2 0 R /Nested %s%s >>" % (b"[" * depth, b"]" * depth)
    pages = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
    return _assemble_pdf([catalog, pages, _PAGE % b""])


def make_cyclic_pdf() -> bytes:
    """Return a PDF whose page tree loops: /Pages 2 -> /Pages 3 -> /Pages 2."""
    return _assemble_pdf(
        [
            _CATALOG,
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>",
        ]
    )


def make_annotation_flood_pdf(n: int) -> bytes:
    """Return a one-page PDF whose page has ``n`` link annotations, each a tiny object."""
    annotations = [b"<< /Type /Annot /Subtype /Link /Rect [0 0 1 1] >>"] * n
    refs = b" ".join(b"%d 0 R" % (4 + i) for i in range(n))
    pages = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
    return _assemble_pdf([_CATALOG, pages, _PAGE % (b"/Annots [%s] " % refs), *annotations])


def make_cyclic_action_pdf() -> bytes:
    """Return a PDF whose open action's ``/Next`` chain loops back on itself, with a script."""
    catalog = b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>"
    pages = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
    first = b"<< /Type /Action /S /GoTo /D [3 0 R /Fit] /Next 5 0 R >>"
    second = b"<< /Type /Action /S /JavaScript /JS (app.alert(1)) /Next 4 0 R >>"
    return _assemble_pdf([catalog, pages, _PAGE % b"", first, second])


def make_automatic_goto_pdf() -> bytes:
    """Return a PDF whose page, when opened, jumps to itself: an automatic action, no script."""
    pages = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
    return _assemble_pdf([_CATALOG, pages,
                          _PAGE % b"/AA << /O << /S /GoTo /D [3 0 R /Fit] >> >> "])


@functools.cache
def _bomb_stream(prefix: bytes, size: int) -> bytes:
    """Deflate ``prefix`` followed by ``size`` bytes of spaces (about 1,000:1)."""
    compressor = zlib.compressobj(9)
    head = compressor.compress(prefix)
    chunk = b" " * 1_000_000
    body = b"".join(compressor.compress(chunk) for _ in range(size // len(chunk)))
    return head + body + compressor.flush()


def make_pdf_bomb(
    where: Literal["object-stream", "content"] = "object-stream", inflated: int = 100_000_000
) -> bytes:
    """Return a small PDF (about 100 KB) with a stream inflating to ``inflated`` bytes.

    ``"object-stream"`` hides the catalog and page tree in the bomb, so merely opening the
    file inflates it; ``"content"`` makes the page's content stream the bomb, so the page
    count is fine and only text extraction meets it.
    """
    if where == "content":
        content = _stream(
            _bomb_stream(b"BT /F1 12 Tf 72 720 Td (bomb) Tj ET\n", inflated),
            b"/Filter /FlateDecode ",
        )
        pages = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
        return _assemble_pdf([_CATALOG, pages, _PAGE % b"/Contents 4 0 R ", content])
    objects = [_CATALOG, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", _PAGE % b""]
    offsets, body = [], b""
    for number, obj in enumerate(objects, 1):
        offsets.append(b"%d %d" % (number, len(body)))
        body += obj + b"\n"
    index = b" ".join(offsets) + b"\n"
    data = _bomb_stream(index + body, inflated)
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    objstm_at = len(out)
    out += b"4 0 obj\n%s\nendobj\n" % _stream(
        data, b"/Type /ObjStm /N 3 /First %d /Filter /FlateDecode " % len(index)
    )
    xref_at = len(out)
    rows = [b"\x00" + struct.pack(">IH", 0, 0xFFFF)]
    rows += [b"\x02" + struct.pack(">IH", 4, i) for i in range(3)]
    rows += [b"\x01" + struct.pack(">IH", objstm_at, 0), b"\x01" + struct.pack(">IH", xref_at, 0)]
    out += b"5 0 obj\n%s\nendobj\n" % _stream(
        b"".join(rows), b"/Type /XRef /Size 6 /W [1 4 2] /Root 1 0 R "
    )
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


_LETTER = {
    "en": (
        "Jane Doe\nRue de la Loi 155, 1040 Brussels, Belgium\n"
        "jane.doe@example.org | +32 470 12 34 56\n\n"
        "Brussels, 12 May 2026\n\nDear Sir or Madam,\n\n"
        "I am writing to apply for the post of Officer - Democratic Resilience and Partnerships. "
        "I worked in Ukraine for three years with the Ukrainian parliament and its committees, "
        "and I would welcome the chance to bring that experience to the Assembly.\n\n"
        "Yours faithfully,\nJane Doe"
    ),
    "fr": (
        "Jeanne Dupont\nRue de la Loi 155, 1040 Bruxelles, Belgique\n"
        "jeanne.dupont@example.org | +32 470 12 34 56\n\n"
        "Bruxelles, le 12 mai 2026\n\nMadame, Monsieur,\n\n"
        "Je souhaite postuler au poste d’Officier – Résilience démocratique et partenariats. "
        "J’ai travaillé en Ukraine pendant trois ans auprès du parlement ukrainien.\n\n"
        "Je vous prie d’agréer, Madame, Monsieur, l’expression de mes salutations distinguées.\n"
        "Jeanne Dupont"
    ),
}
_CV = {
    "en": (
        "CURRICULUM VITAE\n\nJane Doe\nRue de la Loi 155, 1040 Brussels, Belgium\n"
        "jane.doe@example.org | +32 470 12 34 56\n{nationality}\n"
        "Professional experience\n2021-2026 Programme Officer, Kyiv, Ukraine\n"
        "2018-2021 Research Assistant, Brussels\n\n"
        "Education\n2018 Master in International Relations, KU Leuven\n\n"
        "Languages\nEnglish, French, Ukrainian\n\nSkills\nDrafting, research, project management"
    ),
    "fr": (
        "CURRICULUM VITAE\n\nJeanne Dupont\nRue de la Loi 155, 1040 Bruxelles, Belgique\n"
        "jeanne.dupont@example.org | +32 470 12 34 56\n{nationality}\n"
        "Expérience professionnelle\n2021-2026 Chargée de programme, Kiev, Ukraine\n\n"
        "Formation\n2018 Master en relations internationales, UCLouvain\n\n"
        "Langues\nfrançais, anglais, ukrainien\n\nCompétences\nRédaction, recherche"
    ),
}
_NATIONALITY_LABEL = {"en": "Nationality: {}", "fr": "Nationalité : {}"}
_REFERENCES_HEADING = {"en": "References", "fr": "Références"}
REFEREES = (
    "Dr Anna Kowalska\nProfessor, University of Warsaw\nanna.kowalska@uw.edu.pl\n+48 22 552 10 00",
    (
        "Mr John Smith\nDirector, Centre for Security Studies, London\n"
        "E-mail: j.smith@css.example.org | Tel. +44 20 7946 0000"
    ),
    "Mme Claire Martin, Cheffe d’unité, Parlement européen\nclaire.martin@europarl.example.eu",
    "Prof. Lars Nilsson\nStockholm University\nPhone: +46 8 16 20 00",
    "Ms Ioana Popescu, Senior Adviser\nioana.popescu@example.ro, +40 21 305 46 00",
)
"""Referees in the varied layouts candidates use; each has an e-mail address, a phone or both."""


def make_application_pdf(
    letter: bool = True,
    cv: bool = True,
    nationality: str | None = "Belgian",
    references: int = 3,
    language: Literal["en", "fr"] = "en",
) -> bytes:
    """Return a one-PDF application: letter, CV (with a nationality line) and referees.

    ``nationality`` is written as given after the language's label ("Nationality: ...",
    "Nationalité : ..."), so pass the language's own word ("Belgian", "belge"); ``None``
    leaves the line out. ``references`` referees (at most 5) follow a References heading.
    """
    pages = []
    if letter:
        pages.append(_LETTER[language])
    if cv:
        line = _NATIONALITY_LABEL[language].format(nationality) if nationality else ""
        pages.append(_CV[language].format(nationality=line))
    if references:
        pages.append("\n\n".join([_REFERENCES_HEADING[language], *REFEREES[:references]]))
    return make_pdf(pages or ["Application"])


def make_marked_pdf(marker: bytes, pdf: bytes | None = None) -> bytes:
    """Return a valid PDF (by default an application) whose Info dictionary carries ``marker``.

    The Info dictionary is written uncompressed, so the marker's bytes stand in the file
    as they are: what a body signature of the test clamd looks for.
    """
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf or make_application_pdf())))
    writer.add_metadata({"/Keywords": marker.decode("ascii")})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


ActiveKind = Literal[
    "javascript-on-open", "document-javascript", "launch-on-open", "page-automatic-action",
    "link-javascript", "link-launch", "field-javascript", "bookmark-javascript",
    "embedded-file", "file-attachment-annotation", "open-at-first-page", "web-link",
]


def make_active_pdf(kind: ActiveKind) -> bytes:
    """Return an application PDF with one kind of active content, as PDF tools write it.

    The last two kinds are harmless look-alikes: an open action that only shows the first
    page, and a link to a web page.
    """
    from pypdf.generic import (
        ArrayObject,
        DictionaryObject,
        FloatObject,
        NameObject,
        TextStringObject,
    )

    def name(value: str) -> NameObject:
        return NameObject(value)

    def action(kind: str, **entries: object) -> DictionaryObject:
        result = DictionaryObject({name("/Type"): name("/Action"), name("/S"): name(kind)})
        for key, value in entries.items():
            result[name(f"/{key}")] = value  # type: ignore[assignment]
        return result

    script = TextStringObject("app.alert('hello');")
    launch = action("/Launch", F=TextStringObject("calc.exe"))
    rectangle = ArrayObject([FloatObject(x) for x in (72, 72, 144, 144)])
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_application_pdf())))
    page = writer.pages[0]
    root = writer._root_object

    def annotate(annotation: DictionaryObject) -> DictionaryObject:
        annotation.update({name("/Type"): name("/Annot"), name("/Rect"): rectangle})
        reference = writer._add_object(annotation)
        page[name("/Annots")] = ArrayObject([reference])
        return annotation

    if kind == "javascript-on-open":
        root[name("/OpenAction")] = writer._add_object(action("/JavaScript", JS=script))
    elif kind == "document-javascript":
        tree = DictionaryObject({name("/Names"): ArrayObject([
            TextStringObject("check"), writer._add_object(action("/JavaScript", JS=script))])})
        root[name("/Names")] = DictionaryObject({name("/JavaScript"): tree})
    elif kind == "launch-on-open":
        root[name("/OpenAction")] = launch
    elif kind == "page-automatic-action":
        page[name("/AA")] = DictionaryObject({name("/O"): action("/JavaScript", JS=script)})
    elif kind == "link-javascript":
        annotate(DictionaryObject({name("/Subtype"): name("/Link"),
                                   name("/A"): action("/JavaScript", JS=script)}))
    elif kind == "link-launch":
        annotate(DictionaryObject({name("/Subtype"): name("/Link"), name("/A"): launch}))
    elif kind == "field-javascript":
        field = annotate(DictionaryObject({
            name("/Subtype"): name("/Widget"), name("/FT"): name("/Tx"),
            name("/T"): TextStringObject("nationality"),
            name("/AA"): DictionaryObject({name("/K"): action("/JavaScript", JS=script)})}))
        root[name("/AcroForm")] = DictionaryObject(
            {name("/Fields"): ArrayObject([writer._add_object(field)])})
    elif kind == "bookmark-javascript":
        writer.add_outline_item(title="Letter", page_number=0)
        outlines = root["/Outlines"]
        outlines["/First"].get_object()[name("/A")] = action("/JavaScript", JS=script)
    elif kind == "embedded-file":
        writer.add_attachment("payload.txt", b"not a CV")
    elif kind == "file-attachment-annotation":
        annotate(DictionaryObject({name("/Subtype"): name("/FileAttachment"),
                                   name("/Contents"): TextStringObject("payload.txt")}))
    elif kind == "open-at-first-page":
        root[name("/OpenAction")] = ArrayObject([page.indirect_reference, name("/Fit")])
    elif kind == "web-link":
        annotate(DictionaryObject({name("/Subtype"): name("/Link"), name("/A"): action(
            "/URI", URI=TextStringObject("https://example.org/"))}))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- Word and OpenDocument ---------------------------------------------------------------


def make_docx(paragraphs: Sequence[str]) -> bytes:
    """Return a .docx written by python-docx with one paragraph per string."""
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    b'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>'
)


def make_docx_package(document_xml: bytes) -> bytes:
    """Return a minimal docx-shaped zip around a raw ``word/document.xml`` (for hostile XML)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("word/document.xml", document_xml)
    return out.getvalue()


_ODT_MIMETYPE = "application/vnd.oasis.opendocument.text"
_ODT_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3"'
)


def make_odt(
    paragraphs: Sequence[str] = (), *, content_xml: bytes | None = None, encrypted: bool = False
) -> bytes:
    """Return an .odt built by hand, as LibreOffice lays it out (``mimetype`` first, stored).

    ``content_xml`` replaces the generated ``content.xml`` (for hostile XML); ``encrypted``
    declares the content encrypted in the manifest, as a password-protected file does.
    """
    if content_xml is None:
        body = "".join(f"<text:p>{escape(p)}</text:p>" for p in paragraphs)
        content_xml = (
            f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODT_NAMESPACES}>'
            f"<office:body><office:text>{body}</office:text></office:body></office:document-content>"
        ).encode()
    encryption = '<manifest:encryption-data manifest:checksum-type="SHA1"/>' if encrypted else ""
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
        '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{_ODT_MIMETYPE}"/>'
        f'<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">'
        f"{encryption}</manifest:file-entry></manifest:manifest>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", _ODT_MIMETYPE, zipfile.ZIP_STORED)
        archive.writestr("content.xml", content_xml, zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def make_zip_bomb(kind: Literal["docx", "odt"], inflated: int = 50_000_000) -> bytes:
    """Return a docx or odt of about 50 KB whose body XML inflates to ``inflated`` bytes."""
    padding = " " * inflated
    if kind == "docx":
        xml = f'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">{padding}</w:document>'
        return make_docx_package(xml.encode())
    xml = f"<office:document-content {_ODT_NAMESPACES}>{padding}</office:document-content>"
    return make_odt(content_xml=xml.encode())


ENTITY_BOMB_XML = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lollollollollollollollollollol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b']><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    b"<w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"
)
"""A "billion laughs" document.xml: 10^9 copies of "lol" if entities were expanded."""


# --- Word 97-2003 (.doc) -----------------------------------------------------------------

_FREE, _END_OF_CHAIN, _FAT_SECTOR, _NO_STREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
_SECTOR = 512


def make_doc(paragraphs: Sequence[str], *, encrypted: bool = False) -> bytes:
    """Return a Word 97-2003 .doc: an OLE2 file whose text is reached through a piece table.

    The first half of the text is stored as an 8-bit (cp1252) piece when it can be, the
    rest as a UTF-16 piece, as Word does after edits. ``encrypted`` sets the FIB's
    encryption flag.
    """
    text = "".join(p + "\r" for p in paragraphs)
    middle = len(text) // 2
    try:
        first = text[:middle].encode("cp1252")
        compressed = True
    except UnicodeEncodeError:
        first, compressed = text[:middle].encode("utf-16-le"), False
    second = text[middle:].encode("utf-16-le")
    text_at = 0x800
    second_at = text_at + len(first) + len(first) % 2
    fc_first = (text_at * 2) | 0x40000000 if compressed else text_at
    plc = struct.pack("<3I", 0, middle, len(text))
    plc += struct.pack("<HIH", 0, fc_first, 0) + struct.pack("<HIH", 0, second_at, 0)
    clx = b"\x02" + struct.pack("<I", len(plc)) + plc

    word = bytearray(max(4096, second_at + len(second)))
    struct.pack_into("<HH", word, 0, 0xA5EC, 0x00C1)
    struct.pack_into("<H", word, 0x0A, 0x0200 | (0x0100 if encrypted else 0))  # 1Table
    struct.pack_into("<i", word, 0x4C, len(text))
    struct.pack_into("<II", word, 0x1A2, 0, len(clx))
    word[text_at : text_at + len(first)] = first
    word[second_at : second_at + len(second)] = second
    return make_ole({"WordDocument": bytes(word), "1Table": clx})


def make_ole(streams: dict[str, bytes]) -> bytes:
    """Return an OLE2 compound file (version 3) holding ``streams`` in its root storage.

    Streams are padded to the 4,096-byte mini-stream cutoff so that all live in regular
    sectors; at most about 60 KB in all (one FAT sector).
    """
    body = bytearray()
    fat: list[int] = []
    entries = []
    for name, data in streams.items():
        padded = data.ljust(max(4096, -(-len(data) // _SECTOR) * _SECTOR), b"\0")
        start, count = len(fat), len(padded) // _SECTOR
        fat += [*range(start + 1, start + count), _END_OF_CHAIN]
        body += padded
        entries.append((name, start, len(padded)))
    # A directory is a binary tree ordered by name length, then name: a right-leaning chain
    # of siblings is a valid (if unbalanced) one.
    entries.sort(key=lambda e: (len(e[0]), e[0].upper()))
    directory = _ole_entry(
        "Root Entry", 5, child=1 if entries else _NO_STREAM, start=_END_OF_CHAIN, size=0
    )
    for index, (name, start, size) in enumerate(entries, 1):
        right = index + 1 if index < len(entries) else _NO_STREAM
        directory += _ole_entry(name, 2, right=right, start=start, size=size)
    directory = directory.ljust(-(-len(directory) // _SECTOR) * _SECTOR, b"\0")
    directory_start = len(fat)
    count = len(directory) // _SECTOR
    fat += [*range(directory_start + 1, directory_start + count), _END_OF_CHAIN]
    fat_sector = len(fat)
    fat.append(_FAT_SECTOR)
    assert len(fat) <= _SECTOR // 4, "make_ole holds one FAT sector of streams"
    fat += [_FREE] * (_SECTOR // 4 - len(fat))
    header = bytes.fromhex("D0CF11E0A1B11AE1") + bytes(16)
    header += struct.pack(
        "<HHHHH6xIIIIIIIII",
        0x3E,
        3,
        0xFFFE,
        9,
        6,
        0,
        1,
        directory_start,
        0,
        4096,
        _END_OF_CHAIN,
        0,
        _END_OF_CHAIN,
        0,
    )
    header += struct.pack("<109I", fat_sector, *([_FREE] * 108))
    return header + bytes(body) + directory + struct.pack(f"<{len(fat)}I", *fat)


def _ole_entry(
    name: str, kind: int, *, right: int = _NO_STREAM, child: int = _NO_STREAM, start: int, size: int
) -> bytes:
    encoded = name.encode("utf-16-le") + b"\0\0"
    return struct.pack(
        "<64sHBBIII16sIQQIQ",
        encoded,
        len(encoded),
        kind,
        1,
        _NO_STREAM,
        right,
        child,
        bytes(16),
        0,
        0,
        0,
        start,
        size,
    )
