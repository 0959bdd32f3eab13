"""Outlook's winmail.dat (TNEF, ``application/ms-tnef``): the files inside, read in the worker.

Outlook sends a rich-text message's attachments inside one TNEF stream. The files it holds
are the candidate's attachments, each with its own name and bytes. The stream is read
with tnefparse, only ever inside the inspection worker (:mod:`~intake_bot.documents.worker`)
under its memory and time limits: tnefparse trusts the counts a stream declares, so a
few hundred hostile bytes can ask it for billions of properties (measured: see
``tests/test_hostile_tnef.py``), and a bug in it must cost one verdict, not the service.
"""

from __future__ import annotations

from tnefparse.tnef import TNEF, TNEFAttachment

from intake_bot.documents.sniff import TNEF_MAGIC

#: More files than this in one winmail.dat is not an application: the stream is refused.
MAX_FILES = 50
#: How deep attached Outlook messages inside the stream are opened for their own files.
MAX_EMBEDDED_DEPTH = 2


class UnpackError(Exception):
    """The stream is not a TNEF stream the worker will unpack; the message is one line."""


def unpack_tnef(data: bytes) -> list[tuple[str | None, bytes]]:
    """The files a TNEF stream carries: (name as sent, or None; bytes), in stream order.

    An attached Outlook message contributes the files it carries in turn. A stream with
    no attachment (a rich-text body alone) gives an empty list. Raises :class:`UnpackError`
    for a stream with more than :data:`MAX_FILES` files, and whatever tnefparse raises
    for a damaged one.
    """
    if not data.startswith(TNEF_MAGIC):
        raise UnpackError("not a TNEF stream")
    files: list[tuple[str | None, bytes]] = []
    _collect(TNEF(data, do_checksum=True), files, 0)
    return files


def _collect(stream: TNEF, files: list[tuple[str | None, bytes]], depth: int) -> None:
    for attachment in stream.attachments:
        embedded = getattr(attachment, "embed", None)
        if isinstance(embedded, TNEF):
            if depth < MAX_EMBEDDED_DEPTH:
                _collect(embedded, files, depth + 1)
            continue
        files.append((_name(attachment, stream.codepage), bytes(attachment.data)))
        if len(files) > MAX_FILES:
            raise UnpackError(f"more than {MAX_FILES} files in one winmail.dat")


def _name(attachment: TNEFAttachment, codepage: str | None) -> str | None:
    """The long file name (MAPI), else the title attribute, in the stream's code page.

    tnefparse decodes the title as UTF-8 whatever the stream's code page says, and fails on
    an accented name in windows-1252: its raw bytes are read here instead.
    """
    try:
        name = attachment.long_filename()
    except UnicodeDecodeError:
        raw = getattr(attachment, "_name", b"")
        try:
            name = bytes(raw).decode(codepage or "cp1252", "replace")
        except LookupError:
            name = bytes(raw).decode("cp1252", "replace")
    if isinstance(name, bytes):
        name = name.decode("cp1252", "replace")
    name = str(name or "").strip("\x00").strip()
    return name or None
