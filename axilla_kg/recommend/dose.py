"""Radiation-dose calculator for a sequence of studies (the seed's "Radiation Dose Calculator").

ACR relative radiation levels are population bands, not patient doses, so the calculator
adds bands: the cumulative band of a sequence runs from the sum of the lower bounds to the
sum of the upper bounds. A study whose level (or band) we do not know makes the cumulative
band incomplete; it is never counted as zero. Children (under 18) use the pediatric band,
which for the same symbol is lower than the adult band.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from axilla_kg.errors import ParameterError, UnknownProcedureError
from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.graph.summary import suggest

PEDIATRIC_BELOW_AGE = 18


@dataclass
class StudyDose:
    procedure: str
    rrl: str | None
    min_msv: Decimal | None
    max_msv: Decimal | None
    band: str | None
    confidence: str | None

    @property
    def known(self) -> bool:
        return self.min_msv is not None and self.max_msv is not None


@dataclass
class DoseReport:
    population: str
    age: int | None
    studies: list[StudyDose] = field(default_factory=list)

    @property
    def unknown(self) -> list[str]:
        return [s.procedure for s in self.studies if not s.known]

    @property
    def total_min(self) -> Decimal:
        return sum((s.min_msv for s in self.studies if s.min_msv is not None), Decimal(0))

    @property
    def total_max(self) -> Decimal:
        return sum((s.max_msv for s in self.studies if s.max_msv is not None), Decimal(0))

    def cumulative_band(self) -> str:
        band = format_band(self.total_min, self.total_max)
        if self.unknown:
            return f"at least {format_band(self.total_min, self.total_min)}; upper bound unknown"
        return band

    def as_dict(self) -> dict[str, Any]:
        return {
            "population": self.population,
            "age": self.age,
            "studies": [
                {
                    "procedure": s.procedure,
                    "rrl": s.rrl,
                    "dose_min_msv": _num(s.min_msv),
                    "dose_max_msv": _num(s.max_msv),
                    "band": s.band,
                    "confidence": s.confidence,
                }
                for s in self.studies
            ],
            "cumulative": {
                "dose_min_msv": _num(self.total_min),
                "dose_max_msv": None if self.unknown else _num(self.total_max),
                "band": self.cumulative_band(),
                "complete": not self.unknown,
                "unknown": self.unknown,
            },
        }


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def format_band(low: Decimal, high: Decimal) -> str:
    def text(value: Decimal) -> str:
        out = format(value.normalize(), "f")
        return out

    if high == 0:
        return "0 mSv"
    if low == high:
        return f"{text(low)} mSv"
    if low == 0:
        return f"<{text(high)} mSv"
    return f"{text(low)}-{text(high)} mSv"


def _procedure_names(kg: KnowledgeGraph) -> list[str]:
    return sorted({str(r["procedure"]) for r in kg.records("procedure-details")})


def dose_report(kg: KnowledgeGraph, procedures: list[str], age: int | None = None) -> DoseReport:
    """Per-study and cumulative effective-dose bands for a sequence of procedures."""
    if not procedures:
        raise ParameterError("name at least one procedure")
    if age is not None and age < 0:
        raise ParameterError(f"age must be a whole number of years >= 0, got {age}")
    pediatric = age is not None and age < PEDIATRIC_BELOW_AGE
    report = DoseReport("pediatric" if pediatric else "adult", age)
    for name in procedures:
        rows = kg.records("procedure-dose", procedure=name)
        if not rows:
            raise UnknownProcedureError(f"unknown procedure '{name}'{suggest(name, _procedure_names(kg))}")
        row = rows[0]
        prefix = "pediatric" if pediatric else "adult"
        rrl = row[f"{prefix}_rrl"]
        low, high = row[f"{prefix}_min"], row[f"{prefix}_max"]
        report.studies.append(
            StudyDose(
                procedure=name,
                rrl=rrl,
                min_msv=Decimal(low) if low is not None else None,
                max_msv=Decimal(high) if high is not None else None,
                band=row[f"{prefix}_band"],
                confidence=row["confidence"],
            )
        )
    return report
