"""The registry's AEF actions export (CSV and XLSX): reading, streaming and writing."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from openpyxl.utils import get_column_letter
from pydantic import ValidationError

from adapters.undp_ncr._aef_row import _AefCells, _put_block, _put_parties, _update_action_type
from adapters.undp_ncr._aef_table import (
    _AEF_BY_HEADER,
    _AEF_LABEL,
    _NA,
    AEF_ACTION_TYPES,
    AEF_COLUMNS,
    AEF_REQUIRED,
    _aef_date,
    _aef_party,
    _aef_unit,
    _AefRow,
    _header_key,
    _same_text,
    _sheet_table,
    _xlsx_bytes,
)
from adapters.undp_ncr._profile import UndpProfile
from adapters.undp_ncr._rules import (
    R_AEF_VALUE,
    R_CODE,
    R_COLUMNS,
    R_SERIAL,
    R_SERIAL_QUANTITY,
    R_VINTAGE,
    TRANSFER_LIKE,
)
from adapters.undp_ncr._values import (
    _Bad,
    _Context,
    _lost_fields,
    _number,
    _Refused,
    _result,
    _safe_party,
    _serial_info,
    _year,
)
from standards import (
    Action,
    ActionType,
    Authorization,
    CanonicalDocument,
    CsvRecord,
    Finding,
    Location,
    Loss,
    Medium,
    Metric,
    ParseResult,
    SerializeResult,
    UnitBlock,
    read_workbook,
    write_csv_bytes,
)


class _AefExport:
    """The registry's AEF actions export (CSV): reading, streaming and writing."""

    @property
    def profile(self) -> UndpProfile:
        raise NotImplementedError

    def parse_csv(self, records: Iterable[CsvRecord], *, sheet: str | None = None) -> ParseResult:
        """Rows of the export (CSV records, or a sheet's rows from the header row on) as canonical records."""
        document = CanonicalDocument()
        findings: list[Finding] = []
        seen_authorizations: set[str] = set()
        for item in self._rows(records, findings, sheet=sheet):
            if isinstance(item, Finding):
                findings.append(item)
                continue
            document.actions.append(item.action)
            auth = item.authorization
            if auth is not None and auth.authorization_id not in seen_authorizations:
                seen_authorizations.add(auth.authorization_id)
                document.authorizations.append(auth)
        return _result(document, findings)

    def iter_csv(self, records: Iterable[CsvRecord], *, findings: list[Finding] | None = None) -> Iterator[Action]:
        """Actions from AEF export rows; see :meth:`iter_records` for what ``findings`` changes."""
        from standards import ValidationFailed

        collected: list[Finding] = []
        for item in self._rows(records, collected):
            if isinstance(item, Finding):
                if findings is None:
                    raise ValidationFailed(f"UNDP AEF export: {item.location.render()}: {item.message}",
                                           findings=[item])
                findings.append(item)
                continue
            yield item.action
        if collected and findings is None:
            raise ValidationFailed("UNDP AEF export: " + collected[0].message, findings=collected)
        if findings is not None:
            findings.extend(collected)

    def _rows(self, records: Iterable[CsvRecord], findings: list[Finding], *,
              sheet: str | None = None) -> Iterator[_AefRow | Finding]:
        iterator = iter(records)
        header = next(iterator, None)
        if header is None:
            findings.append(R_COLUMNS.finding("the AEF export is empty", Location(line=1, sheet=sheet)))
            return
        keys = [_AEF_BY_HEADER.get(_header_key(cell)) for cell in header.cells]
        missing = [_AEF_LABEL[k] for k in AEF_REQUIRED if k not in keys]
        if missing:
            findings.append(R_COLUMNS.finding(
                f"the AEF export has no column {', '.join(repr(m) for m in missing)} (its header is: "
                f"{', '.join(header.cells)[:300]})", Location(line=header.line, sheet=sheet)))
            return
        profile = self.profile
        for index, record in enumerate(iterator):
            cells: dict[str, str] = {}
            unknown: dict[str, str] = {}
            for name, key, value in zip(header.cells, keys, record.cells, strict=True):
                if key is None:
                    unknown[name] = value
                else:
                    cells[key] = value
            ctx = _Context(profile)
            try:
                yield self.aef_row(cells, unknown, profile)
                continue
            except _Bad as exc:
                ctx.bad(exc, ["rows", index], line=record.line)
                column = keys.index(exc.key) + 1 if exc.key in keys else 1
            except ValidationError as exc:
                ctx.invalid(exc, ["rows", index], line=record.line)
                column = 1
            finding = ctx.findings[0]
            if sheet is not None:
                finding = replace(finding, location=Location(
                    pointer=finding.location.pointer, sheet=sheet, cell=f"{get_column_letter(column)}{record.line}"))
            yield finding

    def parse_xlsx(self, data: bytes) -> ParseResult:
        """The AEF export workbook: the first sheet with a row holding the required column labels.

        The registry's template puts "Table 1: Heading" (Party, year) above the actions table, so
        rows before the header row are skipped; the table ends at the first empty row.
        """
        workbook = read_workbook(data, what="UNDP AEF export")
        try:
            for sheet in workbook.worksheets:
                records = _sheet_table(sheet)
                if records is not None:
                    return self.parse_csv(records, sheet=str(sheet.title))
        finally:
            workbook.close()
        wanted = ", ".join(repr(_AEF_LABEL[k]) for k in AEF_REQUIRED)
        return ParseResult(CanonicalDocument(), [R_COLUMNS.finding(
            f"no sheet of the workbook has a header row with the columns {wanted}", Location())])

    def aef_row(self, cells: dict[str, str], unknown: dict[str, str],
                profile: UndpProfile | None = None) -> _AefRow:
        """One export row as a canonical Action (and the authorization it embeds)."""
        profile = profile or self.profile
        def cell(key: str) -> str | None:
            value = cells.get(key, "").strip()
            return None if value in _NA else value

        for key in AEF_REQUIRED:
            if cell(key) is None:
                raise _Bad(R_AEF_VALUE, key, f"{_AEF_LABEL[key]} is empty")
        kind = AEF_ACTION_TYPES.get(re.sub(r"[\s_-]", "", str(cell("actionType"))).casefold())
        if kind is None:
            try:
                kind = ActionType(str(cell("actionType")))
            except ValueError as exc:
                raise _Bad(R_CODE, "actionType", f"Action type {cell('actionType')!r} is not one of "
                                                 f"{', '.join(AEF_ACTION_TYPES)}") from exc
        first, first_serial = _aef_unit(cells["creditBlockStartId"], "creditBlockStartId")
        last, last_serial = _aef_unit(cells["creditBlockEndId"], "creditBlockEndId")
        if last < first:
            raise _Bad(R_AEF_VALUE, "creditBlockEndId", f"the block ends at {last}, before its start {first}")
        quantity = _number(str(cell("creditAmount")).replace(",", ""), "creditAmount")
        if quantity != last - first + 1:
            raise _Bad(R_SERIAL_QUANTITY, "creditAmount", f"Quantity (t CO2 eq) is {cell('creditAmount')} but the "
                                                          f"block {first}-{last} holds {last - first + 1} units")
        if first_serial is not None and last_serial is not None and first_serial.series != last_serial.series:
            raise _Bad(R_SERIAL, "creditBlockEndId", f"the block starts in series {first_serial} but ends in "
                                                     f"{last_serial}")
        serial = first_serial or last_serial
        info = _serial_info(serial.with_range(first, last), "creditBlockStartId") if serial is not None else None
        serial_text = None if info is None else str(info.serial)
        vintage = None if cell("vintage") is None else _year(cell("vintage"), "vintage")
        if info is not None and vintage is not None and info.serial.vintage != vintage:
            raise _Bad(R_VINTAGE, "vintage", f"Vintage is {vintage} but the block serial is of vintage "
                                             f"{info.serial.vintage}")
        first_party = _aef_party(cells.get("firstTransferingParty", ""), "firstTransferingParty")
        approach = cell("cooperativeApproach")
        ca = info.cooperative_approach if info is not None else (
            approach if approach is not None and re.fullmatch(r"CA\d{4}", approach) else None)
        metric_text = (cell("metric") or "").casefold()
        metric = Metric.GHG if metric_text in ("tco2", "tco2e", "tco2eq", "ghg") else (
            Metric.NON_GHG if metric_text == "non-ghg" else None)
        using = cell("actionBy")
        using_party = _safe_party(using) if using is not None and len(using) in (2, 3) else None
        authorized = cell("projectAuthorizationTime")
        auth_id = cell("authorizationId")
        origin = info.originating if info is not None else None
        units = UnitBlock(serial=serial_text, first_id=first, last_id=last,
                          quantity=quantity, vintage=vintage, country=origin,
                          project_id=None if info is None else info.project, itmo_reference=serial_text)
        transferring = _aef_party(cells.get("transferingParty", ""), "transferingParty")
        action = Action(
            action_type=kind,
            date=datetime.combine(_aef_date(str(cell("actionTime")), "actionTime"), datetime.min.time(), UTC),
            cooperative_approach=ca, authorization_id=auth_id, first_transferring_party=first_party,
            registry=profile.registry_id(origin), mitigation_type=profile.mitigation_type,
            first_id=first, last_id=last, units=units, metric=metric, quantity=quantity, vintage=vintage,
            transferring_party=transferring if kind in TRANSFER_LIKE else None,
            acquiring_party=_aef_party(cells.get("aquiringParty", ""), "aquiringParty"),
            using_party=using_party, using_entity=using if using is not None and using_party is None else None,
            extra={"undp": dict(cells) | ({"_unknown": unknown} if unknown else {})})
        authorization = None
        if auth_id is not None and authorized is not None:
            authorization = Authorization(
                authorization_id=auth_id, date=_aef_date(authorized, "projectAuthorizationTime"),
                version=profile.authorization_version,
                cooperative_approach=ca or approach or "", purposes=cell("purposeForAuthorization"),
                sectors=profile.sector(cell("sector")), activity_types=profile.activity_type(cell("sectoralScope")),
                oimp_authorized=cell("oimp"),
                first_transfer_definition=cell("firstTransferDefinition") if "OIMP" in (cell(
                    "purposeForAuthorization") or "") else None, metric=metric,
                extra={"undp": {k: cells[k] for k in ("projectAuthorizationTime", "cooperativeApproach")
                                if k in cells}})
        return _AefRow(action, authorization)

    def serialize_csv(self, document: CanonicalDocument, medium: Medium = Medium.CSV) -> SerializeResult:
        """The AEF actions export as CSV, or as an XLSX workbook with one ``Actions`` sheet."""
        authorizations = {a.authorization_id: a for a in document.authorizations}
        profile = self.profile
        used: set[str] = set()
        rows: list[list[str]] = [[label for label, _key in AEF_COLUMNS]]
        losses: dict[tuple[str, str], list[str]] = {}
        for index, action in enumerate(document.actions):
            pointer = f"/actions/{index}"
            auth = authorizations.get(action.authorization_id or "")
            try:
                cells = self._aef_cells(action, auth)
                back = self.aef_row(cells, {}, profile)
            except (_Refused, _Bad, ValidationError) as exc:
                losses.setdefault(("actions", f"not an AEF export row: {exc}"), []).append(pointer)
                continue
            if auth is not None:
                used.add(auth.authorization_id)
            rows.append([cells.get(key, "") for _label, key in AEF_COLUMNS])
            for name in _lost_fields(action, back.action):
                losses.setdefault((f"actions.{name}", "the AEF export has no column for it"), []).append(pointer)
            unknown = (action.extra.get("undp") or {}).get("_unknown") if isinstance(action.extra.get("undp"),
                                                                                      dict) else None
            if unknown:
                losses.setdefault(("extra.undp._unknown", "columns the registry's export does not have"),
                                  []).append(pointer)
            if auth is not None and back.authorization is not None:
                for name in _lost_fields(auth, back.authorization):
                    losses.setdefault((f"authorizations.{name}", "the AEF export has no column for it"),
                                      []).append(f"/authorizations/{document.authorizations.index(auth)}")
        unused = [f"/authorizations/{i}" for i, a in enumerate(document.authorizations)
                  if a.authorization_id not in used]
        if unused:
            losses[("authorizations", "the AEF actions export holds authorizations only beside their actions")] = unused
        for name in ("holdings", "authorized_entities", "projects", "units"):
            if getattr(document, name):
                losses[(name, f"the AEF actions export holds no {name.replace('_', ' ')}")] = [
                    f"/{name}/{i}" for i in range(len(getattr(document, name)))]
        if document.submission is not None:
            losses[("submission", "the AEF actions export has no submission header")] = ["/submission"]
        loss_list = [Loss(f, tuple(sorted(set(ids), key=ids.index)), reason)
                     for (f, reason), ids in sorted(losses.items())]
        if medium is Medium.XLSX:
            return SerializeResult(data=_xlsx_bytes(rows), medium=Medium.XLSX, losses=loss_list)
        return SerializeResult(data=write_csv_bytes(rows), medium=Medium.CSV, losses=loss_list)

    def _aef_cells(self, action: Action, auth: Any | None) -> dict[str, str]:
        units = action.units or UnitBlock()
        native: dict[str, str] = {}
        saved = action.extra.get("undp")
        if isinstance(saved, dict):
            native = {k: str(v) for k, v in saved.items() if k in _AEF_LABEL}
        first = action.first_id if action.first_id is not None else units.first_id
        last = action.last_id if action.last_id is not None else units.last_id
        if first is None or last is None:
            raise _Refused("the export needs the block's first and last unit")
        _update_action_type(native, action)
        quantity = action.quantity if action.quantity is not None else Decimal(last - first + 1)
        row = _AefCells(native)
        _put_block(row, action, units.serial, first, last, quantity)
        _put_parties(row, action)
        if auth is not None:
            self._put_authorization(row, auth)
        for key in _AEF_LABEL:
            row.cells.setdefault(key, "NA")
        return row.cells

    def _put_authorization(self, row: _AefCells, auth: Any) -> None:
        """The authorization's columns (time, sector, scope, purposes, OIMP, first transfer)."""
        native, put = row.native, row.put
        put("projectAuthorizationTime", auth.date.isoformat(),
            lambda old: _aef_date(old, "projectAuthorizationTime") == auth.date)
        profile = self.profile
        put("sector", auth.sectors, lambda old: profile.sector(None if old.strip() in _NA else old.strip())
            == auth.sectors)
        put("sectoralScope", auth.activity_types, lambda old: profile.activity_type(
            None if old.strip() in _NA else old.strip()) == auth.activity_types)
        for key, value in (("purposeForAuthorization", auth.purposes), ("oimp", auth.oimp_authorized)):
            put(key, value, _same_text(value))
        if auth.first_transfer_definition is not None or "firstTransferDefinition" not in native:
            put("firstTransferDefinition", auth.first_transfer_definition,
                _same_text(auth.first_transfer_definition))
