"""Query evaluation in worker processes that each hold the graph and answer one query at a time.

Why processes: pyoxigraph evaluates a query inside one call that holds the GIL and has no time
limit or cancel switch (a three-way cross product blocks every thread of the process), and a query
that overflows the parser's stack kills the process that runs it. The only reliable way to stop
such a query, and the only way to survive such a crash, is to run it in a process of its own. So
the server keeps a pool of worker processes; a request borrows one, and if the answer is not back
within the time limit the server kills that worker and starts a fresh one, while the other
workers keep serving.

How the pool stays healthy, so that one client's query never fails another's:

* The graph is read once, by the server, and handed to every worker as N-Triples over its pipe; a
  replacement worker never touches the file system (a deleted ``--data`` file cannot stop the pool
  from healing).
* Before a request is sent, the borrowed worker must answer a ping within a second; a worker that
  died or was stopped while idle is replaced and the request goes to another one.
* A worker that dies while answering is replaced and the request is retried once on another
  worker; only a query that kills two workers is answered with an error.
* A started spare worker waits beside the pool and takes a killed worker's place at once; a new
  spare is started in the background (starting a Python process and loading the graph takes
  seconds on a loaded machine, and clients should not wait for it).
* At most ``size - 1`` queries may run past ``long_after`` seconds at once: a query that would
  take the last worker for itself is stopped (503) instead, so short queries always find a worker.
* ``health()`` reports the workers that are alive, not the number that was asked for.

Inside a worker: the network barrier (:mod:`axilla_kg.sandbox`) is installed before the first
query, its address space is limited (``RLIMIT_AS``), and it asks the kernel to kill it if the
server process goes away (Linux ``PR_SET_PDEATHSIG``). Answers are written by pyoxigraph's own
serializers, under a byte cap (:mod:`axilla_kg.server.formats`).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
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

from axilla_kg.errors import PoolBusy, QueryTimeout, WorkerLost
from axilla_kg.graph.results import Term
from axilla_kg.sandbox import SandboxUnavailable, forbid_network
from axilla_kg.server.formats import Limits, serialize_answer

_PING_SECONDS = 1.0


@dataclass(frozen=True)
class Job:
    """One query for a worker: text, parameter bindings, the negotiated output format, the caps.
    Pickled to the worker: the bindings are pyoxigraph terms, which pickle as their text and datatype."""

    text: str
    bindings: dict[str, Term]
    fmt: str
    limits: Limits
    base_iri: str | None = None


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes
    seconds: float = 0.0  # time on the worker (set by the pool; what the fair admission learns from)


# --- the worker process --------------------------------------------------------------------
def answer(store: Any, job: Job) -> Reply:
    """Evaluate one job against a pyoxigraph store (runs inside the worker process)."""
    import pyoxigraph as ox

    from axilla_kg.vocab import PREFIXES

    substitutions = {ox.Variable(k): v for k, v in job.bindings.items()} or None
    try:
        result = store.query(job.text, prefixes=PREFIXES, substitutions=substitutions, base_iri=job.base_iri)
        return serialize_answer(result, job.fmt, job.limits)
    except SyntaxError as exc:
        return Reply(400, "text/plain; charset=utf-8", f"malformed SPARQL: {' '.join(str(exc).split())}\n".encode())
    except MemoryError:
        return Reply(500, "text/plain; charset=utf-8", b"query ran out of memory (the server's --memory-mb)\n")
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
    """Entry point of a worker: receive the graph, install the barriers, answer jobs until EOF."""
    parser = argparse.ArgumentParser(prog="axilla-kg-worker")
    parser.add_argument("fd", type=int)
    parser.add_argument("--memory-mb", type=int, default=0)
    args = parser.parse_args(argv)
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is for the server, which then ends us
    conn = Connection(args.fd)
    import pyoxigraph as ox

    try:
        graph = conn.recv_bytes()
        store = ox.Store()
        store.bulk_load(graph, format=ox.RdfFormat.N_TRIPLES)
        del graph
        forbid_network()  # the second barrier: no query this process evaluates can open a socket
    except SandboxUnavailable as exc:
        conn.send(("failed", str(exc)))
        return
    except (EOFError, OSError, SyntaxError) as exc:
        with contextlib.suppress(OSError):
            conn.send(("failed", str(exc)))
        return
    _limit_memory(args.memory_mb)
    conn.send(("ready", len(store)))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(None if job is None else answer(store, job))  # None is a ping


# --- the pool, in the server process ---------------------------------------------------------
_WORKER_ENTRY = "from axilla_kg.server.worker import worker_main; worker_main()"


@dataclass(eq=False)
class _Worker:
    process: subprocess.Popen[bytes]
    conn: Connection


@dataclass(frozen=True)
class Health:
    alive: int
    idle: int
    size: int
    restarts: int
    last_error: str | None

    @property
    def ok(self) -> bool:
        return self.alive > 0


class WorkerPool:
    """A self-healing set of worker processes; thread-safe (a queue hands out idle workers)."""

    def __init__(
        self,
        size: int,
        graph: bytes,
        memory_mb: int = 0,
        start_timeout: float = 120.0,
        long_after: float = 1.0,
        spares: int = 1,
    ) -> None:
        self.size = max(1, size)
        self._graph = graph
        self._memory_mb = memory_mb
        self._start_timeout = start_timeout
        self._long_after = long_after
        self._long_slots = max(1, self.size - 1)
        self._long_running = 0
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._spares: queue.Queue[_Worker] = queue.Queue()
        self._deficit = 0  # workers the pool is short of (killed with no spare to take their place)
        self._closed = False
        self._lock = threading.Lock()
        self._all: set[_Worker] = set()
        self._wanted = threading.Semaphore(0)
        self.triples = 0
        self.restarts = 0
        self.last_error: str | None = None
        for _ in range(self.size):
            self._idle.put(self._spawn())
        self._respawner_thread = threading.Thread(target=self._respawner, daemon=True, name="worker-respawner")
        self._respawner_thread.start()
        for _ in range(max(0, spares)):
            self._wanted.release()

    # --- workers -----------------------------------------------------------------------------
    def _spawn(self) -> _Worker:
        parent_sock, child_sock = socket.socketpair()
        cmd = [sys.executable, "-c", _WORKER_ENTRY, str(child_sock.fileno())]
        if self._memory_mb:
            cmd += ["--memory-mb", str(self._memory_mb)]
        process = subprocess.Popen(cmd, pass_fds=(child_sock.fileno(),), stdin=subprocess.DEVNULL)
        child_sock.close()
        conn = Connection(parent_sock.detach())
        worker = _Worker(process, conn)
        try:
            conn.send_bytes(self._graph)
            if not conn.poll(self._start_timeout):
                raise RuntimeError("it did not start in time")
            status, detail = conn.recv()
        except (EOFError, OSError, RuntimeError) as exc:
            self._kill(worker)
            raise RuntimeError(f"query worker failed to start: {exc or 'it exited'}") from None
        if status != "ready":
            self._kill(worker)
            raise RuntimeError(f"query worker failed to start: {detail}")
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
        """Kill a worker, put a spare in its place, and have a new one started in the background."""
        self._kill(worker)
        with self._lock:
            self.restarts += 1
            try:
                self._idle.put(self._spares.get_nowait())
            except queue.Empty:
                self._deficit += 1
        self._wanted.release()

    def _respawner(self) -> None:
        """Start replacement workers, from one long-lived thread: Linux delivers PR_SET_PDEATHSIG when
        the *thread* that forked the child ends, so a short-lived thread would kill its own worker."""
        while True:
            self._wanted.acquire()
            delay = 0.1
            while not self._closed:
                try:
                    fresh = self._spawn()
                except RuntimeError as exc:
                    self.last_error = str(exc)
                    print(f"axilla-kg serve: {exc}; retrying", file=sys.stderr)
                    time.sleep(delay)
                    delay = min(delay * 2, 5.0)
                    continue
                self.last_error = None
                if self._closed:
                    self._kill(fresh)
                    break
                with self._lock:
                    if self._deficit > 0:
                        self._deficit -= 1
                        self._idle.put(fresh)
                    else:
                        self._spares.put(fresh)
                break
            if self._closed:
                return

    def _usable(self, worker: _Worker) -> bool:
        """A borrowed worker is alive and answers a ping at once (not dead, not stopped)."""
        if worker.process.poll() is not None:
            return False
        try:
            worker.conn.send(None)
            if not worker.conn.poll(_PING_SECONDS):
                return False
            return worker.conn.recv() is None
        except (EOFError, OSError):
            return False

    # --- running a job -------------------------------------------------------------------------
    def run(self, job: Job, time_limit: float, wait_limit: float) -> Reply:
        """Run a job on a healthy worker; see the module docstring for the rules."""
        deadline = time.monotonic() + wait_limit
        deaths = 0
        while True:
            try:
                worker = self._idle.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise PoolBusy("no query worker became free in time") from None
            if not self._usable(worker):
                self._replace(worker)
                continue
            try:
                started = time.monotonic()
                worker.conn.send(job)
                reply = dataclasses.replace(self._await(worker, time_limit), seconds=time.monotonic() - started)
            except (EOFError, OSError):
                self._replace(worker)
                deaths += 1
                if deaths >= 2:
                    raise WorkerLost from None
                continue
            self._idle.put(worker)
            return reply

    def _await(self, worker: _Worker, time_limit: float) -> Reply:
        first = min(self._long_after, time_limit)
        if worker.conn.poll(first):
            reply: Reply = worker.conn.recv()
            return reply
        with self._lock:
            self._long_running += 1
            admitted = self._long_running <= self._long_slots
        try:
            if not admitted:
                self._replace(worker)
                raise PoolBusy(
                    f"stopped after {first:g} s: the other workers are busy with long queries and this one would "
                    "have taken the last free worker; retry later"
                )
            if not worker.conn.poll(time_limit - first):
                self._replace(worker)
                raise QueryTimeout
            reply = worker.conn.recv()
            return reply
        finally:
            with self._lock:
                self._long_running -= 1

    def health(self) -> Health:
        """Workers alive and serving (spares not counted), idle ones, restarts, the last start failure."""
        with self._lock:
            alive = sum(1 for w in self._all if w.process.poll() is None)
            restarts = self.restarts
            spares = self._spares.qsize()
        return Health(max(0, alive - spares), self._idle.qsize(), self.size, restarts, self.last_error)

    def close(self) -> None:
        self._closed = True
        self._wanted.release()
        with self._lock:
            workers = list(self._all)
        for worker in workers:
            self._kill(worker)
