"""``benchmarks/compare_outputs.py``, the before/after comparison of issue 13: what it counts as
the same, and what it reports as different (the two-checkout run itself takes minutes; it is run
by hand and its result is in the issue's closing note)."""

from __future__ import annotations

import importlib.util
import json
import sys
from types import ModuleType

from conftest import REPO


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("compare_outputs", REPO / "benchmarks" / "compare_outputs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["compare_outputs"] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


co = load()


def test_check_timings_are_the_only_thing_normalised() -> None:
    check_json = co.Item("check", ("check", "--format", "json"))
    one = {"summary": {"load_seconds": 0.1, "stages": [{"stage": "rules", "seconds": 0.2, "findings": 3}]}}
    two = {"summary": {"load_seconds": 0.9, "stages": [{"stage": "rules", "seconds": 4.0, "findings": 3}]}}
    assert co.normalise(check_json, json.dumps(one).encode()) == co.normalise(check_json, json.dumps(two).encode())
    three = {"summary": {"load_seconds": 0.1, "stages": [{"stage": "rules", "seconds": 0.2, "findings": 4}]}}
    assert co.normalise(check_json, json.dumps(one).encode()) != co.normalise(check_json, json.dumps(three).encode())
    table = co.Item("check", ("check", "--format", "table"))
    a = b"ERROR  rule-x  (rules)\n\nstage  seconds  findings\nload   0.13\nrules  0.20     67\n"
    b = b"ERROR  rule-x  (rules)\n\nstage  seconds  findings\nload   1.50\nrules  2.25     67\n"
    c = b"ERROR  rule-x  (rules)\n\nstage  seconds  findings\nload   1.50\nrules  2.25     68\n"
    assert co.normalise(table, a) == co.normalise(table, b) != co.normalise(table, c)
    # the seconds set the column's width: 39.38 s widens it, and the findings column moves
    d = b"ERROR  rule-x  (rules)\n\nstage  seconds  findings\n-----  -------  --------\nrules  0.20     67\n"
    e = b"ERROR  rule-x  (rules)\n\nstage  seconds   findings\n-----  --------  --------\nrules  139.38    67\n"
    assert co.normalise(table, d) == co.normalise(table, e)
    show = co.Item("show", ("show", "4"))
    assert co.normalise(show, b"rules  0.20\n") == b"rules  0.20\n"  # only check output is touched


def test_every_difference_is_reported() -> None:
    items = [co.Item("show", ("show", "4")), co.Item("query", ("query", "x", "--format", "csv"))]
    before = [{"exit": 0, "stdout": b"a\nb\n", "stderr": ""}, {"exit": 0, "stdout": b"x\n", "stderr": ""}]
    after = [{"exit": 0, "stdout": b"a\nb\n", "stderr": ""}, {"exit": 2, "stdout": b"y\n", "stderr": "err\n"}]
    rows = list(co.compare(items, before, after))
    assert [r["result"] for r in rows] == ["identical", "different"]
    assert rows[1]["format"] == "csv" and rows[0]["format"] == "table"
    assert "exit 0 -> 2" in rows[1]["difference"] and "stdout line 1 col 1" in rows[1]["difference"]
    assert "stderr" in rows[1]["difference"]
    text = co.summary_table(rows, show_identical=False)
    assert "different in a format other than table: 1" in text and "query x --format csv" in text


def test_a_query_parameter_without_known_values_is_left_out() -> None:
    facts = {"variants": [("286", 4)], "topics": ["286"], "procedures": ["US axilla"], "levels": ["O"], "ratings": []}
    assert co.param_sets(["variant", "topic"], facts) == [{"topic": "286", "variant": "4"}]
    assert co.param_sets(["outcome"], facts) is None
    items, left_out = co.plan(
        {**facts, "queries": [{"name": "q", "parameters": "outcome:string"}], "export_formats": ["ttl"]},
        {},
        REPO / "docs" / "examples" / "orders.csv",
        set(),
    )
    assert left_out == ["q: no values known for outcome"] and not any(i.args[:2] == ("query", "q") for i in items)
