"""The APX report layouts of ACR, CAR and ART TREES: their columns, column roles and the rule
catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters.registry_exports import (
    ExportFile,
    declare_common_rules,
)
from standards import (
    Layer,
    RuleCatalogue,
    Severity,
    UnitBlock,
    UnitStatus,
    current_options,
)

PREFIX = "APX"


REFERENCE = ("APX registry reports of ACR, CAR and ART TREES "
             "(headers as in github.com/carbonplan/offsets-db-data, tests/data)")


ACR, CAR, ART = "american-carbon-registry", "climate-action-reserve", "art-trees"


#: Registry -> (project id prefixes, serial scheme). ART's registry also holds FCPF units.
REGISTRIES: dict[str, tuple[tuple[str, ...], str]] = {ACR: (("ACR",), "acr"), CAR: (("CAR",), "car"),
                                                      ART: (("ART", "FCPF"), "art")}


_CORSIA_PILOT = "Eligible for CORSIA 2021-2023 Compliance Period (Pilot Phase)"


_CORSIA_FIRST = "Eligible for CORSIA 2024-2026 Compliance Period (First Phase)"


_ACR_PROJECT_COLUMNS = ("Project ID", "Project Name", "Project Type", "Project Methodology/Protocol",
                        "Methodology/Protocol Version", "Project Site Location", "Project Site State",
                        "Project Site Country", "ARB Eligible", "Ecology Eligible", "CORSIA Eligible", _CORSIA_PILOT,
                        _CORSIA_FIRST, "CCP Approved", "Verified Removal", "Sustainable Development Goal(s)",
                        "Project Website", "Documents")


@dataclass(frozen=True)
class ApxLayout:
    """One report: its columns, which registry and status its rows have, and column roles."""

    registry: str
    kind: str  # projects, issuances, retirements, cancellations
    columns: tuple[str, ...]
    roles: dict[str, str]
    required: tuple[str, ...] = ()
    file: ExportFile = field(init=False)

    def __post_init__(self) -> None:
        short = REGISTRIES[self.registry][1]
        required = self.required or tuple(self.roles[r] for r in ("project_id", "quantity", "serial")
                                          if r in self.roles)
        object.__setattr__(self, "file", ExportFile(
            f"{short}-{self.kind}", self.columns, required, "projects" if self.kind == "projects" else "units",
            f"{short.upper()} {self.kind} report"))

    @property
    def status(self) -> UnitStatus | None:
        return {"issuances": UnitStatus.ISSUED, "retirements": UnitStatus.RETIRED,
                "cancellations": UnitStatus.CANCELLED}.get(self.kind)


LAYOUTS = (
    ApxLayout(ACR, "issuances", (
        "Date Issued (GMT)", "Vintage", "ReportingPeriodBegin", "ReportingPeriodEnd", "Total Credits Issued",
        "Credits Issued to Project", "Credits Issued to Buffer Pool", "Credits Transferred to Buffer Pool",
        "Project Developer", "Project ID", "Project Name", "Project Type", "Project Methodology/Protocol",
        "Methodology/Protocol Version", "Project VVB", "Project Site Location", "Project Site State",
        "Project Site Country", "ARB Eligible", "Ecology Eligible", "CCP Approved",
        "Project Crediting Period Start Date", "Verified Removal", "Sustainable Development Goal(s)",
        "Project Website", "Documents"),
        {"project_id": "Project ID", "quantity": "Total Credits Issued", "vintage": "Vintage",
         "issued": "Date Issued (GMT)", "name": "Project Name", "country": "Project Site Country"}),
    ApxLayout(ACR, "retirements", (
        "fiid", "Credit Serial Numbers", "Date Issued (GMT)", "Vintage", "Vintage Assignment Period Start Date",
        "Vintage Assignment Period End Date", "Quantity of Credits", "Account Holder", "Status Effective (GMT)",
        "Retired on Behalf of", "Retirement Reason", "Purpose of Retirement", *_ACR_PROJECT_COLUMNS[:-2],
        "Project Website", "Documents", "Numberoffiles"),
        {"project_id": "Project ID", "quantity": "Quantity of Credits", "serial": "Credit Serial Numbers",
         "vintage": "Vintage", "issued": "Date Issued (GMT)", "status_date": "Status Effective (GMT)",
         "account": "Account Holder", "beneficiary": "Retired on Behalf of", "reason": "Retirement Reason",
         "name": "Project Name", "country": "Project Site Country"}),
    ApxLayout(ACR, "cancellations", (
        "Credit Serial Numbers", "Date Issued (GMT)", "Vintage", "Vintage Assignment Period Start Date",
        "Vintage Assignment Period End Date", "Quantity of Credits", "Account Holder", "ahID",
        "Status Effective  (GMT)", "Cancellation Type", *_ACR_PROJECT_COLUMNS, "Cancellation Details", "fiid",
        "Numberoffiles"),
        {"project_id": "Project ID", "quantity": "Quantity of Credits", "serial": "Credit Serial Numbers",
         "vintage": "Vintage", "issued": "Date Issued (GMT)", "status_date": "Status Effective  (GMT)",
         "account": "Account Holder", "reason": "Cancellation Type", "name": "Project Name",
         "country": "Project Site Country"}),
    ApxLayout(ACR, "projects", (
        "Project ID", "Compliance Program ID (ARB or Ecology)", "Project Developer", "Project Name", "Project Type",
        "Project Methodology/Protocol", "Initial Crediting Period Start Date",
        "Current Crediting Period Start Date", "Current Crediting Period End Date", "Voluntary Status",
        "Compliance Program Status (ARB or Ecology)", "Project Status Date", "Project Site Location",
        "Project Site State", "Project Site Country", "Sustainable Development Goal(s)", "Current VVB",
        "ACR Project Validation", "Total Number of Credits Registered ", "Documents", "Project Website"),
        {"project_id": "Project ID", "name": "Project Name", "developer": "Project Developer",
         "project_type": "Project Type", "methodology": "Project Methodology/Protocol",
         "status": "Voluntary Status", "country": "Project Site Country"}, ("Project ID", "Project Name")),
    ApxLayout(CAR, "issuances", (
        "Date Issued", "Project ID", "Cooperative/ Aggregate ID", "Project Name", "Project Developer",
        "Project Owner", "Project Type", "Reduction/Removal", "Reversible/Non-Reversible", "Protocol and Version",
        "ARB Eligible", "WA ECO Eligible", "Eligible for CORSIA 2021-2023 Compliance Period",
        "Eligible for CORSIA 2024-2026 Compliance Period", "Corresponding Adjustment", "CCP Approved",
        "Crediting Period", "Vintage", "Total Offset Credits Issued", "Zero-Credit Reporting Period",
        "Offset Credits Currently in Reserve Buffer Pool", "Offset Credits Intended for Compliance Buffer Pool",
        "Offset Credits Converted to VCUs", "Canceled for Compliance", "Canceled", "Project Site Location",
        "Project Site State", "Project Site Country", "Activity Area Type", "Additional Certification(s)",
        "Verification Body", "Project Website", "Documents"),
        {"project_id": "Project ID", "quantity": "Total Offset Credits Issued", "vintage": "Vintage",
         "issued": "Date Issued", "name": "Project Name", "country": "Project Site Country",
         "ca": "Corresponding Adjustment"}),
    ApxLayout(CAR, "retirements", (
        "Vintage", "Offset Credit Serial Numbers", "Quantity of Offset Credits", "Status Effective", "Project ID",
        "Project Name", "Project Type", "Reduction/Removal", "Reversible/Non-Reversible", "Protocol and Version",
        "Project Site Location", "Project Site State", "Project Site Country", "Activity Area Type",
        "Additional Certification(s)", "Eligible for CORSIA 2021-2023 Compliance Period",
        "Eligible for CORSIA 2024-2026 Compliance Period", "Corresponding Adjustment", "CCP Approved",
        "Account Holder", "Retirement Reason", "Retirement Reason Details"),
        {"project_id": "Project ID", "quantity": "Quantity of Offset Credits",
         "serial": "Offset Credit Serial Numbers", "vintage": "Vintage", "status_date": "Status Effective",
         "account": "Account Holder", "reason": "Retirement Reason", "name": "Project Name",
         "country": "Project Site Country", "ca": "Corresponding Adjustment"}),
    ApxLayout(CAR, "cancellations", (
        "Vintage", "Offset Credit Serial Numbers", "Quantity of Offset Credits", "Status Effective", "Project ID",
        "Project Name", "Project Type", "Reduction/Removal", "Reversible/Non-Reversible", "Protocol and Version",
        "Project Site Location", "Project Site State", "Project Site Country", "Additional Certification(s)",
        "Cancellation Reason", "Export Notes"),
        {"project_id": "Project ID", "quantity": "Quantity of Offset Credits",
         "serial": "Offset Credit Serial Numbers", "vintage": "Vintage", "status_date": "Status Effective",
         "reason": "Cancellation Reason", "name": "Project Name", "country": "Project Site Country"}),
    ApxLayout(CAR, "projects", (
        "Project ID", "Compliance Program ID", "ARB ID", "WA ECO", "Cooperative/ Aggregate ID", "Project Developer",
        "Project Owner", "Project Name", "Offset Project Operator", "Authorized Project Designee",
        "Verification Body", "Project Type", "Status", "Compliance Program Status", "ARB Project Status",
        "WA ECO Project Status", "Project Site Location", "Project Site State", "Project Site Country",
        "Additional Certification(s)", "SDG Impact", "Project Notes", "Total Number of Offset Credits Registered ",
        "Project Listed Date", "Project Registered Date", "Documents", "Data", "Project Website"),
        {"project_id": "Project ID", "name": "Project Name", "developer": "Project Developer",
         "project_type": "Project Type", "status": "Status", "country": "Project Site Country"},
        ("Project ID", "Project Name")),
    ApxLayout(ART, "issuances", (
        "Date Approved", "Program ID", "Program Name", "Sovereign Program Developer",
        "Crediting Program and Standard", "Program Type", "Standard Version", "Vintage",
        "Total Emission Reductions/Removals", "Credits Deposited in Buffer", "Credits Verified", "CCP Approved",
        "Program Jurisdiction(s)", "Program  Country", "CORSIA Eligible", "Verification Body", "Program Website",
        "Documents", "fiID"),
        {"project_id": "Program ID", "quantity": "Credits Verified", "vintage": "Vintage",
         "issued": "Date Approved", "name": "Program Name", "country": "Program  Country"}),
    ApxLayout(ART, "retirements", (
        "Vintage", "Credit Serial Numbers", "Quantity of Credits", "Status Effective", _CORSIA_PILOT,
        _CORSIA_FIRST, "CCP Approved", "Program ID", "Program Name", "Program Type",
        "Crediting Program and Standard", "Standard Version", "Program Jurisdiction(s)", "Program  Country",
        "Date Approved", "Account Holder", "Retired on Behalf of", "Retirement Reason", "Purpose of Retirement"),
        {"project_id": "Program ID", "quantity": "Quantity of Credits", "serial": "Credit Serial Numbers",
         "vintage": "Vintage", "status_date": "Status Effective", "issued": "Date Approved",
         "account": "Account Holder", "beneficiary": "Retired on Behalf of", "reason": "Retirement Reason",
         "name": "Program Name", "country": "Program  Country"}),
    ApxLayout(ART, "cancellations", (
        "Vintage", "Credit Serial Numbers", "Quantity of Credits", "Status Effective", _CORSIA_PILOT,
        _CORSIA_FIRST, "CCP Approved", "Program ID", "Program Name", "Crediting Program and Standard",
        "Program Type", "Standard Version", "Program Jurisdiction(s)", "Program  Country", "CORSIA Eligible",
        "Date Approved", "Account Holder", "Cancellation Reason", "Cancellation Details"),
        {"project_id": "Program ID", "quantity": "Quantity of Credits", "serial": "Credit Serial Numbers",
         "vintage": "Vintage", "status_date": "Status Effective", "issued": "Date Approved",
         "account": "Account Holder", "reason": "Cancellation Reason", "name": "Program Name",
         "country": "Program  Country"}),
    ApxLayout(ART, "projects", (
        "Program ID", "Sovereign Program Developer", "Program Name", "Crediting Program and Standard",
        "Verification Body", "Program Type", "Status", "Initial Crediting Period Start Date",
        "Program Jurisdiction(s)", "Program  Country", "Program Notes", "Documents", "Program Website",
        "Numberoffiles"),
        {"project_id": "Program ID", "name": "Program Name", "developer": "Sovereign Program Developer",
         "project_type": "Program Type", "status": "Status", "country": "Program  Country"},
        ("Program ID", "Program Name")),
)


_BY_FILE = {layout.file.name: layout for layout in LAYOUTS}


#: The order of day and month in APX slash dates unless the deployment says otherwise: month first
#: (``11/3/2025 7:10:41 PM``), as every public ACR, CAR and ART TREES export shows (docs/adapters/apx.md).
DEFAULT_DATE_ORDER = "mdy"


#: Monitoring-period cells (ACR): checked when read; the CAD Trust v1 linker reads them as issuance periods.
PERIOD_COLUMNS = ("ReportingPeriodBegin", "ReportingPeriodEnd", "Vintage Assignment Period Start Date",
                  "Vintage Assignment Period End Date")


def date_order() -> str:
    """``mdy`` or ``dmy``: :attr:`standards.Options.apx_date_order` (``CARBONLINK_APX_DATE_ORDER``), else
    :data:`DEFAULT_DATE_ORDER`."""
    return current_options().apx_date_order or DEFAULT_DATE_ORDER


#: Canonical unit fields each role fills (the rest of a unit has no APX column).
_UNIT_ROLE_FIELDS = {"serial": "serial", "status_date": "status_date", "account": "account",
                     "beneficiary": "beneficiary", "reason": "status_reason", "ca": "corresponding_adjustment",
                     "issued": "issuance_date"}


def _rules() -> RuleCatalogue:
    rules = RuleCatalogue("apx")
    declare_common_rules(rules, PREFIX, REFERENCE)
    rules.add(f"{PREFIX}.PROJECT_ID", severity=Severity.ERROR, layer=Layer.FIELD,
              title="the project ID carries the registry's prefix (ACR…, CAR…, ART…/FCPF…)", reference=REFERENCE)
    return rules


def registry_of(unit: UnitBlock) -> str | None:
    """The APX registry of a block: its ``registry``, else its project id or serial prefix."""
    if unit.registry in REGISTRIES:
        return unit.registry
    for text in (unit.project_id, unit.serial):
        if text:
            for name, (prefixes, _scheme) in REGISTRIES.items():
                if text.upper().startswith(prefixes):
                    return name
    return None
