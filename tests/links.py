"""A network link that breaks connections, between a client and a real server on 127.0.0.1.

:class:`CuttingLink` forwards every connection it accepts to the server and closes it
once the server has sent ``cut_after`` bytes on it, as a flaky middlebox or a link with a
transfer quota would: whatever the client was reading is cut short.
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType

from tests.servers import HOST


class CuttingLink:
    """Listens on 127.0.0.1:``port`` and forwards to ``target``, cutting each connection."""

    def __init__(self, target: tuple[str, int], cut_after: int) -> None:
        self.target = target
        self.cut_after = cut_after
        self.connections = 0
        self.cuts = 0
        self._listener = socket.create_server((HOST, 0))
        self.port = int(self._listener.getsockname()[1])
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            server = socket.create_connection(self.target)
            with self._lock:
                self.connections += 1
                self._sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server, None), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, self.cut_after),
                             daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, limit: int | None) -> None:
        sent = 0
        try:
            while data := source.recv(65536):
                if limit is not None and sent + len(data) >= limit:
                    sink.sendall(data[: limit - sent])
                    with self._lock:
                        self.cuts += 1
                    break
                sink.sendall(data)
                sent += len(data)
        except OSError:
            pass
        for each in (source, sink):
            try:
                each.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            each.close()

    def close(self) -> None:
        """Stop listening and break every connection still open."""
        self._listener.close()
        with self._lock:
            for each in self._sockets:
                try:
                    each.close()
                except OSError:
                    pass

    def __enter__(self) -> CuttingLink:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
