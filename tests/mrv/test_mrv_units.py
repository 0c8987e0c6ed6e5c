"""Units of measured parameters: pint reads and converts them; unknown units are coded findings."""

from __future__ import annotations

from decimal import Decimal

import pytest

from standards.mrv import (
    IncompatibleUnits,
    UnknownUnit,
    check_parameter_dimensions,
    check_units,
    convert,
    example_report,
    same_dimension,
    unit_problem,
    validate_report,
)
from standards.mrv.units import registry
from tests.mrv.support import changed


@pytest.mark.parametrize(("value", "unit", "target", "expected"), [
    ("1234.5", "MWh", "GJ", "4444.2"),
    ("2.5", "tCO2e", "kgCO2e", "2500"),
    ("20", "degC", "K", "293.15"),
    ("150", "m**3", "L", "150000"),
    ("12", "percent", "dimensionless", "0.12"),
])
def test_conversions_go_through_pint_and_stay_decimal(value: str, unit: str, target: str, expected: str) -> None:
    result = convert(Decimal(value), unit, target)
    assert isinstance(result, Decimal) and result == Decimal(expected)
    # the same figure pint gives, not a hand-written factor
    assert result == registry().Quantity(Decimal(value), unit).to(target).magnitude


def test_incompatible_and_unknown_units_raise_coded_errors() -> None:
    with pytest.raises(IncompatibleUnits) as err:
        convert(Decimal(1), "MWh", "m**3")
    assert err.value.code == "MRV.UNIT_DIMENSION"
    with pytest.raises(UnknownUnit) as unknown:
        convert(Decimal(1), "zorkmid", "m")
    assert unknown.value.code == "MRV.UNIT_UNKNOWN"
    assert same_dimension("kWh", "GJ") and not same_dimension("kWh", "t")
    assert unit_problem("MWh") is None and unit_problem("zorkmid") is not None


def test_unknown_units_in_a_report_are_findings_at_the_parameter() -> None:
    report = example_report(parameters=12)
    params = list(report.parameters)
    params[4] = changed(params[4], {"unit": "zorkmid"})
    findings = check_units(changed(report, {"parameters": params}))
    assert [(f.rule, f.location.pointer) for f in findings] == [("MRV.UNIT_UNKNOWN", "/parameters/4/unit")]
    assert validate_report(changed(report, {"parameters": params}).model_dump(mode="json")).valid is False


def test_methodology_dimensions() -> None:
    report = example_report()
    assert check_parameter_dimensions(report, {"EG_facility_y": "GJ", "EF_grid_CM_y": "kgCO2e/kWh"}) == []
    [f] = check_parameter_dimensions(report, {"EG_facility_y": "m**3"})
    assert f.rule == "MRV.UNIT_DIMENSION" and f.location.pointer == "/parameters/0/unit"
