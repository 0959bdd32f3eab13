"""Parse messages in a worker process, so that parsing runs beside archiving and answering.

The standard library's MIME parser is pure Python and the costliest step of a message in
the service's own process: about 7 ms of CPU for a 270 KiB application, most of it reading
the base64 attachment line by line. In the service's process it holds the interpreter lock
that archiving, recording and answering need; in a worker process it uses another core
(README, "Performance"). It is also one more place where hostile bytes are read away from
the service, under an address-space limit and a deadline.

The worker is a :class:`~intake_bot.workers.WorkerProcess`. Per message the service sends
``{"complete": bool}`` and the raw bytes; the worker answers with the parsed message as
JSON (``{"parsed": {...}}`` or ``{"error": "..."}``), then one frame per attachment, holding
its bytes.
"""

from __future__ import annotations

import dataclasses
import json
import time
from multiprocessing.connection import Connection
from typing import Any

from intake_bot.parse import Attachment, ParsedMessage, parse_message
from intake_bot.sandbox import limit_resources
from intake_bot.workers import WorkerError, WorkerProcess, send

MEMORY_LIMIT = 1 << 30
"""Address space of the worker (RLIMIT_AS): a message that makes the parser balloon fails
with MemoryError there, and is quarantined, instead of growing the service."""
#: A message the parser has not read in this time is given up (and quarantined).
TIMEOUT_S = 60.0


class ParserError(Exception):
    """The parser failed on a message, or its worker did not answer: a one-line reason."""


_WORKER = WorkerProcess("intake_bot.parse_worker", "parser worker")


def parse_in_worker(raw: bytes, *, complete: bool = True) -> ParsedMessage:
    """:func:`~intake_bot.parse.parse_message` in the worker process; thread-safe.

    Raises :class:`ParserError` when the parser failed, timed out or took the worker down.
    """
    about = f"a message ({len(raw)} bytes)"
    with _WORKER.lock:
        try:
            _WORKER.submit({"complete": complete}, raw)
            deadline = time.monotonic() + TIMEOUT_S
            reply = _WORKER.receive(deadline, about)
            if reply.get("error"):
                raise ParserError(reply["error"])
            frames = [_WORKER.receive_bytes(deadline, about) for _ in reply["parsed"]["attachments"]]
        except WorkerError as exc:
            raise ParserError(f"parser worker: {exc}") from None
    return _from_wire(reply["parsed"], frames)


def shutdown_parser() -> None:
    """Stop the parser worker, if one runs; the next parse starts a new one."""
    _WORKER.shutdown()


# -- the worker's side -------------------------------------------------------------------


def serve(fd: int) -> None:
    """Run the worker loop on the socket ``fd`` until the service closes it."""
    conn = Connection(fd)
    try:
        limit_resources(MEMORY_LIMIT)
    except Exception as exc:  # noqa: BLE001 - reported to the service, which logs it
        send(conn, {"ready": False, "error": f"{type(exc).__name__}: {exc}"})
        return
    send(conn, {"ready": True})
    while True:
        try:
            header = json.loads(conn.recv_bytes())
            raw = conn.recv_bytes()
        except EOFError:
            return
        try:
            fields, frames = _to_wire(parse_message(raw, complete=bool(header["complete"])))
        except Exception as exc:  # noqa: BLE001 - one message's failure is its verdict
            if not send(conn, {"error": f"{type(exc).__name__}: {exc}",
                               "recycle": isinstance(exc, MemoryError)}):
                return
            continue
        try:
            conn.send_bytes(json.dumps({"parsed": fields}).encode())
            for frame in frames:
                conn.send_bytes(frame)
        except OSError:
            return


def _to_wire(parsed: ParsedMessage) -> tuple[dict[str, Any], list[bytes]]:
    fields = {field.name: getattr(parsed, field.name) for field in dataclasses.fields(parsed)}
    fields["attachments"] = [
        {"filename": each.filename, "content_type": each.content_type,
         "declared_size": each.declared_size}
        for each in parsed.attachments]
    return fields, [each.data for each in parsed.attachments]


def _from_wire(fields: dict[str, Any], frames: list[bytes]) -> ParsedMessage:
    attachments = tuple(Attachment(data=data, **meta)
                        for meta, data in zip(fields["attachments"], frames, strict=True))
    return ParsedMessage(**{**fields, "attachments": attachments,
                            "defects": tuple(fields["defects"]), "parts": tuple(fields["parts"])})
