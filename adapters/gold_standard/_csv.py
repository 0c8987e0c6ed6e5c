"""Gold Standard Impact Registry CSV exports: rows to canonical records (with findings) and back."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from adapters.gold_standard._layouts import (
    _PROJECT_EXTRAS,
    _STATUS_IN,
    _STATUS_OUT,
    _UNIT_EXTRAS,
    ISSUANCES,
    PREFIX,
    PROJECT_URL,
    PROJECTS,
    REGISTRY,
    RETIREMENTS,
    _gsid,
)
from adapters.registry_exports import (
    CsvExportAdapter,
    ExportFile,
    RowFindings,
    RowMapper,
    check_serial,
    country_from_name,
    country_name,
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
    Loss,
    Project,
    Serial,
    UnitBlock,
    UnitStatus,
    collect_losses,
)


class _GoldStandardCsv(CsvExportAdapter):
    """Gold Standard's CSV exports: rows to canonical records (with findings) and back."""

    def map_row(self, mapper: RowMapper, values: dict[str, str], extra: dict[str, Any],
                row: RowFindings) -> UnitBlock | Project | None:
        if mapper.file is PROJECTS:
            return self._project(values, extra, row)
        return self._unit(values, extra, row, retired_file=mapper.file is RETIREMENTS)

    def _unit(self, values: dict[str, str], extra: dict[str, Any], row: RowFindings, *,
              retired_file: bool) -> UnitBlock | None:
        get = values.get
        gsid = self._read_gsid(get("GSID", ""), extra, row)
        quantity = self._quantity(get("Quantity", ""), "Quantity", extra, row)
        vintage = self._vintage(get("Vintage", ""), row)
        raw_status = get("Credit Status", "")
        status = _STATUS_IN.get(raw_status.strip().casefold())
        if status is None:
            row.add(f"{PREFIX}.STATUS", "Credit Status",
                    f"Credit Status {raw_status!r} is not Issued, Retired or Canceled")
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
        if retired_file and status is UnitStatus.RETIRED and not get("Retirement Date", "").strip():
            row.add(f"{PREFIX}.REQUIRED", "Retirement Date", "a retirement row has no Retirement Date")
        for column in _UNIT_EXTRAS:
            raw = get(column, "")
            if raw:
                extra[column] = raw
        return UnitBlock(
            registry=REGISTRY, serial=serial_text or None,
            first_id=serial.first if serial else None, last_id=serial.last if serial else None,
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

    @staticmethod
    def _read_gsid(raw: str, extra: dict[str, Any], row: RowFindings) -> str | None:
        """The GSID's project number; a spelling other than the bare number (``GS1234``) is kept."""
        gsid = _gsid(raw)
        if gsid is None:
            row.add(f"{PREFIX}.GSID", "GSID", f"GSID {raw!r} is not a Gold Standard project number")
        elif raw != gsid:
            extra["GSID"] = raw
        return gsid

    def _project(self, values: dict[str, str], extra: dict[str, Any], row: RowFindings) -> Project | None:
        get = values.get
        gsid = self._read_gsid(get("GSID", ""), extra, row)
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
        if unit.status not in (None, UnitStatus.ISSUED, UnitStatus.RETIRED, UnitStatus.CANCELLED):
            lost.setdefault("status", []).append(rid)
        if unit.status_date is not None and layout is ISSUANCES:
            lost.setdefault("status_date", []).append(rid)
        for name in ("status_reason", "beneficiary"):
            if getattr(unit, name) is not None and layout is ISSUANCES:
                lost.setdefault(name, []).append(rid)
        if unit.serial is None:
            for name in ("first_id", "last_id"):
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
        status = UnitStatus.CANCELLED if unit.status is UnitStatus.CANCELLED else (
            UnitStatus.RETIRED if is_retired else UnitStatus.ISSUED)
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
