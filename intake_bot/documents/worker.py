"""The inspection worker process: reads documents for :mod:`intake_bot.documents`, one at a time.

Started by :class:`intake_bot.documents.supervisor.WorkerProcess` with a socket on which it speaks a
small framed protocol (no pickle in either direction, so neither side ever unpickles):

- worker -> service, once at start: ``{"ready": true}`` or ``{"ready": false, "error": ...}``;
- service -> worker, per document: a JSON header ``{"kind": ..., "want_text": ...}``, then
  the document's bytes;
- worker -> service: ``{"readable", "encrypted", "pages", "words", "active_content", "error",
  "recycle"}``, then, when text was wanted and the document is readable, ``{"text",
  "error", "recycle"}``.
- for a container (``{"kind": "tnef"}``, an Outlook winmail.dat): ``{"files": [{"name"},
  ...], "error", "recycle"}``, then each file's bytes, one frame per file.

Text comes in a second message so that a PDF whose text extraction runs out of time still
reports its page count. ``recycle`` asks the supervisor to replace the worker (after a
MemoryError its state is suspect). The worker exits when the service closes the socket.
"""

from __future__ import annotations

import contextlib
import json
import logging
import resource
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import Any

import pypdf
from pypdf.errors import DependencyError, EmptyFileError, LimitReachedError, PdfStreamError

from intake_bot.documents.active import pdf_active_content
from intake_bot.documents.formats import (
    TEXT_LIMIT,
    WORD_READERS,
    EncryptedDocument,
    PdfOpened,
    UnreadableDocument,
    count_words,
    open_pdf,
    pdf_text,
)
from intake_bot.documents.supervisor import send
from intake_bot.documents.tnef import UnpackError, unpack_tnef

MEMORY_LIMIT = 1 << 30
"""Address space of the worker (RLIMIT_AS): a bomb that slips past the parser limits fails
with MemoryError here instead of growing the host's memory."""

_PDF_OUTPUT_LIMIT = 10_000_000
# Tight pypdf limits: a hostile stream fails with LimitReachedError in well under a second
# (measured: 74 MB zlib bomb, 8 KB of drawing operators) instead of seconds of work.
# No external jbig2dec is ever run on a candidate's file.
PYPDF_LIMITS: dict[str, Any] = {
    "maximum_declared_stream_length": _PDF_OUTPUT_LIMIT,
    "array_based_stream_maximum_output_length": _PDF_OUTPUT_LIMIT,
    "zlib_maximum_output_length": _PDF_OUTPUT_LIMIT,
    "lzw_maximum_output_length": _PDF_OUTPUT_LIMIT,
    "run_length_maximum_output_length": _PDF_OUTPUT_LIMIT,
    "brotli_maximum_output_length": _PDF_OUTPUT_LIMIT,
    "jbig2_maximum_output_length": _PDF_OUTPUT_LIMIT,
    "image_maximum_buffer_size": _PDF_OUTPUT_LIMIT,
    "stream_decoding_work_maximum_length": 5 * _PDF_OUTPUT_LIMIT,
    "stream_parsing_work_maximum_count": 100_000,
    "xmp_maximum_input_length": 1_000_000,
    "page_tree_maximum_entries": 5_000,  # pages and page-tree nodes: no application is longer
    "jbig2dec_binary": None,
    "disable_legacy_handling": True,
}


def serve(fd: int) -> None:
    """Run the worker loop on the socket ``fd`` until the service closes it."""
    conn = Connection(fd)
    try:
        _limit_resources()
        pypdf.overwrite_configuration(**PYPDF_LIMITS)
    except Exception as exc:  # noqa: BLE001 - reported to the supervisor, which logs it
        send(conn, {"ready": False, "error": _describe(exc)})
        return
    # Findings travel in the replies; pypdf's warnings about damaged files would only
    # flood the service's stderr (a fresh interpreter has no logging configured).
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    send(conn, {"ready": True})
    while True:
        try:
            header = json.loads(conn.recv_bytes())
            data = conn.recv_bytes()
        except EOFError:
            return
        if header["kind"] == "tnef":
            if _unpack(conn, data):
                return
        elif _inspect(conn, header["kind"], data, bool(header["want_text"])):
            return


def _limit_resources() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = MEMORY_LIMIT if hard == resource.RLIM_INFINITY else min(MEMORY_LIMIT, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash must not write a core of a CV
    # Under the unit's MemoryMax the kernel then kills this worker, which costs one verdict,
    # rather than the service. Raising one's own score needs no privilege; where /proc is
    # not writable the worker still serves.
    with contextlib.suppress(OSError), open("/proc/self/oom_score_adj", "w") as score:
        score.write("1000")


def _inspect(conn: Connection, kind: str, data: bytes, want_text: bool) -> bool:
    """Answer one request; return True when the worker must exit and be replaced."""
    opened: PdfOpened | None = None
    body = ""
    try:
        if kind == "pdf":
            opened = open_pdf(data)
            info = _info(readable=True, pages=opened.pages,
                         active_content=pdf_active_content(opened.reader))
        else:
            body = WORD_READERS[kind](data)
            info = _info(readable=True, words=count_words(body))
    except Exception as exc:  # noqa: BLE001 - hostile input: every failure is a verdict
        info = _info(
            readable=False,
            encrypted=isinstance(exc, EncryptedDocument),
            error=_describe(exc),
            recycle=isinstance(exc, MemoryError),
        )
    if not send(conn, info) or info["recycle"]:
        return True
    if not (want_text and info["readable"]):
        return False
    text_reply = _text_reply(opened, body)
    return not send(conn, text_reply) or text_reply["recycle"]


#: Address space while a winmail.dat is unpacked: the worker's own (about 60 MB) and room
#: for a few copies of the stream, which tnefparse slices as it reads. A stream that asks
#: for more (billions of declared values) fails with MemoryError in about a second instead
#: of growing the worker to its 1 GiB limit (measured: 565 MB within the 5 s time-out).
TNEF_MEMORY_BASE = 160 << 20
TNEF_MEMORY_PER_BYTE = 8


@contextmanager
def _address_space(limit: int) -> Iterator[None]:
    """Lower the worker's soft RLIMIT_AS to ``limit`` for a while (the hard limit stays)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (min(limit, soft), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _unpack(conn: Connection, data: bytes) -> bool:
    """Answer one winmail.dat; return True when the worker must exit and be replaced."""
    try:
        with _address_space(TNEF_MEMORY_BASE + TNEF_MEMORY_PER_BYTE * len(data)):
            files = unpack_tnef(data)
        reply: dict[str, Any] = {"files": [{"name": name} for name, _ in files],
                                 "error": None, "recycle": False}
    except Exception as exc:  # noqa: BLE001 - hostile input: every failure is a verdict
        files = []
        reply = {"files": None, "error": _describe(exc), "recycle": isinstance(exc, MemoryError)}
    if not send(conn, reply) or reply["recycle"]:
        return True
    try:
        for _, content in files:
            conn.send_bytes(content)
    except OSError:
        return True
    return False


def _text_reply(opened: PdfOpened | None, body: str) -> dict[str, Any]:
    if opened is None:
        return {"text": _clean(body[:TEXT_LIMIT]), "error": None, "recycle": False}
    try:
        text, skipped = pdf_text(opened)
    except MemoryError as exc:
        return {"text": None, "error": _describe(exc), "recycle": True}
    error = f"text not extracted from {skipped} page(s)" if skipped else None
    return {"text": _clean(text), "error": error, "recycle": False}


def _info(
    *,
    readable: bool,
    encrypted: bool = False,
    pages: int | None = None,
    words: int | None = None,
    active_content: list[str] | None = None,
    error: str | None = None,
    recycle: bool = False,
) -> dict[str, Any]:
    return {
        "readable": readable,
        "encrypted": encrypted,
        "pages": pages,
        "words": words,
        "active_content": active_content or [],
        "error": error,
        "recycle": recycle,
    }


def _clean(text: str) -> str:
    # Lone surrogates (from broken font maps) would fail later when the text is encoded.
    return text.encode("utf-8", "replace").decode("utf-8")


def _describe(exc: BaseException) -> str:
    """Turn any failure into a short one-line reason."""
    if isinstance(exc, (UnreadableDocument, UnpackError)):
        return str(exc)
    if any(isinstance(link, RecursionError) for link in _chain(exc)):
        return "too deeply nested"  # pypdf often wraps it in a PdfReadError
    if isinstance(exc, MemoryError):
        return "memory limit reached"
    if isinstance(exc, EmptyFileError):
        return "empty file"
    if isinstance(exc, LimitReachedError):
        phrase = "limit reached"
    elif isinstance(exc, DependencyError):
        phrase = "cannot decrypt"
    elif isinstance(exc, (PdfStreamError, zipfile.BadZipFile, EOFError)):
        phrase = "truncated or damaged"
    else:
        phrase = "damaged"
    detail = " ".join(str(exc).split())[:160] or type(exc).__name__
    return f"{phrase}: {detail}"


def _chain(exc: BaseException) -> list[BaseException]:
    links: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and len(links) < 10:
        links.append(link)
        link = link.__cause__ or link.__context__
    return links
