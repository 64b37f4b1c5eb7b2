"""A strict JSON decoder for patient cases and other user JSON.

Python's ``json`` module is lenient where a clinical contract must not be: it accepts ``NaN`` and
``Infinity``, keeps the last of two equal keys, turns ``1e-400`` into 0.0, recurses once per
nesting level (100,000 nested arrays raise ``RecursionError``), and converts any integer text,
however long (over 4,300 digits it raises ``ValueError``; ``1e999999999`` as a Decimal later
hangs whoever prints it). This wrapper keeps ``json``'s C scanner for speed and adds the limits
through its hooks, so the happy path costs almost nothing extra:

- text size and nesting depth are checked before parsing (a linear scan);
- numbers must be plain decimal notation (:mod:`axilla_kg.inputs.numbers`), kept exact as
  ``int``/``Decimal``; exponents, ``NaN`` and ``Infinity`` are refused;
- a key given twice in one object is an error naming it;
- bytes must be UTF-8, and lone surrogate escapes (``"\\ud800"``) are refused.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from axilla_kg.errors import JSONInputError
from axilla_kg.inputs.numbers import MAX_NUMBER_CHARS, is_plain_decimal

#: Deepest nesting of arrays and objects accepted (a patient case is one flat object).
MAX_DEPTH = 64
#: Longest JSON text accepted, in characters (a case is a few hundred).
MAX_JSON_CHARS = 1_048_576

# A string token, or the bracket it is not inside. The closing quote is optional: an unterminated
# string then runs to the end of the text in one match, where a required quote made the regex
# fail and retry from every later quote (quadratic: 40 kB of escaped quotes took 10 s). Each
# character is consumed by exactly one match, so the scan is linear; a text the screen passes
# with an unterminated string is refused by the parser that follows.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class _Refused:
    """Stands in for a refused number until the object holding it can name its key."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _shown(text: str) -> str:
    return text if len(text) <= 40 else text[:39] + "…"


def _pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in items:
        if key in out:
            raise JSONInputError("given twice in one object", field=key)
        if type(value) is _Refused:
            raise JSONInputError(value.reason, field=key)
        out[key] = value
    return out


def _check_depth(text: str, max_depth: int) -> None:
    if text.count("[") + text.count("{") <= max_depth:
        return
    depth = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > max_depth:
                raise JSONInputError(f"nested more than {max_depth} levels deep")
        elif token in ("]", "}"):
            depth -= 1


def _walk(data: Any) -> list[Any]:
    """Every value and key in ``data`` (iteratively: the depth is already bounded)."""
    out: list[Any] = []
    stack = [data]
    while stack:
        item = stack.pop()
        out.append(item)
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return out


def decode_utf8(raw: bytes, what: str = "JSON text") -> str:
    """Strict UTF-8 (a leading byte-order mark is dropped); the error gives the byte offset."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        byte = raw[exc.start]
        raise JSONInputError(f"{what} is not UTF-8: invalid byte 0x{byte:02x} at offset {exc.start}") from None
    return text[1:] if text.startswith("\ufeff") else text


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH, max_chars: int = MAX_JSON_CHARS) -> Any:
    """Decode JSON under the limits above; raises :class:`JSONInputError` with one-line messages.

    Numbers come back as ``int`` (whole) or ``Decimal`` (with a fraction), exactly as written.
    """
    if isinstance(text, bytes | bytearray):
        text = decode_utf8(bytes(text))
    if len(text) > max_chars:
        raise JSONInputError(f"JSON text of {len(text)} characters is over the limit of {max_chars}")
    _check_depth(text, max_depth)
    refused: list[_Refused] = []

    def refuse(reason: str) -> _Refused:
        refused.append(_Refused(reason))
        return refused[-1]

    def decimal(number: str) -> Decimal | _Refused:
        if is_plain_decimal(number):
            return Decimal(number)
        if len(number) > MAX_NUMBER_CHARS:
            return refuse(f"number of {len(number)} characters (at most {MAX_NUMBER_CHARS})")
        return refuse(f"number '{_shown(number)}' is not in plain decimal notation (no exponent): write e.g. 0.5")

    def integer(number: str) -> int | _Refused:
        if len(number) > MAX_NUMBER_CHARS:
            return refuse(f"number of {len(number)} characters (at most {MAX_NUMBER_CHARS})")
        return int(number)

    def constant(name: str) -> _Refused:
        return refuse(f"{name} is not a number (JSON has no {name})")

    try:
        data = json.loads(
            text, parse_float=decimal, parse_int=integer, parse_constant=constant, object_pairs_hook=_pairs
        )
    except json.JSONDecodeError as exc:
        raise JSONInputError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:  # pragma: no cover - the depth check runs first
        raise JSONInputError(f"nested more than {max_depth} levels deep") from None
    if refused:  # one inside an array (a refused object member was reported with its key)
        raise JSONInputError(refused[0].reason)
    if _SURROGATE_ESCAPE.search(text):
        for item in _walk(data):
            if isinstance(item, str):
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    raise JSONInputError("a string holds a lone surrogate escape (e.g. \\ud800)") from None
    return data
