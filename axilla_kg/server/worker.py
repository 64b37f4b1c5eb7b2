"""Query workers: separate processes that each hold the graph and answer one query at a time.

Why processes: pyoxigraph evaluates a query inside one call that holds the GIL and has no time
limit or cancel switch (measured: a three-way cross product blocks every thread of the process).
The only reliable way to stop such a query is to end the process running it. So the server keeps
a pool of worker processes; a request borrows one, and if the answer is not back within the time
limit the server kills that worker, answers with an error and starts a fresh one, while the other
workers keep serving. Each worker loads its own copy of the graph (a few MB, milliseconds), so no
state is shared between requests at all.

A worker also limits its own address space (``RLIMIT_AS``) so a query that builds a huge
intermediate result dies with an allocation failure instead of taking the machine down, and asks
the kernel to kill it if the server process goes away (Linux ``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from axilla_kg.engines import to_oxigraph
from axilla_kg.sandbox import SandboxUnavailable, forbid_network
from axilla_kg.server.formats import serialize_answer
from axilla_kg.terms import Term


@dataclass(frozen=True)
class Job:
    """One query for a worker: text, parameter bindings, the negotiated output format, the row cap."""

    text: str
    bindings: dict[str, Term]
    fmt: str
    max_results: int


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes


class QueryTimeout(Exception):
    """The worker did not answer within the time limit (it has been killed)."""


class WorkerLost(Exception):
    """The worker died while answering (e.g. it ran out of its memory limit)."""


class PoolBusy(Exception):
    """No worker became free in time."""


# --- the worker process --------------------------------------------------------------------
def answer(store: Any, job: Job) -> Reply:
    """Evaluate one job against a pyoxigraph store (runs inside the worker process)."""
    import pyoxigraph as ox

    from axilla_kg.turtle import PREFIXES

    substitutions = {ox.Variable(k): to_oxigraph(v) for k, v in job.bindings.items()} or None
    try:
        result = store.query(job.text, prefixes=PREFIXES, substitutions=substitutions)
        return serialize_answer(result, job.fmt, job.max_results)
    except SyntaxError as exc:
        return Reply(400, "text/plain; charset=utf-8", f"malformed SPARQL: {' '.join(str(exc).split())}\n".encode())
    except MemoryError:
        return Reply(500, "text/plain; charset=utf-8", b"query ran out of memory\n")
    except Exception as exc:  # an evaluation error must not end the worker
        return Reply(500, "text/plain; charset=utf-8", f"query failed: {' '.join(str(exc).split())}\n".encode())


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _limit_memory(megabytes: int) -> None:
    if megabytes > 0:
        with contextlib.suppress(Exception):
            import resource

            limit = megabytes * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def worker_main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="axilla-kg-worker")
    parser.add_argument("fd", type=int)
    parser.add_argument("--memory-mb", type=int, default=0)
    parser.add_argument("--data", action="append", default=[])
    args = parser.parse_args(argv)
    _die_with_parent()
    conn = Connection(args.fd)
    from axilla_kg.graph import KnowledgeGraph

    try:
        kg = KnowledgeGraph.load(args.data)
    except Exception as exc:
        conn.send(("failed", str(exc)))
        return
    try:
        forbid_network()  # the second barrier: no query this process evaluates can open a socket
    except SandboxUnavailable as exc:
        conn.send(("failed", str(exc)))
        return
    _limit_memory(args.memory_mb)
    store = kg.engine.store  # type: ignore[attr-defined]
    conn.send(("ready", len(kg)))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(answer(store, job))


# --- the pool, in the server process ---------------------------------------------------------
_WORKER_ENTRY = "from axilla_kg.server.worker import worker_main; worker_main()"


@dataclass(eq=False)
class _Worker:
    process: subprocess.Popen[bytes]
    conn: Connection


class WorkerPool:
    """A fixed number of worker processes; thread-safe (a queue hands out idle workers)."""

    def __init__(self, size: int, data: Sequence[str] = (), memory_mb: int = 0, start_timeout: float = 120.0) -> None:
        self._data = list(data)
        self._memory_mb = memory_mb
        self._start_timeout = start_timeout
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._closed = False
        self._lock = threading.Lock()
        self._all: set[_Worker] = set()
        self.triples = 0
        self.restarts = 0
        self._respawns: queue.Queue[None] = queue.Queue()
        for _ in range(max(1, size)):
            self._idle.put(self._spawn())
        self.size = max(1, size)
        threading.Thread(target=self._respawner, daemon=True, name="worker-respawner").start()

    def _spawn(self) -> _Worker:
        parent_sock, child_sock = socket.socketpair()
        cmd = [sys.executable, "-c", _WORKER_ENTRY, str(child_sock.fileno())]
        if self._memory_mb:
            cmd += ["--memory-mb", str(self._memory_mb)]
        for path in self._data:
            cmd += ["--data", os.path.abspath(path)]
        process = subprocess.Popen(cmd, pass_fds=(child_sock.fileno(),), stdin=subprocess.DEVNULL)
        child_sock.close()
        conn = Connection(parent_sock.detach())
        worker = _Worker(process, conn)
        try:
            if not conn.poll(self._start_timeout):
                raise RuntimeError("query worker did not start in time")
            status, detail = conn.recv()
        except (EOFError, OSError, RuntimeError) as exc:
            self._kill(worker)
            raise RuntimeError(f"query worker failed to start: {exc}") from None
        if status != "ready":
            self._kill(worker)
            raise RuntimeError(f"query worker failed to load the graph: {detail}")
        self.triples = int(detail)
        with self._lock:
            self._all.add(worker)
        return worker

    def _kill(self, worker: _Worker) -> None:
        with contextlib.suppress(OSError):
            worker.process.kill()
        with contextlib.suppress(Exception):
            worker.process.wait(timeout=10)
        with contextlib.suppress(OSError):
            worker.conn.close()
        with self._lock:
            self._all.discard(worker)

    def _replace(self, worker: _Worker) -> None:
        """Kill a worker and have its successor started in the background; the caller answers at once."""
        self._kill(worker)
        self.restarts += 1
        self._respawns.put(None)

    def _respawner(self) -> None:
        """Start replacement workers, from one long-lived thread: Linux delivers PR_SET_PDEATHSIG when
        the *thread* that forked the child ends, so a short-lived thread would kill its own worker."""
        while not self._closed:
            self._respawns.get()
            delay = 0.1
            while not self._closed:
                try:
                    fresh = self._spawn()
                except RuntimeError as exc:
                    print(f"axilla-kg serve: {exc}; retrying", file=sys.stderr)
                    time.sleep(delay)
                    delay = min(delay * 2, 5.0)
                    continue
                if self._closed:
                    self._kill(fresh)
                else:
                    self._idle.put(fresh)
                break

    def run(self, job: Job, time_limit: float, wait_limit: float) -> Reply:
        """Run a job on an idle worker; kill it and raise QueryTimeout if it overruns ``time_limit``."""
        try:
            worker = self._idle.get(timeout=wait_limit)
        except queue.Empty:
            raise PoolBusy from None
        try:
            worker.conn.send(job)
            if not worker.conn.poll(time_limit):
                self._replace(worker)
                raise QueryTimeout
            reply: Reply = worker.conn.recv()
        except (EOFError, OSError):
            self._replace(worker)
            raise WorkerLost from None
        self._idle.put(worker)
        return reply

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers = list(self._all)
        for worker in workers:
            self._kill(worker)
