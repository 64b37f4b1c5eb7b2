"""The patient-case contract: the JSON object other tools send to ``recommend`` and ``audit``.

The fields, their values, defaults, limits and the contradictions between them come from the
ontology's feature registry (:mod:`axilla_kg.contract.features`); this module only applies them. The
contract is strict on purpose: an unknown key, a wrong type or a contradiction is an error naming
the field, because a typo that silently changed the matched variant would change the recommended
imaging. A field the case leaves out is *unknown* (open world), except for the few features with
a documented default, which the answer echoes as ``assumed``.

Sizes are kept as :class:`decimal.Decimal` from the JSON text onwards, so the fast classifier and
the OWL reasoner (which compares ``xsd:decimal`` exactly) see the same number; a float would
round 2.00000000000000001 down to 2.0.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from axilla_kg.contract.features import DefaultException, Derivation, Feature, Registry, Rule, shipped_registry
from axilla_kg.errors import CaseError
from axilla_kg.inputs import safejson

#: owlready2 keeps xsd:decimal values as IEEE doubles, so the reasoner would see 2.00000000000000000001
#: as 2.0. Up to 15 significant digits a decimal survives that round trip exactly, so every path —
#: fast classifier, reasoner, batch — compares the same number.
MAX_SIGNIFICANT_DIGITS = 15
#: A whole-number field given as a Decimal with more integer digits than this is refused before
#: ``int()`` turns it into a huge integer (no contract limit is anywhere near it).
MAX_WHOLE_DIGITS = 30


class PatientCase:
    """One validated case: the known field values in contract order (absent = not known), which
    of them were assumed from a registry default rather than given, and which were derived from
    the given facts by a derivation rule (``ax:DerivationRule``, e.g. the clinical stage)."""

    __slots__ = ("_key", "assumed", "derived", "values")

    def __init__(
        self, values: dict[str, Any], assumed: frozenset[str] = frozenset(), derived: frozenset[str] = frozenset()
    ) -> None:
        self.values = values
        self.assumed = assumed
        self.derived = derived
        self._key: tuple[tuple[str, Any], ...] | None = None  # built on first hash/compare (batch never needs it)

    def _items(self) -> tuple[tuple[str, Any], ...]:
        if self._key is None:
            self._key = tuple(self.values.items())
        return self._key

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self.values.get(name)

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        return iter(self.values.items())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PatientCase) and self._items() == other._items()

    def __hash__(self) -> int:
        return hash(self._items())

    def __repr__(self) -> str:
        return f"PatientCase({self.values!r})"

    def to_json(self) -> dict[str, Any]:
        """The case in contract form, known fields only, assumed ones included, derived ones left
        out (replayable: reading it again derives them again)."""
        derived = self.derived
        return {
            k: (_json_number(v) if isinstance(v, Decimal) else v) for k, v in self.values.items() if k not in derived
        }

    def assumed_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.values.items() if k in self.assumed}

    def derived_json(self) -> dict[str, Any]:
        """The derived fields and their values (the answer may echo them beside ``assumed``)."""
        return {k: v for k, v in self.values.items() if k in self.derived}

    def given(self) -> PatientCase:
        """The same case without its derived fields: what the reasoner must derive by itself."""
        if not self.derived:
            return self
        return PatientCase({k: v for k, v in self.values.items() if k not in self.derived}, self.assumed)


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _plain(value: Any) -> Any:
    return _json_number(value) if isinstance(value, Decimal) else value


def _shown(value: Any) -> str:
    return json.dumps(value, default=str)


def _enum_check(feature: Feature) -> Callable[[Any], Any]:
    allowed = frozenset(feature.values)
    name, values = feature.name, feature.values

    def fail(value: Any) -> Any:
        if not isinstance(value, str):
            raise CaseError(name, f"expected one of {', '.join(map(repr, values))}, got {_shown(value)}")
        close = difflib.get_close_matches(value, values, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise CaseError(name, f"'{value}' is not one of {', '.join(values)}{hint}")

    return lambda value: value if type(value) is str and value in allowed else fail(value)


def _decimal_check(feature: Feature) -> Callable[[Any], Any]:
    name, unit = feature.name, feature.unit or "units"

    def check(value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise CaseError(name, f"expected a number of {unit}, got {_shown(value)}")
        try:
            number = value if isinstance(value, Decimal) else Decimal(str(value))
        except InvalidOperation:  # pragma: no cover - str(float) is always a valid decimal
            raise CaseError(name, f"not a number: {value!r}") from None
        if not number.is_finite() or (feature.positive and number <= 0):
            raise CaseError(name, f"must be a positive number of {unit}, got {value}")
        _limits(feature, number, value)
        if len(number.normalize().as_tuple().digits) > MAX_SIGNIFICANT_DIGITS:
            raise CaseError(
                name, f"{value} has more than {MAX_SIGNIFICANT_DIGITS} significant digits; give at most that many"
            )
        return number

    return check


def _integer_check(feature: Feature) -> Callable[[Any], Any]:
    name, unit = feature.name, feature.unit or "a whole number"

    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise CaseError(name, f"expected {unit}, got {_shown(value)}")
        if isinstance(value, int):
            number = value
        elif isinstance(value, Decimal) and value.is_finite() and value.adjusted() > MAX_WHOLE_DIGITS:
            # a Python caller may pass Decimal("1e999999999"): int() of it would build a billion digits
            raise CaseError(name, f"expected {unit}, got a number with {value.adjusted() + 1:,} digits")
        elif value == value and abs(value) != float("inf") and value == int(value):  # 40.0 is forty
            number = int(value)
        else:
            raise CaseError(name, f"expected {unit}, got {value}")
        _limits(feature, Decimal(number), number)
        return number

    return check


def _limits(feature: Feature, number: Decimal, shown: Any) -> None:
    low, high = feature.minimum, feature.maximum
    if (low is not None and number < low) or (high is not None and number > high):
        span = (
            f"between {low} and {high}"
            if low is not None and high is not None
            else (f"at least {low}" if low is not None else f"at most {high}")
        )
        raise CaseError(feature.name, f"must be {span}, got {shown}")


def _boolean_check(feature: Feature) -> Callable[[Any], Any]:
    name = feature.name

    def check(value: Any) -> bool:
        if not isinstance(value, bool):
            raise CaseError(name, f"expected true or false, got {_shown(value)}")
        return value

    return check


_CHECKS = {"enum": _enum_check, "decimal": _decimal_check, "integer": _integer_check, "boolean": _boolean_check}


class CaseReader:
    """Validates case objects against one registry; built once (batch mode reads a million cases:
    one dictionary lookup and one check per field on the happy path)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.fields = registry.fields
        self.checks = {f.name: _CHECKS[f.kind](f) for f in registry.features}
        self.defaults = registry.defaults()
        self.required = [f for f in registry.features if f.required]
        self.rules: tuple[Rule, ...] = registry.rules
        self.exceptions: tuple[DefaultException, ...] = registry.default_exceptions
        self.derivations: tuple[Derivation, ...] = registry.derivations

    def parse(self, data: Any) -> PatientCase:
        if type(data) is not dict:
            raise CaseError("", f"a patient case must be a JSON object, got {type(data).__name__}")
        checks = self.checks
        given: dict[str, Any] = {}
        unknown: list[str] = []  # explicit nulls: "not known", so no default is assumed either
        for key, value in data.items():
            check = checks.get(key)
            if check is None:
                close = difflib.get_close_matches(str(key), self.fields, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise CaseError(str(key), f"unknown field{hint}; the fields are {', '.join(self.fields)}")
            if value is not None:
                given[key] = check(value)
            else:
                unknown.append(key)
        for feature in self.required:
            if feature.name not in given:
                shown = f" ({' or '.join(repr(v) for v in feature.values)})" if feature.values else ""
                raise CaseError(feature.name, f"required{shown}")
        for rule in self.rules:
            value = given.get(rule.field)
            if value is None or (rule.when is not None and value not in rule.when):
                continue
            if not all(c.holds(given.get(c.field)) for c in rule.conditions):
                continue
            other = given.get(rule.other)
            if other is None and not rule.needs_other:
                continue
            if other not in rule.allows:
                allowed = " or ".join(repr(v) for v in sorted(rule.allows, key=str))
                if other is None:
                    raise CaseError(rule.field, f"{_shown(value)} needs {rule.other} {allowed} ({rule.label})")
                raise CaseError(rule.field, f"{_shown(value)} contradicts {rule.other} {_shown(other)} ({rule.label})")
        suspended = {e.feature for e in self.exceptions if given.get(e.field) in e.when}
        values: dict[str, Any] = {}
        assumed: list[str] = []
        for name in self.fields:
            if name in given:
                values[name] = given[name]
            elif name in self.defaults and name not in unknown and name not in suspended:
                values[name] = self.defaults[name]
                assumed.append(name)
        derived = self._derive(given, values)
        return PatientCase(values, frozenset(assumed), frozenset(derived))

    def _derive(self, given: dict[str, Any], values: dict[str, Any]) -> list[str]:
        """Apply the derivation rules to the given facts (never to assumed or derived ones): a
        derived value joins ``values``; a given value that a rule contradicts is an error naming
        both it and the facts the rule reads."""
        derived: dict[str, tuple[Any, Derivation]] = {}
        for rule in self.derivations:
            if not all(c.holds(given.get(c.field)) for c in rule.conditions):
                continue
            stated = given.get(rule.feature)
            if stated is not None and stated != rule.value:
                raise CaseError(rule.feature, f"{_shown(stated)} contradicts {_reasons(rule, given)} ({rule.label})")
            earlier = derived.get(rule.feature)
            if earlier is not None and earlier[0] != rule.value:  # pragma: no cover - the shipped rules exclude it
                reasons = _reasons(rule, given)
                raise CaseError(rule.feature, f"the facts {reasons} and those of '{earlier[1].label}' contradict")
            derived[rule.feature] = (rule.value, rule)
        out = []
        for name in self.fields:
            if name in derived and name not in given:
                values[name] = derived[name][0]
                out.append(name)
        if out:  # keep the contract's field order
            ordered = {name: values[name] for name in self.fields if name in values}
            values.clear()
            values.update(ordered)
        return out

    def loads(self, text: str | bytes) -> PatientCase:
        """Decode (strictly, see :mod:`axilla_kg.inputs.safejson`) and validate one case."""
        try:
            data = safejson.loads(text)
        except safejson.JSONInputError as exc:
            raise CaseError(exc.field, str(exc)) from None
        return self.parse(data)


_READERS: dict[int, CaseReader] = {}


def reader(registry: Registry | None = None) -> CaseReader:
    """The (cached) reader of a registry; the shipped one by default."""
    registry = registry if registry is not None else shipped_registry()
    found = _READERS.get(id(registry))
    if found is None or found.registry is not registry:
        found = _READERS[id(registry)] = CaseReader(registry)
    return found


def parse_case(data: Any, registry: Registry | None = None) -> PatientCase:
    """Validate one case object (as decoded by :func:`loads_case`); raises :class:`CaseError`."""
    return reader(registry).parse(data)


def loads_case(text: str | bytes, registry: Registry | None = None) -> PatientCase:
    """Decode and validate one case from JSON text (numbers decoded exactly, as Decimal)."""
    return reader(registry).loads(text)


def _reasons(rule: Derivation, given: dict[str, Any]) -> str:
    """The facts a derivation rule read, as an error message names them (built only for an error:
    batch mode reads a case per new class of case)."""
    return ", ".join(f"{c.field} {_shown(_plain(given[c.field]))}" for c in rule.conditions)
