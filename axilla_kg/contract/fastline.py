"""The batch fast path for one case line: msgspec's typed decoder in front of the strict contract.

Batch mode (``recommend --cases``) spends most of its time on what every line needs before any
answer: decoding the JSON strictly and checking it against the case contract, then encoding the
case echo. For the common, well-formed line this module does all three with one call into
msgspec's C decoder (a ``Struct`` type built from the feature registry: enumerations as
``Literal``, booleans, whole numbers; decimals kept as raw JSON text), plus a few dictionary
lookups. It never decides anything the strict path (:class:`axilla_kg.contract.cases.CaseReader` over
:mod:`axilla_kg.inputs.safejson`) would decide differently, because it only ever *accepts* or
*declines*:

* it declines (returns ``None``) whenever msgspec refuses the line — wrong type, unknown field,
  malformed JSON, a byte-order mark, a float where a whole number is expected — and the caller
  answers that line with the strict path, which accepts it or gives the exact error;
* msgspec is more lenient than the contract in two places, and both are screened here: it keeps
  the last of two equal keys (so a line is declined unless it has exactly one ``:`` per field it
  sets, which no line with a repeated key, a nested object or a colon in a string has), and it
  reads numbers in exponent notation and numeric strings as decimals (so decimal fields are
  decoded as raw JSON text and accepted only in plain decimal notation, then checked by the
  contract's own field check);
* every numeric value goes through the contract's own field check (memoised per value), and the
  rules between fields (contradictions, required fields) depend only on the classes the key holds
  (the caller's classes separate every value set a rule names), so the caller decides validity
  once per class, with the strict contract, and remembers it.

What it returns is the line's *class key* (per registry field, the class of its value, from the
caller's class functions: an assumed default, a null and a value are told apart where they can
change anything) and the case echo, byte for byte what ``json`` writes for ``case.to_json()``.
Both come from one C-level ``map`` over per-field tables each, with no per-line structures built
beyond the decoded values.
``tests/test_fastline.py`` holds both paths equal with hypothesis over valid and hostile lines.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from itertools import repeat
from operator import eq, getitem, itemgetter, methodcaller, sub
from typing import Any, Literal

import msgspec

from axilla_kg.contract.cases import CaseError, CaseReader
from axilla_kg.contract.features import Registry
from axilla_kg.inputs.numbers import is_plain_decimal

#: Lines longer than this go to the strict path (a case is about 200 bytes).
MAX_FAST_BYTES = 4096
#: Numeric values remembered per field; cleared when full, so memory stays flat.
MAX_MEMO = 50_000
#: an echo's fragments joined, less the comma before the first
_AFTER_COMMA = itemgetter(slice(1, None))
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


def _json_number(value: Decimal) -> int | float:
    """As the case echo writes a decimal (``PatientCase.to_json``)."""
    return int(value) if value == value.to_integral_value() else float(value)


def supported(registry: Registry, bounded: set[str]) -> bool:
    """Whether the cell key decides every rule of ``registry``: true when no rule looks at the value
    (rather than the presence) of a numeric field. Otherwise batch mode uses the strict path only."""
    numeric = {f.name for f in registry.features if f.kind in ("decimal", "integer")} | bounded
    for rule in registry.rules:
        if rule.field in numeric and rule.when is not None:
            return False
        if rule.other in numeric or any(c.field in numeric for c in rule.conditions):
            return False
    if any(e.field in numeric for e in registry.default_exceptions):
        return False
    # a derived value must follow from the key: a numeric condition only by a side the key holds
    return all(c.field not in numeric or c.field in bounded for rule in registry.derivations for c in rule.conditions)


class FastLine:
    """``line bytes -> (class key, echo members)``, or ``None`` when the strict path must answer; and
    the same for a whole block of lines at once (:meth:`read_block`). The echo members are the case
    echo without its braces (``b'"sex":"female","age":40'``).

    ``classes`` gives, per registry field in order, the function that classes one of its values
    (``None`` for null, ``msgspec.UNSET`` for a field left out, or a valid value): batch mode's
    equivalence classes (:mod:`axilla_kg.recommend.partition`), which this layer does not know.
    """

    def __init__(self, reader: CaseReader, classes: Sequence[Callable[[Any], int]]) -> None:
        fields: list[tuple[str, Any, Any]] = []
        #: per field: value -> its class, and value -> its echo fragment (``,"name":value``, the comma
        #: first, so a line's echo is its fragments joined, less the first byte; b"" when the echo leaves it out);
        #: a numeric field's tables are memos, filled as values are met (through the contract's check)
        self.codes: list[dict[Any, int]] = []
        self.fragments: list[dict[Any, bytes]] = []
        #: per numeric field (by position): the contract's check, whether it is read as raw JSON text, its class
        self.numeric: dict[int, tuple[Callable[[Any], Any], bool, Callable[[Any], int]]] = {}
        self.declined: dict[int, set[Any]] = {}
        self.heads: list[bytes] = []
        for index, (feature, classify) in enumerate(zip(reader.registry.features, classes, strict=True)):
            kind: Any
            if feature.kind == "enum":
                kind = Literal[feature.values]
            elif feature.kind == "boolean":
                kind = bool
            elif feature.kind == "integer":
                kind = int
            else:
                kind = msgspec.Raw
            # a raw value cannot be part of a union: null arrives as the raw text ``null``
            typed = kind if kind is msgspec.Raw else kind | None | msgspec.UnsetType
            fields.append((feature.name, typed, msgspec.UNSET))
            head = "," + _encode(feature.name) + ":"
            self.heads.append(head.encode())
            default = (head + _encode(feature.default)).encode() if feature.default is not None else b""
            fragments: dict[Any, bytes] = {None: b"", msgspec.UNSET: default}
            values: list[Any] = [None, msgspec.UNSET]
            if feature.kind == "enum":
                values += feature.values
                fragments |= {value: (head + _encode(value)).encode() for value in feature.values}
            elif feature.kind == "boolean":
                values += [True, False]
                fragments[True], fragments[False] = (head + "true").encode(), (head + "false").encode()
            else:
                self.numeric[index] = (reader.checks[feature.name], feature.kind == "decimal", classify)
                self.declined[index] = set()
            codes = {value: classify(value) for value in values}
            if feature.kind == "decimal":  # a raw null: not known
                codes[b"null"], fragments[b"null"] = codes[None], b""
            self.codes.append(codes)
            self.fragments.append(fragments)
        #: a default left out when the line gives a fact that suspends it (``ax:DefaultException``):
        #: (position of the defaulted field, position of the fact, its values); such a line reads the field as not known
        position = {f.name: i for i, f in enumerate(reader.registry.features)}
        self.suspensions = [(position[e.feature], position[e.field], e.when) for e in reader.exceptions]
        #: a numeric field's memo entries that are not numbers (restored when the memo is cleared)
        self.fixed = {index: (dict(self.codes[index]), dict(self.fragments[index])) for index in self.numeric}
        struct = msgspec.defstruct("Case", fields, forbid_unknown_fields=True, gc=False)
        self.decode = msgspec.json.Decoder(struct).decode
        self.decode_all = msgspec.json.Decoder(list[struct]).decode  # type: ignore[valid-type]
        self.astuple = msgspec.structs.astuple
        self.read = self._reader()

    def _learn(self, index: int, value: Any) -> bool:
        """Class and echo fragment of a numeric value not seen before, through the contract's own
        field check; remembered in the field's memos. False: the strict path must read the line."""
        codes, fragments, declined = self.codes[index], self.fragments[index], self.declined[index]
        if value in declined:
            return False
        if len(codes) >= MAX_MEMO:  # keep memory flat whatever the input
            fixed_codes, fixed_fragments = self.fixed[index]
            codes.clear()
            fragments.clear()
            codes.update(fixed_codes)
            fragments.update(fixed_fragments)
        check, text, classify = self.numeric[index]
        try:
            if text:  # raw JSON: only a number in plain decimal notation (no exponent, not a string)
                shown = value.decode("ascii")
                if is_plain_decimal(shown):
                    number = check(Decimal(shown))
                    codes[value] = classify(number)
                    fragments[value] = self.heads[index] + _encode(_json_number(number)).encode()
                    return True
            else:
                number = check(value)
                codes[value] = classify(number)
                fragments[value] = self.heads[index] + _encode(number).encode()
                return True
        except (CaseError, UnicodeDecodeError, ArithmeticError, ValueError):
            pass
        if len(declined) >= MAX_MEMO:
            declined.clear()
        declined.add(value)
        return False

    def __call__(self, raw: bytes) -> tuple[tuple[int, ...], bytes] | None:
        return self.read(raw)

    def _reader(self) -> Callable[[bytes], tuple[tuple[int, ...], bytes] | None]:
        """The per-line function, as a closure over local names (batch mode calls it a million
        times: attribute and global lookups are a measurable share of its time). The class key and
        the echo are each one pass of C-level ``map`` over the field tables."""
        decode, astuple, unset, raw_type, learn = self.decode, self.astuple, msgspec.UNSET, msgspec.Raw, self._learn
        numeric = [(index, self.codes[index]) for index in self.numeric]
        codes, fragments, suspensions = self.codes, self.fragments, self.suspensions
        errors = (msgspec.MsgspecError, ValueError, RecursionError)  # invalid UTF-8 is a ValueError
        limit, join = MAX_FAST_BYTES, b"".join

        def read(raw: bytes) -> tuple[tuple[int, ...], bytes] | None:
            if len(raw) > limit:
                return None
            values: Any
            try:
                values = astuple(decode(raw))
            except errors:
                return None
            if raw.count(b":") != len(values) - values.count(unset):
                return None  # a repeated key, a nested object or a colon in a string: the strict path decides
            if numeric:
                values = list(values)
                for index, memo in numeric:
                    value = values[index]
                    if type(value) is raw_type:
                        value = values[index] = bytes(value)
                    if value not in memo and not learn(index, value):
                        return None
            for feature, fact, when in suspensions:
                if values[feature] is unset and values[fact] in when:  # the default is suspended:
                    values = list(values)  # not assumed, so read (class and echo) as not known
                    values[feature] = None
            return tuple(map(getitem, codes, values)), join(map(getitem, fragments, values))[1:]

        return read

    def read_block(self, lines: list[bytes]) -> tuple[list[tuple[int, ...] | None], list[bytes]] | None:
        """Every line of a block at once: per line its class key (``None``: the strict path must answer
        it) and echo members; ``None`` when the block as a whole cannot be decoded (a line that is not
        a plain case object), so each line must be read on its own.

        The lines are decoded as one JSON array (``[`` + lines joined by ``,`` + ``]``): a line holding
        anything but one object of the case's scalar fields makes that fail or changes the element
        count, so element *i* is line *i*. Then each field is a column, and the class keys and echoes
        are C-level ``map`` and ``zip`` passes over the columns (no Python code runs per line unless a
        line needs the strict path)."""
        if not lines or max(map(len, lines)) > MAX_FAST_BYTES:
            return None
        try:
            joined = b"[" + b",".join(lines) + b"]"
            cases = self.decode_all(joined)
        except (msgspec.MsgspecError, ValueError, RecursionError):
            return None
        if len(cases) != len(lines):
            return None
        rows = list(map(self.astuple, cases))
        columns: list[Any] = list(zip(*rows, strict=True))
        # one ``:`` per field set, so no repeated key, nested object or colon in a string: a line has at
        # least one per field it sets, so when the block's count is its lines' fields set, each line's is
        unset = msgspec.UNSET
        given = len(columns) * len(lines) - sum(map(methodcaller("count", unset), columns))
        keyed: list[bool] = [True] * len(lines)
        if joined.count(b":") != given:
            keyed = list(
                map(
                    eq,
                    map(bytes.count, lines, repeat(b":")),
                    map(sub, repeat(len(columns)), map(tuple.count, rows, repeat(unset))),
                )
            )
        for index in self.numeric:
            column: Any = columns[index]
            if self.numeric[index][1]:  # raw JSON text: as bytes (a Raw cannot be a dict key)
                column = columns[index] = [bytes(v) if type(v) is msgspec.Raw else v for v in column]
            codes = self.codes[index]
            values = set(column)
            for value in values.difference(codes):
                self._learn(index, value)
            if not values.issubset(codes):  # a value the contract refuses (or not a plain number)
                keyed = [ok and value in codes for ok, value in zip(keyed, column, strict=True)]
        for feature, fact, when in self.suspensions:  # a suspended default: not assumed, so not known
            if any(f is unset and v in when for f, v in zip(columns[feature], columns[fact], strict=True)):
                columns[feature] = [
                    None if f is unset and v in when else f
                    for f, v in zip(columns[feature], columns[fact], strict=True)
                ]
        keys = list(
            zip(*[list(map(table.get, column)) for table, column in zip(self.codes, columns, strict=True)], strict=True)
        )
        # (a value with no fragment, one the contract refuses, is on a line read again on its own)
        members = [
            list(map(table.get, column, repeat(b""))) for table, column in zip(self.fragments, columns, strict=True)
        ]
        echoes = list(map(_AFTER_COMMA, map(b"".join, zip(*members, strict=True))))
        if not all(keyed):
            return [key if ok else None for key, ok in zip(keys, keyed, strict=True)], echoes
        return keys, echoes  # type: ignore[return-value]
