"""Document inspection: what an attachment is and what it holds, read within bounds.

The service sees only this package's face: :func:`sniff` (the kind, by content),
:func:`inspect_document` (pages, words, text, parsed in a worker process), :func:`sniffed`
(the kind alone, for a document not worth opening), :func:`unpack_container` (the files
inside an Outlook winmail.dat, in the same worker) and the text
heuristics the content rules use (:mod:`~intake_bot.documents.content`). The format readers
(:mod:`~intake_bot.documents.formats`) run only inside the worker
(:mod:`~intake_bot.documents.worker`), which :mod:`~intake_bot.documents.supervisor`
starts, bounds and replaces; the service never imports them.
"""

from intake_bot.documents.inspect import (
    TIMEOUT_SECONDS,
    DocumentInfo,
    InspectionUnavailable,
    inspect_document,
    shutdown_worker,
    sniffed,
    unpack_container,
)
from intake_bot.documents.sniff import DocumentKind, sniff

__all__ = ["TIMEOUT_SECONDS", "DocumentInfo", "DocumentKind", "InspectionUnavailable",
           "inspect_document",
           "shutdown_worker", "sniff", "sniffed", "unpack_container"]
