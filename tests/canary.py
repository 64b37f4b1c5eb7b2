"""A canary listener on 127.0.0.1: counts every TCP connection made to it.

Used to prove that no query makes an outbound request: a test points SERVICE (or FROM, LOAD) at
the canary and asserts it saw zero connections. The canary accepts and closes at once, so a client
that does connect gets an answer (EOF) straight away instead of waiting for a timeout, and the
count is taken before the close, i.e. before that client's call can return.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Canary:
    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._server.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}/canary"
        self.connections = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="canary")
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
            conn.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self._server.close()
        self._thread.join(timeout=10)


@contextmanager
def canary() -> Iterator[Canary]:
    bird = Canary()
    try:
        yield bird
    finally:
        bird.close()
