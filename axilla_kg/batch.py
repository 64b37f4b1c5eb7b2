"""``recommend --cases``: JSON Lines in, JSON Lines out, streaming, one output line per input line.

A recommendation depends on a case only through its *cell*: the enum values, and for each
numeric field which side of every threshold the variant classes use (2.0 cm, 18 years). The
case-independent tail of the output is therefore rendered once per cell and reused, so a
million cases cost one JSON decode, one validation and one dictionary lookup each. Memory stays
flat: lines are read, answered and written one at a time; the cell cache is bounded by the
(finite) number of cells.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import IO, Any

from axilla_kg.cases import CaseError, PatientCase
from axilla_kg.recommend import Recommender, dumps

MAX_CACHED_CELLS = 100_000


class CellKey:
    """Builds the cell of a case from the thresholds the compiled variant classes test."""

    def __init__(self, recommender: Recommender) -> None:
        bounds: dict[str, set[tuple[str, Decimal]]] = {}
        for variant in recommender.classifier.variants:
            for test in variant.tests:
                if test.kind == "bound":
                    bounds.setdefault(test.field, set()).add((test.op, test.limit))
        self.bounds = {name: sorted(tests) for name, tests in bounds.items()}
        self.fields = recommender.registry.fields

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
        """Every registry field: its value, or for a bounded number the side of each bound."""
        values, bounds = case.values, self.bounds
        return tuple(
            self._side(values.get(name), bounds[name]) if name in bounds else values.get(name) for name in self.fields
        )


Parsed = tuple[bytes, "tuple[Any, ...] | None"]
"""One answered input line before its tail is attached: (head bytes, cell key), or (whole error
line, None)."""


class BatchRecommender:
    """Answers JSON-Lines cases with a per-cell cache of the rendered result tail.

    Answering is split in two so that worker processes can do the per-case work (decode, validate,
    find the cell) and send back only a short head and the cell key, while the writer attaches the
    cached tail: a full result is several kilobytes, and pickling it between processes cost more
    than computing it.
    """

    def __init__(self, recommender: Recommender, detail: str = "full") -> None:
        self.recommender = recommender
        self.detail = detail
        self.key = CellKey(recommender)
        self.cache: dict[tuple[Any, ...], bytes] = {}
        self.by_outcome: dict[tuple[Any, ...], bytes] = {}  # many cells share one outcome

    def parse(self, number: int, text: str) -> Parsed:
        """Decode and validate one line: the head of its answer and its cell, or its error line."""
        try:
            case = self.recommender.reader.parse(json.loads(text, parse_float=Decimal))
        except json.JSONDecodeError as exc:
            error = {"line": number, "error": f"not valid JSON: {exc.msg} at column {exc.colno}"}
            return dumps(error).encode(), None
        except CaseError as exc:
            return dumps({"line": number, "error": str(exc), "field": exc.field}).encode(), None
        # the assumed defaults belong to the case, not to its cell: they go in the head
        head = f'{{"line":{number},"case":{dumps(case.to_json())},"assumed":{dumps(case.assumed_json())},'.encode()
        return head, self.key(case)

    def tail(self, head: bytes, key: tuple[Any, ...]) -> bytes:
        """The case-independent rest of the answer for a cell (computed on the first visit)."""
        tail = self.cache.get(key)
        if tail is None:
            if len(self.cache) >= MAX_CACHED_CELLS:  # only reachable with exact keys: keep memory flat
                self.cache.clear()
                self.by_outcome.clear()
            case_json = head[head.index(b'"case":') + 7 : head.index(b',"assumed":')]
            case = self.recommender.reader.parse(json.loads(case_json, parse_float=Decimal))
            outcomes = self.recommender.outcomes(case)
            signature = tuple(tuple(res) for _, res in outcomes)
            tail = self.by_outcome.get(signature)
            if tail is None:
                result = self.recommender.recommend(case, detail=self.detail)
                del result["case"], result["assumed"]
                tail = dumps(result)[1:].encode()
                self.by_outcome[signature] = tail
            self.cache[key] = tail
        return tail

    def answer(self, number: int, text: str) -> str:
        """One whole output line (without the newline), as text."""
        head, key = self.parse(number, text)
        return (head if key is None else head + self.tail(head, key)).decode()


CHUNK = 4096
_WORKER: BatchRecommender | None = None


def _parse_chunk(chunk: list[tuple[int, str]]) -> list[Parsed]:
    """Worker side: decode and validate a chunk of lines."""
    assert _WORKER is not None
    parse = _WORKER.parse
    return [parse(number, text) for number, text in chunk]


def _chunks(lines: Iterable[str]) -> Iterator[list[tuple[int, str]]]:
    chunk: list[tuple[int, str]] = []
    for number, text in enumerate(lines, start=1):
        if text.strip():
            chunk.append((number, text))
            if len(chunk) >= CHUNK:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def run(
    recommender: Recommender,
    lines: Iterable[str],
    out: IO[str],
    progress: IO[str] | None = None,
    jobs: int = 1,
    detail: str = "full",
) -> dict[str, int]:
    """Stream ``lines`` to ``out`` in input order; blank lines are skipped but keep their numbers.

    With ``jobs`` > 1, chunks of lines are answered by forked worker processes (each inherits the
    loaded graph) while this process reads and writes; at most ``2 * jobs`` chunks are in flight,
    so memory stays flat however long the input is.
    """
    global _WORKER
    _WORKER = BatchRecommender(recommender, detail)  # forked workers inherit it
    counts = {"cases": 0, "errors": 0}
    started = time.monotonic()
    meter = _Progress(progress, started)

    writer = _WORKER
    binary = getattr(out, "buffer", None)
    if binary is not None:
        out.flush()

    def emit(parsed: list[Parsed]) -> None:
        pieces: list[bytes] = []
        errors = 0
        for head, key in parsed:
            if key is None:
                errors += 1
                pieces.append(head)
            else:
                pieces.append(head + writer.tail(head, key))
        data = b"\n".join(pieces) + b"\n" if pieces else b""
        if binary is not None:
            binary.write(data)
        else:
            out.write(data.decode())
        counts["cases"] += len(parsed)
        counts["errors"] += errors
        meter.update(counts)

    chunks = _chunks(lines)
    head = list(itertools.islice(chunks, 2))
    if jobs <= 1 or len(head) < 2:  # small input: forking workers would cost more than it saves
        for chunk in itertools.chain(head, chunks):
            emit(_parse_chunk(chunk))
    else:
        chunks = itertools.chain(head, chunks)
        import multiprocessing

        context = multiprocessing.get_context("fork")
        with context.Pool(jobs) as pool:
            pending: deque[Any] = deque()
            for chunk in chunks:
                pending.append(pool.apply_async(_parse_chunk, (chunk,)))
                if len(pending) >= 2 * jobs:
                    emit(pending.popleft().get())
            while pending:
                emit(pending.popleft().get())
    if binary is not None:
        binary.flush()
    meter.finish(counts)
    return counts


class _Progress:
    """A one-line progress meter on stderr, redrawn at most five times a second."""

    def __init__(self, stream: IO[str] | None, started: float) -> None:
        self.stream, self.started, self.last = stream, started, started

    def _draw(self, counts: dict[str, int], end: str) -> None:
        assert self.stream is not None
        rate = counts["cases"] / max(time.monotonic() - self.started, 1e-9)
        self.stream.write(f"\r{counts['cases']:,} cases, {counts['errors']:,} errors, {rate:,.0f} cases/s{end}")
        self.stream.flush()

    def update(self, counts: dict[str, int]) -> None:
        now = time.monotonic()
        if self.stream is not None and now - self.last >= 0.2:
            self.last = now
            self._draw(counts, "")

    def finish(self, counts: dict[str, int]) -> None:
        if self.stream is not None:
            self._draw(counts, "\n")


def default_jobs() -> int:
    """One worker per core, at most four (the writer process needs a share too)."""
    return max(1, min(4, os.cpu_count() or 1))


def progress_stream() -> IO[str] | None:
    """Progress goes to stderr only when a person is watching it."""
    return sys.stderr if sys.stderr.isatty() else None
