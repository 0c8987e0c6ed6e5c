"""The Gold Standard adapter: CSV exports (see _csv) and the public API's JSON."""

from __future__ import annotations

from typing import Any

import orjson

from adapters.gold_standard._csv import _GoldStandardCsv
from adapters.gold_standard._layouts import (
    _API_MAPPED,
    _API_STATUS_OUT,
    _STATUS_IN,
    ISSUANCES,
    PREFIX,
    PROJECT_URL,
    PROJECTS,
    REGISTRY,
    RETIREMENTS,
    _gsid,
    _rules,
)
from adapters.registry_exports import (
    RowFindings,
    check_serial,
    country_from_name,
    country_name,
    native_or,
    other_record_losses,
    read_date,
    same_date,
)
from standards import (
    CanonicalDocument,
    Finding,
    Location,
    Medium,
    ParseResult,
    Project,
    RecordKind,
    RuleCatalogue,
    SerializeResult,
    Severity,
    UnitBlock,
    UnitStatus,
    collect_losses,
    load_json,
)


class GoldStandardAdapter(_GoldStandardCsv):
    """Gold Standard registry CSV exports and public API JSON."""

    name = REGISTRY
    version = "1.0.0"
    description = "Gold Standard Impact Registry: issuance/retirement CSV exports, projects, public API JSON"
    reads = frozenset({RecordKind.ISSUANCES, RecordKind.RETIREMENTS, RecordKind.UNIT_BLOCKS,
                       RecordKind.PROJECTS})
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
            row.add(f"{PREFIX}.STATUS", "status", f"status {raw_status!r} is not ISSUED, RETIRED or CANCELED")
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
            registry=REGISTRY, serial=serial_text, first_id=serial.first if serial else None,
            last_id=serial.last if serial else None, quantity=quantity, vintage=vintage,
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
            if unit.serial is None and (unit.first_id is not None or unit.last_id is not None):
                lost.setdefault("first_id", []).append(rid)
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
