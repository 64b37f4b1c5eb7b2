"""The case contract's fields as the front door shows and reads them (form controls, FHIR
derivation, the order of ``needs``).

The contract is defined elsewhere: by the ontology's feature registry (:mod:`axilla_kg.features`,
issue 10) where it exists, else by the field tables of :mod:`axilla_kg.cases`. This module is the
one place that reads either, so the form picks up a new field without a code change.
"""

from __future__ import annotations

import importlib
import typing
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from axilla_kg import cases

KINDS = {"integer": "whole", "decimal": "decimal", "boolean": "boolean", "enum": "enum"}


@dataclass(frozen=True)
class CaseField:
    name: str
    label: str
    kind: str  # enum | whole | decimal | boolean | text
    values: tuple[str, ...] = ()
    default: Any = None  # the value an empty field stands for (None: not known)
    help: str = ""
    unit: str = ""
    absent_means: str = "not known"


def _registry_fields() -> tuple[CaseField, ...] | None:
    try:
        features = importlib.import_module("axilla_kg.features")
    except ImportError:
        return None
    out = []
    for f in features.shipped_registry().features:
        absent = f"default: {str(f.default).replace('_', ' ')}" if f.default is not None else "not known"
        out.append(
            CaseField(f.name, f.label, KINDS.get(f.kind, "text"), tuple(f.values), f.default, f.help, f.unit, absent)
        )
    return tuple(out)


def _kind(hint: Any) -> str:
    args = set(typing.get_args(hint)) or {hint}
    if int in args and bool not in args:
        return "whole"
    if Decimal in args or float in args:
        return "decimal"
    return "boolean" if bool in args else "text"


def _table_fields() -> tuple[CaseField, ...]:
    """Before the registry: ``cases.FIELDS``/``ENUMS``/``DEFAULTS`` and the PatientCase hints."""
    names: tuple[str, ...] = getattr(cases, "FIELDS")  # noqa: B009 - absent once the registry exists
    enums: dict[str, tuple[str, ...]] = getattr(cases, "ENUMS", {})
    defaults: dict[str, Any] = getattr(cases, "DEFAULTS", {})
    known_when_absent: frozenset[str] = getattr(cases, "KNOWN_WHEN_ABSENT", frozenset())
    hints = typing.get_type_hints(cases.PatientCase)
    out = []
    for name in names:
        if name in defaults:
            absent = f"default: {str(defaults[name]).replace('_', ' ')}"
        else:
            absent = "none found" if name in known_when_absent else "not known"
        kind = "enum" if name in enums else _kind(hints.get(name, str))
        out.append(
            CaseField(
                name, name.replace("_", " "), kind, tuple(enums.get(name, ())), defaults.get(name), "", "", absent
            )
        )
    return tuple(out)


@cache
def case_fields() -> tuple[CaseField, ...]:
    return _registry_fields() or _table_fields()


def field_names() -> tuple[str, ...]:
    """The contract's field order (also the order of ``needs`` and ``differs_in`` lists)."""
    return tuple(f.name for f in case_fields())
