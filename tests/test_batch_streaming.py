"""Batch mode as a co-process: a program that writes one case to ``recommend --cases -`` and waits
for its answer before writing the next gets each answer (it got none before 2,048 lines or the end
of its input), with the same bytes as a file of the same lines gives; a pipe that keeps up, and a
file, are answered exactly as before. A real ``python -m axilla_kg`` process behind real pipes.

The waits are guards, not timings: a read of an answer gives up after :data:`GUARD` seconds (a
run that never answers fails instead of hanging the suite)."""

from __future__ import annotations

import contextlib
import json
import os
import random
import resource
import select
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from axilla_kg.recommend import batch

from conftest import cli_command, cli_env, terminal_sigint

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_recommend import varied_line

#: the longest a test waits for one answer line before it fails (a guard against a hang, not a speed limit)
GUARD = 120.0


def _lines(n: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [varied_line(rng).encode() + b"\n" for _ in range(n)]


def _file_answers(tmp_path: Path, lines: list[bytes], *args: str) -> list[bytes]:
    """The answers of the same lines read from a file: what each streamed answer must equal."""
    cases = tmp_path / "cases.jsonl"
    cases.write_bytes(b"".join(lines))
    done = subprocess.run(
        [*cli_command(), "recommend", "--cases", str(cases), *args],
        capture_output=True,
        env=cli_env(),
        timeout=600,
        check=True,
    )
    return done.stdout.splitlines(keepends=True)


@contextlib.contextmanager
def _coprocess(*args: str) -> Iterator[subprocess.Popen[bytes]]:
    """``recommend --cases -`` with ``args``, its three streams piped (started as from a terminal:
    Ctrl-C reaches it); killed on the way out, whatever the test found."""
    with terminal_sigint():
        proc = subprocess.Popen(
            [*cli_command(), "recommend", "--cases", "-", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=cli_env(),
        )
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


class _Answers:
    """Answer lines read off a process's stdout as they come, never waiting longer than GUARD."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        self.fd = proc.stdout.fileno()
        self.buffered = b""

    def next_line(self) -> bytes:
        while b"\n" not in self.buffered:
            ready, _, _ = select.select([self.fd], [], [], GUARD)
            if not ready:
                pytest.fail(f"no answer within {GUARD:.0f} s: the line waits for more input")
            data = os.read(self.fd, 1 << 20)
            if not data:
                pytest.fail("the process ended without answering the line")
            self.buffered += data
        line, _, self.buffered = self.buffered.partition(b"\n")
        return line + b"\n"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_each_case_is_answered_before_the_next_is_sent(tmp_path: Path, jobs: str) -> None:
    lines = _lines(6, seed=61)
    expected = _file_answers(tmp_path, lines, "--jobs", jobs)
    with _coprocess("--jobs", jobs) as proc:
        assert proc.stdin is not None
        answers = _Answers(proc)
        for number, line in enumerate(lines, start=1):
            proc.stdin.write(line)
            proc.stdin.flush()
            answer = answers.next_line()  # before the next line is written
            assert json.loads(answer)["line"] == number
            assert answer == expected[number - 1]
        proc.stdin.close()
        assert proc.wait(timeout=GUARD) == 0
        assert answers.buffered == b""


def test_a_burst_of_a_block_then_waiting_gets_every_answer(tmp_path: Path) -> None:
    """A program that writes a block's worth of cases and a few more at once, then waits for all
    their answers: the block read last is answered too, not held back for the block after it."""
    lines = _lines(batch.BLOCK_LINES + 52, seed=64)
    expected = _file_answers(tmp_path, lines)
    with _coprocess() as proc:
        assert proc.stdin is not None
        answers = _Answers(proc)
        proc.stdin.write(b"".join(lines))
        proc.stdin.flush()
        got = [answers.next_line() for _ in lines]  # all of them before the input ends
        assert got == expected
        proc.stdin.close()
        assert proc.wait(timeout=GUARD) == 0


def test_a_stream_that_waits_then_bursts_forks_its_workers_then(tmp_path: Path) -> None:
    """One case answered alone (no workers for a stream that waits), then three blocks' worth at
    once: the workers are forked then (while the writer thread runs: two blocks in a row, or, had
    the burst come with pauses, two blocks' worth of lines), and every answer is the file's, in order."""
    lines = _lines(1 + 3 * batch.BLOCK_LINES, seed=66)
    expected = _file_answers(tmp_path, lines, "--jobs", "2")
    with _coprocess("--jobs", "2") as proc:
        assert proc.stdin is not None
        answers = _Answers(proc)
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
        proc.stdin.write(lines[0])
        proc.stdin.flush()
        assert answers.next_line() == expected[0]
        assert children.read_text().split() == []  # answered in the process itself
        stdin = proc.stdin

        def burst() -> None:
            stdin.write(b"".join(lines[1:]))
            stdin.flush()

        writer = threading.Thread(target=burst)
        writer.start()  # (a thread: the answers are read while the burst is written)
        got = [answers.next_line() for _ in lines[1:]]
        writer.join()
        assert len(children.read_text().split()) == 2  # the two workers, forked for the burst
        assert got == expected[1:]
        proc.stdin.close()
        assert proc.wait(timeout=GUARD) == 0


def test_a_line_written_in_pieces_is_answered_once_whole(tmp_path: Path) -> None:
    """A case whose bytes come in two writes, with a pause between: nothing is answered for half a
    line (only whole lines are), and the whole line gets its one answer."""
    line = _lines(1, seed=62)[0]
    expected = _file_answers(tmp_path, [line])
    with _coprocess() as proc:
        assert proc.stdin is not None and proc.stdout is not None
        half = len(line) // 2
        proc.stdin.write(line[:half])
        proc.stdin.flush()
        ready, _, _ = select.select([proc.stdout.fileno()], [], [], 1.0)  # (an answer to half a line would show)
        assert not ready
        proc.stdin.write(line[half:])
        proc.stdin.flush()
        assert _Answers(proc).next_line() == expected[0]
        proc.stdin.close()
        assert proc.wait(timeout=GUARD) == 0


def test_a_pipe_that_keeps_up_is_answered_as_the_file_is(tmp_path: Path) -> None:
    """Three blocks' worth of lines written into the pipe at once: the same bytes as the file, with
    the workers (a stream that does not wait is answered by blocks, as before)."""
    lines = _lines(3 * batch.BLOCK_LINES + 17, seed=63)
    expected = _file_answers(tmp_path, lines)
    done = subprocess.run(
        [*cli_command(), "recommend", "--cases", "-"],
        input=b"".join(lines),
        capture_output=True,
        env=cli_env(),
        timeout=600,
        check=True,
    )
    assert done.stdout.splitlines(keepends=True) == expected


def test_read_blocks_on_a_quiet_pipe_yields_what_it_has_then_stalled() -> None:
    """The reader itself, on a real pipe: two whole lines and half of a third, then silence: a
    block of the two whole lines and :data:`batch.STALLED`; the rest, once it comes, as the next
    block, numbered on."""
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "rb") as source:
        blocks = batch.read_blocks(source, stall=0.05)
        os.write(write_end, b'{"a": 1}\n{"b": 2}\n{"c"')
        assert next(blocks) == (1, [b'{"a": 1}', b'{"b": 2}'])
        assert next(blocks) is batch.STALLED

        def rest() -> None:
            os.write(write_end, b": 3}\n")
            os.close(write_end)

        writer = threading.Thread(target=rest)
        writer.start()
        assert list(blocks) == [(3, [b'{"c": 3}'])]
        writer.join()


def test_read_blocks_on_a_file_never_stalls(tmp_path: Path) -> None:
    """A file is never quiet: its lines come by blocks of at least ``block_lines`` (a read's worth),
    and no :data:`batch.STALLED` between them."""
    path = tmp_path / "cases.jsonl"
    path.write_bytes(b'{"a": 1}\n' * 50_000)  # (450 kB: several reads)
    with path.open("rb") as source:
        items = list(batch.read_blocks(source, block_lines=2048, stall=0.05))
    assert batch.STALLED not in items
    blocks = [item for item in items if item is not None]
    assert len(blocks) > 2
    starts = [1]
    for _, lines in blocks:
        starts.append(starts[-1] + len(lines))
    assert [number for number, _ in blocks] == starts[:-1]
    assert all(len(lines) >= 2048 for _, lines in blocks[:-1])
    assert starts[-1] == 50_001


def test_a_quiet_pipe_on_a_descriptor_above_1024_is_read_too() -> None:
    """An input handed over on a high descriptor number (a server with many connections): what
    watches it for quiet must take any descriptor (``select.select`` takes none from 1,024 up)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    high = 1500
    if soft <= high:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    read_end, write_end = os.pipe()
    try:
        os.dup2(read_end, high)
        os.close(read_end)
        with os.fdopen(high, "rb") as source:
            blocks = batch.read_blocks(source, stall=0.05)
            os.write(write_end, b'{"a": 1}\n')
            assert next(blocks) == (1, [b'{"a": 1}'])
            assert next(blocks) is batch.STALLED
            os.close(write_end)
            write_end = -1
            assert list(blocks) == []
    finally:
        if write_end >= 0:
            os.close(write_end)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_ctrl_c_while_the_co_process_waits_for_the_next_case(tmp_path: Path) -> None:
    """Ctrl-C after an answer, while the process waits for the next case (watching its input for
    quiet): one line on stderr and exit 130, as anywhere else, and the answer already written stays."""
    line = _lines(1, seed=65)[0]
    expected = _file_answers(tmp_path, [line])
    with _coprocess() as proc:
        assert proc.stdin is not None and proc.stderr is not None
        proc.stdin.write(line)
        proc.stdin.flush()
        assert _Answers(proc).next_line() == expected[0]  # answered: now it waits for more input
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=GUARD) == 130
        assert proc.stderr.read().decode().strip() == "axilla-kg: interrupted"
