"""The patient-case form, generated from the case contract rather than written by hand.

Fields, their order, kinds and allowed values come from :mod:`axilla_kg.contract.fields`, so a
field added to the contract shows up in the form. Submitted text is turned into the contract's
JSON types here (numbers only in plain decimal notation) and then validated by ``parse_case``,
the same check every other entry point uses; a bad value comes back as a :class:`CaseError`
naming the field.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from axilla_kg.contract.cases import CaseError
from axilla_kg.contract.fields import CaseField, case_fields

_WHOLE = re.compile(r"[0-9]{1,4}")
_DECIMAL = re.compile(r"[0-9]{1,6}(\.[0-9]{1,15})?|\.[0-9]{1,15}")
_MAX_TEXT = 200


def form_fields(labels: dict[str, str]) -> list[CaseField]:
    """The contract's fields, labelled with the graph's feature labels where it has them."""
    out = []
    for f in case_fields():
        label = labels.get(f.name) or f.label
        out.append(CaseField(f.name, label, f.kind, f.values, f.default, f.help, f.unit, f.absent_means))
    return out


def read_form(fields: list[CaseField], values: dict[str, str]) -> dict[str, Any]:
    """Contract JSON from submitted text; an empty value is left out (not known, or the default)."""
    data: dict[str, Any] = {}
    for f in fields:
        text = values.get(f.name, "").strip()
        if not text:
            continue
        if len(text) > _MAX_TEXT:
            raise CaseError(f.name, f"more than {_MAX_TEXT} characters")
        if f.kind == "whole":
            if not _WHOLE.fullmatch(text):
                raise CaseError(f.name, f"expected a whole number as digits, got '{text}'")
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
