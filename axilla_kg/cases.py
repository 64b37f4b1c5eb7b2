"""The patient-case contract: the JSON object other tools send to ``recommend`` and ``audit``.

The contract is strict on purpose: an unknown key, a wrong type or a contradiction is an error
naming the field, because a typo that silently changed the matched variant would change the
recommended imaging. Sizes are kept as :class:`decimal.Decimal` from the JSON text onwards, so
the fast classifier and the OWL reasoner (which compares ``xsd:decimal`` exactly) see the same
number; a float would round 2.00000000000000001 down to 2.0.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from axilla_kg.errors import AxillaKGError
from axilla_kg.inputs import safejson


class CaseError(AxillaKGError):
    """A patient case that breaks the contract; the message names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"field '{field}': {message}" if field else message)
        self.field = field


SEX = ("female", "male")
BREAST_CANCER = ("none", "new", "recurrent")
CLINICAL_NODES = ("negative", "positive")
NEOADJUVANT = ("none", "mid_treatment", "completed")
AXILLARY_LUMP = ("none", "unilateral", "bilateral")
SUSPICIOUS_NODE_ON = ("mammography", "ultrasound", "mri", "ct", "pet_ct", "other")
MAX_AGE = 150
#: owlready2 keeps xsd:decimal values as IEEE doubles, so the reasoner would see 2.00000000000000000001
#: as 2.0. Up to 15 significant digits a decimal survives that round trip exactly, so every path —
#: fast classifier, reasoner, batch — compares the same number.
MAX_SIGNIFICANT_DIGITS = 15

#: Field order of the contract; also the order of ``needs`` and ``differs_in`` lists.
FIELDS = (
    "sex",
    "age",
    "breast_cancer",
    "tumor_size_cm",
    "clinical_nodes",
    "neoadjuvant",
    "axillary_lump",
    "suspicious_node_on",
    "diagnostic_breast_imaging_done",
)
ENUMS: dict[str, tuple[str, ...]] = {
    "sex": SEX,
    "breast_cancer": BREAST_CANCER,
    "clinical_nodes": CLINICAL_NODES,
    "neoadjuvant": NEOADJUVANT,
    "axillary_lump": AXILLARY_LUMP,
    "suspicious_node_on": SUSPICIOUS_NODE_ON,
}
#: Fields whose absence is itself a fact: no ``suspicious_node_on`` means no suspicious node was found.
KNOWN_WHEN_ABSENT = frozenset({"suspicious_node_on"})
DEFAULTS: dict[str, str] = {"breast_cancer": "none", "neoadjuvant": "none", "axillary_lump": "none"}


@dataclass(frozen=True, slots=True)
class PatientCase:
    """One validated case. ``None`` means "not known" (``suspicious_node_on``: none found)."""

    sex: str
    age: int | None = None
    breast_cancer: str = "none"
    tumor_size_cm: Decimal | None = None
    clinical_nodes: str | None = None
    neoadjuvant: str = "none"
    axillary_lump: str = "none"
    suspicious_node_on: str | None = None
    diagnostic_breast_imaging_done: bool | None = None

    def get(self, name: str) -> Any:
        return getattr(self, name)

    def to_json(self) -> dict[str, Any]:
        """The case in contract form, without unknown fields (replayable with ``--case``)."""
        out: dict[str, Any] = {"sex": self.sex}
        if self.age is not None:
            out["age"] = self.age
        out["breast_cancer"] = self.breast_cancer
        if self.tumor_size_cm is not None:
            out["tumor_size_cm"] = _json_number(self.tumor_size_cm)
        if self.clinical_nodes is not None:
            out["clinical_nodes"] = self.clinical_nodes
        out["neoadjuvant"] = self.neoadjuvant
        out["axillary_lump"] = self.axillary_lump
        if self.suspicious_node_on is not None:
            out["suspicious_node_on"] = self.suspicious_node_on
        if self.diagnostic_breast_imaging_done is not None:
            out["diagnostic_breast_imaging_done"] = self.diagnostic_breast_imaging_done
        return out


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _enum(name: str, value: Any) -> str:
    allowed = ENUMS[name]
    if not isinstance(value, str):
        raise CaseError(name, f"expected one of {', '.join(map(repr, allowed))}, got {json.dumps(value, default=str)}")
    if value not in allowed:
        close = difflib.get_close_matches(value, allowed, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise CaseError(name, f"'{value}' is not one of {', '.join(allowed)}{hint}")
    return value


def _size(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise CaseError("tumor_size_cm", f"expected a number of centimetres, got {json.dumps(value, default=str)}")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:  # pragma: no cover - str(float) is always a valid decimal
        raise CaseError("tumor_size_cm", f"not a number: {value!r}") from None
    if not number.is_finite() or number <= 0:
        raise CaseError("tumor_size_cm", f"must be a positive number of centimetres, got {value}")
    if len(number.normalize().as_tuple().digits) > MAX_SIGNIFICANT_DIGITS:
        raise CaseError(
            "tumor_size_cm",
            f"{value} has more than {MAX_SIGNIFICANT_DIGITS} significant digits; give at most that many",
        )
    return number


def _age(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise CaseError("age", f"expected whole years, got {json.dumps(value, default=str)}")
    if isinstance(value, int):
        number = value
    elif value == int(value):  # 40.0 is forty whole years
        number = int(value)
    else:
        raise CaseError("age", f"expected whole years, got {value}")
    if number < 0 or number > MAX_AGE:
        raise CaseError("age", f"must be between 0 and {MAX_AGE} years, got {number}")
    return number


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise CaseError(
            "diagnostic_breast_imaging_done", f"expected true or false, got {json.dumps(value, default=str)}"
        )
    return value


def _validator(name: str) -> Callable[[Any], Any]:
    if name in ENUMS:
        allowed = frozenset(ENUMS[name])
        return lambda value: value if type(value) is str and value in allowed else _enum(name, value)
    return {"age": _age, "tumor_size_cm": _size, "diagnostic_breast_imaging_done": _boolean}[name]


_VALIDATORS: dict[str, Callable[[Any], Any]] = {name: _validator(name) for name in FIELDS}


def parse_case(data: Any) -> PatientCase:
    """Validate one case object (as decoded by :func:`loads_case`); raises :class:`CaseError`.

    Table-driven because batch mode validates a million cases: one dictionary lookup and one
    check per field on the happy path.
    """
    if type(data) is not dict:
        raise CaseError("", f"a patient case must be a JSON object, got {type(data).__name__}")
    values: dict[str, Any] = {}
    for key, value in data.items():
        check = _VALIDATORS.get(key)
        if check is None:
            close = difflib.get_close_matches(str(key), FIELDS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise CaseError(str(key), f"unknown field{hint}; the fields are {', '.join(FIELDS)}")
        if value is not None:
            values[key] = check(value)
    if "sex" not in values:
        raise CaseError("sex", "required ('female' or 'male')")
    if values.get("breast_cancer", "none") == "none":
        for name, meaning in (
            ("tumor_size_cm", "a primary tumour size"),
            ("clinical_nodes", "a clinical nodal status at diagnosis"),
        ):
            if name in values:
                raise CaseError(name, f"{meaning} contradicts breast_cancer 'none'")
        if values.get("neoadjuvant", "none") != "none":
            raise CaseError("neoadjuvant", "neoadjuvant therapy contradicts breast_cancer 'none'")
    return PatientCase(**values)


def loads_case(text: str | bytes) -> PatientCase:
    """Decode (strictly, see :mod:`axilla_kg.inputs.safejson`) and validate one case from JSON text."""
    try:
        data = safejson.loads(text)
    except safejson.JSONInputError as exc:
        raise CaseError(exc.field, str(exc)) from None
    return parse_case(data)
