"""``recommend --cases``: JSON Lines in, JSON Lines out, streaming, exactly one output line per input line.

Why it looks like this:

* **No line is ever lost.** Each line is decoded (UTF-8, JSON, the case contract) on its own and
  any failure, whatever it is, becomes that line's error line; a blank, over-long or invalid-UTF-8
  line is an error line too. So output line N always answers input line N, and a program can
  ``paste`` input and output side by side.
* **A cell cache.** A recommendation depends on a case only through its *cell*: the value of every
  case attribute, except that a numeric attribute the variant classes bound (the tumour size, the
  age) only counts through which side of each bound it lies on. The key is derived from the case
  type and the compiled variant tests, never listed by hand, so a new case field is part of it
  automatically. The answer of a cell is rendered once; per case only the line number and the
  case echo are encoded.
* **Workers write, in turn.** The per-case work (decode, validate, encode the echo) runs in
  forked worker processes, and each worker writes its own block straight to the output file
  descriptor with ``os.writev`` (no joining of kilobyte-sized answers, nothing answered is sent
  between processes). A ring of semaphores hands the right to write from block to block, so the
  output is in input order. The main process only reads and splits the input. Memory stays flat:
  at most one block per worker is in flight and the cell cache is bounded.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import hashlib
import io
import json
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import IO, Any

from axilla_kg.contract.cases import CaseError, PatientCase
from axilla_kg.contract.fastline import FastLine, supported
from axilla_kg.errors import AxillaKGError, BatchOutputError
from axilla_kg.recommend.recommender import Recommender, dumps

#: ``--detail`` values batch mode understands: the recommender's own, plus ``ref`` (variant
#: details once, in a separate document; each case line refers to them).
REF = "ref"
MAX_CACHED_CELLS = 100_000
#: Repeated lines (the same case sent again) skip decoding; bounded so memory stays flat.
MAX_SEEN_LINES = 50_000
#: A line longer than this is answered with an error without being kept in memory (a case is ~200 bytes).
MAX_LINE_BYTES = 1 << 20
#: Lines per block handed to a worker: big enough to amortise the hand-over, small enough to keep memory flat.
BLOCK_LINES = 2048
READ_BYTES = 1 << 16
_IOV_MAX = 1024
#: ``recommend.dumps`` without building an encoder per call (the tests hold the bytes equal)
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode
_CASE_MARK = "\x00axilla-kg:case\x00"
_INVALID = object()
_MISSING = object()  # a fast-path cell key whose cases break a rule: the strict path words the error
_CASE_MARK_JSON = dumps({"x": _CASE_MARK})[5:-1]

Block = tuple[int, list[bytes | None]]
"""A run of input lines: the number of the first, and each line's bytes (``None``: over-long)."""


# --- the cell of a case -----------------------------------------------------------------------
def case_attributes(recommender: Recommender) -> list[str]:
    """Every field a case can carry, from the feature registry (so a new field joins the key)."""
    return list(recommender.registry.fields)


class CellKey:
    """Builds the cell of a case: all its fields, the bounded ones reduced to their sides, and
    which fields were assumed (the answer echoes them)."""

    def __init__(self, recommender: Recommender) -> None:
        bounds: dict[str, set[tuple[str, Decimal]]] = {}
        for variant in recommender.classifier.variants:
            for test in variant.tests:
                if test.kind == "bound":
                    bounds.setdefault(test.field, set()).add((test.op, test.limit))
        for rule in recommender.registry.derivations:  # a derived value depends on these sides too
            for condition in rule.conditions:
                if condition.op:
                    bounds.setdefault(condition.field, set()).add((condition.op, condition.limit))
        names = case_attributes(recommender)
        unknown = set(bounds) - set(names)
        if unknown:  # pragma: no cover - the classifier reads these fields from the case too
            raise AxillaKGError(f"variant tests bound {', '.join(sorted(unknown))}, which a case does not carry")
        self.plain = [n for n in names if n not in bounds]
        self.bounded = [(n, sorted(bounds[n])) for n in names if n in bounds]

    @staticmethod
    def _side(value: Any, tests: list[tuple[str, Decimal]]) -> tuple[bool, ...] | None:
        if value is None:
            return None
        out = []
        for op, limit in tests:
            if op == "<=":
                out.append(value <= limit)
            elif op == "<":
                out.append(value < limit)
            elif op == ">=":
                out.append(value >= limit)
            else:
                out.append(value > limit)
        return tuple(out)

    def __call__(self, case: PatientCase) -> tuple[Any, ...]:
        values = case.values
        return (
            tuple([values.get(n) for n in self.plain]),
            case.assumed,
            *[self._side(values.get(n), tests) for n, tests in self.bounded],
        )


# --- answering lines ----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _Cell:
    """The constant parts of every answer in one cell: ``{"line":N,`` + prefix + case echo + tail."""

    prefix: bytes
    tail: bytes  # ends with the newline


class BatchRecommender:
    """Answers JSON-Lines cases, one output line per input line, with a per-cell cache."""

    def __init__(self, recommender: Recommender, detail: str = "full") -> None:
        self.recommender = recommender
        self.detail = detail
        self.key = CellKey(recommender)
        # the graph's own case reader (a --data draft may add case fields): strict UTF-8, JSON
        # limits and plain numbers (axilla_kg.inputs.safejson)
        self.load: Callable[[bytes], PatientCase] = recommender.reader.loads
        self.cells: dict[tuple[Any, ...], _Cell | None] = {}  # None: the cell cannot be cached
        self.tails: dict[bytes, bytes] = {}  # many cells share one answer: keep one copy
        self.details: dict[str, bytes] = {}  # --detail ref: reference -> the variant's details (JSON)
        self.seen: dict[bytes, tuple[bytes, _Cell]] = {}  # line bytes -> its case echo and cell
        # the fast path (axilla_kg.contract.fastline) when the cell key decides every contract rule
        self.fast: FastLine | None = None
        if supported(recommender.registry, {name for name, _ in self.key.bounded}):
            sides = {name: functools.partial(CellKey._side, tests=tests) for name, tests in self.key.bounded}
            self.fast = FastLine(recommender.reader, sides)
        self.fast_cells: dict[tuple[Any, ...], Any] = {}  # fast key -> _Cell, None (not cacheable) or _INVALID

    # one line ---------------------------------------------------------------------------------
    def answer_line(self, number: int, raw: bytes | None) -> tuple[bytes, bytes, bool]:
        """The output of one input line as two pieces (to write one after the other) and whether
        it is an error. Never raises: whatever goes wrong becomes the line's error."""
        try:
            if raw is None:
                return self._error(number, f"line longer than {MAX_LINE_BYTES:,} bytes"), b"", True
            fast = self.fast(raw) if self.fast is not None else None
            if fast is not None:
                cell = self.fast_cells.get(fast[0], _MISSING)
                if cell is _MISSING:
                    cell = self._fast_cell(fast[0], raw)
                if cell is not None and cell is not _INVALID:
                    return b'{"line":%d,%b%b' % (number, cell.prefix, fast[1]), cell.tail, False
            seen = self.seen.get(raw)
            if seen is not None:  # the same bytes as an earlier line: the same case, the same answer
                return b'{"line":%d,%b%b' % (number, seen[1].prefix, seen[0]), seen[1].tail, False
            if not raw.strip():
                return self._error(number, "blank line: expected a patient case (a JSON object)"), b"", True
            case = self.load(raw)  # strict: UTF-8, limits, plain numbers (axilla_kg.inputs.safejson)
            found = self._cell(case)
            if found is None:
                return self._render(number, case), b"", False
            cell, echo = found, _encode(case.to_json()).encode()
            if len(self.seen) >= MAX_SEEN_LINES:
                self.seen.clear()
            self.seen[raw] = (echo, cell)
            return b'{"line":%d,%b%b' % (number, cell.prefix, echo), cell.tail, False
        except CaseError as exc:
            return self._error(number, str(exc), exc.field), b"", True
        except RecursionError:
            return self._error(number, "not valid JSON: nested too deeply"), b"", True
        except Exception as exc:
            reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            return self._error(number, f"cannot answer this line: {reason}"), b"", True

    def _fast_cell(self, key: tuple[Any, ...], raw: bytes) -> Any:
        """The cell of a fast-path key not seen before: the strict path reads the line (so the
        contract's rules decide), and its verdict holds for every line with this key."""
        if len(self.fast_cells) >= MAX_CACHED_CELLS:
            self.fast_cells.clear()
        try:
            case = self.load(raw)
        except CaseError:
            self.fast_cells[key] = _INVALID
            return _INVALID
        cell = self.fast_cells[key] = self._cell(case)
        return cell

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

    def _result(self, case: PatientCase) -> dict[str, Any]:
        if self.detail != REF:
            return self.recommender.recommend(case, detail=self.detail)
        result = self.recommender.recommend(case, detail="full")
        refs = []
        for match in result["matches"]:
            details = dumps(match).encode()
            ref = f"{match['topic']}-{match['variant']}-{hashlib.sha256(details).hexdigest()[:10]}"
            self.details.setdefault(ref, details)
            refs.append({"topic": match["topic"], "variant": match["variant"], "ref": ref})
        result["matches"] = refs
        return result

    def _render(self, number: int, case: PatientCase) -> bytes:
        """A whole answer line, computed afresh (cells whose answer does not fit the cache)."""
        return dumps({"line": number, **self._result(case)}).encode() + b"\n"

    def _cell(self, case: PatientCase) -> _Cell | None:
        key = self.key(case)
        try:
            return self.cells[key]
        except KeyError:
            pass
        if len(self.cells) >= MAX_CACHED_CELLS:  # keep memory flat whatever the input
            self.cells.clear()
            self.tails.clear()
            self.seen.clear()
        result = self._result(case)
        cell: _Cell | None = None
        # the echo is spliced in per case; that is only right if the answer echoes the case as is
        if "case" in result and dumps(result["case"]) == dumps(case.to_json()):
            result["case"] = _CASE_MARK
            text = dumps(result)
            at = text.index(_CASE_MARK_JSON)
            tail = text[at + len(_CASE_MARK_JSON) :].encode() + b"\n"
            cell = _Cell(text[1:at].encode(), self.tails.setdefault(tail, tail))
        self.cells[key] = cell
        return cell

    # a block ----------------------------------------------------------------------------------
    def answer_block(self, block: Block) -> tuple[list[bytes], int]:
        """The pieces to write for a block of lines, and how many of its lines are errors."""
        first, lines = block
        pieces: list[bytes] = []
        errors = 0
        answer, cells, seen, append = self.answer_line, self.fast_cells, self.seen, pieces.append
        fast = self.fast.read if self.fast is not None else None
        for number, raw in enumerate(lines, first):
            if raw is not None:  # the common lines, inline (answer_line does the rest)
                hit = seen.get(raw)
                if hit is not None:  # the same bytes as an earlier line: the same case, the same answer
                    append(b'{"line":%d,%b%b' % (number, hit[1].prefix, hit[0]))
                    append(hit[1].tail)
                    continue
                found = fast(raw) if fast is not None else None
                if found is not None:
                    cell = cells.get(found[0])
                    if type(cell) is _Cell:
                        if len(seen) >= MAX_SEEN_LINES:
                            seen.clear()
                        seen[raw] = (found[1], cell)
                        append(b'{"line":%d,%b%b' % (number, cell.prefix, found[1]))
                        append(cell.tail)
                        continue
            head, tail, failed = answer(number, raw)
            append(head)
            if tail:
                append(tail)
            errors += failed
        return pieces, errors


# --- reading ------------------------------------------------------------------------------------
def read_blocks(source: IO[bytes], block_lines: int = BLOCK_LINES) -> Iterator[Block]:
    """Split a byte stream into numbered blocks of lines (newline-terminated or the last, unterminated
    one), never holding more than :data:`MAX_LINE_BYTES` of one line."""
    read = getattr(source, "read1", source.read)
    number = 1
    lines: list[bytes | None] = []
    pending = b""  # the start of an unfinished line
    overlong = False  # the unfinished line is over the limit: skip to its end (already answered)
    while data := read(READ_BYTES):
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
    if pending:
        lines.append(pending)
    if lines:
        yield number, lines


# --- writing ------------------------------------------------------------------------------------
def write_pieces(fd: int, pieces: list[bytes]) -> None:
    """Write ``pieces`` to ``fd`` in order with ``writev`` (no copying in Python), finishing partial writes."""
    views: list[bytes | memoryview] = list(pieces)
    start = 0
    while start < len(views):
        batch = views[start : start + _IOV_MAX]
        written = os.writev(fd, batch)
        for piece in batch:
            if written >= len(piece):
                written -= len(piece)
                start += 1
            else:
                views[start] = memoryview(piece)[written:]
                break


class _Sink:
    """Where answers go: a file descriptor (fast path) or any Python stream (tests, wrappers)."""

    def __init__(self, out: IO[str] | IO[bytes]) -> None:
        self.out = out
        self.fd: int | None = None
        try:
            out.flush()
            self.fd = out.fileno()
        except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
            self.fd = None

    def write(self, pieces: list[bytes]) -> None:
        try:
            self._write(pieces)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise BatchOutputError(f"cannot write the answers: {exc.strerror or exc}") from None

    def _write(self, pieces: list[bytes]) -> None:
        if self.fd is not None:
            write_pieces(self.fd, pieces)
            return
        data = b"".join(pieces)
        binary = getattr(self.out, "buffer", None)
        if binary is not None:
            binary.write(data)
        elif isinstance(self.out, io.TextIOBase):
            self.out.write(data.decode())
        else:
            self.out.write(data)  # type: ignore[arg-type]

    def flush(self) -> None:
        self.out.flush()


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
    jobs: int = 1,
    detail: str = "full",
) -> dict[str, Any]:
    """Answer every line of ``source`` on ``out`` in input order; returns the counts (and, with
    ``detail="ref"``, the ``details`` document: reference -> variant details).

    With ``jobs`` > 1 forked worker processes answer and write blocks of lines in turn; a small
    input (one block) is answered in this process, since forking would cost more than it saves.
    """
    answerer = BatchRecommender(recommender, detail)
    counts: dict[str, Any] = {"cases": 0, "errors": 0}
    meter = _Progress(progress, time.monotonic())
    sink = _Sink(out)
    blocks = read_blocks(_source_stream(source))
    head = [b for _, b in zip(range(2), blocks, strict=False)]
    if jobs > 1 and len(head) > 1 and sink.fd is not None:
        _run_workers(answerer, _chain(head, blocks), sink.fd, jobs, counts, meter)
    else:
        writer = _Writer(lambda pieces, lines, errors: sink.write(pieces))
        try:
            for block in _chain(head, blocks):
                pieces, errors = answerer.answer_block(block)
                writer.put(pieces, len(block[1]), errors)
                counts["cases"] += len(block[1])
                counts["errors"] += errors
                meter.update(counts)
        finally:
            writer.close()
        counts["details"] = answerer.details
    sink.flush()
    meter.finish(counts)
    if detail != REF:
        counts.pop("details", None)
    return counts


def _chain(head: list[Block], rest: Iterator[Block]) -> Iterator[Block]:
    yield from head
    yield from rest


class _Writer:
    """Writes blocks on a thread, so that answering the next block overlaps the kernel's copy of
    this one (``writev`` releases the GIL). At most two blocks wait, so memory stays flat; a write
    error is raised to the producer at its next :meth:`put` or at :meth:`close`."""

    def __init__(self, write: Callable[[list[bytes], int, int], None]) -> None:
        self.write = write
        self.queue: queue.Queue[tuple[list[bytes], int, int] | None] = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="axilla-kg batch writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            if self.error is None:  # after a failure keep draining, so the producer never blocks
                try:
                    self.write(*item)
                except BaseException as exc:  # handed to the producer
                    self.error = exc

    def put(self, pieces: list[bytes], lines: int, errors: int) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put((pieces, lines, errors))

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


def _worker(index: int, jobs: int, answerer: BatchRecommender, conn: Any, turns: list[Any], done: Any, fd: int) -> None:
    """A forked worker: answer its blocks (every ``jobs``-th), write each when its turn comes.

    It never prints: a failure is reported to the main process as a message and an exit code.
    """

    def write(pieces: list[bytes], lines: int, errors: int) -> None:
        turns[index].acquire()
        try:
            write_pieces(fd, pieces)
        finally:
            turns[(index + 1) % jobs].release()
        done[2 * index] += lines
        done[2 * index + 1] += errors

    try:
        writer = _Writer(write)
        while (block := conn.recv()) is not None:
            pieces, errors = answerer.answer_block(block)
            writer.put(pieces, len(block[1]), errors)
        writer.close()
        conn.send(("ok", answerer.details))
        conn.close()
    except BrokenPipeError:
        _report(conn, ("pipe", "output closed"))
        os._exit(3)
    except OSError as exc:
        _report(conn, ("error", f"cannot write the answers: {exc.strerror or exc}"))
        os._exit(4)
    except BaseException as exc:  # reported to the main process, never printed
        _report(conn, ("error", f"{type(exc).__name__}: {exc}"))
        os._exit(4)


def _report(conn: Any, message: tuple[str, Any]) -> None:
    with contextlib.suppress(OSError):
        conn.send(message)


def _run_workers(
    answerer: BatchRecommender,
    blocks: Iterator[Block],
    fd: int,
    jobs: int,
    counts: dict[str, Any],
    meter: _Progress,
) -> None:
    import multiprocessing
    from multiprocessing.connection import wait

    context = multiprocessing.get_context("fork")
    # the workers inherit the graph, the compiled classifier and the caches: keep the collector off
    # those pages, so they stay shared instead of being copied into every worker
    gc.freeze()
    turns = [context.Semaphore(0) for _ in range(jobs)]
    turns[0].release()
    done = context.Array("q", 2 * jobs, lock=False)
    conns, procs = [], []
    for index in range(jobs):
        here, there = context.Pipe()
        proc = context.Process(
            target=_worker, args=(index, jobs, answerer, there, turns, done, fd), name=f"axilla-kg batch {index}"
        )
        proc.daemon = True
        proc.start()
        there.close()
        conns.append(here)
        procs.append(proc)

    def watchdog() -> None:
        """A worker that dies holds the turn for ever: end the others, so nothing waits on it.
        (The only place that reaps the workers until it returns, so no exit status is lost.)"""
        remaining = {p.sentinel: p for p in procs}
        while remaining:
            for sentinel in wait(list(remaining)):
                proc = remaining.pop(sentinel)  # type: ignore[arg-type]
                proc.join()  # the sentinel closes just before the exit status is ready: wait for it
                if proc.exitcode != 0:
                    for other in procs:
                        other.terminate()

    guard = threading.Thread(target=watchdog, name="axilla-kg batch watchdog", daemon=True)
    guard.start()
    try:
        for number, block in enumerate(blocks):
            conns[number % jobs].send(block)
            counts["cases"], counts["errors"] = sum(done[0::2]), sum(done[1::2])
            meter.update(counts)
        for conn in conns:
            conn.send(None)
    except OSError:  # a worker has gone: its report says why
        for proc in procs:
            proc.terminate()
    except BaseException:  # interrupted: end the workers, and say nothing more
        for proc in procs:
            proc.terminate()
        raise
    finally:
        reports = []
        for conn in conns:
            try:
                reports.append(conn.recv())
            except (EOFError, OSError):
                reports.append(None)
            conn.close()
        guard.join()
        for proc in procs:
            proc.join()
    counts["cases"], counts["errors"] = sum(done[0::2]), sum(done[1::2])
    details: dict[str, bytes] = {}
    for report in reports:
        if report is not None and report[0] == "pipe":
            raise BrokenPipeError(report[1])
    failures = [report[1] for report in reports if report is not None and report[0] != "ok"]
    failures += [
        f"a worker ended with exit code {p.exitcode}" for r, p in zip(reports, procs, strict=True) if r is None
    ]
    if failures:  # the workers' own reports first: a worker ended by the watchdog only says it was ended
        raise BatchOutputError(f"batch output incomplete after {counts['cases']:,} lines: {failures[0]}")
    for report in reports:
        details.update(report[1])
    counts["details"] = details


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


def default_jobs() -> int:
    """One worker per core, at most four (reading the input needs a share too)."""
    return max(1, min(4, os.cpu_count() or 1))


def progress_stream() -> IO[str] | None:
    """Progress goes to stderr only when a person is watching it."""
    return sys.stderr if sys.stderr.isatty() else None
