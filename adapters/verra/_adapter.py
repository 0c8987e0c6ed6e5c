"""The Verra adapter: the full row mapping (with findings) and the writer."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from adapters.registry_exports import (
    CsvExportAdapter,
    PendingBlock,
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
    status_tally,
)
from adapters.verra._fast_path import _pending_reader, _unit_reader
from adapters.verra._layout import (
    _ISSUED,
    _PROJECT_EXTRAS,
    _RETIRED,
    _UNIT_EXTRAS,
    PROJECT_URL,
    PROJECTS,
    REGISTRY,
    RULES,
    TRANSACTIONS,
    _ddmmyyyy,
    _grouped,
    _year,
)
from standards import (
    CanonicalDocument,
    Finding,
    Location,
    Loss,
    Medium,
    Project,
    RecordKind,
    UnitBlock,
    UnitStatus,
    collect_losses,
)
from standards.serials import Serial


class VerraAdapter(CsvExportAdapter):
    """Verra VCS registry CSV exports."""

    name = "verra"
    version = "1.0.0"
    description = "Verra VCS registry exports: VCU issuances and retirements/cancellations, projects"
    reads = frozenset({RecordKind.ISSUANCES, RecordKind.RETIREMENTS, RecordKind.CANCELLATIONS,
                       RecordKind.UNIT_BLOCKS, RecordKind.PROJECTS})
    writes = reads
    media = (Medium.CSV,)
    rules = RULES
    files = (TRANSACTIONS, PROJECTS)
    prefix = "VERRA"
    serial_schemes = ("verra",)

    def __init__(self) -> None:
        # bounded memos of values that repeat across rows (IDs, countries, vintage date pairs)
        self._ids: dict[str, str] = {}
        self._countries: dict[str, str] = {}  # only names written exactly as carbonlink writes them
        self._vintages: dict[tuple[str, str, str | None, str | None], int] = {}

    def parse_csv(self, data: bytes) -> Any:
        result = super().parse_csv(data)
        result.findings.extend(self.status_notes(status_tally(result.document.units)))
        return result

    def status_notes(self, tally: Mapping[UnitStatus | None, tuple[int, int]]) -> list[Finding]:
        """One note for the rows with a retirement or cancellation date: all are read as retirements."""
        retired = tally.get(UnitStatus.RETIRED)
        if retired is None:
            return []
        return [self.rules["VERRA.RETIREMENT_OR_CANCELLATION"].finding(
            f"{retired[0]} row(s) have a Retirement/Cancellation Date; Verra's export does not say "
            "which were cancelled, so all are recorded as retirements",
            Location(pointer=f"/units/{retired[1]}/status"))]

    # --- reading

    def fast_reader(self, mapper: RowMapper) -> Callable[[Sequence[str]], UnitBlock | None] | None:
        """Transactions rows go through a reader compiled for the header (``_unit_reader``)."""
        return _unit_reader(mapper, self._ids) if mapper.file is TRANSACTIONS else None

    def pending_reader(self, mapper: RowMapper) -> Callable[[Sequence[str]], PendingBlock | None] | None:
        """:meth:`fast_reader` handing out its blocks unbuilt (``_pending_reader``)."""
        return _pending_reader(mapper, self._ids) if mapper.file is TRANSACTIONS else None

    def map_row(self, mapper: RowMapper, values: dict[str, str], extra: dict[str, Any],
                row: RowFindings) -> UnitBlock | Project | None:
        if mapper.file is PROJECTS:
            return self._project(values, extra, row)
        return self._unit(values, extra, row)

    def _project_id(self, raw: str, row: RowFindings) -> str | None:
        known = self._ids.get(raw)
        if known is not None:
            return known
        text = raw.strip()
        number = text[3:] if text.upper().startswith("VCS") else text
        if not text:
            row.add("VERRA.REQUIRED", "ID", "the project ID is empty")
            return None
        if not number.isdigit() or not number.isascii():
            row.add("VERRA.PROJECT_ID", "ID", f"{raw!r} is not a Verra project number")
            return None
        if len(self._ids) < 100_000:
            self._ids[raw] = "VCS" + number
        return "VCS" + number

    def _unit(self, values: dict[str, str], extra: dict[str, Any], row: RowFindings) -> UnitBlock | None:
        get = values.get
        project_id = self._project_id(get("ID", ""), row)
        quantity = self._quantity(get("Quantity Issued", ""), extra, row)
        serial_text = get("Serial Number", "")
        serial = None
        if not serial_text:
            row.add("VERRA.REQUIRED", "Serial Number", "the Serial Number is empty")
        else:
            serial = check_serial(row, "VERRA", "Serial Number", serial_text, "verra", quantity)
        issued = read_date(row, extra, get("Issuance Date", ""), "Issuance Date", "VERRA", "dmy")
        retired_raw = get("Retirement/Cancellation Date", "")
        retired = read_date(row, extra, retired_raw, "Retirement/Cancellation Date", "VERRA", "dmy")
        vintage = self._remembered_vintage(serial, get("Vintage Start", ""), get("Vintage End", ""), extra, row)
        country = self._unit_country(get("Country/Area", ""), extra, row)
        if serial is not None:
            self._cross_check(serial, project_id, country, row)
        for column in _UNIT_EXTRAS:
            raw = get(column, "")
            if raw:
                extra[column] = raw
        return UnitBlock(
            registry=REGISTRY, serial=serial_text or None,
            first_id=serial.first if serial else None, last_id=serial.last if serial else None,
            quantity=quantity, vintage=vintage, unit_type=serial.part("unit_type") if serial else None,
            status=_RETIRED if retired_raw.strip() else _ISSUED,
            status_date=retired, status_reason=get("Retirement Reason") or None,
            beneficiary=get("Retirement Beneficiary") or None,
            project_id=project_id, project_name=get("Name") or None, country=country,
            issuance_date=issued,
            link=PROJECT_URL.format(id=project_id[3:]) if project_id else None,
            extra=extra,
        )

    def _quantity(self, raw_qty: str, extra: dict[str, Any], row: RowFindings) -> Decimal | None:
        """Quantity Issued; a spelling Verra would not write (``1454054`` for ``1,454,054``) is kept."""
        if not raw_qty.strip():
            row.add("VERRA.REQUIRED", "Quantity Issued", "Quantity Issued is empty")
            return None
        try:
            quantity = parse_quantity(raw_qty)
        except ValueError:
            row.add("VERRA.QUANTITY_INVALID", "Quantity Issued",
                    f"Quantity Issued {raw_qty!r} is not a number of units")
            return None
        if len(raw_qty) > 3 and not _grouped(raw_qty) and raw_qty != f"{quantity:,f}":
            extra["Quantity Issued"] = raw_qty
        return quantity

    def _remembered_vintage(self, serial: Serial | None, raw_start: str, raw_end: str, extra: dict[str, Any],
                            row: RowFindings) -> int | None:
        """:meth:`_vintage`, remembered for the vintage columns and serial dates that repeat across rows
        (only when it kept neither column and gave a vintage)."""
        key = None
        vintage = None
        if serial is not None:
            key = (raw_start, raw_end, serial.part("vintage_start"), serial.part("vintage_end"))
            vintage = self._vintages.get(key)
        if vintage is None:
            vintage = self._vintage(serial, raw_start, raw_end, extra, row)
            if key is not None and vintage is not None and "Vintage Start" not in extra \
                    and "Vintage End" not in extra and len(self._vintages) < 10_000:
                self._vintages[key] = vintage
        return vintage

    def _unit_country(self, raw_country: str, extra: dict[str, Any], row: RowFindings) -> str | None:
        """Country/Area as alpha-3; names written exactly as carbonlink writes them are remembered."""
        if not raw_country:
            return None
        known = self._countries.get(raw_country)
        if known is not None:
            return known
        if not raw_country.strip():
            return None
        country = country_from_name(raw_country)
        if country is None:
            row.add("VERRA.COUNTRY_UNKNOWN", "Country/Area",
                    f"{raw_country!r} is not a country carbonlink knows; kept as text")
            extra["Country/Area"] = raw_country
        elif raw_country != country_name(country):
            extra["Country/Area"] = raw_country
        elif len(self._countries) < 4096:
            self._countries[raw_country] = country
        return country

    def _vintage(self, serial: Serial | None, raw_start: str, raw_end: str, extra: dict[str, Any],
                 row: RowFindings) -> int | None:
        """The vintage year (of Vintage End, as OffsetsDB does); the columns are kept only when the
        serial's own DDMMYYYY dates do not reproduce them."""
        start_token = serial.part("vintage_start") if serial else None
        end_token = serial.part("vintage_end") if serial else None
        if raw_start != _ddmmyyyy(start_token):
            extra["Vintage Start"] = raw_start
            read_date(row, {}, raw_start, "Vintage Start", "VERRA", "dmy")
        end_derived = _ddmmyyyy(end_token)
        vintage: int | None
        if raw_end == end_derived and end_derived:
            vintage = int(end_derived[:4])
        else:
            extra["Vintage End"] = raw_end
            end = read_date(row, {}, raw_end, "Vintage End", "VERRA", "dmy")
            vintage = end.year if end is not None else serial.vintage if serial else None
            if end is not None and end_derived and end.isoformat() != end_derived:
                row.add("VERRA.SERIAL_MISMATCH", "Serial Number",
                        f"the serial's vintage end {end_derived} differs from Vintage End {raw_end}")
        if vintage is not None and not 1900 <= vintage <= 2100:
            row.add("VERRA.VINTAGE_INVALID", "Vintage End", f"vintage {vintage} is outside 1900-2100")
            return None
        return vintage

    def _cross_check(self, serial: Serial, project_id: str | None, country: str | None,
                     row: RowFindings) -> None:
        serial_project = serial.part("project")
        if project_id is not None and serial_project is not None and serial_project != project_id[3:] \
                and serial_project.lstrip("0") != project_id[3:].lstrip("0"):
            row.add("VERRA.SERIAL_MISMATCH", "Serial Number",
                    f"the serial names project {serial_project} but the ID column says {project_id[3:]}")
        serial_country = serial.part("country")
        if country is not None and serial_country is not None:
            alpha3 = country_from_name(serial_country)
            if alpha3 is not None and alpha3 != country:
                row.add("VERRA.SERIAL_MISMATCH", "Serial Number",
                        f"the serial names country {serial_country} but Country/Area is {country_name(country)}")

    def _project(self, values: dict[str, str], extra: dict[str, Any], row: RowFindings) -> Project | None:
        get = values.get
        project_id = self._project_id(get("ID", ""), row)
        name = get("Name", "")
        if not name:
            row.add("VERRA.REQUIRED", "Name", "the project Name is empty")
        raw_country = get("Country/Area", "")
        country = country_from_name(raw_country) if raw_country.strip() else None
        if raw_country.strip():
            if country is None:
                row.add("VERRA.COUNTRY_UNKNOWN", "Country/Area",
                        f"{raw_country!r} is not a country carbonlink knows; kept as text")
                extra["Country/Area"] = raw_country
            else:
                keep_native(extra, "Country/Area", raw_country, country_name(country))
        for column in _PROJECT_EXTRAS:
            raw = get(column, "")
            if raw:
                extra[column] = raw
        if project_id is None:
            return None
        return Project(registry=REGISTRY, project_id=project_id, name=name or None,
                       developer=get("Proponent") or None, project_type=get("Project Type") or None,
                       methodology=get("Methodology") or None, status=get("Status") or None,
                       country=country, link=PROJECT_URL.format(id=project_id[3:]), extra=extra)

    # --- writing

    def write_rows(self, document: CanonicalDocument) -> tuple[dict[str, list[list[str]]], list[Loss]]:
        lost: dict[str, list[str]] = {}
        units = [list(TRANSACTIONS.columns)]
        for i, unit in enumerate(document.units):
            units.append(self.unit_row(unit, f"units[{i}]", lost))
        projects = [list(PROJECTS.columns)]
        for i, project in enumerate(document.projects):
            projects.append(self._project_row(project, f"projects[{i}]", lost))
        losses = collect_losses(lost, "Verra exports have no column for this")
        losses.extend(other_record_losses(document))
        tables = {"transactions": units} if len(units) > 1 or len(projects) == 1 else {}
        if len(projects) > 1:
            tables["projects"] = projects
        return tables, losses

    def unit_row(self, unit: UnitBlock, rid: str, lost: dict[str, list[str]]) -> list[str]:
        """One transactions row; what does not fit is added to ``lost`` (field -> record ids)."""
        extra = unit.extra
        number = unit.project_id[3:] if unit.project_id and unit.project_id.upper().startswith("VCS") \
            else (unit.project_id or "")
        serial_start = serial_end = ""
        if unit.serial:
            tokens = unit.serial.split("-")
            if len(tokens) >= 12:
                serial_start, serial_end = _ddmmyyyy(tokens[-3]), _ddmmyyyy(tokens[-2])
        vintage_start = extra.get("Vintage Start", serial_start)
        vintage_end = extra.get("Vintage End", serial_end)
        if unit.vintage is not None and _year(str(vintage_end)) != unit.vintage:
            lost.setdefault("vintage", []).append(rid)
        retired = unit.status in (UnitStatus.RETIRED, UnitStatus.CANCELLED)
        self._unit_losses(unit, number, retired, rid, lost)
        quantity = "" if unit.quantity is None else native_or(
            extra, "Quantity Issued", f"{unit.quantity:,f}", same_quantity(unit.quantity))
        country = "" if unit.country is None else native_or(
            extra, "Country/Area", country_name(unit.country), lambda raw: country_from_name(raw) == unit.country)
        if unit.country is None and "Country/Area" in extra:
            country = str(extra["Country/Area"])
        return [
            native_or(extra, "Issuance Date", iso_date(unit.issuance_date), same_date(unit.issuance_date, "dmy")),
            str(extra.get("Sustainable Development Goals", "")),
            str(vintage_start), str(vintage_end), number, unit.project_name or "", country,
            str(extra.get("Project Type", "")), str(extra.get("Methodology", "")),
            str(extra.get("Total Vintage Quantity", "")), quantity, unit.serial or "",
            str(extra.get("Additional Certifications", "")),
            native_or(extra, "Retirement/Cancellation Date", iso_date(unit.status_date) if retired else "",
                      same_date(unit.status_date, "dmy")) if retired else "",
            unit.beneficiary or "", unit.status_reason or "", str(extra.get("Retirement Details", "")),
        ]

    @staticmethod
    def _unit_losses(unit: UnitBlock, number: str, retired: bool, rid: str, lost: dict[str, list[str]]) -> None:
        """The fields of ``unit`` a transactions row cannot hold (besides the vintage)."""
        if unit.status not in (None, UnitStatus.ISSUED, UnitStatus.RETIRED):
            lost.setdefault("status", []).append(rid)
        if unit.status_date is not None and not retired:
            lost.setdefault("status_date", []).append(rid)
        if unit.serial is None:
            for name in ("first_id", "last_id", "unit_type"):
                if getattr(unit, name) is not None:
                    lost.setdefault(name, []).append(rid)
        for name in ("owner", "account", "itmo_reference", "corresponding_adjustment"):
            if getattr(unit, name) is not None:
                lost.setdefault(name, []).append(rid)
        if unit.registry not in (None, REGISTRY):
            lost.setdefault("registry", []).append(rid)
        if unit.link is not None and unit.link != PROJECT_URL.format(id=number):
            lost.setdefault("link", []).append(rid)
        for key in unit.extra:
            if key not in TRANSACTIONS.columns:
                lost.setdefault(f"extra.{key}", []).append(rid)

    def _project_row(self, project: Project, rid: str, lost: dict[str, list[str]]) -> list[str]:
        extra = project.extra
        number = project.project_id[3:] if project.project_id.upper().startswith("VCS") else project.project_id
        for name in ("sector", "status_date", "description", "origin_registry", "origin_project_id"):
            if getattr(project, name) is not None:
                lost.setdefault(f"projects.{name}", []).append(rid)
        if project.link is not None and project.link != PROJECT_URL.format(id=number):
            lost.setdefault("projects.link", []).append(rid)
        for key in extra:
            if key not in PROJECTS.columns:
                lost.setdefault(f"projects.extra.{key}", []).append(rid)
        country = ""
        if project.country is not None:
            alpha3 = project.country
            country = native_or(extra, "Country/Area", country_name(alpha3),
                                lambda raw: country_from_name(raw) == alpha3)
        elif "Country/Area" in extra:
            country = str(extra["Country/Area"])
        return [number, project.name or "", project.developer or "", project.project_type or "",
                str(extra.get("AFOLU Activities", "")), project.methodology or "", project.status or "",
                country, str(extra.get("Estimated Annual Emission Reductions", "")),
                str(extra.get("Region", "")), str(extra.get("Project Registration Date", "")),
                str(extra.get("Crediting Period Start Date", "")), str(extra.get("Crediting Period End Date", ""))]


adapter = VerraAdapter()
