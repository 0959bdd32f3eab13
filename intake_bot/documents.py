"""Recognise an attachment by its content and inspect it (pages, words, text) within bounds.

:func:`sniff` judges the bytes alone (signatures and container structure, never a file name
or declared type) and is cheap enough to run in the service process. :func:`inspect_document`
parses the document in a separate, persistent worker process with a memory limit
(``RLIMIT_AS``), tight pypdf limits and a wall-clock timeout: a decompression bomb, a cyclic
or deeply nested object graph or a parser bug costs one verdict (``readable=False``) and at
worst one worker, which is killed and replaced; it never raises into, nor takes down, the
calling process.
"""

from __future__ import annotations

import io
import logging
import struct
import time
import zipfile
from dataclasses import dataclass
from typing import Literal

from intake_bot.workers import WorkerError, WorkerProcess

logger = logging.getLogger(__name__)

DocumentKind = Literal["pdf", "docx", "doc", "odt", "other"]


@dataclass(frozen=True)
class DocumentInfo:
    """What inspection found out about one attachment.

    ``kind`` comes from the content. ``readable`` is true when the document opened and
    parsed; ``encrypted`` when it needs a user password (a PDF restricted only by an owner
    password opens and is *not* encrypted). ``pages`` is the PDF page count, ``words`` the
    number of words in a Word/ODF body. ``text`` is the extracted text, at most 2,000,000
    characters, only when asked for; ``None`` when not asked, not readable, or extraction
    failed; ``""`` for a PDF with no text layer (a scan). ``error`` is a one-line reason:
    why the document is not readable (``"timed out"``, ``"limit reached: ..."``,
    ``"truncated or damaged: ..."``, ``"encrypted: ..."``), or, for a readable document,
    why (some of) its text could not be extracted.
    """

    kind: DocumentKind
    readable: bool
    encrypted: bool
    pages: int | None
    words: int | None
    text: str | None
    error: str | None


_OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_ZIP_MAGIC = b"PK\x03\x04"
_PDF_MAGIC = b"%PDF-"
_PDF_HEADER_WINDOW = 1024
_ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
_ENCRYPTED = "encrypted: needs a password to open"
# A docx or odt central directory takes a few kilobytes; refusing huge ones keeps zipfile
# from building hundreds of thousands of entries in the service process.
_ZIP_MAX_DIRECTORY = 1_000_000


def sniff(data: bytes) -> DocumentKind:
    """Return the kind of document ``data`` holds, judged by its content only.

    - ``"pdf"``: ``%PDF-`` starts within the first 1,024 bytes (whether it parses is for
      :func:`inspect_document` to say);
    - ``"docx"``: a zip package with ``[Content_Types].xml`` and ``word/document.xml``, or an
      OLE2 file holding an ``EncryptedPackage`` (a password-protected Office Open XML file);
    - ``"odt"``: a zip package whose ``mimetype`` member is
      ``application/vnd.oasis.opendocument.text``;
    - ``"doc"``: an OLE2 compound file (``D0 CF 11 E0 A1 B1 1A E1``) with a ``WordDocument``
      stream;
    - ``"other"``: anything else. Never raises.
    """
    if data.startswith(_OLE_MAGIC):
        if _has_ole_stream(data, "WordDocument"):
            return "doc"
        return "docx" if _has_ole_stream(data, "EncryptedPackage") else "other"
    if data.startswith(_ZIP_MAGIC):
        return _sniff_zip(data)
    return (
        "pdf"
        if data.find(_PDF_MAGIC, 0, _PDF_HEADER_WINDOW + len(_PDF_MAGIC) - 1) >= 0
        else "other"
    )


def _has_ole_stream(data: bytes, name: str) -> bool:
    """Look for a stream's directory entry without parsing the FAT (bounded, linear)."""
    needle = name.encode("utf-16-le") + b"\0\0"
    entry_name_length = struct.pack("<H", len(needle))
    pos = data.find(needle, 512)
    while pos >= 0:
        # Directory entries are 128 bytes, aligned on sector boundaries (512 or 4096), with
        # the name's byte length at offset 64 and the object type (2 = stream) at 66.
        if pos % 128 == 0 and data[pos + 64 : pos + 67] == entry_name_length + b"\x02":
            return True
        pos = data.find(needle, pos + 1)
    return False


def _sniff_zip(data: bytes) -> DocumentKind:
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or len(data) < end + 22 or data[max(0, end - 20) : end].startswith(b"PK\x06\x07"):
        return "other"  # no end record, or Zip64, which office suites never need for a letter
    if struct.unpack_from("<I", data, end + 12)[0] > _ZIP_MAX_DIRECTORY:
        return "other"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if {"[Content_Types].xml", "word/document.xml"} <= names:
                return "docx"
            if "mimetype" in names and _small_member(archive, "mimetype").strip() == _ODT_MIMETYPE:
                return "odt"
    except Exception:  # noqa: BLE001 - zipfile raises many types on damaged archives
        return "other"
    return "other"


def _small_member(archive: zipfile.ZipFile, name: str) -> bytes:
    info = archive.getinfo(name)
    # zipfile reads at most the declared size, and deflate with a bounded output; other
    # methods are not what an office suite writes for this member.
    if info.file_size > 100 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return b""
    return archive.read(info)


def inspect_document(data: bytes, *, want_text: bool, timeout_s: float = 5.0) -> DocumentInfo:
    """Inspect one attachment's bytes in the worker process, within ``timeout_s`` seconds.

    Recognises the kind with :func:`sniff`, then opens the document: a PDF's page count and
    encryption (pypdf; an empty user password is tried, as readers do), a Word/ODF body's
    word count. Extracts text only when ``want_text`` is true, since that costs several
    times the page count. Never raises: any failure, including a timeout or a crash of the
    worker, gives ``readable=False`` and a one-line ``error``; when only the text could not
    be extracted in time, the page count stays, with ``text=None`` and an ``error``.
    Thread-safe; calls are served one at a time by one worker.
    """
    kind = sniff(data)
    if kind == "other":
        return _unreadable("other", "not a PDF, Word or OpenDocument text document")
    if kind == "docx" and data.startswith(_OLE_MAGIC):
        # A password-protected docx: the OLE2 wrapper holds only the encrypted package.
        return DocumentInfo(
            kind,
            readable=False,
            encrypted=True,
            pages=None,
            words=None,
            text=None,
            error=_ENCRYPTED,
        )
    about = f"a {kind} ({len(data)} bytes)"
    with _WORKER.lock:
        try:
            _WORKER.submit({"kind": kind, "want_text": want_text}, data)
            deadline = time.monotonic() + timeout_s
            info = _WORKER.receive(deadline, about)
        except WorkerError as exc:
            return _unreadable(kind, str(exc))
        text, error = None, info["error"]
        if want_text and info["readable"]:
            try:
                reply = _WORKER.receive(deadline, about)
                text, error = reply["text"], reply["error"]
            except WorkerError as exc:
                error = f"text not extracted: {exc}"
    return DocumentInfo(
        kind=kind,
        readable=info["readable"],
        encrypted=info["encrypted"],
        pages=info["pages"],
        words=info["words"],
        text=text,
        error=error,
    )


def shutdown_worker() -> None:
    """Stop the inspection worker, if one runs; the next inspection starts a new one.

    Registered with :mod:`atexit`; call it when the service stops to free the worker early.
    """
    _WORKER.shutdown()


def _unreadable(kind: DocumentKind, error: str) -> DocumentInfo:
    return DocumentInfo(
        kind, readable=False, encrypted=False, pages=None, words=None, text=None, error=error
    )


_WORKER = WorkerProcess("intake_bot._document_worker", "document inspection worker")
