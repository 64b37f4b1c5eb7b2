"""The patient-case form, generated from the case contract rather than written by hand.

Fields, their order, kinds and allowed values come from the case-feature registry
(:mod:`axilla_kg.features`), so a field added to the contract shows up in
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

from axilla_kg.cases import CaseError
from axilla_kg.features import shipped_registry

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
    """One form field per feature of the case registry, in contract order."""
    kinds = {"integer": "whole", "decimal": "decimal", "boolean": "boolean"}
    out = []
    for feature in shipped_registry().features:
        name = feature.name
        label = labels.get(name, feature.label)
        empty = f"default: {str(feature.default).replace('_', ' ')}" if feature.default is not None else "not known"
        if feature.kind == "enum":
            out.append(FormField(name, label, "enum", feature.values, empty))
        else:
            out.append(FormField(name, label, kinds[feature.kind], empty=empty))
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
