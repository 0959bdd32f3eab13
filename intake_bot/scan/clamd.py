"""ClamAV's clamd, spoken directly: PING, VERSION and INSTREAM over a unix or TCP socket.

The protocol is clamd's own (``man clamd``): a command prefixed with ``z`` and ended by a
NUL byte, one command per connection, a NUL-terminated reply. INSTREAM sends the bytes in
chunks, each a 4-byte big-endian length and the data, then a zero length; the reply is
``stream: OK``, ``stream: <signature> FOUND`` or ``... ERROR``.

No PyPI client was used (checked 2026-12): ``clamd`` 1.0.2 (2014) and ``pyClamd`` 0.4.0
(2017) are abandoned; ``aioclamd`` is asyncio-only and has no unix socket; ``clamdpy``
and ``clamav-client`` (GPL-2.0) bound each socket operation, not a scan as a whole, and
read replies without a size limit. The protocol takes the few dozen lines below, with one
deadline per command.
"""

from __future__ import annotations

import datetime as dt
import re
import socket
import struct
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

#: Bytes of a document sent per INSTREAM chunk.
CHUNK = 256 * 1024
#: A reply is a status line; anything longer is not clamd.
MAX_REPLY = 4096

_FOUND = re.compile(r"^stream: (?P<signature>.+) FOUND$")
# ``ClamAV 1.4.6/27500/Sun Nov  1 09:37:00 2026``; with only local databases, no date.
_VERSION = re.compile(r"^(?P<engine>[^/]+)(?:/(?P<signatures>\d+)/(?P<published>.+))?$")


class ScanError(Exception):
    """clamd did not give a verdict; the message is one line naming clamd's address."""


class ClamdUnavailable(ScanError):
    """clamd cannot be reached, timed out, broke off, or answered with an error."""


class ClamdTimedOut(ClamdUnavailable):
    """clamd gave no answer within the time-out."""


class ClamdRefused(ScanError):
    """clamd gives no verdict on this one document: larger than its ``StreamMaxLength``,
    or longer to scan than the time-out while clamd itself answers."""


@dataclass(frozen=True)
class ClamdVersion:
    """What VERSION says: the engine, and the version and date of its signature database.

    ``published`` is None when clamd loads no official database (only local signature
    files), which has no date.
    """

    engine: str
    signatures: int | None
    published: dt.datetime | None

    def age_days(self, now: dt.datetime) -> int | None:
        """Whole days since the signatures were published, or None when undated."""
        return None if self.published is None else (now - self.published).days


def parse_address(address: str) -> tuple[socket.AddressFamily, str | tuple[str, int]]:
    """``unix:/run/clamav/clamd.ctl`` or ``tcp://127.0.0.1:3310`` as (family, socket address).

    Raises :class:`ValueError` with a one-line reason.
    """
    if address.startswith("unix:"):
        path = address[len("unix:"):]
        if not path.startswith("/"):
            raise ValueError(f"{address!r}: a unix socket needs an absolute path, "
                             "e.g. unix:/run/clamav/clamd.ctl")
        return socket.AF_UNIX, path
    if address.startswith("tcp://"):
        host, _, port = address[len("tcp://"):].rstrip("/").rpartition(":")
        host = host.strip("[]")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{address!r}: expected tcp://HOST:PORT, e.g. tcp://127.0.0.1:3310")
        return (socket.AF_INET6 if ":" in host else socket.AF_INET), (host, int(port))
    raise ValueError(f"{address!r}: expected unix:/PATH or tcp://HOST:PORT")


def parse_version(reply: str) -> ClamdVersion:
    """Read VERSION's reply; the date, printed by clamd in its local time, is read as UTC.

    A few hours either way do not matter to an age counted in days, and reading it in the
    bot's zone would make the age depend on where the bot runs.
    """
    match = _VERSION.match(reply.strip())
    if match is None or not match["engine"].startswith("ClamAV"):
        raise ValueError(f"not a clamd VERSION reply: {reply[:80]!r}")
    published = None
    if match["published"]:
        # ctime() style; English names whatever the locale, so parsed by hand.
        published = _parse_ctime(match["published"])
    signatures = int(match["signatures"]) if match["signatures"] else None
    return ClamdVersion(match["engine"].strip(), signatures, published)


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _parse_ctime(text: str) -> dt.datetime:
    try:
        _, month, day, clock, year = text.split()
        hour, minute, second = (int(part) for part in clock.split(":"))
        return dt.datetime(int(year), _MONTHS.index(month) + 1, int(day), hour, minute, second,
                           tzinfo=dt.UTC)
    except ValueError:
        raise ValueError(f"not a clamd signature date: {text[:40]!r}") from None


class Clamd:
    """A clamd at ``address``, every command bounded by ``timeout_s`` seconds in all.

    Each command opens its own connection, so one instance serves several threads.
    """

    def __init__(self, address: str, timeout_s: float) -> None:
        self.address = address
        self.family, self.target = parse_address(address)
        self.timeout_s = timeout_s

    def ping(self) -> None:
        """Raise :class:`ClamdUnavailable` unless clamd answers PING with PONG."""
        reply = self._command(b"PING")
        if reply != "PONG":
            raise ClamdUnavailable(f"clamd {self.address}: PING answered {reply[:80]!r}")

    def version(self) -> ClamdVersion:
        """The engine and signature database clamd runs (VERSION)."""
        reply = self._command(b"VERSION")
        try:
            return parse_version(reply)
        except ValueError as error:
            raise ClamdUnavailable(f"clamd {self.address}: {error}") from None

    def scan(self, data: bytes) -> str | None:
        """Scan ``data`` (INSTREAM); return the signature found, or None when clean.

        Raises :class:`ClamdRefused` when clamd refuses the document for its size, and
        :class:`ClamdUnavailable` for anything else that leaves no verdict, a time-out
        included: a scan that did not finish is never a pass.
        """
        reply = self._command(b"INSTREAM", _frames(data))
        if reply == "stream: OK":
            return None
        found = _FOUND.match(reply)
        if found:
            return found["signature"]
        if "size limit exceeded" in reply:
            raise ClamdRefused(f"clamd {self.address} refused a document of {len(data):,} "
                               f"bytes: {reply} (raise StreamMaxLength in clamd.conf)")
        raise ClamdUnavailable(f"clamd {self.address}: {reply[:200]}")

    def _command(self, command: bytes, payload: Iterable[bytes | memoryview] = ()) -> str:
        """Send one command (and INSTREAM's frames); return the reply, all within the deadline."""
        deadline = time.monotonic() + self.timeout_s
        with socket.socket(self.family, socket.SOCK_STREAM) as sock:
            try:
                sock.settimeout(self.timeout_s)
                sock.connect(self.target)
            except OSError as error:
                raise ClamdUnavailable(f"clamd {self.address}: cannot connect: "
                                       f"{_reason(error)}") from None
            try:
                sock.sendall(b"z" + command + b"\0")
                try:
                    for piece in payload:
                        sock.settimeout(_remaining(deadline))
                        sock.sendall(piece)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # clamd stops reading at its size limit, and says so in its reply
                return self._reply(sock, deadline)
            except TimeoutError:
                raise ClamdTimedOut(f"clamd {self.address}: timed out after "
                                    f"{self.timeout_s:g} s") from None
            except OSError as error:
                raise ClamdUnavailable(f"clamd {self.address}: connection broken: "
                                       f"{_reason(error)}") from None

    def _reply(self, sock: socket.socket, deadline: float) -> str:
        reply = b""
        while not reply.endswith(b"\0"):
            sock.settimeout(_remaining(deadline))
            data = sock.recv(MAX_REPLY)
            if not data:
                break
            reply += data
            if len(reply) > MAX_REPLY:
                raise ClamdUnavailable(f"clamd {self.address}: reply longer than "
                                       f"{MAX_REPLY} bytes")
        if not reply.endswith(b"\0"):
            raise ClamdUnavailable(f"clamd {self.address}: connection closed before the answer")
        return reply[:-1].decode("utf-8", "replace").strip()


def _frames(data: bytes) -> Iterator[bytes | memoryview]:
    """INSTREAM's frames: each chunk after its 4-byte length, then a zero length."""
    view = memoryview(data)
    for start in range(0, len(data), CHUNK):
        chunk = view[start:start + CHUNK]
        yield struct.pack("!L", len(chunk))
        yield chunk
    yield struct.pack("!L", 0)


def _reason(error: OSError) -> str:
    return "timed out" if isinstance(error, TimeoutError) else error.strerror or str(error)


def _remaining(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError
    return remaining
