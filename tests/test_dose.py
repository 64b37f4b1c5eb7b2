"""The dose calculator: bands add up; unknown levels are never counted as zero."""

from __future__ import annotations

from decimal import Decimal

import pytest

from axilla_kg.errors import ParameterError, UnknownProcedureError
from axilla_kg.recommend.dose import dose_report, format_band


def test_adult_sequence(kg) -> None:  # type: ignore[no-untyped-def]
    report = dose_report(kg, ["US axilla", "Mammography diagnostic", "FDG-PET/CT skull base to mid-thigh"])
    assert report.population == "adult"
    assert [s.rrl for s in report.studies] == ["O", "☢☢", "☢☢☢☢"]
    assert (report.total_min, report.total_max) == (Decimal("10.1"), Decimal("31.0"))
    assert report.as_dict()["cumulative"]["band"] == "10.1-31 mSv"


def test_pediatric_bands_are_used_under_18(kg) -> None:  # type: ignore[no-untyped-def]
    report = dose_report(kg, ["FDG-PET/CT whole body"], age=12)
    assert report.population == "pediatric"
    assert report.studies[0].band == "3-10 mSv"
    adult = dose_report(kg, ["FDG-PET/CT whole body"], age=40)
    assert adult.studies[0].band == "10-30 mSv"


def test_unknown_level_is_unknown_not_zero(kg) -> None:  # type: ignore[no-untyped-def]
    report = dose_report(kg, ["Mammography diagnostic", "CT chest abdomen pelvis with IV contrast"])
    data = report.as_dict()["cumulative"]
    assert data["complete"] is False
    assert data["unknown"] == ["CT chest abdomen pelvis with IV contrast"]
    assert data["dose_max_msv"] is None
    assert "upper bound unknown" in data["band"]


def test_varies_and_unseen_pediatric_band_are_unknown(kg) -> None:  # type: ignore[no-untyped-def]
    assert not dose_report(kg, ["Image-guided core biopsy breast"]).studies[0].known
    assert not dose_report(kg, ["Mammography diagnostic"], age=10).studies[0].known


def test_errors(kg) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnknownProcedureError, match="did you mean"):
        dose_report(kg, ["Mammogram diagnostic"])
    with pytest.raises(ParameterError):
        dose_report(kg, ["US axilla"], age=-1)


@pytest.mark.parametrize(
    ("low", "high", "text"), [("0", "0", "0 mSv"), ("0", "0.1", "<0.1 mSv"), ("1.1", "11", "1.1-11 mSv")]
)
def test_band_text(low: str, high: str, text: str) -> None:
    assert format_band(Decimal(low), Decimal(high)) == text
