"""``audit``: where a department's axillary imaging orders fall in the criteria.

Each CSV row is a patient case (columns named as the case contract's fields; an empty cell is
"not known") plus the ordered ``procedure`` (exact ACR name) and optionally an ``order_id``.
The verdict is that of a careful reviewer, never the most lenient rating, graded from the decided
answers (:mod:`axilla_kg.recommend.decide`):

* appropriate / may be appropriate / not appropriate: the facts given decide the procedure's
  category (every variant that could still apply agrees), even when facts are missing; a verdict
  resting only on low-confidence rows says so in the verdict ("appropriate (low confidence only)");
* conflicting criteria: matching variants rate it in different categories (every rating is named,
  the more specific first when the reasoner shows one variant's class inside the other's);
* needs more information: not decided, and a question can decide it (the message names the field)
  or only candidates rate it (the fields that would decide them);
* no criteria apply (nothing matches), not rated in our data (matches, none rates it), or invalid
  (the row breaks the contract; the message names line and field).

A bad row is reported in place and does not stop the review of the others.
"""

from __future__ import annotations

import difflib
import functools
import itertools
import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any

from axilla_kg.contract.cases import CaseError, PatientCase
from axilla_kg.contract.features import Feature
from axilla_kg.errors import DataError
from axilla_kg.formats.atomic import write_atomically
from axilla_kg.formats.columnar import COLUMNAR_FORMATS, schema, write_batches
from axilla_kg.formats.output import records_table, text_table
from axilla_kg.graph.reads import texts
from axilla_kg.inputs.arrowfile import BATCH_ROWS, distinct_texts, is_columnar, record_batches
from axilla_kg.inputs.csvfile import read_table
from axilla_kg.inputs.numbers import NumberSyntaxError, parse_decimal, parse_whole
from axilla_kg.recommend.classify import CompiledVariant
from axilla_kg.recommend.decide import Open
from axilla_kg.recommend.memo import Memo
from axilla_kg.recommend.partition import ABSENT, Partition
from axilla_kg.recommend.recommender import Recommender, topic_order
from axilla_kg.vocab import by_category_text

#: confidence levels that are not a plain ACR answer
LOW_CONFIDENCE = frozenset({"low"})
#: appended to a verdict that rests only on low-confidence rows
LOW_ONLY = "(low confidence only)"
VERDICTS = (
    "appropriate",
    f"appropriate {LOW_ONLY}",
    "may be appropriate",
    f"may be appropriate {LOW_ONLY}",
    "not appropriate",
    f"not appropriate {LOW_ONLY}",
    "conflicting criteria",
    "needs more information",
    "no criteria apply",
    "not rated in our data",
    "invalid",
)
#: the verdict a decided category gives, keyed by the category individual (its text is terminology.ttl's)
_BY_CATEGORY = by_category_text(
    {
        "ax:UsuallyAppropriate": "appropriate",
        "ax:MayBeAppropriate": "may be appropriate",
        "ax:MayBeAppropriateDisagreement": "may be appropriate",
        "ax:UsuallyNotAppropriate": "not appropriate",
    }
)
#: in the answer memo: the verdict of these statuses rests on the next question (a finer key);
#: in the score memo: not scored yet
_ASKS: Any = object()
#: matching variants, and candidates with their unknown tests (indices into the classifier's lists)
Statuses = tuple[tuple[int, ...], tuple[tuple[int, tuple[int, ...]], ...]]
#: entries each memo of an :class:`OrderJudge` keeps (:class:`~axilla_kg.recommend.memo.Memo`: the
#: older half is dropped when full), from the measured size of an entry (benchmarks/README.md, "Flat
#: memory"): a verdict per (procedure, class of row), per (procedure, statuses[, question]), the
#: recommender's answer parts per statuses, question plans and field scores, a cell's class per field,
#: a variant as a match or a candidate with its unknown tests
MEMO_ENTRIES = {
    "rows": 64_000,
    "answers": 64_000,
    "results": 12_000,
    "plans": 32_000,
    "scores": 128_000,
    "codes": 4_096,
    "opens": 8_192,
}
ORDER_COLUMNS = ["line", "order_id", "procedure", "verdict", "variants", "acr_category", "rrl", "confidence", "message"]


@dataclass
class AuditSummary:
    """Counts per verdict and per procedure, added to one order at a time (so a streamed audit of
    millions of orders keeps only the counts)."""

    verdicts: Counter[str] = field(default_factory=Counter)
    procedures: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, order: dict[str, Any]) -> None:
        self.add_count(order["procedure"], order["verdict"])

    def add_count(self, procedure: str, verdict: str, orders: int = 1) -> None:
        self.verdicts[verdict] += orders
        self.procedures.setdefault(procedure, Counter())[verdict] += orders

    def by_verdict(self) -> list[dict[str, Any]]:
        total = sum(self.verdicts.values()) or 1
        return [
            {"verdict": v, "orders": self.verdicts[v], "share": round(self.verdicts[v] / total, 4)} for v in VERDICTS
        ]

    def by_procedure(self) -> list[dict[str, Any]]:
        return [
            {"procedure": name, "orders": sum(counts.values()), **{v: counts[v] for v in VERDICTS}}
            for name, counts in sorted(self.procedures.items())
        ]


@dataclass
class AuditReport:
    orders: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> AuditSummary:
        summary = AuditSummary()
        for order in self.orders:
            summary.add(order)
        return summary

    def by_verdict(self) -> list[dict[str, Any]]:
        return self.summary().by_verdict()

    def by_procedure(self) -> list[dict[str, Any]]:
        return self.summary().by_procedure()


def _cell_value(feature: Feature, text: str) -> Any:
    """A CSV cell typed as the JSON contract types the field (the registry says how)."""
    name = feature.name
    if feature.kind in ("integer", "decimal"):
        try:
            return parse_whole(text) if feature.kind == "integer" else parse_decimal(text)
        except NumberSyntaxError as exc:
            raise CaseError(name, f"expected {exc}") from None
    if feature.kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise CaseError(name, f"expected true or false, got '{text}'")
        return text.lower() == "true"
    return text


def audit_orders(recommender: Recommender, path: Path) -> AuditReport:
    """Read and judge every order of a CSV, Parquet or Arrow IPC file; an unreadable file or a
    header without ``procedure`` is an error for the whole run, a bad row only for that row."""
    return AuditReport([order for batch in audit_batches(recommender, path) for order in batch])


def audit_batches(recommender: Recommender, path: Path, batch_rows: int = BATCH_ROWS) -> Iterator[list[dict[str, Any]]]:
    """The verdicts of a file's orders, a batch at a time, in file order (each order as a dict).

    The file and its header are checked before this returns (one error for the whole run), so a
    caller can open its output only once the input is known to be readable.
    """
    return (verdicts.orders() for verdicts in audit_verdicts(recommender, path, batch_rows))


def audit_verdicts(recommender: Recommender, path: Path, batch_rows: int = BATCH_ROWS) -> Iterator[Verdicts]:
    """The verdicts of a file's orders as :class:`Verdicts`, a batch at a time, in file order (a
    Parquet or Arrow file is judged column-wise, :meth:`OrderJudge.judge_batch`); the file and its
    header are checked before this returns."""
    judge = OrderJudge(recommender, path.name)
    if is_columnar(path):
        header, raw = record_batches(path, batch_rows)
        judge.check_header(header, str(path))

        def columnar() -> Iterator[Verdicts]:
            first = 1
            for batch in raw:
                yield judge.judge_batch(batch, first)
                first += batch.num_rows

        return columnar()
    table = read_table(path)  # strict UTF-8 (BOM accepted), size cap, distinct column names
    judge.check_header(table.header, str(path))
    rows = table.rows

    def chunks() -> Iterator[Verdicts]:
        while batch := list(itertools.islice(rows, batch_rows)):
            orders = [judge.judge(row.line, row.cells, row.extra) for row in batch]
            yield Verdicts([o["line"] for o in orders], [o["order_id"] for o in orders], orders)

    return chunks()


def flat_order(order: dict[str, Any]) -> dict[str, Any]:
    """An order as one row of the CSV, TSV, Parquet and Arrow outputs (variants as one text)."""
    return {**order, "variants": " ".join(order["variants"])}


class OrderJudge:
    """Judges orders one row at a time, wherever the rows come from (a CSV, a Parquet record batch,
    a Spark partition), so every path gives the same verdict for the same row.

    A valid row's verdict depends on its case only through the case's *class* under the compiled
    definitions (:class:`~axilla_kg.recommend.partition.Partition`, batch mode's cache key: each
    value counts only through the outcomes of the tests on its field and what the contract's rules
    see of it; a number only through the sides of the thresholds the definitions test), and on the
    procedure — never on its line or order id. So verdicts are memoised per (procedure, class).

    A cell's text stands for its class only once it has been read and checked in a full evaluation
    of some valid row (a field's own checks do not look at other fields; what the rules see of a
    value is part of its class), so an unseen or invalid value always takes the full path and gets
    its own message. Millions of orders are judged at the cost of their distinct classes.
    """

    def __init__(
        self, recommender: Recommender, source: str, *, memo: bool = True, limits: Mapping[str, int] | None = None
    ) -> None:
        self.recommender = recommender
        self.source = source
        self.memo = memo
        self.hits = 0  # rows answered from the memo (the benchmark reports it)
        self.procedures = _procedure_names(recommender)
        self.features = {f.name: f for f in recommender.registry.features}
        self.partition = Partition(recommender.classifier, recommender.registry)
        self._position = {c.feature.name: c.position for c in self.partition.fields}
        absent = [c.code(ABSENT) for c in self.partition.fields]
        self._absent = absent
        limit = {**MEMO_ENTRIES, **(limits or {})}
        self._codes: dict[str, Memo[str, int]] = {name: Memo(limit["codes"]) for name in self._position}
        self._memo: Memo[tuple[str, tuple[int, ...]], dict[str, Any]] = Memo(limit["rows"])
        self._procedure_set = frozenset(self.procedures)
        self._variants = recommender.classifier.variants
        self._evaluate = CompiledVariant.evaluate
        self.answer_hits = 0  # rows of a new class answered from the answer memo
        self._answers: Memo[tuple[Any, ...], Any] = Memo(limit["answers"])  # -> the verdict, or _ASKS
        self._results: Memo[Statuses, dict[str, Any]] = Memo(limit["results"])
        self._plans: Memo[tuple[str, Statuses], list[tuple[str, tuple[int, ...]]]] = Memo(limit["plans"])
        self._scores: Memo[tuple[Any, ...], Any] = Memo(limit["scores"])
        self._opens: Memo[tuple[int, tuple[int, ...] | None], Open] = Memo(limit["opens"])
        self._derived = frozenset(d.feature for d in recommender.registry.derivations)
        self._field_order = {name: i for i, name in enumerate(recommender.registry.fields)}

    def memo_sizes(self) -> dict[str, int]:
        """The entries each memo holds now (``codes``: summed over the fields), as
        :data:`MEMO_ENTRIES` names them: what a benchmark reports, what the bounds cap."""
        return {
            "rows": len(self._memo),
            "answers": len(self._answers),
            "results": len(self._results),
            "plans": len(self._plans),
            "scores": len(self._scores),
            "codes": sum(len(codes) for codes in self._codes.values()),
            "opens": len(self._opens),
        }

    def check_header(self, header: list[str], label: str) -> None:
        """Refuse, for the whole run, a header without ``procedure`` or with an unknown column."""
        if "procedure" not in header:
            raise DataError(f"{label}:1: the header needs a 'procedure' column (and case-field columns)")
        fields = self.recommender.registry.fields
        unknown = [h for h in header if h not in fields and h not in ("procedure", "order_id")]
        if unknown:
            close = difflib.get_close_matches(unknown[0], fields, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise DataError(f"{label}:1: unknown column '{unknown[0]}'{hint}")

    def judge_batch(self, batch: Any, first: int = 1, lines: Sequence[int] | None = None) -> Verdicts:
        """The verdicts of an Arrow record batch of orders (columns named as in :meth:`check_header`),
        its rows numbered from ``first`` (or by ``lines``).

        Each column is turned into text once per distinct value (:func:`distinct_texts`) and into
        class codes by the table the judge has learnt, so a row of a class met before costs a tuple
        and a dict lookup; any other row is judged as :meth:`judge` judges it (and teaches the table)."""
        import numpy as np

        count = batch.num_rows
        numbers: Sequence[int] = range(first, first + count) if lines is None else lines
        names = list(batch.schema.names)
        texts: dict[str, tuple[Any, list[str]]] = {n: distinct_texts(batch.column(i)) for i, n in enumerate(names)}
        order_ids = _per_row(texts.get("order_id"), count, lambda t: t.strip() or None)
        procedures = _per_row(texts.get("procedure"), count, str.strip)
        answers: list[Any] = [None] * count
        if self.memo:
            keys = np.tile(np.asarray(self._absent, dtype=np.int64), (count, 1))
            for name, (indices, values) in texts.items():
                where = self._position.get(name)
                if where is None:
                    continue
                codes = self._codes[name]
                table = [codes.get(t.strip(), -1) if t.strip() else self._absent[where] for t in values]
                table.append(self._absent[where])  # a null cell: not known
                keys[:, where] = np.asarray(table, dtype=np.int64)[indices]
            known = ~(keys < 0).any(axis=1)
            memo = self._memo
            for i, key in zip(np.flatnonzero(known).tolist(), map(tuple, keys[known].tolist()), strict=True):
                answers[i] = memo.get((procedures[i], key))
        hits = 0
        cells: dict[str, list[str]] | None = None
        for i in range(count):
            if answers[i] is not None:
                hits += 1
                continue
            if cells is None:  # the batch's cells as text, for the rows judged one by one
                cells = {name: _per_row(column, count, str) for name, column in texts.items()}
            answers[i] = self.judge(numbers[i], {name: column[i] for name, column in cells.items()})
        self.hits += hits
        return Verdicts(numbers, order_ids, answers)

    def _class(self, row: dict[str, str]) -> tuple[str, tuple[int, ...]] | None:
        """(procedure, the case's class key), or None when a cell has not been checked yet."""
        key = list(self._absent)  # a column the file lacks: the field is left out
        position, codes = self._position, self._codes
        for name, cell in row.items():
            where = position.get(name)
            if where is None:
                continue  # procedure, order_id
            text = (cell or "").strip()
            if not text:
                continue  # an empty cell is left out, as the full path leaves it out
            code = codes[name].get(text)
            if code is None:
                return None
            key[where] = code
        return (row.get("procedure") or "").strip(), tuple(key)

    def _learn(self, row: dict[str, str]) -> None:
        """Record the class of each cell of a validly judged row (every cell passed its checks)."""
        fields = self.partition.fields
        for name, cell in row.items():
            where = self._position.get(name)
            text = (cell or "").strip()
            if where is None or not text or text in self._codes[name]:
                continue
            self._codes[name][text] = fields[where].code(_cell_value(self.features[name], text))

    def judge(self, line: int, row: dict[str, str], extra: int = 0) -> dict[str, Any]:
        """The verdict of one order row (cells as text; empty = not known)."""
        order_id = (row.get("order_id") or "").strip() or None
        key = None if extra or not self.memo else self._class(row)
        if key is not None:
            known = self._memo.get(key)
            if known is not None:
                self.hits += 1
                return {"line": line, "order_id": order_id, **known}
        if extra or not self.memo:
            return _judge(self.recommender, self.features, self.procedures, self.source, line, row, extra)
        order = self._answered(line, row)
        if order["verdict"] != "invalid":
            self._learn(row)
            key = self._class(row)
            if key is not None:
                self._memo[key] = {k: v for k, v in order.items() if k not in ("line", "order_id")}
        return order

    def _answered(self, line: int, row: dict[str, str]) -> dict[str, Any]:
        """A row whose class was not met with this procedure: validated by the contract, then judged
        from the variants' statuses as batch mode's class answers see them
        (:mod:`axilla_kg.recommend.classanswers`). The matching variants and the candidates with their
        unknown tests decide ``decided``, ``conflicts`` and every rating named, so a verdict is
        remembered per (procedure, statuses); a verdict that rests on the next question is
        remembered per the question too, which is asked only then (:meth:`_question`)."""
        order = _blank(line, row)
        try:
            case = _case_of(self.recommender, self.features, self._procedure_set, row)
        except CaseError as exc:
            order["message"] = f"{self.source}:{line}: {exc}"
            return order
        statuses = self._statuses(case)
        procedure = order["procedure"]
        key: tuple[Any, ...] = (procedure, statuses)
        known = self._answers.get(key)
        asked: dict[str, Any] | None = None
        if known is _ASKS:
            asked = self._question(statuses, case, procedure)
            key = (procedure, statuses, None if asked is None else (asked["field"], asked["label"]))
            known = self._answers.get(key)
        if known is not None:
            self.answer_hits += 1
            return {**order, **known}
        needed = False

        def question() -> dict[str, Any] | None:
            nonlocal needed, asked
            needed = True
            if asked is None:
                asked = self._question(statuses, case, procedure)
            return asked

        order = _verdict(self.recommender, order, self._result(statuses), question)
        if needed:
            self._answers[(procedure, statuses)] = _ASKS
            key = (procedure, statuses, None if asked is None else (asked["field"], asked["label"]))
        self._answers[key] = {k: v for k, v in order.items() if k not in ("line", "order_id")}
        return order

    def _question(self, statuses: Statuses, case: PatientCase, procedure: str) -> dict[str, Any] | None:
        """The next question focused on ``procedure``, as :meth:`Decider.next_question` asks it: the
        askable field with the highest score, each field's score remembered per (procedure, statuses,
        field, the classes of the fields its scoring reads — :attr:`Decider.reads`), as batch mode's
        class answers remember the unfocused ones."""
        decider = self.recommender.decider
        plan = self._plans.get((procedure, statuses))
        if plan is None:
            opened = self._open(statuses)
            plan = []
            if decider.wanted(opened, procedure):
                prior = any(t.field in self._derived for o in opened for t in o.unknown)
                for name in decider.asked_fields(case, opened):
                    names = decider.reads[name] | (decider.prior_reads if prior else frozenset())
                    plan.append((name, tuple(sorted(self._field_order[n] for n in names))))
            self._plans[(procedure, statuses)] = plan
        if not plan:
            return None
        key = self.partition.key_of(case)
        best: tuple[Any, dict[str, Any]] | None = None
        for name, positions in plan:
            asked = (procedure, statuses, name, tuple([key[p] for p in positions]))
            found = self._scores.get(asked, _ASKS)
            if found is _ASKS:
                opened = self._open(statuses)
                found = decider.field_question(case, opened, name, decider.wanted(opened, procedure))
                self._scores[asked] = found
            if found is not None and (best is None or found[0] > best[0]):
                best = found
        return best[1] if best is not None else None

    def _statuses(self, case: PatientCase) -> Statuses:
        """The matching variants and the candidates with their unknown tests (indices, classifier order)."""
        matched: list[int] = []
        open_: list[tuple[int, tuple[int, ...]]] = []
        for i, results in enumerate(map(self._evaluate, self._variants, repeat(case))):
            if False in results:
                continue
            if None in results:
                open_.append((i, tuple([j for j, r in enumerate(results) if r is None])))
            else:
                matched.append(i)
        return tuple(matched), tuple(open_)

    def _open(self, statuses: Statuses) -> list[Open]:
        """The variants that could still apply, as the recommender hands them to the decider:
        matches, then candidates with their unknown tests (superseded editions left out)."""
        matched, candidates = statuses
        out = [self._opened(i, None) for i in matched]
        out.extend(self._opened(i, unknown) for i, unknown in candidates)
        return [o for o in out if o.variant.topic_iri not in self.recommender.superseded]

    def _opened(self, i: int, unknown: tuple[int, ...] | None) -> Open:
        """Variant ``i`` as a match (``unknown`` None) or a candidate with those unknown tests: one
        :class:`Open` per status, reused in every set of open variants it is part of (as batch mode's
        class answers reuse theirs), so its per-answer verdicts are learnt once, not per new class."""
        found = self._opens.get((i, unknown))
        if found is None:
            variant = self._variants[i]
            found = (
                Open(variant, "match")
                if unknown is None
                else Open(variant, "candidate", tuple(variant.tests[j] for j in unknown))
            )
            self._opens[(i, unknown)] = found
        return found

    def _result(self, statuses: Statuses) -> dict[str, Any]:
        """The parts of the recommender's answer a verdict reads, per statuses (remembered)."""
        found = self._results.get(statuses)
        if found is not None:
            return found
        rec, variants, order = self.recommender, self._variants, self._field_order
        matched, candidates = statuses
        ordered = sorted((variants[i] for i in matched), key=lambda v: (topic_order(v.topic), v.number))
        found = {
            "matches": [rec.info(v).payload for v in ordered],
            "conflicts": rec.conflicts(ordered),
            "decided": rec.decider.decided(self._open(statuses))[0],
            "candidates": [
                {
                    "topic": variants[i].topic,
                    "variant": variants[i].number,
                    "needs": sorted({variants[i].tests[j].field for j in unknown}, key=order.__getitem__),
                }
                for i, unknown in candidates
            ],
        }
        self._results[statuses] = found
        return found


def _per_row(column: tuple[Any, list[str]] | None, count: int, transform: Callable[[str], Any]) -> list[Any]:
    """Each row's cell of a column given as :func:`distinct_texts` gives it, transformed once per
    distinct value (a missing column: every cell empty)."""
    if column is None:
        return [transform("")] * count
    indices, values = column
    table = [transform(v) for v in values]
    table.append(transform(""))
    return list(map(table.__getitem__, indices.tolist()))


@dataclass
class Verdicts:
    """A batch of judged orders, as columns: the rows' line numbers and order ids, and each row's
    verdict (without ``line`` and ``order_id``; one object shared by the rows of a class)."""

    lines: Sequence[int]
    order_ids: list[str | None]
    answers: list[dict[str, Any]]

    def __len__(self) -> int:
        return len(self.answers)

    def orders(self) -> list[dict[str, Any]]:
        return [
            {"line": line, "order_id": order_id, **answer}
            for line, order_id, answer in zip(self.lines, self.order_ids, self.answers, strict=True)
        ]

    def count(self, summary: AuditSummary) -> None:
        """Add the batch's verdicts to ``summary``."""
        for (procedure, verdict), orders in Counter((a["procedure"], a["verdict"]) for a in self.answers).items():
            summary.add_count(procedure, verdict, orders)

    def arrow(self, table_schema: Any) -> Any:
        """The batch as an Arrow record batch of :data:`ORDER_COLUMNS` (``variants`` as one text), each
        distinct verdict turned into cells once."""
        import pyarrow as pa

        position: dict[int, int] = {}
        distinct: list[dict[str, Any]] = []
        for answer in self.answers:
            if id(answer) not in position:
                position[id(answer)] = len(distinct)
                distinct.append(answer)
        indices = pa.array([position[id(a)] for a in self.answers], pa.int32())
        arrays = [pa.array(self.lines, pa.int64()), pa.array(self.order_ids, pa.string())]
        for name in ORDER_COLUMNS[2:]:
            cells = [" ".join(a[name]) if name == "variants" else a[name] for a in distinct]
            arrays.append(pa.array(cells, pa.string()).take(indices))
        return pa.RecordBatch.from_arrays(arrays, schema=table_schema)


def _procedure_names(recommender: Recommender) -> list[str]:
    rows = texts(recommender.kg.read("procedure-names"))
    return sorted(str(r[0]) for r in rows)


def _blank(line: int, row: dict[str, str]) -> dict[str, Any]:
    """An order's output before it is judged (an invalid one until shown otherwise)."""
    return {
        "line": line,
        "order_id": (row.get("order_id") or "").strip() or None,
        "procedure": (row.get("procedure") or "").strip(),
        "verdict": "invalid",
        "variants": [],
        "acr_category": None,
        "rrl": None,
        "confidence": None,
        "message": None,
    }


def _case_of(
    recommender: Recommender,
    features: dict[str, Feature],
    procedures: list[str] | frozenset[str],
    row: dict[str, str],
    extra: int = 0,
) -> PatientCase:
    """The row's case, validated by the contract, once its procedure is known (else CaseError)."""
    if extra:  # more cells than header columns
        raise CaseError("", "more cells than the header has columns")
    data = {
        k: _cell_value(features[k], v.strip()) for k, v in row.items() if k in features and v is not None and v.strip()
    }
    case = recommender.reader.parse(data)
    procedure = (row.get("procedure") or "").strip()
    if procedure not in procedures:
        hint = _hint(procedure, tuple(sorted(procedures)))
        raise CaseError("procedure", f"'{procedure}' is not an ACR procedure name in the graph{hint}")
    return case


@functools.lru_cache(maxsize=4096)
def _hint(procedure: str, procedures: tuple[str, ...]) -> str:
    """The "did you mean" of an unknown procedure name (an extract repeats its misspellings:
    difflib's search is made once per spelling)."""
    close = difflib.get_close_matches(procedure, procedures, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _judge(
    recommender: Recommender,
    features: dict[str, Feature],
    procedures: list[str],
    source: str,
    line: int,
    row: dict[str, str],
    extra: int = 0,
) -> dict[str, Any]:
    order = _blank(line, row)
    try:
        case = _case_of(recommender, features, procedures, row, extra)
    except CaseError as exc:
        order["message"] = f"{source}:{line}: {exc}"
        return order
    result = recommender.recommend(case, detail="brief", procedure=order["procedure"])
    return _verdict(recommender, order, result, lambda: result["next_question"])


def _verdict(
    recommender: Recommender,
    order: dict[str, Any],
    result: dict[str, Any],
    next_question: Callable[[], dict[str, Any] | None],
) -> dict[str, Any]:
    """Fill in the verdict of a valid order from the answer for its case (``matches`` with their
    ratings, ``decided``, ``conflicts``, ``candidates``); the next question, focused on the order's
    procedure, is asked for only when the verdict depends on it."""
    procedure = order["procedure"]
    matches = sorted(result["matches"], key=lambda m: (topic_order(m["topic"]), m["variant"]))
    order["variants"] = [f"{m['topic']} V{m['variant']}" for m in matches]
    decided = next((d for d in result["decided"] if d["procedure"] == procedure), None)
    if decided is not None:
        return _graded(recommender, order, decided)
    rated = [
        (m, r) for m in matches for r in m["ratings"] if r["procedure"] == procedure and r["category"] in _BY_CATEGORY
    ]
    conflict = next((c for c in result["conflicts"] if c["procedure"] == procedure), None)
    if conflict is not None:
        order["verdict"] = "conflicting criteria"
        _describe(order, rated)
        ratings = "; ".join(f"{r['category']} in {r['topic']} V{r['variant']}" for r in conflict["ratings"])
        lead = conflict.get("more_specific")
        if lead:
            narrow = ", ".join(f"{v['topic']} V{v['variant']}" for v in lead["variants"])
            broad = ", ".join(f"{v['topic']} V{v['variant']}" for v in lead["inside"])
            ratings = f"more specific: {narrow} ({lead['category']}; its patient class is inside {broad}'s); {ratings}"
        order["message"] = ratings
        return order
    by_number = {(v.topic, v.number): v for v in recommender.classifier.variants}
    hopeful = []
    for c in result["candidates"]:
        info = recommender.info(by_number[(c["topic"], c["variant"])])
        for r in info.payload["ratings"]:
            if r["procedure"] == procedure and r["category"] in _BY_CATEGORY:
                hopeful.append((c, r))
    question = next_question() if rated or hopeful else None
    if question is not None:
        order["verdict"] = "needs more information"
        shown = [f"{r['category']} in {m['topic']} V{m['variant']}" for m, r in rated]
        shown += [f"{r['category']} in {c['topic']} V{c['variant']} (candidate)" for c, r in hopeful]
        order["message"] = f"decided by {question['field']} ({question['label']}); rated " + "; ".join(shown)
        return order
    if rated:  # the matches agree, but a variant that could still apply has no row for it in our data
        verdicts = {_BY_CATEGORY[r["category"]] for _, r in rated}
        _describe(order, rated)
        order["verdict"] = _low(recommender, verdicts.pop(), [r for _, r in rated])
        order["message"] = (
            "; ".join(f"{r['category']} in {m['topic']} V{m['variant']}" for m, r in rated)
            + "; not decided: a variant that could apply lists no rating for it in our data"
        )
        return order
    if hopeful:
        order["verdict"] = "needs more information"
        needs = recommender.registry.fields
        wanted = {f for c, _ in hopeful for f in c["needs"]}
        order["message"] = (
            "rated only by candidates: "
            + "; ".join(f"{r['category']} in {c['topic']} V{c['variant']}" for c, r in hopeful)
            + f"; give {', '.join(f for f in needs if f in wanted)}"
        )
        return order
    order["verdict"] = "no criteria apply" if not matches else "not rated in our data"
    return order


def _graded(recommender: Recommender, order: dict[str, Any], decided: dict[str, Any]) -> dict[str, Any]:
    """An order whose category the facts given already decide (every variant that could still
    apply agrees): graded from that answer even when facts are missing."""
    names = [
        f"{v['topic']} V{v['variant']}" + (" (candidate)" if v["status"] == "candidate" else "")
        for v in decided["variants"]
    ]
    order["variants"] = [f"{v['topic']} V{v['variant']}" for v in decided["variants"]]
    order["acr_category"] = decided["category"]
    order["rrl"] = decided["rrl"]
    order["confidence"] = decided["confidence"]
    rows = _rows_for(recommender, decided)
    order["verdict"] = _low(recommender, _BY_CATEGORY.get(decided["category"], "not rated in our data"), rows)
    order["confidence"] = ", ".join(sorted({r["confidence"] for r in rows if r["confidence"]}))
    order["message"] = f"decided: {decided['category']} in " + "; ".join(names)
    return order


def _rows_for(recommender: Recommender, decided: dict[str, Any]) -> list[dict[str, Any]]:
    """The rating rows a decided answer rests on."""
    by_number = {(v.topic, v.number): v for v in recommender.classifier.variants}
    rows = []
    for v in decided["variants"]:
        for r in recommender.info(by_number[(v["topic"], v["variant"])]).payload["ratings"]:
            if r["procedure"] == decided["procedure"]:
                rows.append(r)
    return rows


def _low(recommender: Recommender, verdict: str, rows: list[dict[str, Any]]) -> str:
    """A verdict resting only on low-confidence rows says so in the verdict itself."""
    if rows and all(r.get("confidence") in LOW_CONFIDENCE for r in rows):
        return f"{verdict} {LOW_ONLY}"
    return verdict


def _describe(order: dict[str, Any], rated: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    if not rated:
        return
    order["acr_category"] = "; ".join(sorted({r["category"] for _, r in rated}, key=_category_order))
    order["rrl"] = rated[0][1]["rrl"]
    order["confidence"] = ", ".join(sorted({r["confidence"] for _, r in rated if r["confidence"]}))


def _category_order(category: str) -> int:
    return list(_BY_CATEGORY).index(category)


def write_audit(recommender: Recommender, path: Path, output: Path, fmt: str) -> AuditSummary:
    """Judge a file's orders and stream the verdicts to ``output`` (Parquet, Arrow IPC, or the CSV,
    TSV, JSON or table text), batch by batch for the columnar formats; returns the counts."""
    batches = audit_verdicts(recommender, path)  # the input is checked before the output is opened
    summary = AuditSummary()
    if fmt in COLUMNAR_FORMATS:
        table_schema = schema(ORDER_COLUMNS)

        def arrow_batches() -> Iterator[Any]:
            for verdicts in batches:
                verdicts.count(summary)
                yield verdicts.arrow(table_schema)

        write_batches(output, fmt, table_schema, arrow_batches())
        return summary
    report = AuditReport([order for verdicts in batches for order in verdicts.orders()])
    write_atomically(output, render_audit(report, fmt))
    return report.summary()


def render_summary(summary: AuditSummary, fmt: str) -> str:
    """The counts per verdict and per procedure alone (when the orders went to a file)."""
    by_verdict, by_procedure = summary.by_verdict(), summary.by_procedure()
    if fmt == "json":
        return json.dumps({"by_verdict": by_verdict, "by_procedure": by_procedure}, ensure_ascii=False, indent=2) + "\n"
    if fmt in ("csv", "tsv"):
        return records_table(by_verdict, ["verdict", "orders", "share"], fmt)
    rows = [[r["verdict"], r["orders"], f"{100 * r['share']:.1f}%"] for r in by_verdict]
    text = "Summary by verdict\n" + text_table(["verdict", "orders", "share"], rows) + "\n"
    columns = ["procedure", "orders", *VERDICTS]
    text += "\nSummary by procedure\n" + text_table(columns, [[r[c] for c in columns] for r in by_procedure]) + "\n"
    return text


def render_audit(report: AuditReport, fmt: str) -> str:
    orders = [flat_order(o) for o in report.orders]
    if fmt in ("csv", "tsv"):
        return records_table(orders, ORDER_COLUMNS, fmt)
    if fmt == "json":
        body = {
            "orders": report.orders,
            "summary": {"by_verdict": report.by_verdict(), "by_procedure": report.by_procedure()},
        }
        return json.dumps(body, ensure_ascii=False, indent=2) + "\n"
    text = "Orders\n" + text_table(ORDER_COLUMNS, [[o[c] for c in ORDER_COLUMNS] for o in orders]) + "\n\n"
    return text + render_summary(report.summary(), "table")
