"""The UNDP National Carbon Registry adapter: entity JSON and the AEF export, read and written."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
from pydantic import BaseModel

from adapters._streams import as_binary_stream
from adapters.protocol import ByteStream
from adapters.undp_ncr._entities import _EntityReader
from adapters.undp_ncr._profile import UndpProfile
from adapters.undp_ncr._rules import (
    BLOCK_FIELDS,
    BLOCK_STATUS,
    CROSS_BORDER,
    FORMAT,
    PROJECT_FIELDS,
    RULES,
    SCHEME,
    TRANSACTION_FIELDS,
    TRANSACTION_STATUS,
    UNCONFIGURED_PARTY,
    VOLUNTARY,
)
from adapters.undp_ncr._values import (
    _alpha2,
    _Context,
    _epoch_ms,
    _keep,
    _keep_number,
    _lost_fields,
    _native,
    _ordered,
    _put,
    _Refused,
    _safe_date,
    _safe_epoch,
    _safe_party,
)
from standards import (
    Action,
    ActionType,
    CanonicalDocument,
    Finding,
    InputTooLarge,
    Loss,
    Medium,
    ParseResult,
    Project,
    RecordKind,
    SerializeResult,
    UnitBlock,
    UnitStatus,
    UnknownFormat,
    iter_csv_records,
    load_json,
    max_input_bytes,
    read_csv_records,
)
from standards.serials import InvalidSerial, Serial, build_serial, default_catalogue, parse_serial


class UndpNcrAdapter(_EntityReader):
    """UNDP National Carbon Registry v2: entity JSON and the AEF actions CSV export."""

    name = FORMAT
    version = "1.0.0"
    description = ("UNDP National Carbon Registry v2 (Article 6 edition): credit blocks, transactions and "
                   "projects as entity JSON; the AEF actions export as CSV; ITMO-style block serials")
    reads = frozenset({RecordKind.UNIT_BLOCKS, RecordKind.TRANSFERS, RecordKind.RETIREMENTS,
                       RecordKind.ISSUANCES, RecordKind.ACTIONS, RecordKind.PROJECTS})
    writes = reads
    media = (Medium.JSON, Medium.CSV, Medium.XLSX)
    rules = RULES

    def __init__(self, profile: UndpProfile | None = None) -> None:
        self._profile = profile

    @property
    def profile(self) -> UndpProfile:
        """The deployment profile given, else the one of the adapter options in force."""
        return self._profile if self._profile is not None else UndpProfile.from_options()

    # ------------------------------------------------------------------ parse
    def parse(self, data: bytes, *, medium: Medium) -> ParseResult:
        self.check_medium(medium)
        if medium is Medium.CSV:
            return self.parse_csv(read_csv_records(data, what="UNDP AEF export"))
        if medium is Medium.XLSX:
            return self.parse_xlsx(data)
        limit = max_input_bytes()
        if len(data) > limit:
            raise InputTooLarge(f"UNDP registry JSON is {len(data)} bytes, over the limit of {limit} bytes")
        return self.parse_json(load_json(data, what="UNDP registry JSON"))









    # -------------------------------------------------------------- streaming
    def iter_records(self, stream: ByteStream, *, medium: Medium, findings: list[Finding] | None = None,
                     limit: int | None = None) -> Iterator[Action]:
        """Stream the AEF actions CSV export one canonical Action at a time.

        With a ``findings`` list, rows with errors are left out and their findings appended to it;
        without one, the first bad row raises :class:`~standards.errors.ValidationFailed`. At most
        ``limit`` bytes are read (default ``CARBONLINK_MAX_INPUT_BYTES``)."""
        self.check_medium(medium)
        if medium is not Medium.CSV:
            raise UnknownFormat("undp-ncr streams the CSV AEF export only; read JSON and XLSX with parse()")
        records = iter_csv_records(as_binary_stream(stream), what="UNDP AEF export", limit=limit)
        yield from self.iter_csv(records, findings=findings)

    # -------------------------------------------------------------- serialize
    def serialize(self, document: CanonicalDocument, *, medium: Medium) -> SerializeResult:
        self.check_medium(medium)
        if medium in (Medium.CSV, Medium.XLSX):
            return self.serialize_csv(document, medium)
        losses: dict[tuple[str, str], list[str]] = {}
        out: dict[str, list[dict[str, Any]]] = {"projects": [], "creditBlocks": [], "transactions": []}
        authorizations: dict[str, str] = {}
        writers: tuple[tuple[str, str, list[Any], Callable[[Any], dict[str, Any]]], ...] = (
            ("projects", "projects", list(document.projects), self._write_project),
            ("units", "creditBlocks", list(document.units), self._write_block),
            ("actions", "transactions", list(document.actions), self._write_transaction))
        for source, target, records, write in writers:
            for index, record in enumerate(records):
                pointer = f"/{source}/{index}"
                try:
                    native = write(record)
                except _Refused as exc:
                    losses.setdefault((source, str(exc)), []).append(pointer)
                    continue
                back = self._read_back(target, native, authorizations)
                if isinstance(back, str):
                    losses.setdefault((source, f"the record would not be a valid UNDP record: {back}"),
                                      []).append(pointer)
                    continue
                out[target].append(native)
                if target == "projects" and native.get("authorizationId") is not None:
                    authorizations[str(native["refId"])] = str(native["authorizationId"])
                for name in _lost_fields(record, back):
                    losses.setdefault((f"{source}.{name}", "the UNDP registry has no field for it"),
                                      []).append(pointer)
        for name in ("authorizations", "holdings", "authorized_entities"):
            if getattr(document, name):
                losses.setdefault((name, f"the UNDP registry entities hold no {name.replace('_', ' ')}"), []).extend(
                    f"/{name}/{i}" for i in range(len(getattr(document, name))))
        if document.submission is not None:
            losses.setdefault(("submission", "the UNDP registry entities hold no AEF submission header"),
                              []).append("/submission")
        body = {k: v for k, v in out.items() if v}
        try:
            data = orjson.dumps(body, option=orjson.OPT_INDENT_2)
        except TypeError:  # a kept native value orjson cannot write (an integer over 64 bits...)
            data = json.dumps(body, indent=2, ensure_ascii=False, default=str).encode("utf-8")
        return SerializeResult(data=data, medium=Medium.JSON,
                               losses=[Loss(f, tuple(ids), reason) for (f, reason), ids in sorted(losses.items())])

    def _read_back(self, target: str, native: dict[str, Any], authorizations: dict[str, str]) -> BaseModel | str:
        """Read a written record back (the canonical record it gives), or the first error as text."""
        ctx = _Context(self.profile, authorizations=authorizations)
        if target == "projects":
            result: BaseModel | None = self._project(native, [], ctx)
        elif target == "creditBlocks":
            result = self._block(native, [], ctx)
        else:
            result = self._transaction(native, [], ctx)
        errors = [f.message for f in ctx.findings if f.is_error]
        if result is None or errors:
            return errors[0] if errors else "unreadable"
        return result

    def _write_project(self, project: Project) -> dict[str, Any]:
        native = _native(project)
        native["refId"] = _keep(native, "refId", project.project_id, str)
        native["title"] = _keep(native, "title", project.name, str)
        if project.name is None:
            raise _Refused("the UNDP registry needs a project title")
        _put(native, "companyId", project.developer, str)
        _put(native, "sector", project.sector, str)
        _put(native, "sectoralScope", project.project_type, str)
        _put(native, "projectProposalStage", project.status, str)
        if project.status_date is None:
            native.pop("projectAuthorizationTime", None)
        elif "projectAuthorizationTime" not in native or _safe_date(native["projectAuthorizationTime"]) \
                != project.status_date:
            native["projectAuthorizationTime"] = _epoch_ms(datetime.combine(project.status_date, datetime.min.time(),
                                                                            UTC))
        return _ordered(native, PROJECT_FIELDS)

    def _write_block(self, unit: UnitBlock) -> dict[str, Any]:
        native = _native(unit)
        serial = self._serial_for(unit.serial, unit.first_id, unit.last_id, unit.project_id, unit.vintage,
                                  None, unit.country, None)
        if unit.owner is None or unit.project_id is None:
            raise _Refused("the UNDP registry needs the block's owner and project")
        native["serialNumber"] = _keep(native, "serialNumber", str(serial), str)
        native.setdefault("creditBlockId", "-".join(str(serial).split("-")[:5]))
        quantity = unit.quantity if unit.quantity is not None else Decimal(serial.quantity)
        native["creditAmount"] = _keep_number(native, "creditAmount", quantity)
        native["vintage"] = _keep(native, "vintage", serial.vintage, int)
        native["projectRefId"] = _keep(native, "projectRefId", unit.project_id, str)
        native["ownerCompanyId"] = _keep(native, "ownerCompanyId", unit.owner, str)
        if unit.status is not None:
            names = {v: k for k, v in BLOCK_STATUS.items()}
            if unit.status not in names:
                native.pop("txType", None)
            elif BLOCK_STATUS.get(str(native.get("txType"))) != unit.status:
                native["txType"] = names[unit.status]
        else:
            native.pop("txType", None)
        if unit.status_date is None:
            native.pop("txTime", None)
        elif _safe_date(native.get("txTime")) != unit.status_date:
            native["txTime"] = _epoch_ms(datetime.combine(unit.status_date, datetime.min.time(), UTC))
        return _ordered(native, BLOCK_FIELDS)

    def _write_transaction(self, action: Action) -> dict[str, Any]:
        units = action.units or UnitBlock()
        native = _native(action)
        if not action.message_id:
            raise _Refused("the UNDP registry needs a transaction id (message_id)")
        serial = self._serial_for(units.serial, units.first_id, units.last_id, units.project_id,
                                  units.vintage if units.vintage is not None else action.vintage,
                                  action.cooperative_approach, units.country, action.first_transferring_party)
        native["id"] = _keep(native, "id", action.message_id, str)
        native["serialNumber"] = _keep(native, "serialNumber", str(serial), str)
        quantity = action.quantity if action.quantity is not None else units.quantity
        native["amount"] = _keep_number(native, "amount", quantity if quantity is not None else
                                        Decimal(serial.quantity))
        if _safe_epoch(native.get("createTime")) != action.date:
            native["createTime"] = _epoch_ms(action.date)
        kind = action.action_type
        if kind is ActionType.TRANSFER and action.acquiring_party is not None:
            native["retirementType"] = CROSS_BORDER
            if native.get("country") is None or _safe_party(native["country"]) != action.acquiring_party:
                native["country"] = action.acquiring_party
        elif kind in (ActionType.VOLUNTARY_CANCELLATION, ActionType.RETIREMENT):
            if native.get("type") != "Retired" or native.get("retirementType") is not None:
                native["retirementType"] = VOLUNTARY
        elif kind is ActionType.ISSUANCE:
            native["type"] = "Issued"
            native.pop("retirementType", None)
        elif kind is ActionType.TRANSFER:
            native.pop("retirementType", None)
            if native.get("type") not in (None, "Transfered"):
                native["type"] = "Transfered"
        else:
            raise _Refused(f"the UNDP registry has no transaction for the action type {kind.value!r}")
        status = units.status
        if status is None or TRANSACTION_STATUS.get(str(native.get("status")), "?") not in (status, None):
            native["status"] = {UnitStatus.PENDING: "Pending", UnitStatus.REJECTED: "Rejected"}.get(
                status or UnitStatus.TRANSFERRED, "Completed")
        native.setdefault("status", "Completed")
        _put(native, "recieverId", units.owner, str)
        _put(native, "organizationName", units.beneficiary, str)
        _put(native, "remarks", action.additional_information, str)
        if units.project_id is not None:
            native["projectRefId"] = _keep(native, "projectRefId", units.project_id, str)
        return _ordered(native, TRANSACTION_FIELDS)

    def _serial_for(self, text: str | None, first: int | None, last: int | None, project: str | None,
                    vintage: int | None, approach: str | None, country: str | None,
                    first_party: str | None) -> Serial:
        """The block's UNDP serial: the native one if it is one, else built from the ITMO parts."""
        if text is not None:
            try:
                serial = parse_serial(text, SCHEME)
            except InvalidSerial:
                serial = None
            if serial is not None:
                if first is not None and last is not None and (first, last) != (serial.first, serial.last):
                    return serial.with_range(first, last)
                return serial
        parts = {"cooperative_approach": approach, "originating_party": _alpha2(country),
                 "first_transferring_party": _alpha2(first_party) or (UNCONFIGURED_PARTY if country else None),
                 "project": project, "first": first, "last": last, "vintage": vintage}
        if any(v is None for v in parts.values()):
            raise _Refused("the UNDP registry needs a UNDP block serial, or the ITMO parts to build one "
                           "(cooperative approach, originating Party, project, first and last unit, vintage)")
        try:
            return build_serial(default_catalogue().variant(SCHEME), parts)
        except InvalidSerial as exc:
            raise _Refused(f"the ITMO parts do not make a UNDP serial: {exc.message}") from exc


adapter = UndpNcrAdapter()
