"""Gold Standard's export layouts, status codes and rule catalogue."""

from __future__ import annotations

from adapters.registry_exports import (
    ExportFile,
    declare_common_rules,
)
from standards import (
    Layer,
    RuleCatalogue,
    Severity,
    UnitStatus,
)

REGISTRY = "gold-standard"


PREFIX = "GOLD_STANDARD"


REFERENCE = ("Gold Standard Impact Registry exports (registry.goldstandard.org; headers as in "
             "github.com/carbonplan/offsets-db-data, tests/data/gold-standard) and public API "
             "(public-api.goldstandard.org)")


PROJECT_URL = "https://registry.goldstandard.org/projects?q=gs{id}"


ISSUANCES = ExportFile(
    "issuances",
    ("Vintage", "Credit Status", "Quantity", "GSID", "Project Name", "Project Developer", "Country",
     "Project Type", "Methodology", "Programme of Activities", "POA GSID", "Product Type", "Issuance Date",
     "Monitoring Period Start", "Monitoring Period End", "Serial Number", "Label", "Article Six Authorization"),
    ("Vintage", "Credit Status", "Quantity", "GSID", "Serial Number"),
    "units", "credit blocks as issued")


RETIREMENTS = ExportFile(
    "retirements",
    ("Vintage", "Credit Status", "Quantity", "GSID", "Project Name", "Project Developer", "Country",
     "Product Type", "Project Type", "Methodology", "Programme of Activities", "POA GSID", "Issuance Date",
     "Retirement Date", "Monitoring Period Start", "Monitoring Period End", "Serial Number", "Note",
     "Aeroplane Operator Name", "Label", "Use Case", "Using Entity", "Article Six Authorization"),
    ("Vintage", "Credit Status", "Quantity", "GSID", "Serial Number", "Retirement Date"),
    "units", "retired credit blocks")


PROJECTS = ExportFile(
    "projects",
    ("GSID", "Project Name", "Project Developer Name", "Status", "Sustainable Development Goals",
     "Project Type", "Country", "Description", "Estimated Annual Credits", "Methodology", "Size",
     "Programme of Activities", "POA GSID"),
    ("GSID", "Project Name", "Status"),
    "projects", "project list")


_UNIT_EXTRAS = ("Project Developer", "Project Type", "Methodology", "Programme of Activities", "POA GSID",
                "Monitoring Period Start", "Monitoring Period End", "Label", "Article Six Authorization",
                "Note", "Aeroplane Operator Name")


_PROJECT_EXTRAS = ("Sustainable Development Goals", "Estimated Annual Credits", "Size", "Programme of Activities",
                   "POA GSID")


#: Credit statuses as the registry spells them (case ignored). ``Canceled`` rows in the retirements export
#: are credits cancelled from the registry, e.g. moved to a national registry; both spellings are read.
_STATUS_IN = {"issued": UnitStatus.ISSUED, "retired": UnitStatus.RETIRED, "canceled": UnitStatus.CANCELLED,
              "cancelled": UnitStatus.CANCELLED}


_STATUS_OUT = {UnitStatus.ISSUED: "Issued", UnitStatus.RETIRED: "Retired", UnitStatus.CANCELLED: "Canceled"}


_API_STATUS_OUT = {UnitStatus.ISSUED: "ISSUED", UnitStatus.RETIRED: "RETIRED"}


#: Credit keys of the public API mapped to canonical fields; the rest ride in ``extra``.
_API_MAPPED = ("number_of_credits", "serial_number", "vintage", "status", "certified_date", "product")


def _rules() -> RuleCatalogue:
    rules = RuleCatalogue(REGISTRY)
    declare_common_rules(rules, PREFIX, REFERENCE)
    rules.add(f"{PREFIX}.STATUS", severity=Severity.ERROR, layer=Layer.CODE_LIST,
              title="Credit Status is Issued, Retired or Canceled",
              reference="Gold Standard exports (github.com/carbonplan/offsets-db-data, tests/data/gold-standard)")
    rules.add(f"{PREFIX}.GSID", severity=Severity.ERROR, layer=Layer.FIELD,
              title="GSID is a Gold Standard project number (GS prefix optional)", reference=REFERENCE)
    rules.add(f"{PREFIX}.JSON_SHAPE", severity=Severity.ERROR, layer=Layer.STRUCTURE,
              title="API JSON is a list of credit or project objects",
              reference="Gold Standard public API (public-api.goldstandard.org /credits, /projects)")
    return rules


def _gsid(raw: object) -> str | None:
    text = str(raw).strip() if raw is not None else ""
    number = text[2:] if text.upper().startswith("GS") else text
    return number if number.isdigit() and number.isascii() else None
