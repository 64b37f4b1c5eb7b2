"""The audit's class memo never changes a verdict: a judge that memoises rows on their class
(numbers reduced to the sides of the definitions' thresholds), a new class's verdict on the
variants' statuses (and the focused next question on field scores remembered per the classes of
what scoring reads), gives, row for row, what a judge that evaluates every row in full through
``Recommender.recommend`` gives — for rows drawn from every field's values, numbers on and near
every threshold, unknown cells, contradictions and invalid values; and so does the column-wise
judging of an Arrow record batch of the same rows (typed columns, nulls, dictionary-encoded text)."""

from __future__ import annotations

import importlib.util
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cases_gold import GOLD
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from axilla_kg.formats.columnar import schema, to_batch
from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.inputs.arrowfile import column_batch
from axilla_kg.recommend.audit import MEMO_ENTRIES, ORDER_COLUMNS, OrderJudge, flat_order
from axilla_kg.recommend.memo import Memo
from axilla_kg.recommend.recommender import Recommender


@pytest.fixture(scope="module")
def recommender() -> Recommender:
    return Recommender.load(KnowledgeGraph.load())


def number_texts(limits: list[Decimal], whole: bool) -> st.SearchStrategy[str]:
    """Texts of numbers on, just above and below, and well away on both sides of every threshold
    (mostly), arbitrary ones, and junk."""
    sides = [
        str(limit + delta)
        for limit in limits
        for delta in (
            (Decimal(0), Decimal(1), Decimal(-1), Decimal(7), Decimal(-5))
            if whole
            else (Decimal(0), Decimal("0.001"), Decimal("-0.001"), Decimal("1.5"), Decimal("-0.5"))
        )
    ]
    if not whole:
        sides += [str(limit) + ".0" for limit in limits if "." not in str(limit)]
    anywhere = (
        st.integers(min_value=0, max_value=150).map(str)
        if whole
        else st.decimals(min_value=Decimal("0.01"), max_value=Decimal("160"), places=2).map(str)
    )
    junk = st.sampled_from(["-1", "0", "1e3", "abc", "999", "1.0000000000000001", " 3 "])
    return st.one_of(*[st.sampled_from(sides)] * 8, anywhere, junk)


def text(value: object) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


@st.composite
def rows(draw: st.DrawFn, recommender: Recommender) -> dict[str, str]:
    """A row near a gold case (so most rows are valid and classes recur): some of its facts left
    out, a few others added, numbers anywhere near the thresholds, now and then junk."""
    limits: dict[str, list[Decimal]] = {}
    for variant in recommender.classifier.variants:
        for test in variant.tests:
            if test.kind == "bound":
                limits.setdefault(test.field, []).append(test.limit)
    registry = recommender.registry
    conditions = [c for r in registry.rules for c in r.conditions]
    conditions += [c for d in registry.derivations for c in d.conditions]
    for condition in conditions:  # the thresholds the contract's own rules look at (e.g. 5 cm for the stage)
        if condition.op:
            limits.setdefault(condition.field, []).append(condition.limit)
    base = draw(st.sampled_from(sorted(GOLD.values(), key=repr)))
    row: dict[str, str] = {}
    for feature in recommender.registry.features:
        name = feature.name
        keep = draw(st.integers(min_value=0, max_value=19)) < (18 if name in base else 1)
        if not keep:
            row[name] = ""
        elif feature.kind in ("integer", "decimal"):
            row[name] = draw(number_texts(limits.get(name, [Decimal(50)]), feature.kind == "integer"))
        elif name in base and draw(st.integers(min_value=0, max_value=9)) < 9:
            row[name] = text(base[name])
        elif feature.kind == "boolean":
            row[name] = draw(st.sampled_from(["true", "false", "TRUE", "maybe"]))
        else:
            row[name] = draw(st.sampled_from([*map(str, feature.values), "unheard-of"]))
    procedures = OrderJudge(recommender, "t").procedures
    row["procedure"] = draw(st.sampled_from([*procedures[:10], "Not a procedure"]))
    return row


@st.composite
def families(draw: st.DrawFn, recommender: Recommender) -> list[dict[str, str]]:
    """A row and siblings that differ from it only in their numbers: the rows a class memo merges
    (or must not merge, when a number crosses a threshold or is invalid)."""
    first = draw(rows(recommender))
    family = [first]
    numeric = [f.name for f in recommender.registry.features if f.kind in ("integer", "decimal")]
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        sibling = dict(first)
        for name in numeric:
            if first[name] and draw(st.booleans()):
                sibling[name] = draw(rows(recommender))[name] or first[name]
        family.append(sibling)
    return family


def test_the_class_memo_gives_the_verdicts_of_full_evaluation(recommender: Recommender) -> None:
    memo = OrderJudge(recommender, "t")
    full = OrderJudge(recommender, "t", memo=False)

    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(families(recommender))
    def check(family: list[dict[str, str]]) -> None:
        # twice, the second time backwards: every value has been seen, so rows are answered from
        # the memo across different numbers, categories and gaps
        for line, row in enumerate([*family, *reversed(family)], start=2):
            assert memo.judge(line, row) == full.judge(line, row), row

    check()
    assert memo.hits > 100, "the memo was hardly used: the comparison proves little"
    assert memo.answer_hits > 10, "new classes were never answered from the statuses memo: it proves little"


def arrow_column(cells: list[str], typed: bool) -> pa.Array:
    """A column as an extract holds it: text (dictionary-encoded now and then) or, when every cell
    reads as one, typed (whole numbers, floats, booleans); an empty cell is a null."""
    values = [c if c.strip() else None for c in cells]
    if typed:
        try:
            return pa.array([None if v is None else int(v) for v in values], pa.int64())
        except ValueError:
            pass
        try:
            floats = [None if v is None else float(v) for v in values]
            if all(f is None or repr(f) == v for f, v in zip(floats, values, strict=True)):
                return pa.array(floats, pa.float64())
        except ValueError:
            pass
        if all(v in (None, "true", "false") for v in values):
            return pa.array([None if v is None else v == "true" for v in values], pa.bool_())
    column = pa.array(values, pa.string())
    return column.dictionary_encode() if len(cells) % 2 else column


def test_a_batch_judged_column_wise_gives_the_verdicts_of_full_evaluation(recommender: Recommender) -> None:
    memo = OrderJudge(recommender, "t")
    full = OrderJudge(recommender, "t", memo=False)
    table_schema = schema(ORDER_COLUMNS)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(families(recommender), min_size=1, max_size=4), st.booleans())
    def check(groups: list[list[dict[str, str]]], typed: bool) -> None:
        rows = [row for family in groups for row in family]
        rows += list(reversed(rows))  # the second time every class is known: answered column-wise
        names = list(rows[0])
        for i, row in enumerate(rows):
            row["order_id"] = f" O-{i} " if i % 3 else ""
        names.append("order_id")
        columns = [arrow_column([r[n] for r in rows], typed and n != "order_id") for n in names]
        batch = pa.RecordBatch.from_arrays(columns, names=names)
        verdicts = memo.judge_batch(batch, first=2)
        # the single-process reading of a Parquet row: each cell as text, then judged in full
        expected = [full.judge(line, row) for line, row in column_batch(batch, 2).rows()]
        assert verdicts.orders() == expected
        flat = to_batch([flat_order(o) for o in expected], table_schema)
        assert verdicts.arrow(table_schema).to_pylist() == flat.to_pylist()

    check()
    assert memo.hits > 100, "the memo was hardly used: the comparison proves little"


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=9), st.lists(st.integers(min_value=0, max_value=30), max_size=200))
def test_a_bounded_memo_never_holds_more_than_its_limit_and_forgets_the_oldest_first(
    limit: int, keys: list[int]
) -> None:
    memo: Memo[int, int] = Memo(limit)
    order: list[int] = []  # a model: the keys held, oldest first
    for key in keys:
        memo[key] = key * 2
        if key not in order:
            if len(order) >= limit:
                del order[: max(1, len(order) // 2)]
            order.append(key)
        assert len(memo) <= limit
        assert list(memo) == order
        assert memo[key] == key * 2  # the newest entry is always kept


def test_a_memo_needs_room_for_one_entry() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Memo(0)


def test_tiny_memo_bounds_give_the_verdicts_of_unbounded_memos(
    recommender: Recommender, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The bounds are a cache's: a judge whose memos (and its decider's) hold two or three entries,
    forgetting all the time, gives row for row the verdicts of a judge that never forgets, on realistic generated
    orders (the benchmark's generator: continuous numbers, unknown cells, invalid rows) judged
    column-wise in record batches."""
    path = tmp_path_factory.mktemp("orders") / "orders.parquet"
    _generator().generate(path, 1_500, seed=23, row_group_size=500)
    forgetful = Recommender.load(KnowledgeGraph.load())  # its decider's memos shrunk too
    shrunk = [memo for memo in vars(forgetful.decider).values() if isinstance(memo, Memo)]
    assert len(shrunk) >= 4, "the decider's memos are not bounded memos"
    for memo in shrunk:
        memo.limit = 2
    tiny = OrderJudge(forgetful, "t", limits=dict.fromkeys(MEMO_ENTRIES, 3))
    unbounded = OrderJudge(recommender, "t", limits=dict.fromkeys(MEMO_ENTRIES, 10**9))
    first = 1
    for _ in range(2):  # the second time round, every class is known to the judge that never forgets
        for batch in pq.ParquetFile(path).iter_batches(batch_size=500):
            assert tiny.judge_batch(batch, first).orders() == unbounded.judge_batch(batch, first).orders()
            first += batch.num_rows
    sizes, grown = tiny.memo_sizes(), unbounded.memo_sizes()
    fields = len(recommender.registry.features)
    assert all(sizes[name] <= 3 for name in sizes if name != "codes") and sizes["codes"] <= 3 * fields
    # the unbounded judge remembered far more: the tiny one forgot (and worked out again) all along
    assert all(grown[name] > 10 * max(sizes[name], 1) for name in ("rows", "answers", "scores")), grown
    assert unbounded.hits > 1_000 > 10 * tiny.hits, (unbounded.hits, tiny.hits)


def _generator() -> Any:
    """benchmarks/audit_scale.py (its realistic order generator)."""
    bench = Path(__file__).resolve().parent.parent / "benchmarks" / "audit_scale.py"
    spec = importlib.util.spec_from_file_location("audit_scale", bench)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
