"""Batch mode's worker processes (recommend/workers.py): real forked processes, the same bytes.

Workers only change who computes a new class's answer, so every test compares with what one
process writes, and samples lines against ``Recommender.recommend`` itself (the reference): a
varied input (the benchmark's realistic mix: every field, continuous values, missing and null
values, shuffled key order) with bad lines spread in, a worker killed mid-run, a small input (no
fork at all), Ctrl-C while the workers run."""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import select
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from axilla_kg.contract.cases import loads_case
from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.recommend import batch
from axilla_kg.recommend.recommender import Recommender, dumps

from conftest import cli_command, cli_env, require_tool, terminal_sigint

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from bench_recommend import varied_line

INTERRUPTED = 130


@pytest.fixture(scope="module")
def rec(kg: KnowledgeGraph) -> Recommender:
    return Recommender.load(kg)


def _varied(n: int, seed: int) -> bytes:
    """``n`` lines of the realistic mix, every 97th a broken one (not JSON, or a field the contract refuses)."""
    rng = random.Random(seed)
    lines = []
    for number in range(1, n + 1):
        if number % 97 == 0:
            lines.append(rng.choice(['{"sex": "female", "age": "old"}', "{not json", '{"tumour_size_cm": 2}']))
        else:
            lines.append(varied_line(rng))
    return ("\n".join(lines) + "\n").encode()


def _sampled_against_the_recommender(rec: Recommender, data: bytes, output: bytes, every: int = 53) -> int:
    """One output line per input line, numbered; every ``every``-th answer exactly the single-case one."""
    inputs, outputs = data.splitlines(), output.splitlines()
    assert len(outputs) == len(inputs)
    checked = 0
    for number, (line, answer) in enumerate(zip(inputs, outputs, strict=True), start=1):
        got = json.loads(answer)
        assert got["line"] == number
        if number % every == 0 and "error" not in got:
            assert answer.decode() == dumps({"line": number, **rec.recommend(loads_case(line.decode()))})
            checked += 1
    return checked


def test_workers_write_the_bytes_one_process_writes(rec: Recommender, tmp_path: Path) -> None:
    """Through the CLI as a user runs it (``--jobs 2`` and ``--jobs 1``, to files), with ``--detail
    ref`` too: the answers and the details document are the same bytes."""
    cases = tmp_path / "cases.jsonl"
    data = _varied(3 * batch.BLOCK_LINES + 311, seed=24)
    cases.write_bytes(data)
    outputs = {}
    for jobs in ("2", "1"):
        for detail in ("full", "ref"):
            out, details = tmp_path / f"out-{jobs}-{detail}.jsonl", tmp_path / f"details-{jobs}.json"
            extra = ["--detail", "ref", "--details", str(details)] if detail == "ref" else []
            done = subprocess.run(
                [*cli_command(), "recommend", "--cases", str(cases), "-o", str(out), "--jobs", jobs, *extra],
                capture_output=True,
                text=True,
                env=cli_env(),
                timeout=600,
            )
            assert done.returncode == 0, done.stderr
            outputs[jobs, detail] = out.read_bytes() + (details.read_bytes() if extra else b"")
    assert outputs["2", "full"] == outputs["1", "full"]
    assert outputs["2", "ref"] == outputs["1", "ref"]
    assert _sampled_against_the_recommender(rec, data, outputs["2", "full"]) > 50


#: The start of every fresh-interpreter script: workers may only be forked by a process without a
#: JVM (``workers.can_fork``), and a pytest worker may have run the reasoners before.
PRELUDE = """
import io, os, signal, sys
from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.recommend import batch, workers
from axilla_kg.recommend.recommender import Recommender
forks = []
os.register_at_fork(after_in_parent=lambda: forks.append(1))
rec = Recommender.load(KnowledgeGraph.load())
data = open(sys.argv[1], "rb").read()
"""


def _fresh_python(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + script, *args], capture_output=True, text=True, env=cli_env(), timeout=600
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _one_process(rec: Recommender, data: bytes) -> bytes:
    out = io.BytesIO()
    batch.run(rec, io.BytesIO(data), out)  # (the Python API's default: one process)
    return out.getvalue()


def test_a_worker_that_dies_changes_no_answer(rec: Recommender, tmp_path: Path) -> None:
    """A worker killed (as the OOM killer would) after a block: the parent answers its classes
    itself and stops sending it any; the lines are the same bytes as one process's."""
    cases, out = tmp_path / "cases.jsonl", tmp_path / "out.jsonl"
    data = _varied(4 * batch.BLOCK_LINES, seed=25)
    cases.write_bytes(data)
    script = """
blocks = list(batch.read_blocks(io.BytesIO(data)))
answerer = batch.BatchRecommender(rec)
got = [answerer.answer_block(blocks[0])]
answerer.start_workers(2)
victim = answerer.workers.processes[0]
got.append(answerer.answer_block(blocks[1]))  # both workers answer
os.kill(victim.pid, signal.SIGKILL)
victim.join()
got += [answerer.answer_block(block) for block in blocks[2:]]
print(len(forks), answerer.workers.lost)
answerer.finish_workers()
open(sys.argv[2], "wb").write(b"".join(b"".join(pieces) for pieces, _ in got))
"""
    assert _fresh_python(script, str(cases), str(out)).split() == ["2", "1"]  # two forked, one lost
    assert out.read_bytes() == _one_process(rec, data)
    assert _sampled_against_the_recommender(rec, data, out.read_bytes()) > 50


def test_classes_first_met_after_the_fork_are_answered_by_the_workers(rec: Recommender, tmp_path: Path) -> None:
    """The parent numbers each field's classes as its lines show them, after the workers are forked
    too (they are, before the first block is read): each key goes with the classes the worker has
    not seen. A worker that could not read a key would give its class no answer, and the class's
    lines would take the strict path, one by one (the same bytes, far slower): so the lines
    answered the strict way are as many with two workers as in one process (the broken lines)."""
    cases, out = tmp_path / "cases.jsonl", tmp_path / "out.jsonl"
    data = _varied(3 * batch.BLOCK_LINES, seed=31)
    cases.write_bytes(data)
    script = """
strict = [0]
answer_line = batch.BatchRecommender.answer_line
def counted(self, *args):
    strict[0] += 1
    return answer_line(self, *args)
batch.BatchRecommender.answer_line = counted
for jobs in (1, 2):
    strict[0], before = 0, len(forks)
    with open(sys.argv[2], "wb") as out:
        batch.run(rec, io.BytesIO(data), out, jobs=jobs)
    print(jobs, len(forks) - before, strict[0])
"""
    one, two = (line.split() for line in _fresh_python(script, str(cases), str(out)).splitlines())
    broken = 3 * batch.BLOCK_LINES // 97
    assert one[:2] == ["1", "0"] and two[:2] == ["2", "2"]  # two workers forked
    assert int(one[2]) >= broken and two[2] == one[2]
    assert out.read_bytes() == _one_process(rec, data)


def test_a_process_running_a_jvm_forks_no_worker(rec: Recommender, tmp_path: Path) -> None:
    """Once a JVM runs in the process (the reasoners start one), a forked child would hang at its
    first garbage collection (JPype hooks it to the JVM's, whose threads the child lacks): batch
    mode then answers in its own process, the same bytes."""
    require_tool("java")
    cases, out = tmp_path / "cases.jsonl", tmp_path / "out.jsonl"
    data = _varied(3 * batch.BLOCK_LINES, seed=29)
    cases.write_bytes(data)
    script = """
from axilla_kg.reasoning import jvm
jvm.start()
before = len(forks)
with open(sys.argv[2], "wb") as out:
    batch.run(rec, io.BytesIO(data), out, jobs=2)
print(len(forks) - before, workers.can_fork())
"""
    assert _fresh_python(script, str(cases), str(out)).split() == ["0", "False"]
    assert out.read_bytes() == _one_process(rec, data)


def test_a_small_input_forks_no_worker(tmp_path: Path) -> None:
    """One block of lines is answered in the process (a fork would cost more than it saves); a
    second block starts the workers. Counted with a real fork hook, in a fresh interpreter."""
    script = """
for n in (batch.BLOCK_LINES, 3 * batch.BLOCK_LINES):
    lines = b"".join(data.splitlines(keepends=True)[:n])
    before = len(forks)
    counts = batch.run(rec, io.BytesIO(lines), io.BytesIO(), jobs=2)
    print(counts["cases"], len(list(batch.read_blocks(io.BytesIO(lines)))), len(forks) - before)
"""
    cases = tmp_path / "cases.jsonl"
    cases.write_bytes(_varied(3 * batch.BLOCK_LINES, seed=26))
    small, large = (line.split() for line in _fresh_python(script, str(cases)).splitlines())
    assert small == [str(batch.BLOCK_LINES), "1", "0"]  # one block: no fork
    assert large[0] == str(3 * batch.BLOCK_LINES) and int(large[1]) > 1 and large[2] == "2"  # two workers


@contextlib.contextmanager
def _workers_running(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], list[int]]]:
    """A ``recommend --cases FIFO --jobs 2`` with its two workers running: three blocks' worth of
    lines go into a named pipe the test holds open; once the first block's answers are out, the
    workers run (they start with the second block) and the CLI waits for the end of the third.
    Yields the CLI process and its workers' pids; the CLI is killed on the way out if still there."""
    fifo = tmp_path / "cases.jsonl"
    os.mkfifo(fifo)
    with terminal_sigint():
        process = subprocess.Popen(
            [*cli_command(), "recommend", "--cases", str(fifo), "--jobs", "2"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=cli_env(),
        )
    watchdog = threading.Timer(300, process.kill)  # a hung CLI fails the test instead of hanging it
    watchdog.start()
    feed = os.open(fifo, os.O_WRONLY)  # returns once the CLI has opened it to read
    data = _varied(3 * batch.BLOCK_LINES, seed=27)
    threading.Thread(target=os.write, args=(feed, data), daemon=True).start()  # (the CLI writes as it reads)
    try:
        assert process.stdout is not None
        for _ in range(batch.BLOCK_LINES):  # the first block's answers: the workers are running
            assert process.stdout.readline()
        tasks = Path(f"/proc/{process.pid}/task")
        children = [int(pid) for task in tasks.iterdir() for pid in (task / "children").read_text().split()]
        assert len(children) == 2
        yield process, children
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(feed)


def _exits(pid: int, seconds: float) -> bool:
    """Whether process ``pid`` (not a child of this one) ends within ``seconds``: waited for on its
    pidfd, which becomes readable when it exits."""
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([handle], [], [], seconds)[0])
    finally:
        os.close(handle)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX named pipes")
def test_ctrl_c_while_the_workers_run_is_one_line_exit_130_and_no_worker_left(tmp_path: Path) -> None:
    """Ctrl-C ends the run with one line and exit 130, and the workers are gone by the time it has
    exited (the parent stops them)."""
    with _workers_running(tmp_path) as (process, children):
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=120)
    assert process.returncode == INTERRUPTED
    assert err.decode().splitlines() == ["axilla-kg: interrupted"]
    for pid in children:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs pidfd_open (Linux)")
def test_a_killed_parent_leaves_no_worker_waiting(tmp_path: Path) -> None:
    """SIGKILL (or the OOM killer) gives the parent no chance to stop its workers: each must then
    find its pipe ended and exit, not wait for the dead parent for ever (a worker must not hold
    the parent's ends of the pipes, its own or another worker's)."""
    with _workers_running(tmp_path) as (process, children):
        process.kill()
        process.wait()
        assert [pid for pid in children if not _exits(pid, 60)] == []


def test_jobs_is_checked_and_needs_cases(tmp_path: Path) -> None:
    for args, wanted in (
        (["--cases", str(tmp_path / "x.jsonl"), "--jobs", "0"], "--jobs"),
        (["--cases", str(tmp_path / "x.jsonl"), "--jobs", "two"], "--jobs"),
        (["--sex", "female", "--jobs", "2"], "--jobs sets the processes of --cases"),
    ):
        done = subprocess.run(
            [*cli_command(), "recommend", *args], capture_output=True, text=True, env=cli_env(), timeout=120
        )
        assert done.returncode == 2, args
        assert wanted in done.stderr and done.stdout == "", args


def test_a_tiny_tail_bound_changes_no_answer(rec: Recommender, tmp_path: Path) -> None:
    """Past its bound the tail memo forgets everything (memory stays flat), also while a block's new
    classes are still with the workers, and so does a worker's numbering of the tails it sent:
    with bounds of one byte they forget at every block, and every line is still the same bytes,
    in one process and with workers."""
    cases, out = tmp_path / "cases.jsonl", tmp_path / "out"
    data = _varied(3 * batch.BLOCK_LINES + 100, seed=28)
    cases.write_bytes(data)
    script = """
batch.MAX_CELL_BYTES = 1
workers.MAX_SENT_BYTES = 1
for jobs in (1, 2):
    before = len(forks)
    with open(f"{sys.argv[2]}-{jobs}", "wb") as out:
        batch.run(rec, io.BytesIO(data), out, jobs=jobs)
    print(len(forks) - before)
"""
    assert _fresh_python(script, str(cases), str(out)).split() == ["0", "2"]
    expected = _one_process(rec, data)
    assert Path(f"{out}-1").read_bytes() == expected
    assert Path(f"{out}-2").read_bytes() == expected
    assert _sampled_against_the_recommender(rec, data, expected) > 50


def test_a_small_ring_changes_no_answer(rec: Recommender, tmp_path: Path) -> None:
    """New tails cross from the workers in a ring of shared memory (``recommend/ring.py``); one too
    small for any tail sends them all through the pipe, one of two tails takes a few and sends the
    rest through the pipe, and a default one carries them all: every line is the same bytes (the
    ring's wrapping round is ``tests/test_ring.py``'s)."""
    cases, out = tmp_path / "cases.jsonl", tmp_path / "out"
    data = _varied(3 * batch.BLOCK_LINES + 100, seed=30)
    cases.write_bytes(data)
    script = """
from axilla_kg.recommend import ring
for size in (1, 12_000, ring.RING_BYTES):
    ring.RING_BYTES = size
    before = len(forks)
    with open(f"{sys.argv[2]}-{size}", "wb") as out:
        batch.run(rec, io.BytesIO(data), out, jobs=2)
    print(size, len(forks) - before)
"""
    rows = [line.split() for line in _fresh_python(script, str(cases), str(out)).splitlines()]
    assert [forked for _, forked in rows] == ["2", "2", "2"]
    expected = _one_process(rec, data)
    for size, _ in rows:
        assert Path(f"{out}-{size}").read_bytes() == expected, size
    assert _sampled_against_the_recommender(rec, data, expected) > 50


def test_a_reply_naming_a_place_outside_its_ring_loses_that_worker_not_an_answer(
    rec: Recommender, tmp_path: Path
) -> None:
    """A worker whose reply names bytes its ring does not hold (a bug, or memory gone bad) is
    treated as lost: the parent answers its classes itself and the lines are the same bytes."""
    cases = tmp_path / "cases.jsonl"
    data = _varied(3 * batch.BLOCK_LINES + 100, seed=31)
    cases.write_bytes(data)
    script = """
replies = []
reply = workers._Replies.reply
def broken(self, tails, read):
    restart, items = reply(self, tails, read)
    replies.append(1)
    if len(replies) == 2:  # (the second reply of each worker)
        items = [(self.ring.size, 10) if isinstance(item, tuple) else item for item in items]
    return restart, items
workers._Replies.reply = broken
out = io.BytesIO()
lost = []
lose = workers.Workers._lose
def counted(self, i):
    lost.append(i)
    lose(self, i)
workers.Workers._lose = counted
batch.run(rec, io.BytesIO(data), out, jobs=2)
sys.stdout.buffer.write(out.getvalue())
sys.stderr.write(f"lost {sorted(set(lost))}")
"""
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + script, str(cases)], capture_output=True, env=cli_env(), timeout=600
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.decode().endswith("lost [0, 1]")
    assert done.stdout == _one_process(rec, data)


def test_the_memo_of_tails_counts_each_tail_it_holds_once(rec: Recommender, tmp_path: Path) -> None:
    """The memo of tails is bounded by the bytes it holds (``batch.MAX_CELL_BYTES``): in one process
    equal tails are kept once (compared by their bytes), and with workers each tail a worker sends
    is received once and met again as the same object (no bytes compared in the parent). Either
    way the bytes counted are those of the distinct tails held (and ``CLASS_BYTES`` per class)."""
    cases = tmp_path / "cases.jsonl"
    cases.write_bytes(_varied(3 * batch.BLOCK_LINES + 100, seed=29))
    script = """
made = []
init = batch.BatchRecommender.__init__
def capture(self, *args, **kwargs):
    init(self, *args, **kwargs)
    made.append(self)
batch.BatchRecommender.__init__ = capture
for jobs in (1, 2):
    before = len(forks)
    batch.run(rec, io.BytesIO(data), io.BytesIO(), jobs=jobs)
    held = {id(tail): tail for tail in made[-1].cells.values() if tail is not None}
    counted = made[-1].cell_bytes - batch.CLASS_BYTES * len(made[-1].cells)
    print(jobs, len(forks) - before, len(held), len(set(held.values())), counted, sum(map(len, held.values())))
"""
    rows = [line.split() for line in _fresh_python(script, str(cases)).splitlines()]
    assert [(row[0], row[1]) for row in rows] == [("1", "0"), ("2", "2")]
    for _, _, objects, distinct, counted, held in rows:
        assert int(counted) == int(held) > 0
        assert int(objects) >= int(distinct) > 100
    assert rows[0][2] == rows[0][3]  # (one process: equal tails are one object)
