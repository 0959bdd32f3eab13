"""A persistent worker process that reads candidates' bytes away from the service.

The inspection worker (:mod:`intake_bot.documents`) is one: a fresh interpreter, not a
fork, so that no lock held by another thread of the service is inherited and no
``__main__`` is imported again; it sits in its own session, so a Ctrl-C at the terminal
reaches only the service, which then stops it. It speaks a small framed protocol on a
socket: JSON messages and the raw bytes of each request, never pickle, so the service
never unpickles what a worker sends.

- worker -> service, once at start: ``{"ready": true}`` or ``{"ready": false, "error": ...}``;
- service -> worker, per request: a JSON header, then the bytes to read;
- worker -> service: JSON replies, as the worker's module documents. A reply with
  ``"recycle": true`` asks the service to replace the worker (after a MemoryError its
  state is suspect).

The worker starts with an environment of allow-listed variables only (locale, time zone,
temporary folder, the interpreter's own ``PYTHON*`` settings): the service's holds the
mailbox and SMTP passwords, which a worker reading hostile bytes must never hold.

The worker exits when the service closes the socket, and so when the service dies, however
it dies: nothing lingers. A request that outlives its deadline, or a worker that dies,
costs that request a one-line :class:`WorkerError`; the next request gets a fresh worker.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

logger = logging.getLogger(__name__)

# The worker runs a fresh interpreter with the service's own import path, so that it loads
# the very same intake_bot; -P keeps the current folder out of that path.
_BOOTSTRAP = (
    "import importlib, json, sys; sys.path[:] = json.loads(sys.argv[1]); "
    "importlib.import_module(sys.argv[2]).serve(int(sys.argv[3]))"
)
_START_TIMEOUT_S = 30.0
_STOP_TIMEOUT_S = 2.0
#: What the worker may see of the service's environment: never a secret.
_PASSED_VARIABLES = frozenset({"PATH", "LANG", "LANGUAGE", "TZ", "TMPDIR"})
_PASSED_PREFIXES = ("LC_", "PYTHON")


def worker_environment() -> dict[str, str]:
    """The allow-listed part of this process's environment, for a worker."""
    return {name: value for name, value in os.environ.items()
            if name in _PASSED_VARIABLES or name.startswith(_PASSED_PREFIXES)}


class WorkerError(Exception):
    """The worker did not answer (timed out, crashed, could not start): a one-line reason."""


class WorkerUnavailable(WorkerError):
    """No worker could be started to take the request: the machine's fault, not the bytes'.

    A worker that times out or crashes on a request has read its bytes; one that cannot
    start (out of memory or processes, a broken installation) has not, and its request
    says nothing about them.
    """


class WorkerProcess:
    """One persistent worker process: started on demand, replaced after a timeout or crash.

    ``module`` names the module whose ``serve(fd)`` runs the worker; ``name`` is how logs
    call it. Callers hold :attr:`lock` for a whole request (submit and every receive).
    """

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name
        self.lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        atexit.register(self.shutdown)
        os.register_at_fork(after_in_child=self.forget_after_fork)

    def submit(self, header: dict[str, Any], data: bytes) -> None:
        """Send one request; raises :class:`WorkerError` when no worker can take it."""
        encoded = json.dumps(header).encode()
        for _ in range(2):
            conn = self._ready_connection()
            try:
                conn.send_bytes(encoded)
                conn.send_bytes(data)
                return
            except OSError:
                # The worker died since the last call (killed from outside): this request
                # never reached it, so one fresh worker may take it.
                self._discard()
        raise WorkerUnavailable("worker died twice before taking the request")

    def receive(self, deadline: float, about: str) -> dict[str, Any]:
        """The next JSON reply, by ``deadline`` (monotonic); ``about`` names the request.

        Kills the worker and raises :class:`WorkerError` on a timeout or a crash.
        """
        reply: dict[str, Any] = json.loads(self.receive_bytes(deadline, about))
        if reply.get("recycle"):
            process = self._process
            assert process is not None
            self._discard()
            logger.warning("%s pid %d replaced after: %s", self.name, process.pid,
                           reply.get("error"))
        return reply

    def receive_bytes(self, deadline: float, about: str) -> bytes:
        """The next frame as it came (a JSON reply, or bytes a reply announced).

        Kills the worker and raises :class:`WorkerError` on a timeout or a crash.
        """
        process, conn = self._process, self._conn
        if process is None or conn is None:
            raise WorkerError("worker unavailable")
        if not conn.poll(max(0.0, deadline - time.monotonic())):
            self._discard()
            logger.warning("%s: %s timed out; worker pid %d killed", self.name, about, process.pid)
            raise WorkerError("timed out")
        try:
            return conn.recv_bytes()
        except (EOFError, OSError):
            self._discard()
            logger.warning("%s pid %d died on %s, exit status %s", self.name, process.pid,
                           about, process.returncode)
            raise WorkerError("worker crashed") from None

    def shutdown(self) -> None:
        """Stop the worker, if one runs; the next request starts a new one."""
        # At exit a daemon thread may still hold the lock mid-request; the worker then
        # ends on its own when this process's end closes the socket.
        if not self.lock.acquire(timeout=_STOP_TIMEOUT_S):
            return
        try:
            if self._conn is not None:
                self._conn.close()  # the worker reads end-of-file and exits
            if self._process is not None:
                try:
                    self._process.wait(_STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
            self._process = self._conn = None
        finally:
            self.lock.release()

    def forget_after_fork(self) -> None:
        """In a forked child: drop the parent's worker (do not stop it) and the lock."""
        self.lock = threading.Lock()
        if self._conn is not None:
            self._conn.close()  # only this process's copy of the socket
        self._process = self._conn = None

    def _ready_connection(self) -> Connection:
        if self._process is not None and self._conn is not None and self._process.poll() is None:
            return self._conn
        self._discard()
        parent_socket, child_socket = socket.socketpair()
        try:
            fd = child_socket.fileno()
            self._process = subprocess.Popen(
                [sys.executable, "-P", "-c", _BOOTSTRAP, json.dumps(sys.path), self.module,
                 str(fd)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                pass_fds=(fd,),
                start_new_session=True,
                env=worker_environment(),
            )
        except OSError as error:
            parent_socket.close()
            raise WorkerUnavailable(f"worker failed to start: {error}") from None
        finally:
            child_socket.close()
        self._conn = Connection(parent_socket.detach())
        try:
            if self._conn.poll(_START_TIMEOUT_S):
                ready = json.loads(self._conn.recv_bytes())
            else:
                ready = {"ready": False, "error": "no answer"}
        except (EOFError, OSError):
            ready = {"ready": False, "error": "exited"}
        if not ready["ready"]:
            self._discard()
            raise WorkerUnavailable(f"worker failed to start: {ready['error']}")
        logger.info("%s started, pid %d", self.name, self._process.pid)
        return self._conn

    def _discard(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait()  # reap it: immediate once killed
        self._process = self._conn = None


def send(conn: Connection, message: dict[str, Any]) -> bool:
    """In a worker: send one JSON reply; False when the service has gone."""
    try:
        conn.send_bytes(json.dumps(message).encode())
    except OSError:
        return False
    return True
