"""Reading a UNDP National Carbon Registry v2 monitoring report into a canonical :class:`MonitoringReport`.

The registry keeps a monitoring report as a document (``documentType`` ``MONITORING``) whose form
content is JSON: ``data`` in the body the web client posts to add a document, ``content`` in the
stored ``DocumentEntity`` (sometimes as a JSON string). The sections read:

* ``basicInformation`` (the client also writes it as ``projectDetails``): ``bi_appliedMethodologies``,
  ``bi_completionDate`` (Unix seconds), ``bi_duration`` (the monitoring period, free text),
  ``bi_sectoralScope``, ``bi_monitoringPeriodNo``, ``bi_versionNoOfMR``, ``reportID``;
* ``dataAndParameterDetails``: ``dp_dataParameter``, ``dp_valueApplied``, ``dp_dataUnit``,
  ``dp_description`` (one object, or a list of them);
* ``calcEmissionReductions.netGHGEmissionReductions``: ``yearlyGHGEmissionReductions`` (``vintage`` in
  Unix milliseconds, ``netEmissionReductions``) and ``totalNetEmissionReductions``;
* links to uploaded files (``ce_documentUpload``, ``a_uploadDoc``, ``optionalDocuments``), which carry
  no digest.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from adapters.undp_ncr_mrv._rules import SECTORS, finding
from standards.findings import Finding
from standards.mrv import known_sectors

_METHODOLOGY = re.compile(r"^(?P<id>.+?)[\s,:;(\-]*\b(?:version|ver\.?|v\.?)\s*(?P<version>\d+(?:\.\d+)*)\)?\s*$",
                          re.IGNORECASE)
_DATE = r"(\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4}|\d{1,2}\.\d{1,2}\.\d{4})"
_PERIOD = re.compile(rf"^\s*{_DATE}\s*(?:-|–|—|to|until)\s*{_DATE}\s*$", re.IGNORECASE)
_LINK_FIELDS = ("ce_documentUpload", "a_uploadDoc", "optionalDocuments", "additionalDocuments")


@dataclass(frozen=True, slots=True)
class UndpMrvProfile:
    """What the report itself does not say: the MRV system and registry (participant ids), and the sector
    when the sectoral scope has no Common Nomenclature counterpart."""

    mrv_system: str = "undp-ncr"
    registry: str | None = None
    sector: str | None = None


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _day(text: str) -> date | None:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _epoch_day(value: Any, *, millis: bool) -> date | None:
    number = _number(value)
    if number is None:
        return None
    seconds = number / 1000 if millis or abs(number) > 10**11 else number
    try:
        return datetime.fromtimestamp(float(seconds), tz=UTC).date()
    except (OverflowError, OSError, ValueError):
        return None


def _links(value: Any, depth: int = 0) -> Iterator[str]:
    if depth > 8:
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in _LINK_FIELDS and isinstance(item, list):
                yield from (str(link) for link in item if isinstance(link, str))
            else:
                yield from _links(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _links(item, depth + 1)


class _Reader:
    """One report: the canonical fields it gives, and findings at native pointers."""

    def __init__(self, content: Mapping[str, Any], where: tuple[str | int, ...], profile: UndpMrvProfile) -> None:
        self.content = content
        self.where = where
        self.profile = profile
        self.findings: list[Finding] = []
        section = "basicInformation" if "basicInformation" in content else "projectDetails"
        info = content.get(section)
        self.basic: Mapping[str, Any] = info if isinstance(info, Mapping) else {}
        self.basic_at = (*where, section)

    def fail(self, rule: str, path: tuple[str | int, ...], message: str) -> None:
        self.findings.append(finding(rule, path, message))

    def sector(self) -> str | None:
        if self.profile.sector is not None:
            return self.profile.sector
        raw = self.basic.get("bi_sectoralScope")
        scopes = raw if isinstance(raw, list) else [raw]
        known = known_sectors()
        for scope in scopes:
            text = str(scope or "").strip()
            if text in known:
                return text
            key = re.sub(r"[^A-Z0-9]+", "_", text.upper()).strip("_")
            match = next((SECTORS[k] for k in sorted(SECTORS, key=len, reverse=True) if key.startswith(k)), None)
            if match is not None:
                return match
        self.fail("UNDP-MRV.SECTOR", (*self.basic_at, "bi_sectoralScope"),
                  f"sectoral scope {raw!r} has no Common Nomenclature sector; name the sector in the profile")
        return None

    def methodology(self) -> dict[str, str] | None:
        text = str(self.basic.get("bi_appliedMethodologies") or "").strip()[:200]
        if not text:
            self.fail("UNDP-MRV.METHODOLOGY", (*self.basic_at, "bi_appliedMethodologies"), "no applied methodology")
            return None
        match = _METHODOLOGY.match(text)
        if match is None:
            self.findings.append(finding("UNDP-MRV.METHODOLOGY_VERSION", (*self.basic_at, "bi_appliedMethodologies"),
                                         f"{text!r} names no version"))
            return {"id": text, "version": "not stated"}
        return {"id": match["id"].strip(), "version": match["version"]}

    def yearly(self) -> tuple[list[tuple[int, Decimal]], Decimal | None]:
        calc = self.content.get("calcEmissionReductions")
        net = calc.get("netGHGEmissionReductions") if isinstance(calc, Mapping) else None
        net = net if isinstance(net, Mapping) else {}
        at = (*self.where, "calcEmissionReductions", "netGHGEmissionReductions")
        rows = net.get("yearlyGHGEmissionReductions")
        years: list[tuple[int, Decimal]] = []
        for i, row in enumerate(rows if isinstance(rows, list) else []):
            day = _epoch_day(row.get("vintage"), millis=True) if isinstance(row, Mapping) else None
            amount = _number(row.get("netEmissionReductions")) if isinstance(row, Mapping) else None
            if day is None or amount is None:
                self.fail("UNDP-MRV.TOTALS", (*at, "yearlyGHGEmissionReductions", i),
                          "a yearly row needs a vintage (Unix milliseconds) and a numeric netEmissionReductions")
                continue
            years.append((day.year, amount))
        total = _number(net.get("totalNetEmissionReductions"))
        summed = sum((amount for _, amount in years), Decimal(0))
        if total is None:
            total = summed if years else None
        elif years and total != summed:
            self.fail("UNDP-MRV.TOTALS", (*at, "totalNetEmissionReductions"),
                      f"total {total} is not the sum {summed} of the yearly net emission reductions")
        if total is None:
            self.fail("UNDP-MRV.TOTALS", at, "no net emission reductions (totalNetEmissionReductions or yearly rows)")
        return years, total

    def period(self, years: list[tuple[int, Decimal]]) -> dict[str, str] | None:
        text = str(self.basic.get("bi_duration") or "")[:100]
        match = _PERIOD.match(text)
        if match is not None:
            start, end = _day(match[1]), _day(match[2])
            if start is not None and end is not None:
                return {"start": start.isoformat(), "end": end.isoformat()}
        if years:
            first, last = min(y for y, _ in years), max(y for y, _ in years)
            self.findings.append(finding("UNDP-MRV.PERIOD_FROM_VINTAGES", (*self.basic_at, "bi_duration"),
                                         f"period {text!r} is not two dates; taken as the vintages {first}..{last}"))
            return {"start": f"{first:04d}-01-01", "end": f"{last:04d}-12-31"}
        self.fail("UNDP-MRV.PERIOD", (*self.basic_at, "bi_duration"), f"no monitoring period in {text!r}")
        return None

    def parameters(self) -> list[dict[str, Any]]:
        raw = self.content.get("dataAndParameterDetails")
        items = raw if isinstance(raw, list) else [raw] if isinstance(raw, Mapping) else []
        out = []
        for i, item in enumerate(items):
            at = (*self.where, "dataAndParameterDetails", *((i,) if isinstance(raw, list) else ()))
            value = _number(item.get("dp_valueApplied")) if isinstance(item, Mapping) else None
            if not isinstance(item, Mapping) or value is None or not item.get("dp_dataParameter") \
                    or not item.get("dp_dataUnit"):
                self.fail("UNDP-MRV.PARAMETER", at, "a data/parameter needs dp_dataParameter, a numeric "
                          "dp_valueApplied and dp_dataUnit")
                continue
            out.append({"name": str(item["dp_dataParameter"]), "value": value, "unit": str(item["dp_dataUnit"]),
                        "description": str(item["dp_description"])[:4000] if item.get("dp_description") else None})
        return out

    def report(self, project_id: str, fallback_id: str) -> dict[str, Any] | None:
        years, total = self.yearly()
        fields = {"sector": self.sector(), "methodology": self.methodology(), "period": self.period(years),
                  "prepared_on": _epoch_day(self.basic.get("bi_completionDate"), millis=False)}
        if fields["prepared_on"] is None:
            self.fail("UNDP-MRV.DATE", (*self.basic_at, "bi_completionDate"), "no completion date (Unix seconds)")
        parameters = self.parameters()
        links = sorted(set(_links(self.content)))
        if links:
            self.findings.append(finding("UNDP-MRV.EVIDENCE_UNHASHED", self.where,
                                         f"{len(links)} uploaded document link(s) carry no digest"))
        if any(v is None for v in fields.values()) or total is None:
            return None
        number = self.basic.get("bi_monitoringPeriodNo") or "1"
        version = self.basic.get("bi_versionNoOfMR") or "1"
        report_id = str(self.basic.get("reportID") or f"{fallback_id}/MR{number}-v{version}")
        return {"kind": "monitoring-report", "report_id": report_id[:200], "project_id": project_id,
                "registry": self.profile.registry, "mrv_system": self.profile.mrv_system, **fields,
                "prepared_on": fields["prepared_on"].isoformat(),  # type: ignore[union-attr]
                "parameters": parameters, "emission_reductions": total}


def documents(data: Any) -> Iterator[tuple[tuple[str | int, ...], Mapping[str, Any]]]:
    """Each native document of the input with its pointer: one object, a list, or ``{"data": [...]}``."""
    if isinstance(data, Mapping) and isinstance(data.get("data"), list):
        yield from ((("data", i), d) for i, d in enumerate(data["data"]) if isinstance(d, Mapping))
    elif isinstance(data, list):
        yield from (((i,), d) for i, d in enumerate(data) if isinstance(d, Mapping))
    elif isinstance(data, Mapping):
        yield (), data


def content_of(doc: Mapping[str, Any]) -> tuple[str, Any]:
    """The form content of a native document and the member it is in (``data`` or ``content``)."""
    for key in ("data", "content"):
        value = doc.get(key)
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except (ValueError, RecursionError):
                return key, None
        if isinstance(value, Mapping):
            return key, value
    return "data", None
