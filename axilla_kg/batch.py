"""``recommend --cases``: JSON Lines in, JSON Lines out, streaming, one output line per input line.

A recommendation depends on a case only through its *cell*: the enum values, and for each
numeric field which side of every threshold the variant classes use (2.0 cm, 18 years). The
case-independent tail of the output is therefore rendered once per cell and reused, so a
million cases cost one JSON decode, one validation and one dictionary lookup each. Memory stays
flat: lines are read, answered and written one at a time; the cell cache is bounded by the
(finite) number of cells.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable
from decimal import Decimal
from typing import IO, Any

from axilla_kg.cases import CaseError, PatientCase, parse_case
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
        self.size_tests = sorted(bounds.pop("tumor_size_cm", set()))
        self.age_tests = sorted(bounds.pop("age", set()))
        # a draft graph bounding another field: fall back to the exact case as the key
        self.exact = bool(bounds)

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
        if self.exact:
            return (case,)
        return (
            case.sex,
            self._side(case.age, self.age_tests),
            case.breast_cancer,
            self._side(case.tumor_size_cm, self.size_tests),
            case.clinical_nodes,
            case.neoadjuvant,
            case.axillary_lump,
            case.suspicious_node_on,
            case.diagnostic_breast_imaging_done,
        )


class BatchRecommender:
    """Answers JSON-Lines cases with a per-cell cache of the rendered result tail."""

    def __init__(self, recommender: Recommender) -> None:
        self.recommender = recommender
        self.key = CellKey(recommender)
        self.cache: dict[tuple[Any, ...], str] = {}
        self.by_outcome: dict[tuple[Any, ...], str] = {}  # many cells share one outcome

    def answer(self, number: int, text: str) -> str:
        try:
            data = json.loads(text, parse_float=Decimal)
            case = parse_case(data)
        except json.JSONDecodeError as exc:
            return dumps({"line": number, "error": f"not valid JSON: {exc.msg} at column {exc.colno}"})
        except CaseError as exc:
            return dumps({"line": number, "error": str(exc), "field": exc.field})
        key = self.key(case)
        tail = self.cache.get(key)
        if tail is None:
            if len(self.cache) >= MAX_CACHED_CELLS:  # only reachable with exact keys: keep memory flat
                self.cache.clear()
                self.by_outcome.clear()
            outcomes = self.recommender.outcomes(case)
            signature = tuple(tuple(res) for _, res in outcomes)
            tail = self.by_outcome.get(signature)
            if tail is None:
                result = self.recommender.recommend(case)
                del result["case"]
                tail = dumps(result)[1:]
                self.by_outcome[signature] = tail
            self.cache[key] = tail
        return f'{{"line":{number},"case":{dumps(case.to_json())},{tail}'


def run(
    recommender: Recommender, lines: Iterable[str], out: IO[str], progress: IO[str] | None = None
) -> dict[str, int]:
    """Stream ``lines`` to ``out``; blank lines are skipped but keep their line numbers."""
    batch = BatchRecommender(recommender)
    counts = {"cases": 0, "errors": 0}
    started = last = time.monotonic()
    write = out.write
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        line = batch.answer(number, text)
        counts["cases"] += 1
        if line.startswith(f'{{"line":{number},"error"'):
            counts["errors"] += 1
        write(line)
        write("\n")
        if progress is not None and counts["cases"] % 5000 == 0:
            now = time.monotonic()
            if now - last >= 0.2:
                rate = counts["cases"] / max(now - started, 1e-9)
                progress.write(f"\r{counts['cases']:,} cases, {counts['errors']:,} errors, {rate:,.0f} cases/s")
                progress.flush()
                last = now
    if progress is not None:
        elapsed = time.monotonic() - started
        rate = counts["cases"] / max(elapsed, 1e-9)
        progress.write(f"\r{counts['cases']:,} cases, {counts['errors']:,} errors, {rate:,.0f} cases/s\n")
    return counts


def progress_stream() -> IO[str] | None:
    """Progress goes to stderr only when a person is watching it."""
    return sys.stderr if sys.stderr.isatty() else None
