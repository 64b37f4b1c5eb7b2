"""CPU-heavy request work in a pool of processes, off the server's event loop.

Why: the event loop serves every route of the server (``/health``, the pages, ``/sparql``'s
hand-off to the query workers). Work that holds the CPU for long on that loop — parsing a 1 MB
JSON body, validating thousands of FHIR resources with pydantic, classifying and rendering cards
— freezes all of them at once, and runs on one core whatever the machine has. :class:`OffLoop`
runs such work in worker processes instead, so the loop only waits (asynchronously) for the
answer, and concurrent requests use every core.

Generic on purpose: ``await offload.run(fn, *args)`` runs any module-level function ``fn`` of
picklable arguments in a worker; the per-process state a function needs (a loaded knowledge
graph, a service object) is built once per worker by the pool's ``initializer``. Each call has:

* a deadline (``deadline`` seconds): the worker interrupts the call itself (``SIGALRM``) and the
  caller gets :class:`WorkTimeout`; if no answer comes back at all (a worker stuck inside native
  code, or killed), the caller still gets :class:`WorkTimeout` and the whole pool is replaced;
* an admission cap (``max_waiting`` calls running or queued): beyond it :class:`Busy` at once,
  so a flood of requests cannot build a queue that every later caller waits behind.

Workers are started from a fork server (``multiprocessing`` "forkserver": no fork of the threaded
server process), ignore Ctrl+C (the server ends them), end themselves when the server process
ends however it ends (a pidfd lifeline), and install the network barrier (:mod:`axilla_kg.sandbox`)
before any work: request work never needs a socket.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import gc
import multiprocessing
import os
import select
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.pool import Pool
from typing import Any, TypeVar

from axilla_kg.errors import Busy as Busy  # re-exported: moved to errors.py
from axilla_kg.errors import WorkTimeout as WorkTimeout
from axilla_kg.sandbox import SandboxUnavailable, forbid_network

T = TypeVar("T")
_GRACE_SECONDS = 2.0  # after the deadline, how long the caller waits for the worker's own stop


class _Deadline(BaseException):
    """Raised inside a worker by SIGALRM; a BaseException, so library ``except Exception`` blocks
    inside the work do not swallow it."""


def _alarm(signum: int, frame: object) -> None:
    raise _Deadline


def _exit_with(server: int) -> None:
    """End this worker as soon as process ``server`` ends. A pool worker is a child of the fork
    server, not of the server, and one blocked on the pool's queue lock (a sibling killed while
    holding it) would never notice the server is gone; it would also keep the fork server alive."""
    try:
        lifeline = os.pidfd_open(server)
    except (AttributeError, OSError):  # pragma: no cover - Linux before 5.3
        while True:
            try:
                os.kill(server, 0)
            except OSError:
                os._exit(0)
            time.sleep(1.0)
    select.select([lifeline], [], [])  # readable once the process has ended
    os._exit(0)


def _start_worker(server: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    threading.Thread(target=_exit_with, args=(server,), daemon=True, name="lifeline").start()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is for the server, which then ends us
    signal.signal(signal.SIGALRM, _alarm)
    with contextlib.suppress(SandboxUnavailable):  # the barrier is a second line here, not the first
        forbid_network()
    if initializer is not None:
        initializer(*initargs)


def _call(fn: Callable[..., T], deadline: float, args: tuple[Any, ...]) -> tuple[bool, T | None]:
    """Run ``fn(*args)`` in a worker under an interval timer; (False, None) when it ran out of time."""
    signal.setitimer(signal.ITIMER_REAL, deadline)
    try:
        return True, fn(*args)
    except _Deadline:
        return False, None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def default_processes() -> int:
    """One worker per core the process may use (at least one, at most four)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


class OffLoop:
    """A pool of worker processes for request work; see the module docstring."""

    def __init__(
        self,
        initializer: Callable[..., None] | None = None,
        initargs: tuple[Any, ...] = (),
        *,
        processes: int | None = None,
        deadline: float = 10.0,
        max_waiting: int | None = None,
        preload: tuple[str, ...] = (),
    ) -> None:
        self.processes = processes or default_processes()
        self.deadline = deadline
        self.max_waiting = max_waiting if max_waiting is not None else self.processes * 8
        self.waiting = 0
        self._context = multiprocessing.get_context("forkserver")
        if preload:
            self._context.set_forkserver_preload(list(preload))
        self._start = (initializer, initargs)
        self._pool: Pool | None = self._new_pool()
        atexit.register(self.close)
        # one call through the pool: the server announces itself only once a worker can answer
        # (the workers start together, so the others are about as far)
        self._pool.apply(os.getpid)

    def _new_pool(self) -> Pool:
        return self._context.Pool(self.processes, _start_worker, (os.getpid(), *self._start))

    def _renew(self) -> None:
        """Replace the whole pool: a worker that did not stop itself at the deadline is stuck in
        native code and would hold its process for good. Calls still running on the old pool end
        with their own timeout."""
        old, self._pool = self._pool, self._new_pool()
        if old is not None:
            threading.Thread(target=_end, args=(old,), daemon=True, name="offload-renew").start()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker; raises :class:`Busy`, :class:`WorkTimeout`, or what ``fn`` raised."""
        if self._pool is None:
            raise Busy("the server is shutting down")
        if self.waiting >= self.max_waiting:
            raise Busy(f"{self.waiting} requests are already running or waiting")
        loop = asyncio.get_running_loop()
        done: asyncio.Future[tuple[bool, T | None]] = loop.create_future()

        def finished(value: tuple[bool, T | None]) -> None:
            loop.call_soon_threadsafe(_settle, done, value, None)

        def failed(error: BaseException) -> None:
            loop.call_soon_threadsafe(_settle, done, None, error)

        self.waiting += 1
        try:
            self._pool.apply_async(_call, (fn, self.deadline, args), callback=finished, error_callback=failed)
            # the worker stops itself at the deadline; the grace (and the queue wait, bounded by
            # max_waiting calls of at most one deadline each) covers a worker stuck in native code
            queue_bound = self.deadline * (1 + self.max_waiting / self.processes)
            try:
                in_time, value = await asyncio.wait_for(done, queue_bound + _GRACE_SECONDS)
            except TimeoutError:
                if self._pool is not None:
                    self._renew()
                raise WorkTimeout(f"not answered within {self.deadline:g} s") from None
        finally:
            self.waiting -= 1
        if not in_time:
            raise WorkTimeout(f"stopped after the time limit of {self.deadline:g} s")
        return value  # type: ignore[return-value]

    def close(self) -> None:
        """Stop the workers (idempotent; also at interpreter exit)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            _end(pool)
            del pool
            gc.collect()  # finalise the pool's semaphores now, or the resource tracker warns at exit


def _end(pool: Pool) -> None:
    pool.terminate()
    pool.join()


def _settle(done: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if done.done():  # the caller gave up (timeout, disconnect)
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(value)
