"""Verra VCS registry exports (``transactions.csv`` and ``projects.csv``) <-> the canonical model.

Each transactions row is one VCU block: held (no retirement date) or retired/cancelled. Verra's
public export does not say which of retirement and cancellation happened, so such rows become
``UnitStatus.RETIRED`` and a ``VERRA.RETIREMENT_OR_CANCELLATION`` note says so once per file.
The serial (13-token form and its 12-token variants, see :mod:`standards.serials`) is kept
verbatim; its range must equal ``Quantity Issued``. Sources: the registry's public exports
(registry.verra.org) as collected by CarbonPlan's OffsetsDB (github.com/carbonplan/offsets-db-data,
``tests/data/verra``).
Column mapping, quirks and losses: ``docs/adapters/verra.md``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from functools import lru_cache
from operator import itemgetter
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
    iso_date,
    keep_native,
    native_or,
    other_record_losses,
    parse_date,
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
    Project,
    RuleCatalogue,
    Severity,
    UnitBlock,
    UnitStatus,
    collect_losses,
)
from standards.serials import MAX_SERIAL_LENGTH, Serial, default_catalogue

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


class VerraAdapter(CsvExportAdapter):
    """Verra VCS registry CSV exports."""

    name = "verra"
    version = "1.0.0"
    description = "Verra VCS registry exports: VCU issuances and retirements/cancellations, projects"
    reads = frozenset({MessageKind.ISSUANCES, MessageKind.RETIREMENTS, MessageKind.CANCELLATIONS,
                       MessageKind.UNIT_BLOCKS, MessageKind.PROJECTS})
    writes = reads
    media = (Medium.CSV,)
    rules = _rules()
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
        retired = [i for i, u in enumerate(result.document.units) if u.status is UnitStatus.RETIRED]
        if retired:
            result.findings.append(self.rules["VERRA.RETIREMENT_OR_CANCELLATION"].finding(
                f"{len(retired)} row(s) have a Retirement/Cancellation Date; Verra's export does not say "
                "which were cancelled, so all are recorded as retirements",
                Location(pointer=f"/units/{retired[0]}/status")))
        return result

    # --- reading

    def fast_reader(self, mapper: RowMapper) -> Callable[[Sequence[str]], UnitBlock | None] | None:
        """Transactions rows go through a reader compiled for the header (``_unit_reader``)."""
        return _unit_reader(mapper, self._ids) if mapper.file is TRANSACTIONS else None

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
        quantity: Decimal | None = None
        raw_qty = get("Quantity Issued", "")
        if not raw_qty.strip():
            row.add("VERRA.REQUIRED", "Quantity Issued", "Quantity Issued is empty")
        else:
            try:
                quantity = parse_quantity(raw_qty)
                if len(raw_qty) > 3 and not _grouped(raw_qty) and raw_qty != f"{quantity:,f}":
                    extra["Quantity Issued"] = raw_qty
            except ValueError:
                row.add("VERRA.QUANTITY_INVALID", "Quantity Issued",
                        f"Quantity Issued {raw_qty!r} is not a number of units")
        serial_text = get("Serial Number", "")
        serial = None
        if not serial_text:
            row.add("VERRA.REQUIRED", "Serial Number", "the Serial Number is empty")
        else:
            serial = check_serial(row, "VERRA", "Serial Number", serial_text, "verra", quantity)
        issued = read_date(row, extra, get("Issuance Date", ""), "Issuance Date", "VERRA", "dmy")
        retired_raw = get("Retirement/Cancellation Date", "")
        retired = read_date(row, extra, retired_raw, "Retirement/Cancellation Date", "VERRA", "dmy")
        raw_start, raw_end = get("Vintage Start", ""), get("Vintage End", "")
        vintage = None
        if serial is not None:
            key = (raw_start, raw_end, serial.part("vintage_start"), serial.part("vintage_end"))
            vintage = self._vintages.get(key)
        if vintage is None:
            vintage = self._vintage(serial, raw_start, raw_end, extra, row)
            if serial is not None and vintage is not None and "Vintage Start" not in extra \
                    and "Vintage End" not in extra and len(self._vintages) < 10_000:
                self._vintages[key] = vintage
        country = None
        raw_country = get("Country/Area", "")
        if raw_country:
            known = self._countries.get(raw_country)
            if known is not None:
                country = known
            elif raw_country.strip():
                country = country_from_name(raw_country)
                if country is None:
                    row.add("VERRA.COUNTRY_UNKNOWN", "Country/Area",
                            f"{raw_country!r} is not a country carbonlink knows; kept as text")
                    extra["Country/Area"] = raw_country
                elif raw_country != country_name(country):
                    extra["Country/Area"] = raw_country
                elif len(self._countries) < 4096:
                    self._countries[raw_country] = country
        if serial is not None:
            self._cross_check(serial, project_id, country, row)
        for column in _UNIT_EXTRAS:
            raw = get(column, "")
            if raw:
                extra[column] = raw
        return UnitBlock(
            registry=REGISTRY, serial=serial_text or None,
            serial_first=serial.first if serial else None, serial_last=serial.last if serial else None,
            quantity=quantity, vintage=vintage, unit_type=serial.part("unit_type") if serial else None,
            status=_RETIRED if retired_raw.strip() else _ISSUED,
            status_date=retired, status_reason=get("Retirement Reason") or None,
            beneficiary=get("Retirement Beneficiary") or None,
            project_id=project_id, project_name=get("Name") or None, country=country,
            issuance_date=issued,
            link=PROJECT_URL.format(id=project_id[3:]) if project_id else None,
            extra=extra,
        )

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
        if unit.status not in (None, UnitStatus.ISSUED, UnitStatus.RETIRED):
            lost.setdefault("status", []).append(rid)
        if unit.status_date is not None and not retired:
            lost.setdefault("status_date", []).append(rid)
        if unit.serial is None:
            for name in ("serial_first", "serial_last", "unit_type"):
                if getattr(unit, name) is not None:
                    lost.setdefault(name, []).append(rid)
        for name in ("owner", "account", "itmo_reference", "corresponding_adjustment"):
            if getattr(unit, name) is not None:
                lost.setdefault(name, []).append(rid)
        if unit.registry not in (None, REGISTRY):
            lost.setdefault("registry", []).append(rid)
        if unit.link is not None and unit.link != PROJECT_URL.format(id=number):
            lost.setdefault("link", []).append(rid)
        for key in extra:
            if key not in TRANSACTIONS.columns:
                lost.setdefault(f"extra.{key}", []).append(rid)
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


# --- the compiled transactions reader (fast path)
#
# It takes a row only when the full path (``VerraAdapter._unit``) would give no finding at all, and then
# builds the very same UnitBlock; anything else (a 12-token or odd serial, a quantity that disagrees,
# an unknown ID or country, dates or vintages the serial does not reproduce ...) returns None and goes
# the full way, which reports the findings. tests/adapters/test_verra_fastpath.py holds the two equal.
# Values that repeat across rows (dates, the serial's series part with the columns it is checked
# against) are cached by their text in bounded LRU caches; a cached answer depends on that text alone.

_ALPHA3 = re.compile(r"[A-Z]{3}", re.ASCII).fullmatch
_UNIT_COLUMNS = ("ID", "Quantity Issued", "Serial Number", "Issuance Date", "Retirement/Cancellation Date",
                 "Vintage Start", "Vintage End", "Country/Area", "Name", "Retirement Beneficiary",
                 "Retirement Reason")
#: The serial parts the series check needs (see :func:`_series`).
_SERIES_PARTS = ("unit_type", "country", "project", "vintage_start", "vintage_end")
#: The fields the full path passes to ``UnitBlock(...)``: the ``model_fields_set`` of every block read.
_SET_FIELDS = frozenset({"registry", "serial", "serial_first", "serial_last", "quantity", "vintage", "unit_type",
                         "status", "status_date", "status_reason", "beneficiary", "project_id", "project_name",
                         "country", "issuance_date", "link", "extra"})


def _verra13() -> Any:
    """The layout the full path tries first for Verra serials, when it is the built-in 13-token one
    starting ``{batch}-{first}-{last}-`` with digit runs (what the series split relies on); else None."""
    layout = default_catalogue().layouts("verra")[0]
    if layout.variant != "verra-13" or not layout.template.startswith("{batch}-{first}-{last}-") \
            or any(layout.fields[name] != r"\d+" for name in ("batch", "first", "last")) \
            or not set(_SERIES_PARTS) <= set(layout.names):
        return None
    return layout


@lru_cache(maxsize=4096)
def _date_cell(raw: str) -> tuple[date | None, bool] | None:
    """A non-empty date cell as ``read_date`` reads it: (value, native spelling kept in ``extra``), or
    None when it gives a finding."""
    found: list[Finding] = []
    kept: dict[str, Any] = {}
    value = read_date(RowFindings(VerraAdapter.rules, 0, found), kept, raw, "Issuance Date", "VERRA", "dmy")
    return None if found else (value, bool(kept))


@lru_cache(maxsize=16384)
def _series(tail: str, raw_start: str, raw_end: str, raw_country: str,
            project_id: str) -> tuple[str, int, str | None, bool, str] | None:
    """What the full path derives from a 13-token serial's part after ``batch-first-last-`` and the
    columns it is checked against, when none of that gives a finding or keeps a column:
    (unit type, vintage, country alpha-3 or None, Country/Area kept in extra, project URL); else None.

    The caller has checked that batch, first and last are ASCII digit runs, so the whole serial has
    the layout exactly when ``0-0-0-<tail>`` has it, with the same parts."""
    layout = _verra13()
    m = layout.regex.match("0-0-0-" + tail) if layout is not None else None
    if m is None:
        return None
    unit_type, serial_country, serial_project, token_start, token_end = m.group(*_SERIES_PARTS)
    # Vintage Start/End: not kept only when they are the serial's own dates (VerraAdapter._vintage)
    if raw_start != _ddmmyyyy(token_start) or raw_end != _ddmmyyyy(token_end):
        return None
    vintage = int(token_end[4:])
    if not 1900 <= vintage <= 2100:
        return None
    number = project_id[3:]  # VerraAdapter._cross_check
    if serial_project != number and serial_project.lstrip("0") != number.lstrip("0"):
        return None
    country: str | None = None  # VerraAdapter._unit, then _cross_check
    kept = False
    if raw_country.strip():
        country = country_from_name(raw_country)
        if country is None or not _ALPHA3(country):
            return None  # the full path reports it (or pydantic refuses the code, as it always did)
        alpha3 = country_from_name(serial_country)
        if alpha3 is not None and alpha3 != country:
            return None
        kept = raw_country != country_name(country)
    return unit_type, vintage, country, kept, PROJECT_URL.format(id=number)


def _construct(values: dict[str, Any]) -> UnitBlock:
    """A UnitBlock from values that already have their validated types, every field present, through
    pydantic's ``model_construct`` (no re-validation) with the fields set the full path sets. Used only
    after :func:`_unit_builder` saw it equal full validation."""
    return _model_construct(set(_SET_FIELDS), **values)


_model_construct = UnitBlock.model_construct


def _validate(values: dict[str, Any]) -> UnitBlock:
    """Full validation of the fields the full path sets (the same ``model_fields_set``)."""
    return UnitBlock.model_validate({name: values[name] for name in _SET_FIELDS})


def _unit_values(**values: Any) -> dict[str, Any]:
    """All UnitBlock fields in declaration order: ``values``, the defaults (None) for the rest."""
    return {name: values.get(name) for name in UnitBlock.model_fields}


@lru_cache(maxsize=1)
def _unit_builder() -> Callable[[dict[str, Any]], UnitBlock]:
    """:func:`_construct` if, on this pydantic, it gives what ``model_validate`` gives (same field
    values, order, fields set, extras, private state, dump), else full validation (:func:`_validate`)."""
    model = UnitBlock
    plain = (model.__pydantic_post_init__ is None and not model.__private_attributes__
             and model.model_config.get("extra") != "allow"
             and set(model.__slots__) >= {"__dict__", "__pydantic_fields_set__"})
    samples = [
        _unit_values(registry=REGISTRY, serial="19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-"
                     "31122020-1", serial_first=941467007, serial_last=941467431, quantity=Decimal(425),
                     vintage=2020, unit_type="VCU", status=_RETIRED, status_date=date(2026, 4, 10),
                     status_reason="Environmental Benefit", beneficiary="Example Ltd", project_id="VCS1340",
                     project_name="Bale", country="ETH", issuance_date=date(2026, 4, 3),
                     link=PROJECT_URL.format(id="1340"), extra={"Methodology": "VM0015", "x": "1"}),
        _unit_values(registry=REGISTRY, serial="1-0-0-VCS-VCU-1-VER-ET-1-1-01012020-31122020-0", serial_first=0,
                     serial_last=0, quantity=Decimal(1), vintage=1900, unit_type="VCU", status=_ISSUED,
                     project_id="VCS1", link=PROJECT_URL.format(id="1"), extra={}),
    ]
    for values in samples:
        if not plain:
            break
        validated = model.model_validate({k: v for k, v in values.items() if k in _SET_FIELDS})
        built = _construct(dict(values))
        plain = (built == validated and list(built.__dict__.items()) == list(validated.__dict__.items())
                 and built.model_fields_set == validated.model_fields_set
                 and built.__pydantic_extra__ == validated.__pydantic_extra__
                 and built.__pydantic_private__ == validated.__pydantic_private__
                 and built.model_dump_json() == validated.model_dump_json() and repr(built) == repr(validated))
    return _construct if plain else _validate


def _unit_reader(mapper: RowMapper, ids: dict[str, str]) -> Callable[[Sequence[str]], UnitBlock | None] | None:
    """A function from one transactions row's cells to its UnitBlock, or to None when the row needs
    the full path. None (no fast path at all) when the header or the serial catalogue is unusual."""
    if _verra13() is None:
        return None  # e.g. a configured layout that would change which variant matches first
    if any(name in TRANSACTIONS.columns for name, _ in mapper.unknown):
        return None  # a repeated header: its extra value would collide with the adapter's own keys
    width = len(mapper.header)
    index = mapper.index
    pad = any(column not in index for column in _UNIT_COLUMNS)  # a missing optional column reads as ""
    pick = itemgetter(*(index.get(column, width) for column in _UNIT_COLUMNS))
    unknown = mapper.unknown
    kept_columns = tuple((column, index[column]) for column in _UNIT_EXTRAS if column in index)
    date_cell, series_of, build = _date_cell, _series, _unit_builder()
    template = _unit_values(registry=REGISTRY)  # every field in declaration order (see _construct)
    retired_status, issued_status = _RETIRED, _ISSUED

    def read(cells: Sequence[str]) -> UnitBlock | None:
        if pad:
            cells = (*cells, "")
        (raw_id, raw_qty, serial_text, raw_issued, raw_retired, raw_start, raw_end, raw_country, name,
         beneficiary, reason) = pick(cells)
        project_id = ids.get(raw_id)  # only IDs the full path has read without a finding
        if project_id is None or len(serial_text) > MAX_SERIAL_LENGTH or not serial_text.isascii():
            return None
        tokens = serial_text.split("-", 3)
        if len(tokens) != 4:
            return None
        batch, first_text, last_text, tail = tokens
        if not (batch.isdigit() and first_text.isdigit() and last_text.isdigit()):
            return None
        series = series_of(tail, raw_start, raw_end, raw_country, project_id)
        if series is None:
            return None
        unit_type, vintage, country, keep_country, link = series
        # Quantity Issued: ASCII digits (kept in extra as the full path keeps them), or grouped exactly
        # as Verra writes it; anything else goes the full way
        digits = raw_qty.replace(",", "") if "," in raw_qty else raw_qty
        if not (digits.isdigit() and digits.isascii()):
            return None
        count = int(digits)
        if digits is raw_qty:
            keep_qty = len(raw_qty) > 3 and raw_qty != f"{count:,}"
        elif raw_qty == f"{count:,}" and raw_qty[0] != "0":
            keep_qty = False
        else:
            return None
        first = int(first_text)
        if not count or int(last_text) - first + 1 != count:
            return None  # a range that disagrees, or runs backwards (last = first - 1 with a zero quantity)
        issued = keep_issued = retired = keep_retired = None
        if raw_issued:
            cell = date_cell(raw_issued)
            if cell is None:
                return None
            issued, keep_issued = cell
        if raw_retired:
            cell = date_cell(raw_retired)
            if cell is None:
                return None
            retired, keep_retired = cell
        extra: dict[str, Any] = {column: cells[i] for column, i in unknown if cells[i] != ""} if unknown else {}
        if keep_qty:
            extra["Quantity Issued"] = raw_qty
        if keep_issued:
            extra["Issuance Date"] = raw_issued
        if keep_retired:
            extra["Retirement/Cancellation Date"] = raw_retired
        if keep_country:
            extra["Country/Area"] = raw_country
        for column, i in kept_columns:
            raw = cells[i]
            if raw:
                extra[column] = raw
        # each value has its validated type: ints from ASCII digits (>= 0), a Decimal, a year in
        # 1900-2100, dates, an [A-Z]{3} code, a UnitStatus member, text
        values = template.copy()
        values["extra"] = extra
        values["serial"] = serial_text
        values["serial_first"] = first
        values["serial_last"] = first + count - 1
        values["quantity"] = Decimal(count)
        values["vintage"] = vintage
        values["unit_type"] = unit_type
        values["status"] = retired_status if retired is not None else issued_status
        values["status_date"] = retired
        values["status_reason"] = reason or None
        values["project_id"] = project_id
        values["project_name"] = name or None
        values["country"] = country
        values["beneficiary"] = beneficiary or None
        values["issuance_date"] = issued
        values["link"] = link
        return build(values)

    return read


adapter = VerraAdapter()
