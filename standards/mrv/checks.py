"""Checks one MRV document can pass or fail on its own (units, sectors, period, buffer, block).

Each function returns coded findings (:mod:`standards.mrv.rules`); none raises on bad data.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from standards.aef.vocab import NOMENCLATURE
from standards.digests import sha256_hex
from standards.findings import Finding
from standards.mrv.model import (
    EvidenceFile,
    IssuanceNotice,
    IssuanceRequest,
    MonitoringReport,
    MrvDocument,
    Opinion,
    Period,
    VerificationStatement,
)
from standards.mrv.rules import finding
from standards.mrv.units import parse_unit, unit_problem
from standards.serials import InvalidSerial, UnknownSerialScheme, parse_serial


@lru_cache(maxsize=1)
def known_sectors() -> frozenset[str]:
    """The Common Nomenclature sectors (the values a verifier role's ``sectors`` may hold)."""
    return frozenset(NOMENCLATURE.lists["Sectors"].values)


def check_period(period: Period, path: tuple[str, ...] = ("period",)) -> list[Finding]:
    if period.start > period.end:
        return [finding("MRV.PERIOD_ORDER", path, f"the period starts {period.start} after it ends {period.end}",
                        cause={"start": period.start.isoformat(), "end": period.end.isoformat()})]
    return []


def check_units(report: MonitoringReport) -> list[Finding]:
    """Every measured parameter's unit is one pint reads."""
    out = []
    for i, param in enumerate(report.parameters):
        problem = unit_problem(param.unit)
        if problem is not None:
            out.append(finding("MRV.UNIT_UNKNOWN", ("parameters", i, "unit"),
                               f"parameter {param.name!r}: unknown unit {param.unit!r} ({problem})", cause=problem))
    return out


def check_parameter_dimensions(report: MonitoringReport, expected: Mapping[str, str]) -> list[Finding]:
    """Each parameter named in ``expected`` (name -> a unit of the dimension the methodology wants, e.g.
    ``{"EG_y": "MWh"}``) has a unit of that dimension. Unknown units are :func:`check_units`' findings."""
    out = []
    for i, param in enumerate(report.parameters):
        want = expected.get(param.name)
        if want is None or unit_problem(param.unit) is not None:
            continue
        have, goal = parse_unit(param.unit), parse_unit(want)
        if have.dimensionality != goal.dimensionality:
            out.append(finding("MRV.UNIT_DIMENSION", ("parameters", i, "unit"),
                               f"parameter {param.name!r} is in {param.unit!r} ({have.dimensionality}); the "
                               f"methodology expects a unit like {want!r} ({goal.dimensionality})",
                               cause={"unit": param.unit, "expected": want}))
    return out


def check_report(report: MonitoringReport) -> list[Finding]:
    """The checks a monitoring report passes on its own."""
    out = check_period(report.period)
    if report.prepared_on < report.period.end:
        out.append(finding("MRV.DATE_ORDER", ("prepared_on",),
                           f"the report is dated {report.prepared_on}, before its period ends {report.period.end}"))
    if report.sector not in known_sectors():
        out.append(finding("MRV.SECTOR_UNKNOWN", ("sector",),
                           f"{report.sector!r} is not a Common Nomenclature sector", cause=report.sector))
    if report.buffer > report.reported_quantity:
        out.append(finding("MRV.BUFFER_EXCEEDS_REPORTED", ("buffer",),
                           f"buffer {report.buffer} tCO2e exceeds the reported {report.reported_quantity} tCO2e"))
    out.extend(check_units(report))
    seen: dict[str, str] = {}
    for i, item in enumerate(report.evidence):
        if seen.setdefault(item.name, item.sha256) != item.sha256:
            out.append(finding("MRV.DUPLICATE_EVIDENCE", ("evidence", i, "name"),
                               f"evidence file {item.name!r} is listed twice with different digests"))
    return out


def evidence_file(name: str, data: bytes, *, media_type: str | None = None) -> EvidenceFile:
    """The entry a report cites for a file: its name, size and SHA-256 (what an MRV system writes)."""
    return EvidenceFile(name=name, sha256=sha256_hex(data), size=len(data), media_type=media_type)


def check_evidence(report: MonitoringReport, held: Mapping[str, int]) -> list[Finding]:
    """Every evidence file the report cites is held: ``held`` maps the SHA-256 of each file an evidence
    store holds to its size in bytes (a content-addressed store's index)."""
    out = []
    for i, item in enumerate(report.evidence):
        size = held.get(item.sha256)
        if size is None:
            out.append(finding("MRV.EVIDENCE_MISSING", ("evidence", i, "sha256"),
                               f"evidence file {item.name!r} ({item.sha256}) is not held", cause=item.sha256))
        elif size != item.size:
            out.append(finding("MRV.EVIDENCE_SIZE", ("evidence", i, "size"),
                               f"evidence file {item.name!r} is {size} bytes, the report says {item.size}",
                               cause={"held": size, "stated": item.size}))
    return out


def check_statement(statement: VerificationStatement) -> list[Finding]:
    """The checks a verification statement passes on its own."""
    out = [] if statement.period is None else check_period(statement.period)
    if statement.period is not None and statement.verified_on < statement.period.end:
        out.append(finding("MRV.DATE_ORDER", ("verified_on",),
                           f"verified on {statement.verified_on}, before the period ends {statement.period.end}"))
    sectors = known_sectors()
    for i, sector in enumerate(statement.verifier.sectors):
        if sector not in sectors:
            out.append(finding("MRV.SECTOR_UNKNOWN", ("verifier", "sectors", i),
                               f"{sector!r} is not a Common Nomenclature sector", cause=sector))
    if statement.opinion is Opinion.POSITIVE:
        open_ids = [f.id for f in statement.findings if not f.resolved]
        if open_ids:
            out.append(finding("MRV.OPEN_FINDINGS", ("findings",),
                               f"a positive opinion with unresolved findings: {', '.join(open_ids[:10])}"))
    return out


def check_block(notice: IssuanceNotice) -> list[Finding]:
    """The notice's block runs forwards, holds its stated quantity, and its serial string agrees."""
    block = notice.block
    if block.first > block.last:
        return [finding("MRV.BLOCK_ORDER", ("block",), f"the block's first unit {block.first} is after its last "
                        f"{block.last}")]
    out = []
    if block.size != notice.quantity:
        out.append(finding("MRV.BLOCK_QUANTITY", ("block",),
                           f"block {block.first}..{block.last} holds {block.size} units, the notice says "
                           f"{notice.quantity}", cause={"block": block.size, "quantity": notice.quantity}))
    if block.serial is not None:
        try:
            parsed = parse_serial(block.serial)
        except (UnknownSerialScheme, InvalidSerial):
            return out  # a registry's own serial spelling the catalogue does not know: first/last stand
        if (parsed.first, parsed.last) != (block.first, block.last):
            out.append(finding("MRV.BLOCK_SERIAL", ("block", "serial"),
                               f"serial {block.serial!r} names units {parsed.first}..{parsed.last}, the block says "
                               f"{block.first}..{block.last}"))
    return out


def check_document(doc: MrvDocument) -> list[Finding]:
    """The checks ``doc`` passes on its own, whatever its kind."""
    if isinstance(doc, MonitoringReport):
        return check_report(doc)
    if isinstance(doc, VerificationStatement):
        return check_statement(doc)
    if isinstance(doc, IssuanceNotice):
        return check_block(doc)
    assert isinstance(doc, IssuanceRequest)
    return []
