"""Writing one row of the AEF actions export: the registry's saved cells kept where they still hold."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from adapters.undp_ncr._aef_table import (
    _AEF_WRITE_TYPES,
    _NA,
    AEF_ACTION_TYPES,
    _aef_date,
    _aef_party,
    _aef_unit,
)
from adapters.undp_ncr._rules import (
    TRANSFER_LIKE,
)
from adapters.undp_ncr._values import (
    _Bad,
    _number,
    _safe_party,
    _serial,
    _year,
)
from standards import (
    Action,
    ActionType,
)


class _AefCells:
    """One AEF row being written: the cells saved from the registry's own row are kept wherever they
    still mean the canonical value; the others are written anew (``NA`` for no value)."""

    def __init__(self, native: dict[str, str]) -> None:
        self.native = native
        self.cells = dict(native)

    def put(self, key: str, value: str | None, same: Callable[[str], bool]) -> None:
        old = self.native.get(key)
        if old is not None:
            try:
                if same(old):
                    return
            except (_Bad, ValueError):
                pass
        self.cells[key] = "NA" if value is None else value


def _update_action_type(native: dict[str, str], action: Action) -> None:
    """The saved actionType, unless it no longer names the action's type."""
    kind = AEF_ACTION_TYPES.get(re.sub(r"[\s_-]", "", native.get("actionType", "")).casefold())
    if kind == action.action_type:
        return
    if action.action_type is ActionType.TRANSFER and action.acquiring_party is not None:
        native["actionType"] = "crossBoarderTransfer"
    elif action.action_type in _AEF_WRITE_TYPES:
        native["actionType"] = _AEF_WRITE_TYPES[action.action_type]
    else:
        native["actionType"] = action.action_type.value


def _put_block(row: _AefCells, action: Action, serial: str | None, first: int, last: int,
               quantity: Decimal) -> None:
    """The block's columns: first and last unit (as serials when the block has one), amount, vintage, time."""
    native, cells, put = row.native, row.cells, row.put
    put("creditBlockStartId", str(first), lambda old: _aef_unit(old, "creditBlockStartId")[0] == first)
    put("creditBlockEndId", str(last), lambda old: _aef_unit(old, "creditBlockEndId")[0] == last)
    if serial is not None and "creditBlockStartId" not in native:
        cells["creditBlockStartId"] = str(_serial(serial, "serial").serial.with_range(first, first))
        cells["creditBlockEndId"] = str(_serial(serial, "serial").serial.with_range(last, last))
    put("creditAmount", format(quantity, "f"), lambda old: _number(old.replace(",", ""), "creditAmount")
        == quantity)
    put("vintage", None if action.vintage is None else str(action.vintage),
        lambda old: (None if old.strip() in _NA else _year(old, "vintage")) == action.vintage)
    put("actionTime", action.date.date().isoformat(), lambda old: _aef_date(old, "actionTime")
        == action.date.date())


def _party_same(value: str | None) -> Callable[[str], bool]:
    return lambda old: _aef_party(old, "firstTransferingParty") == value


def _put_parties(row: _AefCells, action: Action) -> None:
    """The parties, the using entity, the authorization id, the metric and the cooperative approach."""
    native, put = row.native, row.put
    put("firstTransferingParty", action.first_transferring_party, _party_same(action.first_transferring_party))
    if action.action_type in TRANSFER_LIKE or "transferingParty" not in native:
        put("transferingParty", action.transferring_party, _party_same(action.transferring_party))
    put("aquiringParty", action.acquiring_party, _party_same(action.acquiring_party))
    using = action.using_party or action.using_entity
    put("actionBy", using, lambda old: (None if old.strip() in _NA else old.strip()) in (
        action.using_entity, _safe_party(old) and action.using_party))
    put("authorizationId", action.authorization_id, lambda old: (None if old.strip() in _NA else old.strip())
        == action.authorization_id)
    if action.metric is not None:
        put("metric", "tCO2" if action.metric.value == "GHG" else "non-GHG",
            lambda old: old.casefold() in (("tco2", "tco2e", "tco2eq", "ghg") if action.metric is not None
                                           and action.metric.value == "GHG" else ("non-ghg",)))
    if action.cooperative_approach is not None and not re.fullmatch(
            rf"{re.escape(action.cooperative_approach)}|Article 6\.2", native.get("cooperativeApproach", "")):
        row.cells["cooperativeApproach"] = action.cooperative_approach
