"""Inspect an attachment (pages, words, text) within bounds, away from the service process.

:func:`inspect_document` recognises the document with :func:`~intake_bot.documents.sniff.sniff`,
then parses the document in a separate, persistent worker process with a memory limit
(``RLIMIT_AS``), tight pypdf limits and a wall-clock timeout: a decompression bomb, a cyclic
or deeply nested object graph or a parser bug costs one verdict (``readable=False``) and at
worst one worker, which is killed and replaced; it never raises into, nor takes down, the
calling process.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from intake_bot.documents.sniff import OLE_MAGIC, TNEF_MAGIC, DocumentKind, sniff
from intake_bot.documents.supervisor import WorkerError, WorkerProcess, WorkerUnavailable

logger = logging.getLogger(__name__)


class InspectionUnavailable(OSError):
    """The inspection worker cannot be started: nothing can be said of any document now.

    Not a verdict on the document: the message must wait in the inbox until the machine
    can start a worker again (memory, processes), never be rejected as unreadable.
    """


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
    why (some of) its text could not be extracted. ``active_content`` names what a PDF
    holds that a reader may run: ``"JavaScript on open"``, ``"embedded files"``... (see
    :mod:`intake_bot.documents.active`); empty for other kinds and for clean PDFs.
    ``inspected`` is false for a document recognised by :func:`sniffed` alone and never
    opened: then only ``kind`` is known.
    """

    kind: DocumentKind
    readable: bool
    encrypted: bool
    pages: int | None
    words: int | None
    text: str | None
    error: str | None
    active_content: tuple[str, ...] = ()
    inspected: bool = True


_ENCRYPTED = "encrypted: needs a password to open"
#: How long one document may take to open and, when asked, to give its text.
TIMEOUT_SECONDS = 5.0


def sniffed(data: bytes) -> DocumentInfo:
    """What the content alone says of a document that is not opened: its kind, nothing more.

    For a document whose inspection cannot change the decision, or for which no time was
    left; cheap, in the service process (see :func:`~intake_bot.documents.sniff.sniff`).
    """
    return DocumentInfo(sniff(data), readable=False, encrypted=False, pages=None, words=None,
                        text=None, error="not inspected", inspected=False)


def inspect_document(data: bytes, *, want_text: bool,
                     timeout_s: float = TIMEOUT_SECONDS) -> DocumentInfo:
    """Inspect one attachment's bytes in the worker process, within ``timeout_s`` seconds.

    Recognises the kind with :func:`sniff`, then opens the document: a PDF's page count and
    encryption (pypdf; an empty user password is tried, as readers do), a Word/ODF body's
    word count. Extracts text only when ``want_text`` is true, since that costs several
    times the page count. A failure of the document's, including a timeout or a crash of the
    worker, gives ``readable=False`` and a one-line ``error``; when only the text could not
    be extracted in time, the page count stays, with ``text=None`` and an ``error``. Raises
    :class:`InspectionUnavailable` only when no worker can be started at all. Thread-safe;
    calls are served one at a time by one worker.
    """
    kind = sniff(data)
    if kind == "other":
        return _unreadable("other", "not a PDF, Word or OpenDocument text document")
    if kind == "docx" and data.startswith(OLE_MAGIC):
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
        except WorkerUnavailable as exc:
            raise InspectionUnavailable(f"document inspection worker: {exc}") from None
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
        active_content=tuple(info["active_content"]),
    )


def unpack_container(data: bytes, *,
                     timeout_s: float = TIMEOUT_SECONDS) -> list[tuple[str | None, bytes]] | None:
    """The files inside an Outlook winmail.dat, unpacked in the worker; None for other bytes.

    Each file comes as (its name as sent, or None; its bytes), in the stream's order; a
    winmail.dat that holds only a rich-text body gives an empty list. A stream that is
    damaged, hostile (see :mod:`~intake_bot.documents.tnef`), or not unpacked within
    ``timeout_s`` seconds also gives None: it stays one attachment, which is no document.
    Raises :class:`InspectionUnavailable` when no worker can be started; thread-safe, like
    :func:`inspect_document`.
    """
    if not data.startswith(TNEF_MAGIC):
        return None
    about = f"a winmail.dat ({len(data)} bytes)"
    with _WORKER.lock:
        try:
            _WORKER.submit({"kind": "tnef", "want_text": False}, data)
            deadline = time.monotonic() + timeout_s
            reply = _WORKER.receive(deadline, about)
            if reply["files"] is None:
                logger.info("%s not unpacked: %s", about, reply["error"])
                return None
            return [(entry["name"], _WORKER.receive_bytes(deadline, about))
                    for entry in reply["files"]]
        except WorkerUnavailable as error:
            raise InspectionUnavailable(f"document inspection worker: {error}") from None
        except WorkerError as error:
            logger.info("%s not unpacked: %s", about, error)
            return None


def shutdown_worker() -> None:
    """Stop the inspection worker, if one runs; the next inspection starts a new one.

    Registered with :mod:`atexit`; call it when the service stops to free the worker early.
    """
    _WORKER.shutdown()


def _unreadable(kind: DocumentKind, error: str) -> DocumentInfo:
    return DocumentInfo(
        kind, readable=False, encrypted=False, pages=None, words=None, text=None, error=error
    )


_WORKER = WorkerProcess("intake_bot.documents.worker", "document inspection worker")
