"""The patient-case form, generated from the case contract rather than written by hand.

Fields, their order and their allowed values come from :mod:`axilla_kg.cases` (``FIELDS``,
``ENUMS`` and the :class:`PatientCase` type hints), so a field added to the contract shows up in
the form. Submitted text is turned into the contract's JSON types here (numbers only in plain
decimal notation) and then validated by :func:`parse_case`, the same check every other entry
point uses; a bad value comes back as a :class:`CaseError` naming the field.
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from axilla_kg import cases
from axilla_kg.cases import ENUMS, FIELDS, CaseError, PatientCase

_WHOLE = re.compile(r"[0-9]{1,4}")
_DECIMAL = re.compile(r"[0-9]{1,6}(\.[0-9]{1,15})?|\.[0-9]{1,15}")
_MAX_TEXT = 200


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    kind: str  # enum | whole | decimal | boolean | text
    choices: tuple[str, ...] = ()
    empty: str = "not known"  # what leaving the field empty means in the contract


def _kind(hint: Any) -> str:
    args = set(typing.get_args(hint)) or {hint}
    if int in args and bool not in args:
        return "whole"
    if Decimal in args or float in args:
        return "decimal"
    if bool in args:
        return "boolean"
    return "text"


def case_fields(labels: dict[str, str]) -> list[FormField]:
    hints = typing.get_type_hints(PatientCase)
    defaults: dict[str, Any] = getattr(cases, "DEFAULTS", {})
    absent_known: frozenset[str] = getattr(cases, "KNOWN_WHEN_ABSENT", frozenset())
    out = []
    for name in FIELDS:
        label = labels.get(name, name.replace("_", " "))
        if name in defaults:
            empty = f"default: {str(defaults[name]).replace('_', ' ')}"
        elif name in absent_known:
            empty = "none found"
        else:
            empty = "not known"
        if name in ENUMS:
            out.append(FormField(name, label, "enum", tuple(ENUMS[name]), empty))
        else:
            out.append(FormField(name, label, _kind(hints.get(name, str)), empty=empty))
    return out


def read_form(fields: list[FormField], values: dict[str, str]) -> dict[str, Any]:
    """Contract JSON from submitted text; an empty value is "not known" (left out)."""
    data: dict[str, Any] = {}
    for f in fields:
        text = values.get(f.name, "").strip()
        if not text:
            continue
        if len(text) > _MAX_TEXT:
            raise CaseError(f.name, f"more than {_MAX_TEXT} characters")
        if f.kind == "whole":
            if not _WHOLE.fullmatch(text):
                raise CaseError(f.name, f"expected whole years as digits, got '{text}'")
            data[f.name] = int(text)
        elif f.kind == "decimal":
            if not _DECIMAL.fullmatch(text):
                raise CaseError(f.name, f"expected a plain decimal number such as 1.5, got '{text}'")
            data[f.name] = Decimal(text)
        elif f.kind == "boolean":
            if text not in ("true", "false"):
                raise CaseError(f.name, f"expected yes or no, got '{text}'")
            data[f.name] = text == "true"
        else:
            data[f.name] = text
    return data
