"""Attack corpus: JSON and number input (issue 11). In process: the decoder and the case
contract are pure functions; the CLI contract for them is proven in test_attack_cli.py."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axilla_kg.contract.cases import CaseError, loads_case, parse_case
from axilla_kg.inputs import safejson
from axilla_kg.inputs.numbers import NumberSyntaxError, parse_decimal, parse_whole

CASE = '{{"sex": "female", "breast_cancer": "new", {field}: {value}}}'


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ('"age"', "NaN"),
        ('"age"', "Infinity"),
        ('"age"', "-Infinity"),
        ('"tumor_size_cm"', "NaN"),
        ('"tumor_size_cm"', "Infinity"),
        ('"age"', "1" * 4301),  # over Python's int/str conversion limit: ValueError before
        ('"tumor_size_cm"', "1e999999999"),  # crashed before
        ('"age"', "1e999999999"),  # hung before (int() of a billion-digit Decimal)
        ('"tumor_size_cm"', "1e-400"),  # was accepted and echoed as 0.0
        ('"tumor_size_cm"', "1e309"),  # crashed HermiT (an infinite double)
        ('"tumor_size_cm"', "1.5E0"),
    ],
)
def test_refused_numbers_name_the_field(field: str, value: str) -> None:
    with pytest.raises(CaseError) as caught:
        loads_case(CASE.format(field=field, value=value))
    assert caught.value.field == json.loads(field)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 200


def test_duplicate_key_is_an_error_naming_it() -> None:
    with pytest.raises(CaseError) as caught:
        loads_case('{"sex": "female", "age": 40, "age": 90}')
    assert caught.value.field == "age" and "twice" in str(caught.value)


@pytest.mark.parametrize("depth", [65, 1000, 100_000])
def test_deep_nesting_is_refused_without_recursion(depth: int) -> None:
    for text in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
        with pytest.raises(safejson.JSONInputError, match="nested more than"):
            safejson.loads(text)


def test_nesting_inside_strings_does_not_count() -> None:
    assert safejson.loads('{"sex": "' + "[" * 200 + '"}') == {"sex": "[" * 200}


def test_invalid_utf8_and_lone_surrogates() -> None:
    with pytest.raises(CaseError, match=r"not UTF-8: invalid byte 0xff at offset 9"):
        loads_case(b'{"sex": "\xff"}')
    with pytest.raises(CaseError, match="lone surrogate"):
        loads_case('{"sex": "\\ud800"}')
    assert loads_case(b'\xef\xbb\xbf{"sex": "female"}').sex == "female"  # a UTF-8 BOM is fine


def test_refused_number_inside_an_array() -> None:
    with pytest.raises(safejson.JSONInputError, match="NaN"):
        safejson.loads('{"a": [1, NaN]}')
    with pytest.raises(safejson.JSONInputError, match="plain decimal"):
        safejson.loads("[1e5]")


def test_oversize_text_is_refused_before_parsing() -> None:
    with pytest.raises(safejson.JSONInputError, match="over the limit"):
        safejson.loads(" " * (safejson.MAX_JSON_CHARS + 1))


def test_decimals_stay_exact() -> None:
    case = loads_case('{"sex": "female", "breast_cancer": "new", "tumor_size_cm": 2.00000000000001}')
    assert case.tumor_size_cm == Decimal("2.00000000000001")
    assert loads_case('{"sex": "female", "age": 40.0}').age == 40


# JSON values without floats: what the strict decoder must read exactly as json does.
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_agrees_with_the_json_module_on_valid_input(value: Any) -> None:
    text = json.dumps(value)
    assert safejson.loads(text) == json.loads(text)


@settings(max_examples=300, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-(10**12), max_value=10**12))
def test_plain_decimals_round_trip_exactly(number: Decimal) -> None:
    text = format(number, "f")
    assert safejson.loads(text) == (Decimal(text) if "." in text else int(text))
    assert parse_decimal(text) == number


@pytest.mark.parametrize(
    "text", ["4_5", "1_5", "٤٥", "45 ", " 45", "+45", "1e2", "NaN", "Infinity", "0x10", "", "1.", ".5", "1" * 101]
)
def test_number_flags_accept_only_plain_decimal(text: str) -> None:
    with pytest.raises(NumberSyntaxError):
        parse_decimal(text)
    with pytest.raises(NumberSyntaxError):
        parse_whole(text)


def test_number_flags_accept_plain_numbers() -> None:
    assert parse_whole("45") == 45 and parse_whole("-3") == -3
    assert parse_decimal("1.5") == Decimal("1.5") and parse_decimal("2") == Decimal(2)
    with pytest.raises(NumberSyntaxError):
        parse_whole("1.5")


@pytest.mark.parametrize("value", [Decimal("1e999999999"), Decimal("-1e999999999"), Decimal("1e31")])
def test_huge_decimal_whole_number_from_python_is_refused_at_once(value: Decimal) -> None:
    """The Python API bypasses the JSON decoder's number limits: ``parse_case`` must still refuse
    an age like Decimal("1e999999999") with one error naming the field, not hang in ``int()``."""
    with pytest.raises(CaseError) as caught:
        parse_case({"sex": "female", "age": value})
    assert caught.value.field == "age"
