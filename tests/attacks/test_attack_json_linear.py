"""Attack corpus (issue 19): the strict-JSON depth screen is linear and agrees with the parser.

Before: the screen removed strings with a regex that, on a text of nested brackets and escaped
quotes with no closing quote, failed and restarted at every quote (4 kB 0.18 s, 16 kB 2.7 s,
32 kB 9.8 s), freezing the server for every route. Speed is measured in
``benchmarks/bench_json_screen.py``; here: the verdicts, fuzzed against the standard parser."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from axilla_kg.inputs import safejson


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key")
    return dict(pairs)


def _reference(text: str, max_depth: int) -> bool:
    """The standard parser's verdict plus the documented depth limit and duplicate-key rule."""
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError):
        return False
    return _depth(value) <= max_depth


def _ours(text: str, max_depth: int) -> bool:
    try:
        safejson.loads(text, max_depth=max_depth)
    except safejson.JSONInputError:
        return False
    return True


# brackets, quotes and backslashes (the screen's own alphabet) plus enough to make valid JSON;
# no digits or letters that spell numbers, constants or \\u escapes (refused by other rules)
_ALPHABET = st.sampled_from(list('[]{}"\\,: ab'))


@settings(max_examples=3000, deadline=None)
@given(st.lists(_ALPHABET, max_size=40).map("".join), st.integers(min_value=0, max_value=4))
def test_screen_and_parser_agree_on_arbitrary_text(text: str, max_depth: int) -> None:
    assert _ours(text, max_depth) == _reference(text, max_depth)


_VALUES = st.recursive(
    st.sampled_from(["a", "\\", '"', "[", "{", "}]", ""]) | st.booleans() | st.none(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["k", '"', "[", "\\"]), inner, max_size=3)
    ),
    max_leaves=40,
)


@settings(max_examples=1500, deadline=None)
@given(_VALUES, st.integers(min_value=0, max_value=8), st.booleans())
def test_screen_and_parser_agree_on_nested_json(value: Any, max_depth: int, cut: bool) -> None:
    """Valid JSON whose strings hold brackets, quotes and backslashes; ``cut`` drops the last
    character (often the closing bracket or quote: an unterminated text)."""
    text = json.dumps(value)
    if cut:
        text = text[:-1]
    assert _ours(text, max_depth) == _reference(text, max_depth)


def test_escaped_quotes_after_deep_brackets_are_refused_at_once() -> None:
    """The shape that was quadratic: refused as too deep, naming the limit."""
    body = "[" * 70 + '\\"' * 32_000
    try:
        safejson.loads(body)
    except safejson.JSONInputError as exc:
        assert str(exc) == "nested more than 64 levels deep"
    else:  # pragma: no cover - the assertion is the test
        raise AssertionError("accepted")


def test_the_cli_refuses_the_quadratic_case_in_one_line() -> None:
    """``recommend --case -`` with 64 kB of the once-quadratic shape: one line, exit 2."""
    from conftest import cli_in_process

    done = cli_in_process("recommend", "--case", "-", stdin="[" * 70 + '\\"' * 32_000)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().endswith("nested more than 64 levels deep") and done.stderr.count("\n") == 1
