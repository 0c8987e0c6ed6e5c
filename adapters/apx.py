"""The APX export family: American Carbon Registry, Climate Action Reserve and ART TREES.

The three registries ran on the same APX platform and publish the same kinds of CSV reports:
projects, issuances, retirements and cancellations, each with its own header (exact spellings,
including ``Status Effective  (GMT)`` and ``Program  Country`` with two spaces). Every layout is
declared below as its columns plus the *roles* some columns play (quantity, serial, dates,
account, reason...); the other columns ride in ``extra`` verbatim. Retirement and cancellation
rows carry serials ``PREFIX-country-project-vintage-batch-first to last`` whose range must equal the
quantity; issuance reports have no serials. Sources: the registries' APX report exports as collected
by CarbonPlan's OffsetsDB (github.com/carbonplan/offsets-db-data, ``tests/data``) and the Climate Action Reserve
serial-number guide (climateactionreserve.org/how/projects/serial-number-guide/).
Mapping, quirks and losses: ``docs/adapters/apx.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from adapters.registry_exports import (
    CsvExportAdapter,
    ExportFile,
    RowFindings,
    RowMapper,
    check_serial,
    country_from_name,
    country_name,
    declare_common_rules,
    keep_native,
    native_or,
    other_record_losses,
    parse_quantity,
    read_date,
    same_date,
    same_quantity,
)
from standards import (
    CanonicalDocument,
    Layer,
    Loss,
    Medium,
    MessageKind,
    Project,
    RuleCatalogue,
    Serial,
    Severity,
    UnitBlock,
    UnitStatus,
    collect_losses,
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


class ApxAdapter(CsvExportAdapter):
    """ACR, CAR and ART TREES report exports (one adapter: the platform and layouts are shared)."""

    name = "apx"
    version = "1.0.0"
    description = "APX-family registry reports: American Carbon Registry, Climate Action Reserve, ART TREES"
    reads = frozenset({MessageKind.ISSUANCES, MessageKind.RETIREMENTS, MessageKind.CANCELLATIONS,
                       MessageKind.UNIT_BLOCKS, MessageKind.PROJECTS})
    writes = reads
    media = (Medium.CSV,)
    rules = _rules()
    files = tuple(layout.file for layout in LAYOUTS)
    prefix = PREFIX
    serial_schemes = ("acr", "car", "art")

    def map_row(self, mapper: RowMapper, values: dict[str, str], extra: dict[str, Any],
                row: RowFindings) -> UnitBlock | Project | None:
        layout = _BY_FILE[mapper.file.name]
        roles = layout.roles
        role_columns = set(roles.values())
        for column, raw in values.items():
            if column not in role_columns and raw:
                extra[column] = raw
        project_id = self._project_id(layout, values.get(roles["project_id"], ""), row)
        country = self.read_country(values.get(roles["country"], ""), roles["country"], extra, row)
        if layout.kind == "projects":
            return self._project(layout, values, extra, project_id, country)
        return self._unit(layout, values, extra, row, project_id, country)

    def _project_id(self, layout: ApxLayout, raw: str, row: RowFindings) -> str | None:
        column = layout.roles["project_id"]
        text = raw.strip()
        if not text:
            row.add(f"{PREFIX}.REQUIRED", column, f"{column} is empty")
            return None
        prefixes = REGISTRIES[layout.registry][0]
        if not text.upper().startswith(prefixes) or not text[len(next(
                p for p in prefixes if text.upper().startswith(p))):].isdigit():
            row.add(f"{PREFIX}.PROJECT_ID", column,
                    f"{column} {raw!r} is not a {'/'.join(prefixes)} number such as {prefixes[0]}102")
            return None
        return text

    def _unit(self, layout: ApxLayout, values: dict[str, str], extra: dict[str, Any], row: RowFindings,
              project_id: str | None, country: str | None) -> UnitBlock | None:
        roles = layout.roles
        get = values.get
        qty_column = roles["quantity"]
        raw_qty = get(qty_column, "")
        quantity: Decimal | None = None
        if not raw_qty.strip():
            row.add(f"{PREFIX}.REQUIRED", qty_column, f"{qty_column} is empty")
        else:
            try:
                quantity = parse_quantity(raw_qty)
                keep_native(extra, qty_column, raw_qty, format(quantity, "f"))
            except ValueError:
                row.add(f"{PREFIX}.QUANTITY_INVALID", qty_column,
                        f"{qty_column} {raw_qty!r} is not a number of credits")
        vintage = None
        raw_vintage = get(roles["vintage"], "").strip()
        if raw_vintage:
            if raw_vintage.isdigit() and len(raw_vintage) == 4 and 1900 <= int(raw_vintage) <= 2100:
                vintage = int(raw_vintage)
            else:
                row.add(f"{PREFIX}.VINTAGE_INVALID", roles["vintage"], f"Vintage {raw_vintage!r} is not a year")
        serial: Serial | None = None
        serial_text = get(roles["serial"], "") if "serial" in roles else ""
        if "serial" in roles:
            if not serial_text:
                row.add(f"{PREFIX}.REQUIRED", roles["serial"], f"{roles['serial']} is empty")
            else:
                serial = check_serial(row, PREFIX, roles["serial"], serial_text, REGISTRIES[layout.registry][1],
                                      quantity)
        if serial is not None:
            self._cross_check(serial, project_id, country, vintage, roles["serial"], row)
        dates = {role: read_date(row, extra, get(roles[role], ""), roles[role], PREFIX, "mdy")
                 for role in ("issued", "status_date") if role in roles}
        return UnitBlock(
            registry=layout.registry, serial=serial_text or None,
            serial_first=serial.first if serial else None, serial_last=serial.last if serial else None,
            quantity=quantity, vintage=vintage, status=layout.status, status_date=dates.get("status_date"),
            status_reason=get(roles.get("reason", ""), "") or None, account=get(roles.get("account", ""), "") or None,
            beneficiary=get(roles.get("beneficiary", ""), "") or None, project_id=project_id,
            project_name=get(roles["name"], "") or None, country=country, issuance_date=dates.get("issued"),
            corresponding_adjustment=get(roles.get("ca", ""), "") or None, extra=extra)

    def _cross_check(self, serial: Serial, project_id: str | None, country: str | None, vintage: int | None,
                     column: str, row: RowFindings) -> None:
        number = serial.part("project")
        if project_id is not None and number is not None:
            own = project_id.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ").lstrip("0")
            if number.lstrip("0") != own:
                row.add(f"{PREFIX}.SERIAL_MISMATCH", column,
                        f"the serial names project {number} but the project ID is {project_id}")
        code = serial.part("country")
        if country is not None and code is not None and country_from_name(code) not in (None, country):
            row.add(f"{PREFIX}.SERIAL_MISMATCH", column,
                    f"the serial names country {code} but the project country is {country_name(country)}")
        if vintage is not None and serial.vintage is not None and vintage != serial.vintage:
            row.add(f"{PREFIX}.SERIAL_MISMATCH", column,
                    f"the serial names vintage {serial.vintage} but Vintage is {vintage}")

    def _project(self, layout: ApxLayout, values: dict[str, str], extra: dict[str, Any],
                 project_id: str | None, country: str | None) -> Project | None:
        if project_id is None:
            return None
        roles = values.get
        r = layout.roles
        return Project(registry=layout.registry, project_id=project_id, name=roles(r["name"]) or None,
                       developer=roles(r["developer"]) or None, project_type=roles(r["project_type"]) or None,
                       methodology=roles(r.get("methodology", ""), "") or None,
                       status=roles(r["status"]) or None, country=country, extra=extra)

    # --- writing

    def write_rows(self, document: CanonicalDocument) -> tuple[dict[str, list[list[str]]], list[Loss]]:
        lost: dict[str, list[str]] = {}
        unplaced: dict[str, list[str]] = {}
        tables: dict[str, list[list[str]]] = {}
        for i, unit in enumerate(document.units):
            rid = f"units[{i}]"
            registry = registry_of(unit)
            kind = {UnitStatus.RETIRED: "retirements", UnitStatus.CANCELLED: "cancellations"}.get(
                unit.status or UnitStatus.ISSUED, "issuances")
            if registry is None:
                unplaced.setdefault("units", []).append(rid)
                continue
            layout = _BY_FILE[f"{REGISTRIES[registry][1]}-{kind}"]
            if unit.status not in (None, UnitStatus.ISSUED, UnitStatus.RETIRED, UnitStatus.CANCELLED):
                lost.setdefault("status", []).append(rid)
            tables.setdefault(layout.file.name, [list(layout.columns)]).append(
                self._unit_row(layout, unit, rid, lost))
        for i, project in enumerate(document.projects):
            rid = f"projects[{i}]"
            registry = project.registry if project.registry in REGISTRIES else registry_of(
                UnitBlock(project_id=project.project_id))
            if registry is None:
                unplaced.setdefault("projects", []).append(rid)
                continue
            layout = _BY_FILE[f"{REGISTRIES[registry][1]}-projects"]
            tables.setdefault(layout.file.name, [list(layout.columns)]).append(
                self._project_row(layout, project, rid, lost))
        if not tables:
            first = LAYOUTS[0]
            tables[first.file.name] = [list(first.columns)]
        losses = collect_losses(lost, "the APX report for this record has no column for it")
        losses.extend(collect_losses(unplaced, "no ACR/CAR/ART registry, project prefix or serial prefix: "
                                               "the record was not written"))
        losses.extend(other_record_losses(document))
        return tables, losses

    def _unit_row(self, layout: ApxLayout, unit: UnitBlock, rid: str, lost: dict[str, list[str]]) -> list[str]:
        roles = layout.roles
        extra = unit.extra
        for role, name in _UNIT_ROLE_FIELDS.items():
            if getattr(unit, name) is not None and role not in roles:
                lost.setdefault(name, []).append(rid)
        if unit.serial is None or "serial" not in roles:
            for name in ("serial_first", "serial_last"):
                if getattr(unit, name) is not None:
                    lost.setdefault(name, []).append(rid)
        for name in ("unit_type", "owner", "itmo_reference", "link"):
            if getattr(unit, name) is not None:
                lost.setdefault(name, []).append(rid)
        for key in extra:
            if key not in layout.columns:
                lost.setdefault(f"extra.{key}", []).append(rid)
        values = {k: v for k, v in extra.items() if isinstance(v, str)}
        values[roles["project_id"]] = unit.project_id or ""
        values[roles["name"]] = unit.project_name or ""
        values[roles["vintage"]] = "" if unit.vintage is None else str(unit.vintage)
        values[roles["country"]] = self.write_country(unit.country, extra, roles["country"])
        if unit.quantity is not None:
            quantity = unit.quantity
            values[roles["quantity"]] = native_or(extra, roles["quantity"], format(quantity, "f"),
                                                  same_quantity(quantity))
        else:
            values[roles["quantity"]] = ""
        for role, name in _UNIT_ROLE_FIELDS.items():
            if role not in roles:
                continue
            value = getattr(unit, name)
            if isinstance(value, date):
                values[roles[role]] = native_or(extra, roles[role], value.isoformat(), same_date(value, "mdy"))
            else:
                values[roles[role]] = "" if value is None else str(value)
        return [values.get(c, "") for c in layout.columns]

    def _project_row(self, layout: ApxLayout, project: Project, rid: str, lost: dict[str, list[str]]) -> list[str]:
        roles = layout.roles
        for name in ("sector", "status_date", "link", "description", "origin_registry", "origin_project_id"):
            if getattr(project, name) is not None:
                lost.setdefault(f"projects.{name}", []).append(rid)
        if project.methodology is not None and "methodology" not in roles:
            lost.setdefault("projects.methodology", []).append(rid)
        for key in project.extra:
            if key not in layout.columns:
                lost.setdefault(f"projects.extra.{key}", []).append(rid)
        values = {k: v for k, v in project.extra.items() if isinstance(v, str)}
        for role, name in (("project_id", "project_id"), ("name", "name"), ("developer", "developer"),
                           ("project_type", "project_type"), ("methodology", "methodology"), ("status", "status")):
            if role in roles:
                values[roles[role]] = getattr(project, name) or ""
        values[roles["country"]] = self.write_country(project.country, project.extra, roles["country"])
        return [values.get(c, "") for c in layout.columns]


adapter = ApxAdapter()
