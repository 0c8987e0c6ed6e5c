"""The California Air Resources Board's ARB offset credit issuance table: columns, dispositions, rules."""

from __future__ import annotations

from adapters.registry_exports import declare_common_rules
from adapters.role_exports import RoleLayout
from standards import Layer, RuleCatalogue, Severity, UnitStatus

REGISTRY = "carb"
PREFIX = "CARB"
REFERENCE = ("California Air Resources Board, ARB Offset Credit Issuance Table (ww2.arb.ca.gov, Compliance Offset "
             "Program; columns as in github.com/carbonplan/offsets-db-data, tests/data/arb)")

ISSUED = "ARB Offset Credits Issued"
BUFFER = "Forest Buffer Account Contribution"
BUFFER_RETIRED = "Buffer Pool Retired"
INVALIDATED = "Invalidated or Canceled"

#: Columns that dispose of non-buffer credits of an issuance, and the status they give a block.
DISPOSITIONS: tuple[tuple[str, UnitStatus], ...] = (
    (INVALIDATED, UnitStatus.CANCELLED),
    ("Retired for Intentional Reversal", UnitStatus.RETIRED),
    ("Retired Voluntarily", UnitStatus.RETIRED),
    ("Retired 1st Compliance Period (CA)", UnitStatus.RETIRED),
    ("Retired 2nd Compliance Period (CA)", UnitStatus.RETIRED),
    ("Retired 3rd Compliance Period (CA)", UnitStatus.RETIRED),
    ("Retired 4th Compliance Period (CA)", UnitStatus.RETIRED),
    ("Retired 5th Compliance Period (CA)", UnitStatus.RETIRED),
    ("Retired for Compliance in Quebec", UnitStatus.RETIRED),
)

ISSUANCE_TABLE = RoleLayout(
    "issuance-table", "units",
    ("CARB Project ID", "OPR Project ID", "Reporting Period", "Project Type", "Early Action/ Compliance",
     "Reporting Period Start Date", "Reporting Period End Date", "Vintage", ISSUED, BUFFER, "Issuance Date",
     "Invalidation Timeframe", "Date Invalidation Period Reduced", "Start of Invalidation Timeframe",
     "Offset Project Name", "Offset Project Operator", "Verification Body", "State", "Provides DEBS",
     "Section 95989(b) Documentation, if applicable", "Project Documentation", "Intentional Reversal",
     "Unintentional Reversal", "CARB Issuance ID", INVALIDATED, BUFFER_RETIRED,
     *(column for column, _ in DISPOSITIONS[1:]), "Comment"),
    {"project_id": "CARB Project ID", "quantity": ISSUED, "vintage": "Vintage", "issued": "Issuance Date",
     "name": "Offset Project Name", "link": "Project Documentation", "issuance": "CARB Issuance ID",
     BUFFER: BUFFER, BUFFER_RETIRED: BUFFER_RETIRED, **{column: column for column, _ in DISPOSITIONS}},
    ("CARB Project ID", "OPR Project ID", "CARB Issuance ID", ISSUED, "Issuance Date"), None,
    "ARB offset credit issuance table (one row per issuance, its dispositions as columns)")

LAYOUTS = (ISSUANCE_TABLE,)


def _rules() -> RuleCatalogue:
    rules = RuleCatalogue("carb")
    declare_common_rules(rules, PREFIX, REFERENCE)
    rules.add(f"{PREFIX}.PROJECT_ID", severity=Severity.ERROR, layer=Layer.FIELD,
              title="CARB project ids are CA + two letters of the project type + digits (CAOD1007)",
              reference=REFERENCE)
    rules.add(f"{PREFIX}.DISPOSITION_SUM", severity=Severity.ERROR, layer=Layer.CROSS_RECORD,
              title="an issuance's retired, invalidated and buffer credits do not exceed the credits issued",
              reference=REFERENCE)
    rules.add(f"{PREFIX}.NO_CREDITS", severity=Severity.INFO, layer=Layer.FIELD,
              title="a reporting period with no credits issued gives no unit block", reference=REFERENCE)
    return rules


RULES = _rules()
