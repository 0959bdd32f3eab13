"""A real ClamAV daemon (Debian's clamd) on a temp folder, with test signatures only.

No pytest here, so that ``bench/`` can start the very clamd the fixtures start
(``tests/fixtures_servers.py`` wraps it in a fixture). clamd cannot download signatures
on these machines and refuses to start without any, so it gets a database of its own:

- ``test.hdb``: the EICAR test file by MD5 and size (``IntakeBot.Test.EICAR``);
- ``test.ndb``: a body signature for :data:`MARKER` anywhere in a file
  (``IntakeBot.Test.Marker``), so that an otherwise valid PDF carrying it is "infected";
- ``daily.cud``: an unsigned database holding one unused hash, whose header gives the
  date and version that VERSION reports, as freshclam's ``daily.cvd`` does.

clamd appends ``.UNOFFICIAL`` to the names of the first two.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import shutil
import signal
import socket
import socketserver
import subprocess
import tarfile
import tempfile
import threading
import time
from pathlib import Path

from tests.servers import HOST, ServerError, free_port, kill_process_group, logs_tail

INSTALL_HINT = (
    "clamd is not installed: install it with "
    "`apt-get install -y --no-install-recommends clamav-daemon` (as root), or run `.ci/install-deps`"
)

# Split so that no scanner on a developer's machine takes this source file for the test virus.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
#: The bytes the body signature looks for; a PDF that carries them is reported infected.
MARKER = b"IntakeBot test signature 5f0c not a virus"
EICAR_SIGNATURE = "IntakeBot.Test.EICAR.UNOFFICIAL"
MARKER_SIGNATURE = "IntakeBot.Test.Marker.UNOFFICIAL"
#: The version VERSION reports for the test database (``ClamAV 1.4.6/27500/...``).
DATABASE_VERSION = 27500
#: Stream size clamd accepts: small, so that a test can exceed it cheaply.
STREAM_MAX_BYTES = 2 * 1024 * 1024

_CONFIG = """\
DatabaseDirectory {root}/db
LocalSocket {root}/clamd.sock
TCPSocket {port}
TCPAddr {host}
Foreground yes
LogFile {root}/clamd.log
StreamMaxLength {stream_max}
{user}
"""


class ClamdServer:
    """A real clamd listening on a unix socket and on 127.0.0.1, in its own temp folder.

    ``published`` is the date of the signature database it reports (VERSION); clamd runs
    with ``TZ=UTC`` so that the date it prints is the one given. ``stream_max_bytes`` is
    its ``StreamMaxLength``.
    """

    def __init__(self, binary: str, published: dt.datetime,
                 stream_max_bytes: int = STREAM_MAX_BYTES) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="intake-clamd-"))
        self.socket_path = self.root / "clamd.sock"
        self.port = free_port()
        self.published = published
        self._binary = binary
        self._process: subprocess.Popen[bytes] | None = None
        (self.root / "db").mkdir()
        _write_database(self.root / "db", published)
        (self.root / "clamd.conf").write_text(_CONFIG.format(
            root=self.root, port=self.port, host=HOST, stream_max=stream_max_bytes,
            # As root clamd would switch to the clamav user, which cannot read this folder.
            user="User root" if os.geteuid() == 0 else ""))

    def address(self, kind: str = "unix") -> str:
        """``unix:/tmp/.../clamd.sock`` or ``tcp://127.0.0.1:PORT``."""
        return f"unix:{self.socket_path}" if kind == "unix" else f"tcp://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        """True while the daemon process is alive (it may be paused)."""
        return self._process is not None and self._process.poll() is None

    def start(self, timeout_s: float = 60.0) -> None:
        """Start clamd and return once it answers PING (loading takes about a second)."""
        if self.running:
            return
        log = (self.root / "stderr.log").open("ab")
        self._process = subprocess.Popen(
            [self._binary, "-c", str(self.root / "clamd.conf")],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
            env={**os.environ, "TZ": "UTC"})
        log.close()
        deadline = time.monotonic() + timeout_s
        while not self._answers_ping():
            if not self.running:
                raise ServerError(f"clamd exited at start-up:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise ServerError(f"clamd did not answer PING within {timeout_s} s:\n"
                                  f"{self.log_tail()}")
            time.sleep(0.02)

    def _answers_ping(self) -> bool:
        try:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(5)
                sock.connect(str(self.socket_path))
                sock.sendall(b"zPING\0")
                return sock.recv(16) == b"PONG\0"
        except OSError:
            return False

    def stop(self) -> None:
        """Kill clamd, as a crash would: its socket file stays behind, refusing connections."""
        kill_process_group(self._process)
        self._process = None

    def pause(self) -> None:
        """Freeze clamd (SIGSTOP): it accepts connections but never answers, as a hung one."""
        assert self._process is not None
        os.kill(self._process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused clamd go on (SIGCONT)."""
        assert self._process is not None
        os.kill(self._process.pid, signal.SIGCONT)

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of clamd's logs, for failure messages."""
        return logs_tail(self.root, ("stderr.log", "clamd.log"), lines)

    def close(self) -> None:
        """Stop clamd and remove its folder."""
        if self._process is not None and self.running:
            self.resume()  # a stopped process still dies of SIGKILL; this keeps wait() short
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def find_clamd() -> str | None:
    """The ``clamd`` binary (in /usr/sbin, often off an unprivileged PATH), or None."""
    return shutil.which("clamd") or shutil.which("clamd", path="/usr/sbin:/usr/local/sbin")


def _write_database(folder: Path, published: dt.datetime) -> None:
    (folder / "test.hdb").write_text(
        f"{hashlib.md5(EICAR).hexdigest()}:{len(EICAR)}:IntakeBot.Test.EICAR\n")
    (folder / "test.ndb").write_text(f"IntakeBot.Test.Marker:0:*:{MARKER.hex()}\n")
    (folder / "daily.cud").write_bytes(_unsigned_database("daily", published))


def _unsigned_database(name: str, published: dt.datetime) -> bytes:
    """A ``.cud`` file: a 512-byte header, then a tar.gz of an ``.info`` and one ``.hdb``.

    The header's last field (creation time, seconds since the epoch) is the date VERSION
    prints; ``.cud`` databases are loaded without the digital signature that ``.cvd``
    ones need. The ``.info`` repeats the header and lists each file's size and SHA-256.
    """
    unused = hashlib.md5(b"intake-bot: no file has this content").hexdigest()
    hashes = f"{unused}:1:IntakeBot.Test.Unused\n".encode()
    stamp = int(published.timestamp())
    built = published.astimezone(dt.UTC).strftime("%d %b %Y %H-%M +0000")
    fields = f"ClamAV-VDB:{built}:{DATABASE_VERSION}:1:90"
    info = (f"{fields}:X:X:intake-bot-tests:{stamp}\n"
            f"{name}.hdb:{len(hashes)}:{hashlib.sha256(hashes).hexdigest()}\n").encode()
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w:gz", format=tarfile.USTAR_FORMAT) as archive:
        for member, data in ((f"{name}.info", info), (f"{name}.hdb", hashes)):
            entry = tarfile.TarInfo(member)
            entry.size = len(data)
            archive.addfile(entry, io.BytesIO(data))
    body = packed.getvalue()
    header = f"{fields}:{hashlib.md5(body).hexdigest()}:X:intake-bot-tests:{stamp}"
    return header.encode().ljust(512, b" ") + body


class SlowClamd:
    """A local endpoint speaking clamd's protocol that answers PING but never finishes a scan.

    What a clamd busy on a file that takes it longer than the bot's time-out looks like
    (the real one cannot be made that slow on purpose without slowing every test).
    """

    def __init__(self) -> None:
        self._server = socketserver.ThreadingTCPServer((HOST, free_port()), _SlowHandler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def address(self) -> str:
        """``tcp://127.0.0.1:PORT``."""
        return f"tcp://{HOST}:{self._server.server_address[1]}"

    def close(self) -> None:
        """Stop listening."""
        self._server.shutdown()
        self._server.server_close()


class _SlowHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        command = b""
        while not command.endswith(b"\0"):
            data = self.request.recv(1)
            if not data:
                return
            command += data
        if command == b"zPING\0":
            self.request.sendall(b"PONG\0")
            return
        while self.request.recv(65536):  # INSTREAM: take everything, answer nothing
            pass
