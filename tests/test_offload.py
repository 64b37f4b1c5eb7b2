"""The off-loop process pool (``axilla_kg.server.offload``): results and errors come back, a call
past its deadline is stopped by its worker (which then serves again), a full pool refuses at once,
calls run in parallel processes, and the workers cannot open a network socket."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Iterator

import pytest
from canary import canary

from axilla_kg.server.offload import Busy, OffLoop, WorkTimeout


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
