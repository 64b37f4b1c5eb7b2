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
  rules between fields (contradictions, required fields) depend only on what the cell key holds,
  so the caller runs the strict path once per new key and remembers whether it was valid.

What it returns is the line's *cell key* (the registry's values in order, ``UNSET`` for a field
left out — so an assumed default is part of the key — and the side of every bound for a bounded
numeric field) and the case echo, byte for byte what ``json`` writes for ``case.to_json()``.
``tests/test_fastline.py`` holds both paths equal with hypothesis over valid and hostile lines.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Literal

import msgspec

from axilla_kg.contract.cases import CaseError, CaseReader
from axilla_kg.contract.features import Registry
from axilla_kg.inputs.numbers import is_plain_decimal

#: Lines longer than this go to the strict path (a case is about 200 bytes).
MAX_FAST_BYTES = 4096
#: Numeric values remembered per field; cleared when full, so memory stays flat.
MAX_MEMO = 50_000
#: Echo templates remembered (one per cell key seen; a run has a few hundred).
MAX_TEMPLATES = 100_000
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode
_DECLINED = object()


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
    """``line bytes -> (cell key, echo bytes)``, or ``None`` when the strict path must answer."""

    def __init__(self, reader: CaseReader, sides: Mapping[str, Callable[[Any], Any]]) -> None:
        fields: list[tuple[str, Any, Any]] = []
        #: per numeric field (by position): the contract's check, whether it is read as raw JSON text,
        #: its side function (bounded fields) and its memo (value -> (key part, echo fragment) or _DECLINED)
        self.numeric: dict[int, tuple[Callable[[Any], Any], bool, Callable[[Any], Any] | None, dict[Any, Any]]] = {}
        self.memos: list[tuple[int, dict[Any, Any]]] = []
        #: per field: value -> its echo fragment (b"" when the echo leaves it out)
        self.fragments: list[dict[Any, bytes]] = []
        self.heads: list[bytes] = []
        for index, feature in enumerate(reader.registry.features):
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
            table: dict[Any, bytes] = {None: b"", msgspec.UNSET: default}
            for value in feature.values:
                table[value] = (head + _encode(value)).encode()
            if feature.kind == "boolean":
                table[True], table[False] = (head + "true").encode(), (head + "false").encode()
            self.fragments.append(table)
            if feature.kind in ("integer", "decimal"):
                memo: dict[Any, Any] = {b"null": (None, b"")}  # a raw null: not known
                check = reader.checks[feature.name]
                self.numeric[index] = (check, feature.kind == "decimal", sides.get(feature.name), memo)
                self.memos.append((index, memo))
        #: a default is left out of the echo when the key holds a fact that suspends it
        #: (``ax:DefaultException``): (position of the defaulted field, position of the fact, its values)
        position = {f.name: i for i, f in enumerate(reader.registry.features)}
        self.suspensions = [(position[e.feature], position[e.field], e.when) for e in reader.exceptions]
        self.templates: dict[tuple[Any, ...], tuple[bytes, ...]] = {}
        struct = msgspec.defstruct("Case", fields, forbid_unknown_fields=True)
        self.decode = msgspec.json.Decoder(struct).decode
        self.astuple = msgspec.structs.astuple
        self.read = self._reader()

    def _learn(self, index: int, value: Any) -> Any:
        """(key part, echo fragment) of a numeric value not seen before, through the contract's own
        field check; remembered in the field's memo."""
        check, text, side, memo = self.numeric[index]
        if len(memo) >= MAX_MEMO:  # keep memory flat whatever the input
            memo.clear()
            memo[b"null"] = (None, b"")
        found: Any = _DECLINED
        try:
            if text:  # raw JSON: only a number in plain decimal notation (no exponent, not a string)
                shown = value.decode("ascii")
                if is_plain_decimal(shown):
                    number = check(Decimal(shown))
                    found = (side(number) if side is not None else number, _json_number(number))
            else:
                number = check(value)
                found = (side(number) if side is not None else number, number)
        except (CaseError, UnicodeDecodeError, ArithmeticError, ValueError):
            pass
        if found is not _DECLINED:
            fragment = self.heads[index] + _encode(found[1]).encode()
            found = (found[0], fragment)
        memo[value] = found
        return found

    def _segments(self, key: tuple[Any, ...]) -> tuple[bytes, ...]:
        """The echo of every line with this key, cut where its numeric values go: the key holds
        every other value (and whether each numeric one is there), so this is computed once per key."""
        if len(self.templates) >= MAX_TEMPLATES:
            self.templates.clear()
        cuts: list[bytes] = []
        text = b"{"
        first = True
        suspended = {field for field, fact, when in self.suspensions if key[fact] in when}
        for index, (table, value) in enumerate(zip(self.fragments, key, strict=True)):
            number = index in self.numeric and value is not None and value is not msgspec.UNSET
            fragment = b"" if number or (index in suspended and value is msgspec.UNSET) else table[value]
            if not number and not fragment:
                continue
            text += b"" if first else b","
            first = False
            if number:
                cuts.append(text)
                text = b""
            else:
                text += fragment
        segments = self.templates[key] = (*cuts, text + b"}")
        return segments

    def __call__(self, raw: bytes) -> tuple[tuple[Any, ...], bytes] | None:
        return self.read(raw)

    def _reader(self) -> Callable[[bytes], tuple[tuple[Any, ...], bytes] | None]:
        """The per-line function, as a closure over local names (batch mode calls it a million
        times: attribute and global lookups are a measurable share of its time)."""
        decode, astuple, unset, raw_type = self.decode, self.astuple, msgspec.UNSET, msgspec.Raw
        memos, templates, segments_of, learn = self.memos, self.templates, self._segments, self._learn
        errors = (msgspec.MsgspecError, ValueError, RecursionError)  # invalid UTF-8 is a ValueError
        declined, limit = _DECLINED, MAX_FAST_BYTES

        def read(raw: bytes) -> tuple[tuple[Any, ...], bytes] | None:
            if len(raw) > limit:
                return None
            try:
                values = list(astuple(decode(raw)))
            except errors:
                return None
            if raw.count(b":") != len(values) - values.count(unset):
                return None  # a repeated key, a nested object or a colon in a string: the strict path decides
            numbers: list[bytes] = []
            for index, memo in memos:
                value = values[index]
                if value is None or value is unset:
                    continue
                if type(value) is raw_type:
                    value = bytes(value)
                found = memo.get(value)
                if found is None:
                    found = learn(index, value)
                if found is declined:
                    return None
                values[index], fragment = found
                if fragment:
                    numbers.append(fragment)
            key = tuple(values)
            segments = templates.get(key)
            if segments is None:
                segments = segments_of(key)
            if not numbers:
                return key, segments[0]
            if len(numbers) == 1:
                return key, segments[0] + numbers[0] + segments[1]
            return key, b"".join([part for pair in zip(segments, numbers, strict=False) for part in pair]) + segments[
                -1
            ]

        return read
