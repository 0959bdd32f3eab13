"""Format readers for PDF, Word (docx, doc) and ODF text; they run inside the inspection worker.

Every reader here parses hostile bytes. They bound what they can (pypdf limits, zip member
sizes, XML without DTDs, OLE stream sizes checked against the file size) and raise
:class:`UnreadableDocument` with a one-line reason; whatever slips through is caught by the
worker's time and memory limits (see :mod:`intake_bot.documents.worker`). The service process
never imports this module, so a PDF library bug cannot touch it.
"""

from __future__ import annotations

import io
import struct
import xml.parsers.expat
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import olefile
from pypdf import PasswordType, PdfReader

TEXT_LIMIT = 2_000_000
"""Characters of extracted text handed back at most, so a rule never gets a giant string."""

XML_LIMIT = 20_000_000
"""Bytes of uncompressed XML read at most from one docx/odt part (declared and actual)."""

_CHUNK = 65_536

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006}"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0}"


class UnreadableDocument(Exception):
    """The document cannot be read; the message is one line, safe to show and log."""


class EncryptedDocument(UnreadableDocument):
    """The document needs a password to be opened."""


@dataclass(frozen=True)
class PdfOpened:
    """A PDF that opened: its reader (kept for text extraction) and page count."""

    reader: PdfReader
    pages: int


def open_pdf(data: bytes) -> PdfOpened:
    """Open a PDF and count its pages; raise EncryptedDocument when it needs a user password.

    An owner-password-only PDF (printing or copying restricted) opens with the empty user
    password, which pypdf tries by itself; it is readable, not encrypted.
    """
    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
        raise EncryptedDocument("encrypted: needs a password to open")
    return PdfOpened(reader=reader, pages=len(reader.pages))


def pdf_text(opened: PdfOpened) -> tuple[str, int]:
    """Extract the text of every page, up to TEXT_LIMIT characters.

    Returns the text (``""`` when no page has any) and the number of pages whose text could
    not be extracted: a page with a hostile or overly complex content stream costs that
    page's text, not the whole document's (the page count already proved it readable).
    """
    parts: list[str] = []
    size = 0
    skipped = 0
    for page in opened.reader.pages:
        try:
            page_text = page.extract_text()
        except MemoryError:
            raise  # the worker must recycle itself; never swallow this one
        except Exception:  # noqa: BLE001 - any parser failure on hostile input costs one page
            skipped += 1
            continue
        parts.append(page_text)
        size += len(page_text) + 1
        if size >= TEXT_LIMIT:
            break
    text = "\n".join(parts)[:TEXT_LIMIT]
    # Empty pages still add line breaks; a scan must come back as "" to read as "no text".
    return (text if text.strip() else ""), skipped


def docx_text(data: bytes) -> str:
    """Return the body text of a .docx (``word/document.xml``), one line per paragraph.

    Only ``w:t`` runs count (deleted text and field codes do not); the VML fallback copy of
    each text box (``mc:Fallback``) is skipped so that its words are not counted twice.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return _xml_text(
            _member_chunks(archive, "word/document.xml"),
            capture={_W + "t"},
            breaks={_W + "tab": _fixed("\t"), _W + "br": _fixed("\n"), _W + "cr": _fixed("\n")},
            paragraph=_W + "p",
            skip={_MC + "Fallback"},
        )


def odt_text(data: bytes) -> str:
    """Return the body text of an .odt (``office:text`` in ``content.xml``).

    Annotations (comments) and tracked deletions are left out; ``text:s`` runs of spaces,
    tabs and line breaks are kept so that words are separated as the reader sees them.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if b"encryption-data" in b"".join(_member_chunks(archive, "META-INF/manifest.xml")):
            raise EncryptedDocument("encrypted: needs a password to open")
        return _xml_text(
            _member_chunks(archive, "content.xml"),
            capture={_TEXT + "p", _TEXT + "h"},
            breaks={
                _TEXT + "s": _odf_spaces,
                _TEXT + "tab": _fixed("\t"),
                _TEXT + "line-break": _fixed("\n"),
            },
            paragraph=None,
            skip={_OFFICE + "annotation", _TEXT + "tracked-changes", _TEXT + "note-citation"},
        )


def _fixed(value: str) -> Callable[[dict[str, str]], str]:
    return lambda _attrs: value


def _odf_spaces(attrs: dict[str, str]) -> str:
    # text:c is attacker-controlled; a run of spaces never needs to be long to split words.
    count = attrs.get(_TEXT + "c", "1")
    return " " * (min(int(count), 100) if count.isdecimal() and len(count) < 6 else 1)


def _member_chunks(archive: zipfile.ZipFile, name: str) -> Iterator[bytes]:
    """Yield one zip member's bytes, refusing zip bombs by declared and by actual size."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise UnreadableDocument(f"damaged: no {name} in the package") from None
    if info.flag_bits & 0x1:
        raise EncryptedDocument("encrypted: needs a password to open")
    # Only the methods office suites write; bzip2/lzma members inflate without a bound per
    # read in zipfile, deflate is read with a maximum output length.
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise UnreadableDocument(f"damaged: unsupported compression in {name}")
    if info.file_size > XML_LIMIT:
        raise UnreadableDocument(f"limit reached: {name} declares {info.file_size} bytes")
    total = 0
    with archive.open(info) as member:
        while chunk := member.read(_CHUNK):
            total += len(chunk)
            if total > XML_LIMIT:
                raise UnreadableDocument(f"limit reached: {name} inflates beyond {XML_LIMIT} bytes")
            yield chunk


def _xml_text(
    chunks: Iterator[bytes],
    *,
    capture: set[str],
    breaks: dict[str, Callable[[dict[str, str]], str]],
    paragraph: str | None,
    skip: set[str],
) -> str:
    """Stream-parse XML and collect the character data inside ``capture`` elements.

    Uses expat directly (no tree in memory) and refuses any DOCTYPE, so no entity can be
    declared, let alone expanded or fetched: office documents never carry one.
    ``paragraph`` ends a line when it closes (for docx, where text sits in ``w:t`` runs
    inside ``w:p``); capture elements themselves end a line otherwise (ODF paragraphs).
    """
    parts: list[str] = []
    capturing = 0
    skipping = 0

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal capturing, skipping
        if name in skip:
            skipping += 1
        elif name in capture:
            capturing += 1
        elif skipping == 0 and name in breaks:
            parts.append(breaks[name](attrs))

    def end(name: str) -> None:
        nonlocal capturing, skipping
        if name in skip:
            skipping -= 1
        elif name in capture:
            capturing -= 1
            if paragraph is None and skipping == 0:
                parts.append("\n")
        elif name == paragraph and skipping == 0:
            parts.append("\n")

    def data(text: str) -> None:
        if capturing and not skipping:
            parts.append(text)

    def refuse_doctype(*_args: object) -> None:
        raise UnreadableDocument("damaged: XML with a DOCTYPE is not an office document")

    parser = xml.parsers.expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.EntityDeclHandler = refuse_doctype
    try:
        for chunk in chunks:
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except xml.parsers.expat.ExpatError as error:
        raise UnreadableDocument(f"damaged: {error}") from None
    return "".join(parts)


# Word 97-2003 (.doc): the text is reached through the piece table ([MS-DOC] 2.4.1).
_FIB_IDENT = 0xA5EC
_FIB_FLAGS_ENCRYPTED = 0x0100
_FIB_FLAGS_TABLE1 = 0x0200
_FIB_NFIB_WORD95 = 0x0068  # Word 6 wrote 0x0065, Word 95 0x0068; Word 97 and later 0x00C1
_FIB_CCP_TEXT = 0x004C
_FIB_FC_CLX = 0x01A2
_PIECE_COMPRESSED = 0x40000000
# Control characters in Word text: paragraph, cell, line, page and section marks become
# line ends; objects and anchors are dropped; the two special hyphens are resolved.
_DOC_CONTROLS = str.maketrans(
    {"\r": "\n", "\x07": "\n", "\x0b": "\n", "\x0c": "\n", "\x1e": "-", "\x1f": ""}
    | {
        chr(c): " "
        for c in range(0x20)
        if c not in (0x09, 0x0A, 0x0D, 0x07, 0x0B, 0x0C, 0x1E, 0x1F)
    }
)


def doc_text(data: bytes) -> str:
    """Return the main body text of a Word 97-2003 .doc, best effort.

    Reads the File Information Block of the ``WordDocument`` stream, follows the piece
    table in the ``0Table``/``1Table`` stream and decodes each piece (cp1252 or UTF-16).
    Field instructions (between field begin and separator marks) are dropped, their
    results kept. Word 6/95 files and encrypted files are refused.
    """
    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        word = _ole_stream(ole, "WordDocument", len(data))
        if len(word) < _FIB_FC_CLX + 8 or struct.unpack_from("<H", word, 0)[0] != _FIB_IDENT:
            raise UnreadableDocument("damaged: no Word file information block")
        (nfib,) = struct.unpack_from("<H", word, 2)
        (flags,) = struct.unpack_from("<H", word, 0x0A)
        if flags & _FIB_FLAGS_ENCRYPTED:
            raise EncryptedDocument("encrypted: needs a password to open")
        if nfib <= _FIB_NFIB_WORD95:
            raise UnreadableDocument("damaged: Word 6/95 files are not supported")
        table = _ole_stream(ole, "1Table" if flags & _FIB_FLAGS_TABLE1 else "0Table", len(data))
    (ccp_text,) = struct.unpack_from("<i", word, _FIB_CCP_TEXT)
    fc_clx, lcb_clx = struct.unpack_from("<II", word, _FIB_FC_CLX)
    text = "".join(_doc_pieces(word, table[fc_clx : fc_clx + lcb_clx], max(ccp_text, 0)))
    return _drop_field_codes(text).translate(_DOC_CONTROLS)


def _ole_stream(ole: olefile.OleFileIO, name: str, file_size: int) -> bytes:
    if not ole.exists(name):
        raise UnreadableDocument(f"damaged: no {name} stream")
    # olefile bounds a stream by the FAT size, not the file size; a looping FAT could make
    # it read far more than the file holds.
    if ole.get_size(name) > file_size:
        raise UnreadableDocument(f"damaged: {name} stream larger than the file")
    stream: bytes = ole.openstream(name).read()
    return stream


def _doc_pieces(word: bytes, clx: bytes, ccp_text: int) -> Iterator[str]:
    """Yield the decoded text pieces of the main document, the first ``ccp_text`` characters."""
    pos = 0
    while pos < len(clx) and clx[pos] == 0x01:  # Prc: formatting, skipped
        pos += 3 + struct.unpack_from("<H", clx, pos + 1)[0]
    if pos + 5 > len(clx) or clx[pos] != 0x02:
        raise UnreadableDocument("damaged: no Word piece table")
    (lcb,) = struct.unpack_from("<I", clx, pos + 1)
    plc = clx[pos + 5 : pos + 5 + lcb]
    count = (len(plc) - 4) // 12
    if count <= 0:
        raise UnreadableDocument("damaged: empty Word piece table")
    cps = struct.unpack_from(f"<{count + 1}I", plc, 0)
    for index in range(count):
        start, end = cps[index], min(cps[index + 1], ccp_text)
        if end <= start:
            break
        (fc,) = struct.unpack_from("<I", plc, 4 * (count + 1) + 8 * index + 2)
        if fc & _PIECE_COMPRESSED:
            offset = (fc & ~_PIECE_COMPRESSED) // 2
            yield word[offset : offset + end - start].decode("cp1252", "replace")
        else:
            yield word[fc : fc + 2 * (end - start)].decode("utf-16-le", "replace")


def _drop_field_codes(text: str) -> str:
    """Remove field instructions (\\x13 instruction \\x14 result \\x15), keeping results."""
    out: list[str] = []
    in_instruction: list[bool] = []  # one entry per open field, innermost last
    for char in text:
        if char == "\x13":
            in_instruction.append(True)
        elif char == "\x14" and in_instruction:
            in_instruction[-1] = False
        elif char == "\x15" and in_instruction:
            in_instruction.pop()
        elif not (in_instruction and in_instruction[-1]):
            out.append(char)
    return "".join(out)


def count_words(text: str) -> int:
    """Count words as a word processor does: runs of characters between white space."""
    return len(text.split())


WORD_READERS: dict[str, Callable[[bytes], str]] = {
    "docx": docx_text,
    "odt": odt_text,
    "doc": doc_text,
}
"""Body-text reader for each Word/ODF kind."""
