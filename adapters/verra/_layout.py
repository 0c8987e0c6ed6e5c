"""Verra's export layouts, its rule catalogue and the small value helpers both readers share."""

from __future__ import annotations

from adapters.registry_exports import (
    ExportFile,
    declare_common_rules,
    parse_date,
)
from standards import (
    Layer,
    RuleCatalogue,
    Severity,
    UnitStatus,
)

REGISTRY = "verra"


REFERENCE = ("Verra registry public exports (registry.verra.org; headers as in "
             "github.com/carbonplan/offsets-db-data, tests/data/verra)")


PROJECT_URL = "https://registry.verra.org/app/projectDetail/VCS/{id}"


TRANSACTIONS = ExportFile(
    "transactions",
    ("Issuance Date", "Sustainable Development Goals", "Vintage Start", "Vintage End", "ID", "Name",
     "Country/Area", "Project Type", "Methodology", "Total Vintage Quantity", "Quantity Issued",
     "Serial Number", "Additional Certifications", "Retirement/Cancellation Date", "Retirement Beneficiary",
     "Retirement Reason", "Retirement Details"),
    ("ID", "Quantity Issued", "Serial Number", "Retirement/Cancellation Date"),
    "units", "VCU issuances and retirements/cancellations, one block per row")


PROJECTS = ExportFile(
    "projects",
    ("ID", "Name", "Proponent", "Project Type", "AFOLU Activities", "Methodology", "Status", "Country/Area",
     "Estimated Annual Emission Reductions", "Region", "Project Registration Date",
     "Crediting Period Start Date", "Crediting Period End Date"),
    ("ID", "Name", "Status"),
    "projects", "VCS project list")


#: Transactions columns kept in ``extra`` as text (the canonical model has no field for them).
_UNIT_EXTRAS = ("Sustainable Development Goals", "Project Type", "Methodology", "Total Vintage Quantity",
                "Additional Certifications", "Retirement Details")


_PROJECT_EXTRAS = ("AFOLU Activities", "Estimated Annual Emission Reductions", "Region",
                   "Project Registration Date", "Crediting Period Start Date", "Crediting Period End Date")


def _rules() -> RuleCatalogue:
    rules = RuleCatalogue("verra")
    declare_common_rules(rules, "VERRA", REFERENCE)
    rules.add("VERRA.RETIREMENT_OR_CANCELLATION", severity=Severity.INFO, layer=Layer.FIELD,
              title="retired rows may be retirements or cancellations (Verra does not separate them)",
              reference="CarbonPlan OffsetsDB, github.com/carbonplan/offsets-db-data docs/data-processing.md: Verra "
                        "does not separate retirements from cancellations")
    rules.add("VERRA.PROJECT_ID", severity=Severity.ERROR, layer=Layer.FIELD,
              title="the project ID is a Verra number (with or without the VCS prefix)", reference=REFERENCE)
    return rules


def _ddmmyyyy(text: str | None) -> str:
    """``01012020`` (a serial token) as ``2020-01-01``; empty when absent (not checked as a date)."""
    if text is None or len(text) != 8:
        return ""
    return f"{text[4:]}-{text[2:4]}-{text[:2]}"


RULES = _rules()


_RETIRED, _ISSUED = UnitStatus.RETIRED, UnitStatus.ISSUED


def _grouped(raw: str) -> bool:
    """True for a whole number already written as Verra writes it (``1,454,054``); the quantity
    pattern has checked the grouping, so only a leading zero or a decimal part can differ."""
    return "," in raw and raw[0] != "0" and "." not in raw


def _year(text: str) -> int | None:
    try:
        return parse_date(text, order="dmy").year
    except ValueError:
        return None
