"""The off-loop process pool (``axilla_kg.server.offload``): results and errors come back, a call
past its deadline is stopped by its worker (which then serves again), a full pool refuses at once,
calls run in parallel processes, and the workers cannot open a network socket."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from canary import canary

from axilla_kg.server.offload import Busy, OffLoop, WorkTimeout

from conftest import cli_env


def spin(seconds: float) -> int:
    """Busy Python code for ``seconds`` (interruptible by the worker's alarm); the worker's pid."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return os.getpid()


def connect(port: int) -> str:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            return "connected"
    except OSError as exc:
        return type(exc).__name__


@pytest.fixture(scope="module")
def pool() -> Iterator[OffLoop]:
    offload = OffLoop(processes=2, deadline=1.0, max_waiting=4)
    yield offload
    offload.close()


def test_results_and_errors_come_back(pool: OffLoop) -> None:
    assert asyncio.run(pool.run(pow, 2, 10)) == 1024
    with pytest.raises(ValueError):
        asyncio.run(pool.run(int, "not a number"))


def test_a_call_past_its_deadline_is_stopped_and_the_worker_serves_again(pool: OffLoop) -> None:
    with pytest.raises(WorkTimeout, match="stopped after the time limit of 1 s"):
        asyncio.run(pool.run(spin, 60.0))
    assert asyncio.run(pool.run(pow, 3, 3)) == 27


def test_calls_run_in_parallel_processes(pool: OffLoop) -> None:
    async def two() -> list[int]:
        return list(await asyncio.gather(pool.run(spin, 0.5), pool.run(spin, 0.5)))

    first, second = asyncio.run(two())
    assert first != second and os.getpid() not in (first, second)


def test_a_full_pool_refuses_at_once() -> None:
    small = OffLoop(processes=1, deadline=5.0, max_waiting=1)
    try:

        async def crowd() -> list[object]:
            running = asyncio.ensure_future(small.run(spin, 0.5))
            await asyncio.sleep(0)  # let the first call be admitted
            refused: list[object] = []
            try:
                await small.run(pow, 2, 2)
            except Busy as exc:
                refused.append(exc)
            return [await running, *refused]

        pid, *refused = asyncio.run(crowd())
        assert isinstance(pid, int) and len(refused) == 1
    finally:
        small.close()


def test_workers_cannot_reach_the_network(pool: OffLoop) -> None:
    with canary() as bird:
        assert asyncio.run(pool.run(connect, bird.port)) == "PermissionError"
        assert bird.connections == 0


HOLDER = """
import asyncio, os, sys
from axilla_kg.server.offload import OffLoop
pool = OffLoop(processes=2)
print(asyncio.run(pool.run(os.getpid)), flush=True)
sys.stdin.read()  # until the test kills this process
"""


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
                out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_workers_end_when_the_server_is_killed() -> None:
    """SIGKILL leaves no atexit handler to stop the pool: the workers (children of the fork
    server) must notice on their own, and the fork server then ends too."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=cli_env()
    )
    try:
        assert holder.stdout is not None
        worker = int(holder.stdout.readline())
        servers = [p for p in _children(holder.pid) if worker in _children(p)]
        assert len(servers) == 1
        workers = _children(servers[0])
        assert worker in workers and len(workers) == 2
    finally:
        holder.kill()
        holder.wait(timeout=30)
    deadline = time.monotonic() + 60
    while any(_alive(p) for p in [*workers, *servers]):
        assert time.monotonic() < deadline, "workers outlived the server"
