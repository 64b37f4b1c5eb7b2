"""The case contract's fields as the front door shows and reads them (form controls, FHIR
derivation, the order of ``needs``).

The contract itself is the ontology's feature registry (:mod:`axilla_kg.contract.features`); this module
only adapts it to what a form control and the CDS Hooks derivation need (a control kind, what an
empty control means), so the form picks up a new field with no code change.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from axilla_kg.contract.features import shipped_registry

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


@cache
def case_fields() -> tuple[CaseField, ...]:
    out = []
    for f in shipped_registry().features:
        absent = f"default: {str(f.default).replace('_', ' ')}" if f.default is not None else "not known"
        out.append(
            CaseField(f.name, f.label, KINDS.get(f.kind, "text"), tuple(f.values), f.default, f.help, f.unit, absent)
        )
    return tuple(out)


def field_names() -> tuple[str, ...]:
    """The contract's field order (also the order of ``needs`` and ``differs_in`` lists)."""
    return tuple(f.name for f in case_fields())
