"""Writing canonical actions and answers as DES messages, listing what DES cannot hold."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel

from adapters.des_xml._nodes import _party
from adapters.des_xml._rules import _TRANSACTION_ID_RE
from standards import (
    Action,
    ActionType,
    Loss,
    UnitBlock,
    UnitStatus,
    alpha2_or_none,
)
from standards.des.codelists import CodeLists
from standards.des.messages import (
    Message,
    build_element,
)
from standards.des.schema import lxml_schema

#: Canonical fields a DES proposal holds (the rest of a record with a value is a loss).
_ACTION_FIELDS = {"action_type", "subtype", "date", "message_id", "transferring_party", "acquiring_party",
                  "quantity", "units", "extra"}


_UNIT_FIELDS = {"registry", "first_id", "last_id", "quantity", "unit_type", "project_id", "country",
                "status", "extra"}


_ANSWER_FIELDS = {"status", "status_date", "status_reason", "extra"}


_ITMO_FIELDS = ("cooperative_approach", "authorization_id", "first_transferring_party", "first_id", "last_id",
                "metric", "gwp_values", "mitigation_type", "oimp_purpose", "using_party", "ndc_year")


def _mapping(value: Any) -> dict[str, Any]:
    """A copy of ``value`` when it is a dict (values kept in ``extra`` may have been edited), else {}."""
    return dict(value) if isinstance(value, dict) else {}


def _unwritable(message: Message) -> str | None:
    """Why a message cannot be written as schema-valid DES, or None."""
    try:
        element = build_element(message)
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        return f"{type(exc).__name__}: {exc}"
    schema = lxml_schema()
    if not schema.validate(element):
        log: Any = schema.error_log  # the stubs do not declare last_error
        entry = log.last_error
        return str(entry.message) if entry is not None else "schema"
    return None


def _set_fields(record: BaseModel) -> Iterable[str]:
    """Fields given a non-empty value (defaults are all empty, so only explicitly set ones count)."""
    for name in record.model_fields_set:
        value = getattr(record, name)
        if value is None or value == {} or value == [] or value == "":
            continue
        yield name


class _Writer:
    """Collects DES messages and losses while a canonical document is serialized."""

    def __init__(self, codes: CodeLists) -> None:
        self.codes = codes
        self._proposals: dict[str, tuple[float, Message, Action, list[str]]] = {}
        self._answers: list[tuple[float, Message, list[str]]] = []
        self._losses: dict[tuple[str, str], list[str]] = {}

    def lose(self, field: str, records: list[str], reason: str) -> None:
        self._losses.setdefault((field, reason), []).extend(records)

    def losses(self) -> list[Loss]:
        return [Loss(field, tuple(ids), reason) for (field, reason), ids in sorted(self._losses.items())]

    def messages(self, check: Callable[[Message], str | None]) -> list[Message]:
        """The messages in source order; one that would break the schema, or that ``check`` (the reader's
        own rules, e.g. the code lists) refuses, is dropped and reported."""
        ordered = [(order, m, ids) for order, m, _a, ids in self._proposals.values()] + self._answers
        out = []
        for _order, message, ids in sorted(ordered, key=lambda item: item[0]):
            problem = _unwritable(message) or check(message)
            if problem is None:
                out.append(message)
            else:
                self.lose("actions" if message.type == "ProposalRequest" else "units", ids,
                          f"the DES values kept in extra are not valid DES ({problem})")
        return out

    # -- proposals
    def add_action(self, index: int, action: Action) -> None:
        record = f"/actions/{index}"
        des = _mapping(action.extra.get("des")) or None
        refusal = self._refusal(action)
        if refusal is not None:
            self.lose("actions", [record], refusal)
            return
        units = action.units
        assert units is not None and units.first_id is not None and units.last_id is not None
        saved_tx: dict[str, Any] = _mapping(des.get("transaction")) if des else {}
        saved_block: dict[str, Any] = _mapping(des.get("block")) if des else {}
        tx_type = self._transaction_type(action, saved_tx)
        assert tx_type is not None
        transferring = self._registry(action.transferring_party, saved_tx.get("transferringRegistryCode"))
        acquiring = self._registry(action.acquiring_party, saved_tx.get("acquiringRegistryCode"))
        if transferring is None or acquiring is None:
            self.lose("actions", [record], "DES needs the transferring and acquiring registries (alpha-2 Parties)")
            return
        block = self._block(units, saved_block)
        if block is None:
            self.lose("actions", [record], "DES needs the Kyoto commitment periods of the block "
                                           "(from the DES source or a vintage within a commitment period)")
            return
        if units.vintage is not None and "originalCommitPeriod" not in saved_block:
            self.lose("units.vintage", [record], "DES holds the commitment period, not the vintage year")
        self._note_losses(record, action, units)
        ident = str(action.message_id)
        existing = self._proposals.get(ident)
        if existing is not None:
            _order, message, first, ids = existing
            if (first.action_type, first.transferring_party, first.acquiring_party, first.date) != (
                    action.action_type, action.transferring_party, action.acquiring_party, action.date):
                self.lose("actions", [record], f"conflicts with the first action of transaction {ident}")
                return
            message.values["proposedTransaction"]["proposalUnitBlocks"].append(block)
            ids.append(record)
            return
        tx = {k: saved_tx[k] for k in ("suppTransactionType", "transferringRegistryAccountType",
                                       "transferringRegistryAccountIdentifier", "acquiringRegistryAccountType",
                                       "acquiringRegistryAccountIdentifier", "notificationIdentifier")
              if saved_tx.get(k) is not None}
        if tx.get("suppTransactionType") is not None and saved_tx.get("transactionType") != tx_type:
            del tx["suppTransactionType"]
        tx.update(transactionIdentifier=ident, transactionType=tx_type, transferringRegistryCode=transferring,
                  acquiringRegistryCode=acquiring, proposalUnitBlocks=[block])
        header: dict[str, Any] = _mapping(des.get("header")) if des else {}
        values = {"from": header.get("from", transferring), "to": header.get("to", "ITL"),
                  "majorVersion": header.get("majorVersion", 1), "minorVersion": header.get("minorVersion", 1),
                  "messageDateTime": action.date, "proposedTransaction": tx}
        order = float(des["messageIndex"]) if des and isinstance(des.get("messageIndex"), int) else 1e9 + index
        self._proposals[ident] = (order, Message("ProposalRequest", values), action, [record])

    def _refusal(self, action: Action) -> str | None:
        """Why an action cannot be a DES proposal at all, or None."""
        units = action.units
        itmo = [f for f in _ITMO_FIELDS if getattr(action, f) is not None]
        if units is not None and (units.itmo_reference or units.corresponding_adjustment):
            itmo.append("units.itmo_reference")
        if itmo or (units is not None and (units.unit_type or "").upper().startswith("ITMO")):
            return ("the action is on ITMOs (Article 6.2); DES carries Kyoto units only and carbonlink never "
                    "writes a Kyoto unit type for an ITMO")
        if units is None or units.first_id is None or units.last_id is None:
            return "DES needs the serial range of the block (units.first_id/last_id)"
        if units.first_id < 1 or units.last_id < units.first_id:
            return "DES needs a serial range with 1 <= first <= last"
        if self._unit_type(units, action) is None:
            return (f"unit type {units.unit_type!r} is not a Kyoto unit type (AAU, RMU, ERU, CER, tCER, lCER); "
                    "DES carries Kyoto units only")
        saved_tx = _mapping(_mapping(action.extra.get("des")).get("transaction"))
        if self._transaction_type(action, saved_tx) is None:
            return f"action type {action.action_type.value!r} has no DES transaction type"
        if not action.message_id or _TRANSACTION_ID_RE.match(action.message_id) is None:
            return "DES needs a transaction identifier (message_id: registry code + number, e.g. GB1000234)"
        return None

    def _unit_type(self, units: UnitBlock, action: Action) -> int | None:
        saved = _mapping(_mapping(action.extra.get("des")).get("block")).get("unitType")
        if units.unit_type is None:
            return saved if isinstance(saved, int) and self.codes.unit_type(saved) else None
        code = self.codes.unit_type_code(units.unit_type)
        if code == 0 and saved != 0:
            return None  # "non-Kyoto" only when the DES source said so
        return code

    def _transaction_type(self, action: Action, saved_tx: dict[str, Any]) -> int | None:
        saved = saved_tx.get("transactionType")
        if isinstance(saved, int):
            known = self.codes.transaction_type(saved)
            if known is not None and known.canonical == action.action_type.value:
                return saved
        if action.action_type is ActionType.TRANSFER and action.transferring_party is not None \
                and action.transferring_party == action.acquiring_party:
            return 10
        return self.codes.transaction_type_for(action.action_type.value)

    def _registry(self, party: str | None, saved: Any) -> str | None:
        if isinstance(saved, str) and (party is None or _party(saved, self.codes) == party):
            return saved
        return alpha2_or_none(party)

    def _block(self, units: UnitBlock, saved: dict[str, Any]) -> dict[str, Any] | None:
        original = saved.get("originalCommitPeriod")
        applicable = saved.get("applicableCommitPeriod")
        if original is None and units.vintage is not None:
            for code in (1, 2, 0, 3):
                period = self.codes.commitment_period(code)
                if period is not None and period[1] <= units.vintage <= period[2]:
                    original = applicable = code
                    break
        origin = self._registry(units.country, saved.get("originatingRegistryCode")) or units.registry
        if original is None or applicable is None or origin is None:
            return None
        block = dict(saved)
        unit_type = self.codes.unit_type_code(units.unit_type) if units.unit_type else saved.get("unitType")
        block.update(unitSerialBlockStart=units.first_id, unitSerialBlockEnd=units.last_id,
                     originatingRegistryCode=origin, unitType=unit_type, originalCommitPeriod=original,
                     applicableCommitPeriod=applicable)
        if units.project_id is not None and units.project_id.isdigit():
            block["projectIdentifier"] = int(units.project_id)
        else:
            block.pop("projectIdentifier", None)
        if block.get("suppUnitType") is not None and saved.get("unitType") != unit_type:
            del block["suppUnitType"]
        return block

    def _note_losses(self, record: str, action: Action, units: UnitBlock) -> None:
        for name in _set_fields(action):
            if name not in _ACTION_FIELDS:
                self.lose(f"actions.{name}", [record], "DES proposals have no such field")
        for name in _set_fields(units):
            if name not in _UNIT_FIELDS and name != "vintage":
                self.lose(f"units.{name}", [record], "DES unit blocks have no such field")
        if units.project_id is not None and not units.project_id.isdigit():
            self.lose("units.project_id", [record], "DES project identifiers are integers")
        if action.quantity is not None and action.quantity != units.range_length:
            self.lose("actions.quantity", [record], "DES derives the quantity from the serial range")
        if units.status not in (None, UnitStatus.PENDING):
            self.lose("units.status", [record], "a DES proposal is pending by definition")
        for key in action.extra:
            if key != "des":
                self.lose(f"extra.{key}", [record], "DES proposals have no such field")

    # -- answers
    def add_unit(self, index: int, unit: UnitBlock) -> None:
        record = f"/units/{index}"
        des = unit.extra.get("des")
        if not isinstance(des, dict) or des.get("message") != "NotificationRequest":
            self.lose("units", [record], "DES messages carry no holdings; only DES answers (NotificationRequest) "
                                         "are written from unit records")
            return
        header = _mapping(des.get("header"))
        values: dict[str, Any] = {"from": header.get("from"), "to": header.get("to"),
                                  "majorVersion": header.get("majorVersion"),
                                  "minorVersion": header.get("minorVersion"),
                                  "transactionIdentifier": des.get("transactionIdentifier"),
                                  "transactionStatus": des.get("transactionStatus"),
                                  "partyType": des.get("partyType"),
                                  "evaluationResult": des.get("evaluationResult") or []}
        if des.get("messageDateTime"):
            values["messageDateTime"] = des["messageDateTime"]
        if any(values[k] is None for k in ("from", "to", "majorVersion", "minorVersion",
                                           "transactionIdentifier", "transactionStatus", "partyType")):
            self.lose("units", [record], "the DES answer record is incomplete (header, transaction or status)")
            return
        for name in _set_fields(unit):
            if name not in _ANSWER_FIELDS:
                self.lose(f"units.{name}", [record], "DES answers have no such field")
        for key in unit.extra:
            if key != "des":
                self.lose(f"extra.{key}", [record], "DES answers have no such field")
        order = float(des["messageIndex"]) if isinstance(des.get("messageIndex"), int) else 2e9 + index
        self._answers.append((order, Message("NotificationRequest", values), [record]))
