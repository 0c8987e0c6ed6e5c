"""Gold Standard Impact Registry exports (CSV) and public API JSON <-> the canonical model.

CSV: ``issuances.csv``, ``retirements.csv`` and ``projects.csv`` with the registry's own headers.
JSON: the public API's credit objects (``number_of_credits``, ``serial_number``, ``status``,
nested ``project``) and project objects. Serials are the 9-token GS VER form or, for CERs held
in Gold Standard, a Kyoto unit-identifier range; the range must equal the quantity. Gold
Standard has no cancellations. Sources: the registry's exports (registry.goldstandard.org) as collected
by CarbonPlan's OffsetsDB (github.com/carbonplan/offsets-db-data, ``tests/data/gold-standard``) and its public API
(public-api.goldstandard.org). Mapping and losses:
``docs/adapters/gold-standard.md``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson

from adapters.registry_exports import (
    CsvExportAdapter,
    ExportFile,
    RowFindings,
    RowMapper,
    check_serial,
    country_from_name,
    country_name,
    declare_common_rules,
    iso_date,
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
    Finding,
    Layer,
    Location,
    Loss,
    Medium,
    MessageKind,
    ParseResult,
    Project,
    RuleCatalogue,
    Serial,
    SerializeResult,
    Severity,
    UnitBlock,
    UnitStatus,
    collect_losses,
    load_json,
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
_STATUS_IN = {"issued": UnitStatus.ISSUED, "retired": UnitStatus.RETIRED}
_STATUS_OUT = {UnitStatus.ISSUED: "Issued", UnitStatus.RETIRED: "Retired"}
_API_STATUS_OUT = {UnitStatus.ISSUED: "ISSUED", UnitStatus.RETIRED: "RETIRED"}
#: Credit keys of the public API mapped to canonical fields; the rest ride in ``extra``.
_API_MAPPED = ("number_of_credits", "serial_number", "vintage", "status", "certified_date", "product")


def _rules() -> RuleCatalogue:
    rules = RuleCatalogue(REGISTRY)
    declare_common_rules(rules, PREFIX, REFERENCE)
    rules.add(f"{PREFIX}.STATUS", severity=Severity.ERROR, layer=Layer.CODE_LIST,
              title="Credit Status is Issued or Retired",
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


class GoldStandardAdapter(CsvExportAdapter):
    """Gold Standard registry CSV exports and public API JSON."""

    name = REGISTRY
    version = "1.0.0"
    description = "Gold Standard Impact Registry: issuance/retirement CSV exports, projects, public API JSON"
    reads = frozenset({MessageKind.ISSUANCES, MessageKind.RETIREMENTS, MessageKind.UNIT_BLOCKS,
                       MessageKind.PROJECTS})
    writes = reads
    media = (Medium.CSV, Medium.JSON)
    rules = _rules()
    files = (ISSUANCES, RETIREMENTS, PROJECTS)
    prefix = PREFIX
    serial_schemes = ("gold-standard", "kyoto")

    def parse(self, data: bytes, *, medium: Medium) -> ParseResult:
        self.check_medium(medium)
        if medium is Medium.JSON:
            return self.parse_json(data)
        return self.parse_csv(data)

    # --- CSV rows

    def map_row(self, mapper: RowMapper, values: dict[str, str], extra: dict[str, Any],
                row: RowFindings) -> UnitBlock | Project | None:
        if mapper.file is PROJECTS:
            return self._project(values, extra, row)
        return self._unit(values, extra, row, retired_file=mapper.file is RETIREMENTS)

    def _unit(self, values: dict[str, str], extra: dict[str, Any], row: RowFindings, *,
              retired_file: bool) -> UnitBlock | None:
        get = values.get
        gsid = _gsid(get("GSID", ""))
        if gsid is None:
            row.add(f"{PREFIX}.GSID", "GSID", f"GSID {get('GSID', '')!r} is not a Gold Standard project number")
        elif get("GSID", "") != gsid:
            extra["GSID"] = get("GSID", "")
        quantity = self._quantity(get("Quantity", ""), "Quantity", extra, row)
        vintage = self._vintage(get("Vintage", ""), row)
        raw_status = get("Credit Status", "")
        status = _STATUS_IN.get(raw_status.strip().casefold())
        if status is None:
            row.add(f"{PREFIX}.STATUS", "Credit Status",
                    f"Credit Status {raw_status!r} is not Issued or Retired")
        elif raw_status != _STATUS_OUT[status]:
            extra["Credit Status"] = raw_status
        serial_text = get("Serial Number", "")
        serial = None
        if not serial_text:
            row.add(f"{PREFIX}.REQUIRED", "Serial Number", "the Serial Number is empty")
        else:
            serial = check_serial(row, PREFIX, "Serial Number", serial_text, self.serial_schemes, quantity)
        country = self.read_country(get("Country", ""), "Country", extra, row)
        if serial is not None:
            self._cross_check(serial, gsid, country, vintage, row)
        issued = read_date(row, extra, get("Issuance Date", ""), "Issuance Date", PREFIX, "dmy")
        retired = read_date(row, extra, get("Retirement Date", ""), "Retirement Date", PREFIX, "dmy")
        if retired_file and not get("Retirement Date", "").strip():
            row.add(f"{PREFIX}.REQUIRED", "Retirement Date", "a retirement row has no Retirement Date")
        for column in _UNIT_EXTRAS:
            raw = get(column, "")
            if raw:
                extra[column] = raw
        return UnitBlock(
            registry=REGISTRY, serial=serial_text or None,
            serial_first=serial.first if serial else None, serial_last=serial.last if serial else None,
            quantity=quantity, vintage=vintage, unit_type=get("Product Type") or None, status=status,
            status_date=retired, status_reason=get("Use Case") or None, beneficiary=get("Using Entity") or None,
            project_id=f"GS{gsid}" if gsid else None, project_name=get("Project Name") or None,
            country=country, issuance_date=issued,
            link=PROJECT_URL.format(id=gsid) if gsid else None, extra=extra)

    def _quantity(self, raw: str, column: str, extra: dict[str, Any], row: RowFindings) -> Decimal | None:
        if not raw.strip():
            row.add(f"{PREFIX}.REQUIRED", column, f"{column} is empty")
            return None
        try:
            value = parse_quantity(raw)
        except ValueError:
            row.add(f"{PREFIX}.QUANTITY_INVALID", column, f"{column} {raw!r} is not a number of credits")
            return None
        keep_native(extra, column, raw, format(value, "f"))
        return value

    def _vintage(self, raw: str, row: RowFindings) -> int | None:
        text = raw.strip()
        if not text:
            row.add(f"{PREFIX}.REQUIRED", "Vintage", "Vintage is empty")
            return None
        if not (text.isdigit() and len(text) == 4 and 1900 <= int(text) <= 2100):
            row.add(f"{PREFIX}.VINTAGE_INVALID", "Vintage", f"Vintage {raw!r} is not a year between 1900 and 2100")
            return None
        return int(text)

    def _cross_check(self, serial: Serial, gsid: str | None, country: str | None, vintage: int | None,
                     row: RowFindings) -> None:
        project = serial.part("project")
        if serial.scheme == "gold-standard" and gsid is not None and project is not None and project != gsid:
            row.add(f"{PREFIX}.SERIAL_MISMATCH", "Serial Number",
                    f"the serial names project GS{project} but GSID is {gsid}")
        code = serial.part("country")
        if country is not None and code is not None and country_from_name(code) not in (None, country):
            row.add(f"{PREFIX}.SERIAL_MISMATCH", "Serial Number",
                    f"the serial names country {code} but Country is {country_name(country)}")
        if vintage is not None and serial.vintage is not None and serial.vintage != vintage:
            row.add(f"{PREFIX}.SERIAL_MISMATCH", "Serial Number",
                    f"the serial names vintage {serial.vintage} but Vintage is {vintage}")

    def _project(self, values: dict[str, str], extra: dict[str, Any], row: RowFindings) -> Project | None:
        get = values.get
        gsid = _gsid(get("GSID", ""))
        if gsid is None:
            row.add(f"{PREFIX}.GSID", "GSID", f"GSID {get('GSID', '')!r} is not a Gold Standard project number")
        elif get("GSID", "") != gsid:
            extra["GSID"] = get("GSID", "")
        name = get("Project Name", "")
        if not name:
            row.add(f"{PREFIX}.REQUIRED", "Project Name", "the Project Name is empty")
        country = self.read_country(get("Country", ""), "Country", extra, row)
        for column in _PROJECT_EXTRAS:
            raw = get(column, "")
            if raw:
                extra[column] = raw
        if gsid is None:
            return None
        return Project(registry=REGISTRY, project_id=f"GS{gsid}", name=name or None,
                       developer=get("Project Developer Name") or None, project_type=get("Project Type") or None,
                       methodology=get("Methodology") or None, status=get("Status") or None, country=country,
                       description=get("Description") or None, link=PROJECT_URL.format(id=gsid), extra=extra)

    # --- JSON (public API)

    def parse_json(self, data: bytes) -> ParseResult:
        findings: list[Finding] = []
        payload = load_json(data, what="Gold Standard API JSON")
        items = payload.get("data", payload.get("content")) if isinstance(payload, dict) else payload
        document = CanonicalDocument()
        if not isinstance(items, list):
            findings.append(self.rules[f"{PREFIX}.JSON_SHAPE"].finding(
                "expected a JSON array of credit or project objects (as the public API returns)",
                Location(pointer="")))
            return ParseResult(document, findings)
        for index, item in enumerate(items):
            row = _JsonRow(self.rules, index, findings)
            if not isinstance(item, dict):
                row.add(f"{PREFIX}.JSON_SHAPE", None, f"item {index} is not an object")
                continue
            before = len(findings)
            if "number_of_credits" in item or "serial_number" in item:
                unit = self._api_credit(item, row)
                if unit is not None and not any(f.is_error for f in findings[before:]):
                    document.units.append(unit)
            elif "sustaincert_id" in item or "name" in item:
                project = self._api_project(item, row)
                if project is not None and not any(f.is_error for f in findings[before:]):
                    document.projects.append(project)
            else:
                row.add(f"{PREFIX}.JSON_SHAPE", None,
                        f"item {index} is neither a credit (number_of_credits) nor a project (sustaincert_id)")
        findings.extend(self.check_document(document))
        return ParseResult(document, findings)

    def _api_credit(self, item: dict[str, Any], row: _JsonRow) -> UnitBlock | None:
        extra = {k: v for k, v in item.items() if k not in _API_MAPPED}
        raw_qty = item.get("number_of_credits")
        quantity = None
        if isinstance(raw_qty, int | str) and not isinstance(raw_qty, bool):
            quantity = self._quantity(str(raw_qty), "number_of_credits", {}, row)
        else:
            row.add(f"{PREFIX}.QUANTITY_INVALID", "number_of_credits",
                    f"number_of_credits {raw_qty!r} is not a number of credits")
        vintage = self._vintage(str(item.get("vintage", "") or ""), row)
        raw_status = str(item.get("status", "") or "")
        status = _STATUS_IN.get(raw_status.casefold())
        if status is None:
            row.add(f"{PREFIX}.STATUS", "status", f"status {raw_status!r} is not ISSUED or RETIRED")
        serial_text = item.get("serial_number")
        serial = None
        if not isinstance(serial_text, str) or not serial_text:
            row.add(f"{PREFIX}.REQUIRED", "serial_number", "serial_number is missing")
            serial_text = None
        else:
            serial = check_serial(row, PREFIX, "serial_number", serial_text, self.serial_schemes, quantity)
        nested = item.get("project")
        project: dict[str, Any] = nested if isinstance(nested, dict) else {}
        gsid = _gsid(project.get("sustaincert_id")) if project else None
        country = self._api_country(project, row)
        if serial is not None:
            self._cross_check(serial, gsid, country, vintage, row)
        certified = item.get("certified_date")
        issued = None
        if isinstance(certified, str) and certified:
            native: dict[str, Any] = {}
            issued = read_date(row, native, certified, "certified_date", PREFIX, "dmy")
            if native:
                extra["certified_date"] = certified
        product = item.get("product")
        return UnitBlock(
            registry=REGISTRY, serial=serial_text, serial_first=serial.first if serial else None,
            serial_last=serial.last if serial else None, quantity=quantity, vintage=vintage,
            unit_type=product if isinstance(product, str) and product else None, status=status,
            project_id=f"GS{gsid}" if gsid else None,
            project_name=project.get("name") if isinstance(project.get("name"), str) else None,
            country=country, issuance_date=issued, link=PROJECT_URL.format(id=gsid) if gsid else None,
            extra=extra)

    def _api_country(self, project: dict[str, Any], row: _JsonRow) -> str | None:
        for key in ("country_code", "country"):
            value = project.get(key)
            if isinstance(value, str) and value.strip():
                country = country_from_name(value)
                if country is None:
                    row.add(f"{PREFIX}.COUNTRY_UNKNOWN", f"project/{key}", f"{value!r} is not a known country")
                return country
        return None

    def _api_project(self, item: dict[str, Any], row: _JsonRow) -> Project | None:
        gsid = _gsid(item.get("sustaincert_id"))
        if gsid is None:
            row.add(f"{PREFIX}.GSID", "sustaincert_id",
                    f"sustaincert_id {item.get('sustaincert_id')!r} is not a Gold Standard project number "
                    "(the API's own 'id' is not the GS number)")
            return None
        mapped = ("sustaincert_id", "name", "status", "methodology", "type", "project_developer")
        extra = {k: v for k, v in item.items() if k not in mapped}

        def text(key: str) -> str | None:
            value = item.get(key)
            return value if isinstance(value, str) and value else None

        return Project(registry=REGISTRY, project_id=f"GS{gsid}", name=text("name"), status=text("status"),
                       methodology=text("methodology"), project_type=text("type"),
                       developer=text("project_developer"), country=self._api_country(item, row),
                       link=PROJECT_URL.format(id=gsid), extra=extra)

    # --- writing

    def serialize(self, document: CanonicalDocument, *, medium: Medium) -> SerializeResult:
        if medium is Medium.JSON:
            return self.serialize_json(document)
        return super().serialize(document, medium=medium)

    def write_rows(self, document: CanonicalDocument) -> tuple[dict[str, list[list[str]]], list[Loss]]:
        lost: dict[str, list[str]] = {}
        issued = [list(ISSUANCES.columns)]
        retired = [list(RETIREMENTS.columns)]
        for i, unit in enumerate(document.units):
            rid = f"units[{i}]"
            is_retired = unit.status in (UnitStatus.RETIRED, UnitStatus.CANCELLED)
            layout = RETIREMENTS if is_retired else ISSUANCES
            self._unit_losses(unit, rid, layout, lost)
            values = self._unit_values(unit, is_retired)
            (retired if is_retired else issued).append([values.get(c, "") for c in layout.columns])
        projects = [list(PROJECTS.columns)]
        for i, project in enumerate(document.projects):
            projects.append(self._project_row(project, f"projects[{i}]", lost))
        losses = collect_losses(lost, "Gold Standard exports have no column for this")
        losses.extend(other_record_losses(document))
        tables: dict[str, list[list[str]]] = {}
        if len(issued) > 1 or (len(retired) == 1 and len(projects) == 1):
            tables["issuances"] = issued
        if len(retired) > 1:
            tables["retirements"] = retired
        if len(projects) > 1:
            tables["projects"] = projects
        return tables, losses

    def _unit_losses(self, unit: UnitBlock, rid: str, layout: ExportFile, lost: dict[str, list[str]]) -> None:
        if unit.status not in (None, UnitStatus.ISSUED, UnitStatus.RETIRED):
            lost.setdefault("status", []).append(rid)
        if unit.status_date is not None and layout is ISSUANCES:
            lost.setdefault("status_date", []).append(rid)
        for name in ("status_reason", "beneficiary"):
            if getattr(unit, name) is not None and layout is ISSUANCES:
                lost.setdefault(name, []).append(rid)
        if unit.serial is None:
            for name in ("serial_first", "serial_last"):
                if getattr(unit, name) is not None:
                    lost.setdefault(name, []).append(rid)
        for name in ("owner", "account", "itmo_reference", "corresponding_adjustment"):
            if getattr(unit, name) is not None:
                lost.setdefault(name, []).append(rid)
        if unit.registry not in (None, REGISTRY):
            lost.setdefault("registry", []).append(rid)
        gsid = _gsid(unit.project_id)
        if unit.project_id is not None and gsid is None:
            lost.setdefault("project_id", []).append(rid)
        if unit.link is not None and unit.link != PROJECT_URL.format(id=gsid):
            lost.setdefault("link", []).append(rid)
        for key in unit.extra:
            if key not in layout.columns:
                lost.setdefault(f"extra.{key}", []).append(rid)

    def _unit_values(self, unit: UnitBlock, is_retired: bool) -> dict[str, str]:
        extra = unit.extra
        out = {k: str(v) for k, v in extra.items() if isinstance(v, str)}
        gsid = _gsid(unit.project_id) or ""
        out["GSID"] = native_or(extra, "GSID", gsid, lambda raw: _gsid(raw) == gsid)
        out["Vintage"] = "" if unit.vintage is None else str(unit.vintage)
        status = UnitStatus.RETIRED if is_retired else UnitStatus.ISSUED
        out["Credit Status"] = native_or(extra, "Credit Status", _STATUS_OUT[status],
                                         lambda raw: raw.strip().casefold() == _STATUS_OUT[status].casefold())
        if unit.quantity is not None:
            quantity = unit.quantity
            out["Quantity"] = native_or(extra, "Quantity", format(quantity, "f"),
                                        same_quantity(quantity))
        else:
            out["Quantity"] = ""
        out["Project Name"] = unit.project_name or ""
        out["Country"] = self.write_country(unit.country, extra, "Country")
        out["Product Type"] = unit.unit_type or ""
        out["Issuance Date"] = native_or(extra, "Issuance Date", iso_date(unit.issuance_date),
                                         same_date(unit.issuance_date, "dmy"))
        out["Retirement Date"] = native_or(extra, "Retirement Date", iso_date(unit.status_date),
                                           same_date(unit.status_date, "dmy")) if is_retired else ""
        out["Serial Number"] = unit.serial or ""
        out["Use Case"] = unit.status_reason or ""
        out["Using Entity"] = unit.beneficiary or ""
        return out

    def _project_row(self, project: Project, rid: str, lost: dict[str, list[str]]) -> list[str]:
        extra = project.extra
        gsid = _gsid(project.project_id) or ""
        if not gsid:
            lost.setdefault("projects.project_id", []).append(rid)
        for name in ("sector", "status_date", "origin_registry", "origin_project_id"):
            if getattr(project, name) is not None:
                lost.setdefault(f"projects.{name}", []).append(rid)
        if project.link is not None and project.link != PROJECT_URL.format(id=gsid):
            lost.setdefault("projects.link", []).append(rid)
        for key in extra:
            if key not in PROJECTS.columns:
                lost.setdefault(f"projects.extra.{key}", []).append(rid)
        values = {k: str(v) for k, v in extra.items() if isinstance(v, str)}
        values.update({
            "GSID": native_or(extra, "GSID", gsid, lambda raw: _gsid(raw) == gsid),
            "Project Name": project.name or "", "Project Developer Name": project.developer or "",
            "Status": project.status or "", "Project Type": project.project_type or "",
            "Country": self.write_country(project.country, extra, "Country"),
            "Description": project.description or "", "Methodology": project.methodology or "",
        })
        return [values.get(c, "") for c in PROJECTS.columns]

    def serialize_json(self, document: CanonicalDocument) -> SerializeResult:
        """Credits (and projects) in the public API's JSON shape."""
        lost: dict[str, list[str]] = {}
        items: list[dict[str, Any]] = []
        for i, unit in enumerate(document.units):
            rid = f"units[{i}]"
            for name in ("status_date", "status_reason", "beneficiary", "owner", "account", "itmo_reference",
                         "corresponding_adjustment"):
                if getattr(unit, name) is not None:
                    lost.setdefault(name, []).append(rid)
            if unit.status not in (None, UnitStatus.ISSUED, UnitStatus.RETIRED):
                lost.setdefault("status", []).append(rid)
            if unit.serial is None and (unit.serial_first is not None or unit.serial_last is not None):
                lost.setdefault("serial_first", []).append(rid)
            credit: dict[str, Any] = dict(unit.extra)
            credit.update({
                "number_of_credits": int(unit.quantity) if unit.quantity is not None
                and unit.quantity == unit.quantity.to_integral_value() else
                (str(unit.quantity) if unit.quantity is not None else None),
                "serial_number": unit.serial, "vintage": unit.vintage,
                "status": _API_STATUS_OUT.get(unit.status) if unit.status else None,
                "product": unit.unit_type,
            })
            if unit.issuance_date is not None:
                credit["certified_date"] = native_or(unit.extra, "certified_date", unit.issuance_date.isoformat(),
                                                     same_date(unit.issuance_date, "dmy"))
            project = dict(credit.get("project") or {}) if isinstance(credit.get("project"), dict) else {}
            gsid = _gsid(unit.project_id)
            if gsid is not None:
                project["sustaincert_id"] = int(gsid) if isinstance(project.get("sustaincert_id"), int) \
                    else project.get("sustaincert_id", gsid)
            if unit.project_name is not None:
                project["name"] = unit.project_name
            if unit.country is not None and country_from_name(str(project.get("country_code", ""))) != unit.country:
                project["country"] = country_name(unit.country)
            if project:
                credit["project"] = project
            items.append(credit)
        for i, p in enumerate(document.projects):
            if p.sector or p.status_date or p.description or p.origin_registry or p.origin_project_id:
                lost.setdefault("projects.fields", []).append(f"projects[{i}]")
            entry = dict(p.extra)
            gsid = _gsid(p.project_id)
            entry.update({"sustaincert_id": p.extra.get("sustaincert_id") if _gsid(p.extra.get("sustaincert_id"))
                          == gsid else gsid, "name": p.name, "status": p.status, "methodology": p.methodology,
                          "type": p.project_type, "project_developer": p.developer})
            if p.country is not None and country_from_name(str(entry.get("country_code", entry.get("country", ""))))\
                    != p.country:
                entry["country"] = country_name(p.country)
            items.append(entry)
        losses = collect_losses(lost, "the Gold Standard API JSON has no key for this")
        losses.extend(other_record_losses(document))
        data = orjson.dumps(items, option=orjson.OPT_INDENT_2, default=str)
        return SerializeResult(data=data, medium=Medium.JSON, losses=losses)


class _JsonRow(RowFindings):
    """Findings for one API item, located by JSON Pointer (``/3/serial_number``)."""

    __slots__ = ()

    def __init__(self, rules: RuleCatalogue, index: int, findings: list[Finding]) -> None:
        super().__init__(rules, index, findings)

    def add(self, rule_id: str, column: str | None, message: str, *, severity: Severity | None = None) -> None:
        pointer = f"/{self.line}/{column}" if column else f"/{self.line}"
        self.findings.append(self.rules[rule_id].finding(message, Location(pointer=pointer), severity=severity))


adapter = GoldStandardAdapter()
