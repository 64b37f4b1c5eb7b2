"""``recommend --cases``: JSON Lines in, JSON Lines out, streaming, exactly one output line per input line.

Why it looks like this:

* **No line is ever lost.** Each line is decoded (UTF-8, JSON, the case contract) on its own and
  any failure, whatever it is, becomes that line's error line; a blank, over-long or invalid-UTF-8
  line is an error line too. So output line N always answers input line N, and a program can
  ``paste`` input and output side by side.
* **One answer per class of case.** A recommendation depends on a case only through its
  equivalence class under the compiled definitions (:mod:`axilla_kg.recommend.partition`: each value
  by the tests and rules it can change, each number by the side of each bound the definitions use),
  so the answer's tail is rendered once per class (:mod:`axilla_kg.recommend.classanswers`, from cached
  parts); per line only the line number and the case echo are written. The batch reader
  (:mod:`axilla_kg.contract.fastline`) gives a common line's class key and echo in one msgspec decode
  and two C-level passes over per-field tables; any other line takes the strict path.
* **New classes on every core.** The parent process reads, keys, looks up and writes every line,
  in order, and remembers every class's tail (an answer once per process that made it); the
  classes it meets for the first time are answered in forked worker processes
  (:mod:`axilla_kg.recommend.workers`, ``jobs``), pipelined one block deep, so each class is
  still answered once per run. The output goes to the
  file descriptor with ``os.writev`` (no joining of kilobyte-sized answers). Memory stays flat: one
  block of lines at a time, and the memos are bounded.
* **A co-process gets its answers.** Blocks are thousands of lines, but a pipe that goes quiet with
  whole lines read has them answered and written at once (:data:`STALL_SECONDS`): an order system
  can keep one ``recommend --cases -`` running, write a case and read its answer.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import queue
import select
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import IO, Any, NoReturn

from axilla_kg.contract.cases import CaseError, PatientCase
from axilla_kg.contract.fastline import FastLine, supported
from axilla_kg.errors import BatchOutputError
from axilla_kg.recommend import workers
from axilla_kg.recommend.classanswers import CASE_HEAD, CHECKED, REF, ClassAnswers
from axilla_kg.recommend.partition import Key, Partition
from axilla_kg.recommend.recommender import Recommender, dumps

__all__ = ["REF", "BatchOutputError", "BatchRecommender", "CellKey", "details_document", "read_blocks", "run"]
#: Answer tails kept, in bytes (each distinct tail once, and CLASS_BYTES per class), before the memo is
#: cleared (memory stays flat); 200,000 varied lines (100,598 classes, 43,114 distinct tails) fit.
MAX_CELL_BYTES = 256 << 20
#: What a remembered class costs besides its tail (its key, a 26-int tuple, and its entry), in bytes
CLASS_BYTES = 400
#: Repeated lines (the same case sent again) skip decoding; bounded so memory stays flat.
MAX_SEEN_LINES = 50_000
#: Blocks whose lines are not looked up among the lines seen after a block where fewer than one in
#: :data:`SEEN_HITS` was (a varied extract repeats 1 % of its lines, a few-kinds one 43 %): looking
#: up and remembering every line cost the varied mix 2 % of its time for nothing.
SEEN_PAUSE = 15
SEEN_HITS = 50
#: A line longer than this is answered with an error without being kept in memory (a case is ~200 bytes).
MAX_LINE_BYTES = 1 << 20
#: blocks of answers waiting for the writer thread (:class:`_Sink`) before answering waits for it
WRITES_QUEUED = 2
#: Lines per block: big enough to amortise a write, small enough to keep memory flat.
BLOCK_LINES = 2048
#: Lines read together again when a block as a whole cannot be (see :meth:`BatchRecommender._keys`).
RUN_LINES = 64
READ_BYTES = 1 << 16
#: Seconds a pipe, socket or terminal may stay silent with whole lines read before they are answered
#: at once (:func:`read_blocks`): a program that sends a case and waits for its answer gets it,
#: while a file or a fast pipe still goes by blocks of :data:`BLOCK_LINES`. Measured: a program
#: sending 200 cases one at a time got 19 answers/s at 50 ms, 133/s at 5 ms, 213/s at 2 ms; a pipe
#: fed by ``cat`` (200,000 lines, three such runs at once on 2 cores) was never quiet 5 ms, and 1-3
#: times quiet 2 ms (each time a block cut short): 5 ms.
STALL_SECONDS = 0.005
#: What :func:`read_blocks` yields (with ``stall``) after the lines read when the input went quiet:
#: everything read so far is to be answered and written before the next read waits.
STALLED: None = None
_IOV_MAX = 1024
#: ``recommend.dumps`` without building an encoder per call (the tests hold the bytes equal)
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode
#: ``{"line":N,"case":{`` and the case echo's members; the class's tail closes the echo
_HEAD = b'{"line":%d,' + CASE_HEAD + b"%b"

Block = tuple[int, list[bytes | None]]
"""A run of input lines: the number of the first, and each line's bytes (``None``: over-long)."""


# --- the class of a case ------------------------------------------------------------------------
def case_attributes(recommender: Recommender) -> list[str]:
    """Every field a case can carry, from the feature registry (so a new field joins the key)."""
    return list(recommender.registry.fields)


class CellKey:
    """The class key of a validated case (:class:`~axilla_kg.recommend.partition.Partition`): two
    cases with one key get the same answer, apart from the echoed case."""

    def __init__(self, recommender: Recommender, partition: Partition | None = None) -> None:
        self.partition = partition or Partition(recommender.classifier, recommender.registry)
        #: the numeric fields some definition bounds, with their bounds (read from the classifier)
        self.bounded = [
            (c.feature.name, sorted((t.op, t.limit) for t in c.tests))
            for c in self.partition.fields
            if c.numeric and c.tests
        ]

    def __call__(self, case: PatientCase) -> Key:
        return self.partition.key_of(case)


# --- answering lines ----------------------------------------------------------------------------
@dataclass
class _Started:
    """A block between :meth:`BatchRecommender.start_block` and :meth:`~BatchRecommender.finish_block`."""

    first: int  # the number of its first line
    lines: list[bytes | None]
    found: list[Any]  # per line: (echo, tail), or None until known
    todo: list[int]  # the lines not sent before (same bytes)
    part: list[Any] = field(default_factory=list)  # those lines
    keys: list[Any] = field(default_factory=list)  # their class keys (None: the strict path answers)
    echoes: list[bytes] = field(default_factory=list)
    tails: list[Any] = field(default_factory=list)  # their tails, None until known
    missing: list[int] = field(default_factory=list)  # positions in ``part`` whose tail was not known
    new: list[Key] = field(default_factory=list)  # the classes sent to be answered with this block
    fresh: dict[Key, bytes | None] = field(default_factory=dict)  # their tails (answered here)
    shares: list[list[Key]] | None = None  # or sent to the workers (Workers.submit)
    remember: bool = True  # its lines go into the memo of lines seen (BatchRecommender.seen_paused)


class BatchRecommender:
    """Answers JSON-Lines cases, one output line per input line, with one answer per class."""

    def __init__(self, recommender: Recommender, detail: str = "full") -> None:
        self.recommender = recommender
        self.detail = detail
        self.key = CellKey(recommender)
        partition = self.partition = self.key.partition
        self.answers = ClassAnswers(recommender, partition, detail, CHECKED)
        # the graph's own case reader (a --data draft may add case fields): strict UTF-8, JSON
        # limits and plain numbers (axilla_kg.inputs.safejson)
        self.load: Callable[[bytes], PatientCase] = recommender.reader.loads
        #: class -> answer tail; None: each line takes the strict path (a class whose cases break a
        #: contract rule, whose lines get their errors there, or an answer rendered line by line)
        self.cells: dict[Key, bytes | None] = {}
        self.tails: dict[bytes, bytes] = {}  # each distinct tail, once (the cells refer to these)
        self.cell_bytes = 0
        self.seen: dict[bytes, tuple[bytes, bytes]] = {}  # line bytes -> its head (case echo) and tail
        self.seen_paused = 0  # blocks still to read without looking their lines up in ``seen``
        self.sent: dict[Key, None] = {}  # classes sent to be answered, not yet back (a block in flight)
        self.workers: workers.Workers | None = None  # (start_workers)
        # the fast path (axilla_kg.contract.fastline) when the class key decides every contract rule
        self.fast: FastLine | None = None
        if supported(recommender.registry, {name for name, _ in self.key.bounded}):
            self.fast = FastLine(recommender.reader, [c.code for c in partition.fields])

    @property
    def details(self) -> dict[str, bytes]:
        """``--detail ref``: reference -> the variant's details (JSON)."""
        return self.answers.details

    # one line ---------------------------------------------------------------------------------
    def answer_line(self, number: int, raw: bytes | None) -> tuple[bytes, bytes, bool]:
        """The output of one input line as two pieces (to write one after the other) and whether
        it is an error. Never raises: whatever goes wrong becomes the line's error."""
        try:
            if raw is None:
                return self._error(number, f"line longer than {MAX_LINE_BYTES:,} bytes"), b"", True
            fast = self.fast(raw) if self.fast is not None else None
            if fast is not None:
                tail = self._cell(fast[0])
                if tail is not None:
                    return _HEAD % (number, fast[1]), tail, False
            seen = self.seen.get(raw)
            if seen is not None:  # the same bytes as an earlier line: the same case, the same answer
                return _HEAD % (number, seen[0]), seen[1], False
            if not raw.strip():
                return self._error(number, "blank line: expected a patient case (a JSON object)"), b"", True
            case = self.load(raw)  # strict: UTF-8, limits, plain numbers (axilla_kg.inputs.safejson)
            tail = self._cell(self.key(case), case)
            if tail is None:  # (a class the contract accepted a case of is valid: rendered whole)
                return dumps({"line": number, **self.answers.result(case)}).encode() + b"\n", b"", False
            echo = _encode(case.to_json()).encode()[1:-1]  # its members (the head opens the object)
            if len(self.seen) >= MAX_SEEN_LINES:
                self.seen.clear()
            self.seen[raw] = (echo, tail)
            return _HEAD % (number, echo), tail, False
        except CaseError as exc:
            return self._error(number, str(exc), exc.field), b"", True
        except RecursionError:
            return self._error(number, "not valid JSON: nested too deeply"), b"", True
        except Exception as exc:
            reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            return self._error(number, f"cannot answer this line: {reason}"), b"", True

    def answer(self, number: int, text: str) -> str:
        """One whole output line (without the newline), as text."""
        head, tail, _ = self.answer_line(number, text.encode())
        return (head + tail).decode().rstrip("\n")

    @staticmethod
    def _error(number: int, message: str, field: str = "") -> bytes:
        error: dict[str, Any] = {"line": number, "error": message}
        if field:
            error["field"] = field
        return dumps(error).encode() + b"\n"

    def _cell(self, key: Key, case: PatientCase | None = None) -> bytes | None:
        """The answer tail of a class not met before (None if its cases break a rule:
        :func:`workers.answer_all`; ``case``: one the strict contract accepted)."""
        if key in self.cells:
            return self.cells[key]
        fresh = {key: self.answers.tail(key, case) if case is not None else workers.answer_all(self.answers, [key])[0]}
        self._store(fresh)
        return fresh[key]

    def _store(self, fresh: dict[Key, bytes | None], new_bytes: int | None = None) -> None:
        """Remember new classes' tails (``fresh`` gets the remembered copies). Many classes share
        one answer (100,598 classes of 200,000 varied lines have 43,114), so equal tails are kept
        once: the bound on their bytes then holds about twice the classes, and fewer classes come
        back to be answered again after a clear. Past :data:`MAX_CELL_BYTES` (the tails' bytes and
        :data:`CLASS_BYTES` per class) everything is forgotten first: memory stays flat.
        ``new_bytes``: the tails come from the workers, each distinct one sent once (so an answer
        met again is the object received before) and these are the bytes of those sent for the
        first time; their bytes are not compared here (of the 43,220 distinct tails two workers
        sent for 200,000 varied lines, 106 were equal across the workers)."""
        if self.cell_bytes >= MAX_CELL_BYTES:
            self.cells.clear()  # (the answers' parts are bounded by their own memos, and kept)
            self.tails.clear()
            self.seen.clear()
            self.cell_bytes = 0
        if new_bytes is not None:
            self.cells.update(fresh)
            self.cell_bytes += CLASS_BYTES * len(fresh) + new_bytes
            return
        known, added = self.tails, CLASS_BYTES * len(fresh)
        for key, tail in fresh.items():
            if tail is not None:
                same = known.get(tail)
                if same is None:
                    known[tail] = tail
                    added += len(tail)
                else:
                    fresh[key] = same
        self.cells.update(fresh)
        self.cell_bytes += added

    # workers -----------------------------------------------------------------------------------
    def start_workers(self, jobs: int) -> None:
        """Answer new classes in ``jobs`` forked processes from now on (:mod:`.workers`), unless
        this process cannot fork safely (:func:`workers.can_fork`: it runs a JVM)."""
        if self.workers is None and jobs > 1 and workers.can_fork():
            self.workers = workers.Workers(self.answers, jobs)

    def finish_workers(self) -> None:
        """Stop the workers after their last answer, keeping the ``--detail ref`` details they learned."""
        if self.workers is not None:
            self.answers.details.update(self.workers.finish())
            self.workers = None

    def stop_workers(self) -> None:
        """Stop the workers now (an error or Ctrl-C ends the run)."""
        if self.workers is not None:
            self.workers.stop()
            self.workers = None

    # a block ----------------------------------------------------------------------------------
    def answer_block(self, block: Block) -> tuple[list[bytes], int]:
        """The pieces to write for a block of lines, and how many of its lines are errors."""
        return self.finish_block(self.start_block(block))

    def start_block(self, block: Block) -> _Started:
        """A block's first half: lines sent before (same bytes) take their echo and tail from
        ``seen``; the others are read together (:meth:`FastLine.read_block`) and looked up, and the
        classes met for the first time are sent to be answered (and checked against the contract's
        rules: :func:`workers.answer_all`): to the workers, if any (they answer while this process
        finishes the previous block), else answered here. Only
        a line met with a new class or refused by the fast reader runs Python code of its own."""
        first, lines = block
        found: list[Any]  # (echo, tail), or None
        if self.seen_paused:
            self.seen_paused -= 1
            found = [None] * len(lines)
            started = _Started(first, lines, found, list(range(len(lines))), remember=False)
        else:
            seen: Callable[[Any], Any] = self.seen.get  # (lines are bytes here; None is an over-long one)
            found = list(map(seen, lines))
            started = _Started(first, lines, found, [i for i, hit in enumerate(found) if hit is None])
            if len(lines) - len(started.todo) < len(lines) // SEEN_HITS:  # (hardly any line seen before)
                self.seen_paused = SEEN_PAUSE
        if not started.todo:
            return started
        todo = started.todo
        started.part = part = lines if len(todo) == len(lines) else [lines[i] for i in todo]
        started.keys, started.echoes = keys, _ = self._keys(part)
        started.tails = tails = list(map(self.cells.get, keys))
        if None in tails:  # a class met for the first time (or still being answered), or a declined line
            started.missing = [k for k, tail in enumerate(tails) if tail is None]
            distinct = dict.fromkeys([keys[k] for k in started.missing])
            cells, sent = self.cells, self.sent
            new = [key for key in distinct if key is not None and key not in cells and key not in sent]
            if new:
                sent.update(dict.fromkeys(new))
                started.new = new
                if self.workers is not None:
                    started.shares = self.workers.submit(new)
                else:
                    started.fresh = dict(zip(new, workers.answer_all(self.answers, new), strict=True))
        return started

    def finish_block(self, started: _Started) -> tuple[list[bytes], int]:
        """A block's second half: its new classes' tails (from the workers, if any), its lines'
        echoes and tails, and the pieces to write (with how many lines are errors)."""
        first, lines, found, todo = started.first, started.lines, started.found, started.todo
        slow: dict[int, bytes] = {}  # line index -> its whole output (error lines, strict-path lines)
        if todo:
            self._finish_lines(started, slow)
        errors = 0
        if slow:
            for i in slow:
                head, tail, failed = self.answer_line(first + i, lines[i])
                slow[i] = head + tail
                errors += failed
                found[i] = (b"", b"")
        count = len(lines)
        pieces: list[bytes] = [b""] * (2 * count)
        pieces[0::2] = map(_HEAD.__mod__, zip(range(first, first + count), map(itemgetter(0), found), strict=True))
        pieces[1::2] = map(itemgetter(1), found)
        for i, whole in slow.items():
            pieces[2 * i], pieces[2 * i + 1] = whole, b""
        return pieces, errors

    def _finish_lines(self, started: _Started, slow: dict[int, bytes]) -> None:
        """Fill ``found`` at ``todo`` with (echo, tail), or mark the line ``slow``."""
        keys, tails, part, todo = started.keys, started.tails, started.part, started.todo
        fresh = started.fresh
        new_bytes: int | None = None  # (known only for the workers' tails: see _store)
        if started.shares is not None:
            assert self.workers is not None
            fresh = self.workers.collect(started.shares)
            new_bytes = self.workers.new_bytes
        if started.missing:
            # (before the tails are stored: a clear below must not lose a class sent with an earlier block)
            cells = self.cells
            for k in started.missing:
                key = keys[k]
                tails[k] = None if key is None else fresh[key] if key in fresh else cells.get(key)
        if started.new:
            self._store(fresh, new_bytes)
            for key in started.new:
                del self.sent[key]
        pairs = list(zip(started.echoes, tails, strict=True))
        if started.remember:
            if len(self.seen) + len(todo) >= MAX_SEEN_LINES:
                self.seen.clear()
            self.seen.update(zip(part, pairs, strict=True))
        if None in tails:  # (only a few lines of a block, if any)
            for k in [k for k, tail in enumerate(tails) if tail is None]:
                slow[todo[k]] = b""
                self.seen.pop(part[k], None)
        found = started.found
        if part is started.lines:
            found[:] = pairs
        else:
            for i, pair in zip(todo, pairs, strict=True):
                found[i] = pair

    def _keys(self, part: list[bytes | None]) -> tuple[list[Any], list[bytes]]:
        """Class keys (``None``: the strict path answers the line) and echo members of lines: a block at
        once; a block with a line that is not plainly a case in runs of :data:`RUN_LINES`, and a run
        with such a line line by line (so a bad line now and then costs little)."""
        if self.fast is None:
            return [None] * len(part), [b""] * len(part)
        read = None if None in part else self.fast.read_block(part)  # type: ignore[arg-type]
        if read is not None:
            return read
        if len(part) > RUN_LINES:
            keys: list[Any] = []
            echoes: list[bytes] = []
            for start in range(0, len(part), RUN_LINES):
                more = self._keys(part[start : start + RUN_LINES])
                keys += more[0]
                echoes += more[1]
            return keys, echoes
        each = [self.fast.read(raw) if raw is not None else None for raw in part]
        return [r[0] if r is not None else None for r in each], [r[1] if r is not None else b"" for r in each]


# --- reading ------------------------------------------------------------------------------------
def read_blocks(
    source: IO[bytes], block_lines: int = BLOCK_LINES, stall: float | None = None
) -> Iterator[Block | None]:
    """Split a byte stream into numbered blocks of lines (newline-terminated or the last, unterminated
    one), never holding more than :data:`MAX_LINE_BYTES` of one line.

    ``stall`` (seconds): when the source is a pipe, a socket or a terminal (:func:`_quiet`) and
    nothing more comes for that long while whole lines are waiting, those lines are yielded as a
    block at once, followed by :data:`STALLED`: a program that writes one case and waits for its
    answer before writing the next gets each answer (it got none before 2,048 lines or the end).
    A file, or a pipe that keeps up, is never quiet that long: its blocks stay :data:`BLOCK_LINES`."""
    read = getattr(source, "read1", source.read)
    quiet = _quiet(source, stall) if stall is not None else None
    number = 1
    lines: list[bytes | None] = []
    pending = b""  # the start of an unfinished line
    overlong = False  # the unfinished line is over the limit: skip to its end (already answered)
    owed = False  # a block was yielded since the last STALLED (the caller may hold it unanswered)
    while True:
        if (lines or owed) and quiet is not None and quiet():
            if lines:
                yield number, lines
                number += len(lines)
                lines = []
            yield STALLED
            owed = False
        if not (data := read(READ_BYTES)):
            break
        parts = data.split(b"\n")
        if len(parts) == 1:
            if not overlong:
                pending += data
                if len(pending) > MAX_LINE_BYTES:
                    lines.append(None)
                    overlong, pending = True, b""
            continue
        first, *middle, last = parts
        if overlong:
            overlong = False
        else:
            line = pending + first
            lines.append(line if len(line) <= MAX_LINE_BYTES else None)
        lines.extend(middle)
        pending = last
        if len(pending) > MAX_LINE_BYTES:  # pragma: no cover - only with READ_BYTES > MAX_LINE_BYTES
            lines.append(None)
            overlong, pending = True, b""
        if len(lines) >= block_lines:
            yield number, lines
            number += len(lines)
            lines = []
            owed = True
    if pending:
        lines.append(pending)
    if lines:
        yield number, lines


def _quiet(source: IO[bytes], stall: float) -> Callable[[], bool] | None:
    """For a source that can go quiet (a pipe, a socket, a terminal; not a regular file, nor an
    object without a file descriptor), whether nothing can be read within ``stall`` seconds; else
    None. The descriptor is asked directly: reads of :data:`READ_BYTES` (more than a buffered
    reader's buffer) bypass the buffer and leave nothing in it, so what the descriptor holds is all
    there is (the CLI hands over ``sys.stdin.buffer`` before anything has read from it). Had a
    caller read from the stream first, bytes left in its buffer would only make one block end early
    (the next read returns them): the answers and their order never depend on when input is quiet."""
    try:
        fd = source.fileno()
        mode = os.fstat(fd).st_mode
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        return None
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode)):
        return None

    waiting = select.poll()  # (poll, not select: any descriptor number, not only those below 1,024)
    waiting.register(fd, select.POLLIN)
    timeout = max(1, round(stall * 1000))

    def quiet() -> bool:
        return not waiting.poll(timeout)  # (a closed writer reads as POLLHUP: not quiet, the read ends)

    return quiet


# --- writing ------------------------------------------------------------------------------------
def write_pieces(fd: int, pieces: list[bytes]) -> None:
    """Write ``pieces`` to ``fd`` in order with ``writev`` (no copying in Python), finishing partial writes."""
    views: list[bytes | memoryview] = list(pieces)
    start = 0
    while start < len(views):
        batch = views[start : start + _IOV_MAX]
        written = os.writev(fd, batch)
        if written == sum(map(len, batch)):  # the usual case: all of it
            start += len(batch)
            continue
        for piece in batch:
            if written >= len(piece):
                written -= len(piece)
                start += 1
            else:
                views[start] = memoryview(piece)[written:]
                break


class _Sink:
    """Where answers go: a file descriptor (fast path) or any Python stream (tests, wrappers).

    On a file descriptor the writes run in a thread of their own (:meth:`_writer`): ``writev``
    copies a varied batch's gigabyte into the kernel without holding the interpreter's lock, so
    that second of system time overlaps the answering of the next block instead of adding to it.
    The order is the order of :meth:`write`; at most :data:`WRITES_QUEUED` blocks wait (memory stays
    flat); a write's error is raised by the next :meth:`write` or by :meth:`close`, and nothing is
    written after it."""

    def __init__(self, out: IO[str] | IO[bytes]) -> None:
        self.out = out
        self.fd: int | None = None
        try:
            out.flush()
            self.fd = out.fileno()
        except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
            self.fd = None
        self.queued: queue.Queue[list[bytes] | None] | None = None
        self.thread: threading.Thread | None = None
        self.failed: BaseException | None = None  # the writer thread's error (it writes nothing after it)

    def write(self, pieces: list[bytes]) -> None:
        if self.fd is None:
            try:
                self._write(pieces)
            except OSError as exc:
                _raise_write_error(exc)
            return
        if self.queued is None:
            self.queued = queue.Queue(WRITES_QUEUED)
            self.thread = threading.Thread(target=self._writer, name="axilla-kg batch writer", daemon=True)
            self.thread.start()
        if self.failed is None:
            self.queued.put(pieces)
        if self.failed is not None:
            self.close()

    def _writer(self) -> None:
        """The writer thread: each queued block in order, until ``None`` or an error (kept in
        :attr:`failed`; the blocks queued after it are dropped)."""
        assert self.queued is not None and self.fd is not None
        while (pieces := self.queued.get()) is not None:
            if self.failed is None:
                try:
                    write_pieces(self.fd, pieces)
                except BaseException as exc:  # (raised again in the main thread)
                    self.failed = exc

    def close(self) -> None:
        """Wait for the queued blocks to be written; raise a write's error. (Safe to call twice.)"""
        if self.queued is not None and self.thread is not None:
            if self.thread.is_alive():
                self.queued.put(None)
                self.thread.join()
            failed, self.failed = self.failed, None
            if failed is not None:
                _raise_write_error(failed)

    def abandon(self) -> None:
        """The run ends with an error: let the writer stop after what is queued, without waiting."""
        if self.queued is not None and self.thread is not None and self.thread.is_alive():
            with contextlib.suppress(queue.Full):  # (a daemon thread: it does not keep the process alive)
                self.queued.put_nowait(None)

    def _write(self, pieces: list[bytes]) -> None:
        data = b"".join(pieces)
        binary = getattr(self.out, "buffer", None)
        if binary is not None:
            binary.write(data)
        elif isinstance(self.out, io.TextIOBase):
            self.out.write(data.decode())
        else:
            self.out.write(data)  # type: ignore[arg-type]

    def flush(self) -> None:
        self.close()
        self.out.flush()


def _raise_write_error(error: BaseException) -> NoReturn:
    """A write's error as the user sees it: a closed pipe as itself (the CLI ends quietly), any other
    ``OSError`` (a full disk) as one line naming it, anything else as it is."""
    if isinstance(error, OSError) and not isinstance(error, BrokenPipeError):
        raise BatchOutputError(f"cannot write the answers: {error.strerror or error}") from None
    raise error


# --- running --------------------------------------------------------------------------------------
def _source_stream(source: IO[bytes] | IO[str] | Iterable[str | bytes]) -> IO[bytes]:
    """Accept a binary stream (the CLI), a text stream's buffer, or lines (tests, the Python API)."""
    binary = getattr(source, "buffer", None)
    if binary is not None:
        return binary
    if hasattr(source, "read") and not isinstance(source, io.TextIOBase):
        return source  # type: ignore[return-value]
    data = b"".join(s if isinstance(s, bytes) else s.encode() for s in source)
    return io.BytesIO(data)


def run(
    recommender: Recommender,
    source: IO[bytes] | IO[str] | Iterable[str | bytes],
    out: IO[str] | IO[bytes],
    progress: IO[str] | None = None,
    detail: str = "full",
    jobs: int = 1,
) -> dict[str, Any]:
    """Answer every line of ``source`` on ``out`` in input order; returns the counts (and, with
    ``detail="ref"``, the ``details`` document: reference -> variant details). ``jobs`` > 1: new
    classes are answered in that many forked processes when a second block of lines comes (read
    before the first is answered: the workers answer the first block's classes too, a tenth of a
    varied run's; :mod:`axilla_kg.recommend.workers`); the output is the same bytes. A pipe or a
    terminal that goes quiet for :data:`STALL_SECONDS` with whole lines read gets those lines
    answered and written before the next read waits (:func:`read_blocks`): a program can send a
    case and wait for its answer. Such a stream gets its workers once two blocks come in a row, or
    two blocks' worth of lines have come."""
    answerer = BatchRecommender(recommender, detail)
    counts: dict[str, Any] = {"cases": 0, "errors": 0}
    meter = _Progress(progress, time.monotonic())
    sink = _Sink(out)

    def finish(started: _Started) -> None:
        pieces, errors = answerer.finish_block(started)
        sink.write(pieces)
        counts["cases"] += len(started.lines)
        counts["errors"] += errors
        meter.update(counts)

    previous: _Started | None = None
    lines_started = 0  # lines of the blocks started so far
    try:
        blocks = read_blocks(_source_stream(source), stall=STALL_SECONDS)
        first = list(itertools.islice(blocks, 2))
        if len(first) == 2 and STALLED not in first:  # a second block: worth forking for, and the
            answerer.start_workers(jobs)  # workers answer the first too
        for block in itertools.chain(first, blocks):
            if block is STALLED:  # the input went quiet: answer and write all that was read
                if previous is not None:
                    finish(previous)
                    previous = None
                continue
            if previous is not None or lines_started >= 2 * BLOCK_LINES:  # two blocks in a row, or two blocks'
                answerer.start_workers(jobs)  # worth of lines from a stream that went quiet now and then
            lines_started += len(block[1])
            started = answerer.start_block(block)  # (the workers answer it while the previous is finished)
            if previous is not None:
                finish(previous)
            previous = started
        if previous is not None:
            finish(previous)
        answerer.finish_workers()
        sink.flush()
    finally:
        answerer.stop_workers()
        sink.abandon()
    meter.finish(counts)
    if detail == REF:
        counts["details"] = answerer.details
    return counts


class _Progress:
    """A one-line progress meter on stderr, redrawn at most five times a second."""

    def __init__(self, stream: IO[str] | None, started: float) -> None:
        self.stream, self.started, self.last = stream, started, started

    def _draw(self, counts: dict[str, Any], end: str) -> None:
        assert self.stream is not None
        rate = counts["cases"] / max(time.monotonic() - self.started, 1e-9)
        self.stream.write(f"\r{counts['cases']:,} cases, {counts['errors']:,} errors, {rate:,.0f} cases/s{end}")
        self.stream.flush()

    def update(self, counts: dict[str, Any]) -> None:
        now = time.monotonic()
        if self.stream is not None and now - self.last >= 0.2:
            self.last = now
            self._draw(counts, "")

    def finish(self, counts: dict[str, Any]) -> None:
        if self.stream is not None:
            self._draw(counts, "\n")


def details_document(details: dict[str, bytes]) -> bytes:
    """``--detail ref``: one JSON object mapping each reference to its variant's details, sorted."""
    body = ",".join(f"{_encode(ref)}:{details[ref].decode()}" for ref in sorted(details))
    return ("{" + body + "}\n").encode()


def progress_stream() -> IO[str] | None:
    """Progress goes to stderr only when a person is watching it."""
    return sys.stderr if sys.stderr.isatty() else None
