"""Natural keys of canonical records, and the columns the view filters and sweeps on.

Two registries reporting the same thing produce the same key, whatever their formats:

* a **unit block**: its *series* (everything that identifies a unit but its number: an ITMO's cooperative
  approach, Party registry, first transferring Party and vintage; a crediting programme's serial scheme and
  series from the serial catalogue; else registry, unit type, project and vintage) and its first and last
  number;
* a **project**: the crediting programme (``registry``) and its project id; a project that names its origin
  (``origin_registry``, ``origin_project_id``: moved between registries) takes the origin's key;
* an **issuance**: the issued block (a block is issued once);
* any other **action**: its type, the block and the message that carried it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from standards.errors import CarbonlinkError
from standards.itmo import BlockError, InvalidItmoId, ItmoBlock
from standards.model import Action, ActionType, Project, UnitBlock
from standards.serials import default_catalogue

KINDS = ("projects", "units", "issuances", "actions")
SEP = "\x1f"


@dataclass(frozen=True, slots=True)
class Identity:
    """What a block of units is, across registries: series and number range."""

    series: str
    first: int
    last: int


@dataclass(frozen=True, slots=True)
class Indexed:
    """One canonical record with its natural key and the view's filter columns."""

    kind: str
    key: str
    record: Project | UnitBlock | Action
    vintage: int | None = None
    status: str | None = None
    action_type: str | None = None
    year: int | None = None
    identity: Identity | None = None


def _itmo(block: ItmoBlock) -> Identity:
    series = json.dumps(["itmo", block.cooperative_approach, block.registry, block.first_transferring_party,
                         block.vintage])
    return Identity(series, block.first, block.last)


def unit_identity(unit: UnitBlock) -> Identity | None:
    """The identity of a canonical unit block, or None when it names no numbers."""
    if unit.itmo_reference and ".." in unit.itmo_reference:
        try:
            return _itmo(ItmoBlock.from_ids(*unit.itmo_reference.split("..", 1)))
        except (InvalidItmoId, BlockError, TypeError):
            pass
    if unit.serial:
        try:
            serial = default_catalogue().parse(unit.serial.strip())
            return Identity(json.dumps(["serial", *serial.series]), serial.first, serial.last)
        except CarbonlinkError:
            pass
    if unit.first_id is not None and unit.last_id is not None:
        registry = unit.extra.get("series_registry", unit.registry)
        series = json.dumps(["range", registry, unit.unit_type, unit.project_id, unit.vintage])
        return Identity(series, unit.first_id, unit.last_id)
    return None


def action_identity(action: Action) -> Identity | None:
    try:
        block = action.itmo_block()
    except (BlockError, ValueError):
        block = None
    if block is not None:
        return _itmo(block)
    return unit_identity(action.units) if action.units is not None else None


def _range_key(identity: Identity | None, fallback: str) -> str:
    if identity is None:
        return f"~{SEP}{fallback}"
    return f"{identity.series}{SEP}{identity.first:020d}{SEP}{identity.last:020d}"


def index(kind: str, record: Any, position: str) -> Indexed:
    """The key and columns of one record of ``kind``; ``position`` keys a record that has no identity."""
    if kind == "projects":
        assert isinstance(record, Project)
        programme = record.origin_registry or record.registry or ""
        project_id = record.origin_project_id or record.project_id
        return Indexed(kind, f"{programme}{SEP}{project_id}", record,
                       status=record.status, year=record.status_date.year if record.status_date else None)
    if kind == "units":
        assert isinstance(record, UnitBlock)
        identity = unit_identity(record)
        return Indexed(kind, _range_key(identity, position), record, vintage=record.vintage,
                       status=record.status.value if record.status else None,
                       year=record.status_date.year if record.status_date else None, identity=identity)
    assert isinstance(record, Action)
    identity = action_identity(record)
    vintage = record.vintage if record.vintage is not None else (record.units.vintage if record.units else None)
    key = _range_key(identity, position)
    if record.action_type is not ActionType.ISSUANCE:
        key = f"{record.action_type.value}{SEP}{key}{SEP}{record.message_id or record.date.isoformat()}"
    return Indexed(kind, key, record, vintage=vintage, action_type=record.action_type.value,
                   year=record.date.year, identity=identity)


def records_of(kind: str, document: Any) -> list[Any]:
    """The records of ``kind`` in a canonical document (issuances and actions are both actions)."""
    if kind == "projects":
        return list(document.projects)
    if kind == "units":
        return list(document.units)
    actions = list(document.actions)
    if kind == "issuances":
        return [a for a in actions if a.action_type is ActionType.ISSUANCE]
    return [a for a in actions if a.action_type is not ActionType.ISSUANCE]
