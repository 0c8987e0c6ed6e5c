"""The registry's entity JSON (projects, credit blocks, transactions) read into canonical records."""

from __future__ import annotations

from typing import Any

from adapters.undp_ncr._aef_export import _AefExport
from adapters.undp_ncr._rules import (
    BLOCK_STATUS,
    CROSS_BORDER,
    FORMAT,
    R_CODE,
    R_COUNTRY,
    R_DUPLICATE,
    R_OVERLAP,
    R_PARTY,
    R_PARTY_PLACEHOLDER,
    R_SERIAL_QUANTITY,
    R_SHAPE,
    R_TYPE,
    R_VINTAGE,
    SCHEME,
    TRANSACTION_STATUS,
    TRANSACTION_TYPES,
    VOLUNTARY,
)
from adapters.undp_ncr._values import (
    SerialInfo,
    _Bad,
    _Context,
    _epoch,
    _kind,
    _number,
    _opt_text,
    _require,
    _result,
    _serial,
    _text,
    _year,
)
from standards import (
    Action,
    ActionType,
    CanonicalDocument,
    FormatCodec,
    Location,
    Metric,
    ParseResult,
    Project,
    UnitBlock,
    UnitStatus,
    UnknownParty,
    json_pointer,
    to_alpha3,
)
from standards.serials import InvalidSerial, Serial, parse_serial


class _EntityReader(_AefExport, FormatCodec):
    """The registry's entity JSON (projects, credit blocks, transactions) read into canonical records with findings."""

    def parse_json(self, raw: Any) -> ParseResult:
        ctx = _Context(self.profile)
        groups = self._groups(raw, ctx)
        document = CanonicalDocument()
        if groups is None:
            return ParseResult(document, ctx.findings)
        for index, record in enumerate(groups["projects"]):
            project = self._project(record, ["projects", index], ctx)
            if project is not None:
                document.projects.append(project)
        for index, record in enumerate(groups["creditBlocks"]):
            unit = self._block(record, ["creditBlocks", index], ctx)
            if unit is not None:
                document.units.append(unit)
        for index, record in enumerate(groups["transactions"]):
            action = self._transaction(record, ["transactions", index], ctx)
            if action is not None:
                document.actions.append(action)
        self._cross_checks(groups, ctx)
        return _result(document, ctx.findings)

    def _groups(self, raw: Any, ctx: _Context) -> dict[str, list[Any]] | None:
        groups: dict[str, list[Any]] = {"projects": [], "creditBlocks": [], "transactions": []}
        if isinstance(raw, dict) and isinstance(raw.get("data"), list) and not (set(raw) & set(groups)):
            raw = raw["data"]
        if isinstance(raw, dict):
            unknown = sorted(set(raw) - set(groups))
            if unknown or not raw:
                ctx.findings.append(R_SHAPE.finding(
                    f"the JSON object has {', '.join(unknown) or 'no keys'}; expected creditBlocks, transactions "
                    "and/or projects", Location(pointer="")))
                return None
            for key, value in raw.items():
                if not isinstance(value, list):
                    ctx.findings.append(R_SHAPE.finding(f"{key} must be a list of records",
                                                        Location(pointer=json_pointer([key]))))
                    return None
                groups[key] = value
            return groups
        if not isinstance(raw, list):
            ctx.findings.append(R_SHAPE.finding(
                "the JSON must be an object of record lists or a list of records", Location(pointer="")))
            return None
        for index, record in enumerate(raw):
            kind = _kind(record)
            if kind is None:
                ctx.findings.append(R_SHAPE.finding(
                    "this is no credit block (creditBlockId), transaction (recieverId) or project (refId)",
                    Location(pointer=json_pointer([index]))))
                return None
            groups[kind].append(record)
        return groups

    def _project(self, record: Any, pointer: list[str | int], ctx: _Context) -> Project | None:
        if not ctx.is_object(record, "a project", pointer):
            return None
        return ctx.attempt(lambda: self._project_of(record, ctx), pointer)

    @staticmethod
    def _project_of(record: dict[str, Any], ctx: _Context) -> Project:
        _require(record, ("refId", "title"), "project")
        authorized = record.get("projectAuthorizationTime")
        project = Project(
            registry=FORMAT, project_id=_text(record["refId"], "refId"), name=_text(record["title"], "title"),
            developer=None if record.get("companyId") is None else _text(record["companyId"], "companyId"),
            sector=_opt_text(record, "sector"), project_type=_opt_text(record, "sectoralScope"),
            status=_opt_text(record, "projectProposalStage"),
            status_date=None if authorized is None else _epoch(authorized, "projectAuthorizationTime").date(),
            extra={"undp": dict(record)})
        serial = record.get("serialNumber")
        if record.get("authorizationId") is not None:
            ctx.authorizations[project.project_id] = _text(record["authorizationId"], "authorizationId")
        if serial is not None and not isinstance(serial, str):
            raise _Bad(R_TYPE, "serialNumber", "serialNumber must be text")
        return project

    def _block(self, record: Any, pointer: list[str | int], ctx: _Context) -> UnitBlock | None:
        if not ctx.is_object(record, "a credit block", pointer):
            return None
        read = ctx.attempt(lambda: self._block_of(record), pointer)
        if read is None:
            return None
        unit, info = read
        self._placeholder(info, pointer, ctx)
        return unit

    @staticmethod
    def _block_of(record: dict[str, Any]) -> tuple[UnitBlock, SerialInfo]:
        _require(record, ("creditBlockId", "serialNumber", "creditAmount", "ownerCompanyId", "projectRefId"),
                 "credit block")
        info = _serial(record["serialNumber"], "serialNumber")
        amount = _number(record["creditAmount"], "creditAmount")
        if amount != info.serial.quantity:
            raise _Bad(R_SERIAL_QUANTITY, "creditAmount",
                       f"creditAmount is {record['creditAmount']} but serial {info.serial} covers "
                       f"{info.serial.quantity} credits ({info.serial.last} - {info.serial.first} + 1)")
        vintage = info.serial.vintage
        if record.get("vintage") is not None and _year(record["vintage"], "vintage") != vintage:
            raise _Bad(R_VINTAGE, "vintage", f"vintage is {record['vintage']} but serial {info.serial} is of "
                                             f"vintage {vintage}")
        status = None
        if record.get("txType") is not None:
            status = BLOCK_STATUS.get(str(record["txType"]))
            if status is None:
                raise _Bad(R_CODE, "txType", f"txType {record['txType']!r} is not one of "
                                             f"{', '.join(BLOCK_STATUS)}")
        tx_time = record.get("txTime")
        unit = UnitBlock(
            serial=str(info.serial), first_id=info.serial.first,
            last_id=info.serial.last, quantity=amount, vintage=vintage, status=status,
            status_date=None if tx_time is None else _epoch(tx_time, "txTime").date(),
            project_id=_text(record["projectRefId"], "projectRefId"), country=info.originating,
            owner=_text(record["ownerCompanyId"], "ownerCompanyId"), itmo_reference=str(info.serial),
            extra={"undp": dict(record)})
        return unit, info

    def _placeholder(self, info: SerialInfo, pointer: list[str | int], ctx: _Context) -> None:
        if info.placeholder:
            ctx.findings.append(R_PARTY_PLACEHOLDER.finding(
                f"serial {info.serial} names the Party 'XX', the registry's unconfigured placeholder; the first "
                "transferring Party is left empty", Location(json_pointer([*pointer, "serialNumber"]))))

    def transaction_action(self, record: dict[str, Any], ctx: _Context) -> Action:
        """Map one CreditTransactionsEntity record (raises :class:`_Bad`)."""
        _require(record, ("id", "serialNumber", "amount", "createTime", "status"), "transaction")
        info = _serial(record["serialNumber"], "serialNumber")
        amount = _number(record["amount"], "amount")
        if amount > info.serial.quantity:
            raise _Bad(R_SERIAL_QUANTITY, "amount", f"amount {record['amount']} is more than the "
                                                    f"{info.serial.quantity} credits of block {info.serial}")
        status_text = str(record["status"])
        if status_text not in TRANSACTION_STATUS:
            raise _Bad(R_CODE, "status", f"status {status_text!r} is not one of {', '.join(TRANSACTION_STATUS)}")
        kind = record.get("type")
        if kind is not None and kind not in TRANSACTION_TYPES:
            raise _Bad(R_CODE, "type", f"type {kind!r} is not one of {', '.join(TRANSACTION_TYPES)}")
        retirement = record.get("retirementType")
        acquiring = None
        if retirement == CROSS_BORDER:
            action_type = ActionType.TRANSFER
            if not record.get("country"):
                raise _Bad(R_COUNTRY, "country", "a cross-border retirement must name the acquiring country")
            try:
                acquiring = to_alpha3(_text(record["country"], "country"))[0]
            except UnknownParty as exc:
                raise _Bad(R_PARTY, "country", f"country {record['country']!r} is no known country") from exc
        elif retirement == VOLUNTARY or (retirement is None and kind == "Retired"):
            action_type = ActionType.VOLUNTARY_CANCELLATION
        elif retirement is not None:
            raise _Bad(R_CODE, "retirementType", f"retirementType {retirement!r} is not {CROSS_BORDER!r} or "
                                                 f"{VOLUNTARY!r}")
        else:
            action_type = ActionType.ISSUANCE if kind == "Issued" else ActionType.TRANSFER
        status = TRANSACTION_STATUS[status_text]
        if status is None:
            status = UnitStatus.TRANSFERRED if action_type is ActionType.TRANSFER else (
                UnitStatus.ISSUED if action_type is ActionType.ISSUANCE else UnitStatus.RETIRED)
        whole = amount == info.serial.quantity or amount != amount.to_integral_value()
        first = info.serial.first if whole else info.serial.last - int(amount) + 1
        project = record.get("projectRefId")
        project_id = info.project if project is None else _text(project, "projectRefId")
        units = UnitBlock(
            serial=str(info.serial), first_id=info.serial.first, last_id=info.serial.last,
            quantity=amount, vintage=info.serial.vintage, status=status, project_id=project_id,
            country=info.originating, itmo_reference=str(info.serial),
            owner=None if record.get("recieverId") is None else _text(record["recieverId"], "recieverId"),
            beneficiary=_opt_text(record, "organizationName"))
        profile = ctx.profile
        return Action(
            action_type=action_type, date=_epoch(record["createTime"], "createTime"),
            message_id=_text(record["id"], "id"), quantity=amount, units=units,
            cooperative_approach=info.cooperative_approach, first_transferring_party=info.first_transferring,
            registry=profile.registry_id(info.originating), mitigation_type=profile.mitigation_type,
            metric=Metric.GHG, first_id=first, last_id=info.serial.last, vintage=info.serial.vintage,
            acquiring_party=acquiring,
            authorization_id=ctx.authorizations.get(project_id), additional_information=_opt_text(record, "remarks"),
            extra={"undp": dict(record)})

    def _transaction(self, record: Any, pointer: list[str | int], ctx: _Context) -> Action | None:
        if not ctx.is_object(record, "a transaction", pointer):
            return None
        action = ctx.attempt(lambda: self.transaction_action(record, ctx), pointer)
        if action is None:
            return None
        self._placeholder(_serial(record["serialNumber"], "serialNumber"), pointer, ctx)
        return action

    def _cross_checks(self, groups: dict[str, list[Any]], ctx: _Context) -> None:
        for group, key in (("creditBlocks", "creditBlockId"), ("transactions", "id"), ("projects", "refId")):
            seen: dict[str, int] = {}
            for index, record in enumerate(groups[group]):
                if not isinstance(record, dict) or record.get(key) is None:
                    continue
                ident = str(record[key])
                if ident in seen:
                    ctx.findings.append(R_DUPLICATE.finding(
                        f"{key} {ident} is used again (first at {group}[{seen[ident]}])",
                        Location(json_pointer([group, index, key]))))
                else:
                    seen[ident] = index
        serials: list[tuple[int, Serial]] = []
        for index, record in enumerate(groups["creditBlocks"]):
            text = record.get("serialNumber") if isinstance(record, dict) else None
            try:
                serial = parse_serial(text, SCHEME) if isinstance(text, str) else None
            except InvalidSerial:
                serial = None
            if serial is not None:
                serials.append((index, serial))
        # one sorted sweep per series: n log n, whatever the number of blocks
        serials.sort(key=lambda pair: (pair[1].series, pair[1].first, pair[0]))
        reach: tuple[int, Serial] | None = None  # the block reaching furthest so far in this series
        for index, serial in serials:
            if reach is not None and reach[1].series == serial.series and serial.first <= reach[1].last:
                ctx.findings.append(R_OVERLAP.finding(
                    f"block {serial} overlaps block {reach[1]} (creditBlocks[{reach[0]}])",
                    Location(json_pointer(["creditBlocks", index, "serialNumber"]))))
            if reach is None or reach[1].series != serial.series or serial.last > reach[1].last:
                reach = (index, serial)
