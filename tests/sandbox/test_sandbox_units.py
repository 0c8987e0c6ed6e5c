"""Block identity and arithmetic (no HTTP): what an action names, carving and merging through the
standards' ITMO and serial blocks, seed specs, and the direction of each action kind."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.sandbox import ledger
from gateway.sandbox.errors import SeedError, UnitsUnidentified
from gateway.sandbox.units import (
    PENDING,
    Block,
    itmo_units,
    merge_all,
    parse_hold_spec,
    range_units,
    serial_units,
    units_of,
)
from standards.itmo import ItmoBlock
from standards.model import Action, ActionType, UnitBlock

NOW = datetime(2024, 1, 1, tzinfo=UTC)


def _action(kind: ActionType = ActionType.TRANSFER, **fields: Any) -> Action:
    return Action(action_type=kind, date=NOW, **fields)


def _itmo(first: int, last: int) -> Block:
    return Block.of(itmo_units(ItmoBlock("CA0001", "GHA01", "GHA", 2023, first, last)), "a")


def test_an_action_names_its_itmo_block_first() -> None:
    action = _action(cooperative_approach="CA0001", registry="GHA01", first_transferring_party="GHA", vintage=2023,
                     first_id=1, last_id=20, units=UnitBlock(registry="GS", first_id=4501, last_id=4520))
    units = units_of(action)
    assert units.kind == "itmo" and (units.first, units.last, units.quantity) == (1, 20, 20)
    assert units.label() == "CA0001-GHA01-GHA-1-2023..CA0001-GHA01-GHA-20-2023"


def test_an_action_without_itmo_elements_falls_back_to_serial_then_range() -> None:
    serial = units_of(_action(units=UnitBlock(serial="ACR-US-192-2010-203-1-5000")))
    assert serial.kind == "serial" and serial.quantity == 5000 and serial.label() == "ACR-US-192-2010-203-1-5000"
    plain = units_of(_action(units=UnitBlock(registry="CDM", unit_type="CER", project_id="1234", first_id=7,
                                             last_id=9)))
    assert plain.kind == "range" and plain.label() == "CDM CER project 1234 7-9"


@pytest.mark.parametrize("action", [
    _action(),
    _action(units=UnitBlock(registry="CDM")),
    _action(units=UnitBlock(serial="nothing like a serial")),
    _action(units=UnitBlock(first_id=1, last_id=5)),  # no registry: cannot tell whose units
    _action(cooperative_approach="CA0001", registry="GHA01", first_transferring_party="GHA", vintage=2023,
            first_id=9, last_id=1),
])
def test_unidentifiable_units_are_coded(action: Action) -> None:
    with pytest.raises(UnitsUnidentified) as exc:
        units_of(action)
    assert exc.value.code == "SANDBOX.UNKNOWN_UNITS"


def test_series_do_not_mix() -> None:
    a = _itmo(1, 100)
    other_vintage = Block.of(itmo_units(ItmoBlock("CA0001", "GHA01", "GHA", 2024, 1, 100)), "a")
    assert not a.overlaps(other_vintage) and a.overlaps(_itmo(100, 200))
    assert merge_all([a, other_vintage]) == sorted([a, other_vintage], key=lambda b: b.series)


@given(st.integers(1, 10_000), st.integers(0, 10_000), st.data())
def test_carving_then_merging_gives_the_block_back(first: int, length: int, data: st.DataObject) -> None:
    block = _itmo(first, first + length)
    lo = data.draw(st.integers(block.first, block.last))
    hi = data.draw(st.integers(lo, block.last))
    rest, piece = block.carve(lo, hi)
    assert (piece.first, piece.last) == (lo, hi)
    assert sum(b.quantity for b in rest) + piece.quantity == block.quantity
    assert all(not b.overlaps(piece) for b in rest)
    assert merge_all([*rest, piece]) == [block]


@given(st.integers(1, 4000), st.integers(1, 4000))
def test_serial_blocks_carve_with_their_serial_text(a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    block = Block.of(serial_units("ACR-US-192-2010-203-1-5000"), "a")
    rest, piece = block.carve(lo, hi)
    assert piece.label() == f"ACR-US-192-2010-203-{lo}-{hi}"
    assert merge_all([*rest, piece]) == [block]


def test_pending_blocks_do_not_merge_with_held_ones() -> None:
    held = _itmo(1, 10)
    pending = Block(held.kind, held.series, 11, 20, 2023, "a", PENDING, "m1")
    assert merge_all([held, pending]) == [held, pending]
    assert merge_all([held, _itmo(11, 20)]) == [_itmo(1, 20)]


def test_range_units_refuse_a_reversed_range() -> None:
    with pytest.raises(UnitsUnidentified):
        range_units("CDM", 5, 1)


@pytest.mark.parametrize(("spec", "label", "account"), [
    ("CA0001-CHE01-CHE-1-2023..CA0001-CHE01-CHE-10-2023@treasury", "CA0001-CHE01-CHE-1-2023..CA0001-CHE01-CHE-10-2023",
     "treasury"),
    ("ACR-US-192-2010-203-1-5000", "ACR-US-192-2010-203-1-5000", None),
])
def test_hold_specs(spec: str, label: str, account: str | None) -> None:
    units, got = parse_hold_spec(spec)
    assert units.label() == label and got == account


@pytest.mark.parametrize("spec", ["", "@acct", "CA0001-CHE01-CHE-1-2023..CA0001-CHE01-GHA-10-2023",
                                  "CA0001-CHE01-CHE-1-2023..", "VCS-?", "x" * 600])
def test_bad_hold_specs(spec: str) -> None:
    with pytest.raises(SeedError):
        parse_hold_spec(spec)


@pytest.mark.parametrize(("kind", "fields", "party", "mode", "expected"), [
    (ActionType.FIRST_TRANSFER, {"acquiring_party": "CHE"}, "CHE", "inbound", "credit"),
    (ActionType.FIRST_TRANSFER, {"first_transferring_party": "GHA", "acquiring_party": "CHE"}, "GHA", "inbound",
     "debit"),
    (ActionType.FIRST_TRANSFER, {"first_transferring_party": "GHA", "acquiring_party": "CHE"}, "GHA", "outgoing",
     "reserve"),
    (ActionType.TRANSFER, {"transferring_party": "CHE", "acquiring_party": "JPN"}, "CHE", "inbound", "debit"),
    (ActionType.ACQUISITION, {"acquiring_party": "CHE"}, "CHE", "inbound", "credit"),
    (ActionType.TRANSFER, {}, None, "inbound", "credit"),
    (ActionType.TRANSFER, {}, None, "outgoing", "reserve"),
    (ActionType.RETIREMENT, {}, "CHE", "inbound", "final"),
    (ActionType.USE, {"acquiring_party": "JPN"}, "CHE", "inbound", "final"),
    (ActionType.VOLUNTARY_CANCELLATION, {}, None, "inbound", "final"),
])
def test_direction(kind: ActionType, fields: dict[str, Any], party: str | None, mode: ledger.Mode,
                   expected: str) -> None:
    assert ledger.direction(_action(kind, **fields), 0, party, mode) == expected


def test_plan_reports_every_refused_action_and_applies_nothing() -> None:
    held = _itmo(1, 100)
    ok = _action(ActionType.RETIREMENT, cooperative_approach="CA0001", registry="GHA01",
                 first_transferring_party="GHA", vintage=2023, first_id=1, last_id=10)
    actions = [ok, _action(ActionType.AUTHORIZATION), _action(ActionType.RETIREMENT)]
    result = ledger.plan(actions, party="CHE", default_account="in", mode="inbound", ref="m",
                         load=lambda series: [held])
    assert [(f.rule, f.location.pointer) for f in result.findings] == [
        ("SANDBOX.UNSUPPORTED_KIND", "/actions/1"), ("SANDBOX.UNKNOWN_UNITS", "/actions/2")]
    assert not result.accepted and result.after == []


def test_the_sandbox_rules_are_catalogued() -> None:
    ids = {rule.id for rule in ledger.CATALOGUE}
    assert ids == {"SANDBOX.MALFORMED", "SANDBOX.UNSUPPORTED_KIND", "SANDBOX.UNKNOWN_UNITS", "SANDBOX.UNITS_NOT_HELD",
                   "SANDBOX.OVERLAPPING_BLOCKS", "SANDBOX.WRONG_REGISTRY", "SANDBOX.QUANTITY_MISMATCH",
                   "SANDBOX.UNKNOWN_MESSAGE", "SANDBOX.NOTICE_STATE", "SANDBOX.MRV_REFUSED"}
    assert all(rule.reference and rule.title for rule in ledger.CATALOGUE)


@pytest.mark.parametrize(("units", "stated", "refused"), [
    (UnitBlock(serial="ACR-US-192-2010-203-1-5000", quantity=Decimal(5000)), None, False),
    (UnitBlock(serial="ACR-US-192-2010-203-1-5000", quantity=Decimal(4999)), None, True),
    (UnitBlock(serial="ACR-US-192-2010-203-1-5000"), Decimal(12), True),
    (UnitBlock(serial="VU-ITMO-11-356-2022-0-27-35", quantity=Decimal(3)), None, False),  # UNDP v1: not a block size
    (UnitBlock(registry="CDM", first_id=1, last_id=10, quantity=Decimal(10)), Decimal(10), False),
    (UnitBlock(registry="CDM", first_id=1, last_id=10), Decimal("10.5"), True),
])
def test_quantity_check_by_kind(units: UnitBlock, stated: Decimal | None, refused: bool) -> None:
    action = _action(ActionType.RETIREMENT, units=units, quantity=stated)
    result = ledger.plan([action], party=None, default_account="in", mode="inbound", ref="m",
                         load=lambda series: [Block.of(units_of(action), "in")])
    assert [f.rule for f in result.findings] == (["SANDBOX.QUANTITY_MISMATCH"] if refused else [])
