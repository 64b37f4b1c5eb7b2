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
from operator import getitem
from typing import Any, Literal

import msgspec

from axilla_kg.contract.cases import CaseError, CaseReader
from axilla_kg.contract.features import Registry
from axilla_kg.inputs.numbers import is_plain_decimal

#: Lines longer than this go to the strict path (a case is about 200 bytes).
MAX_FAST_BYTES = 4096
#: Numeric values remembered per field; cleared when full, so memory stays flat.
MAX_MEMO = 50_000
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
        if rule.other in numeric:
            return False
    return True


class FastLine:
    """``line bytes -> (class key, echo bytes)``, or ``None`` when the strict path must answer.

    ``classes`` gives, per registry field in order, the function that classes one of its values
    (``None`` for null, ``msgspec.UNSET`` for a field left out, or a valid value): batch mode's
    equivalence classes (:mod:`axilla_kg.recommend.partition`), which this layer does not know.
    """

    def __init__(self, reader: CaseReader, classes: Sequence[Callable[[Any], int]]) -> None:
        fields: list[tuple[str, Any, Any]] = []
        #: per field: value -> its class, and value -> its echo fragment (b"" when the echo leaves it out);
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
            head = _encode(feature.name) + ":"
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
        #: a numeric field's memo entries that are not numbers (restored when the memo is cleared)
        self.fixed = {index: (dict(self.codes[index]), dict(self.fragments[index])) for index in self.numeric}
        struct = msgspec.defstruct("Case", fields, forbid_unknown_fields=True)
        self.decode = msgspec.json.Decoder(struct).decode
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
        codes, fragments = self.codes, self.fragments
        errors = (msgspec.MsgspecError, ValueError, RecursionError)  # invalid UTF-8 is a ValueError
        limit, join = MAX_FAST_BYTES, b",".join

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
            return tuple(map(getitem, codes, values)), b"{" + join(filter(None, map(getitem, fragments, values))) + b"}"

        return read
