"""The sandbox registry's read side: ``GET /read/{kind}?after=CURSOR&limit=N``, one page at a time.

Kinds: ``projects`` (seeded project records), ``units`` (held and pending blocks, then the blocks
retired, cancelled or used here, from the journal), ``issuances`` (units seeded here, the sandbox's
issuance) and ``actions`` (every action applied here, from the journal). A page is a canonical JSON
document (``carbonlink formats``: ``canonical``) signed like every sandbox answer; the cursor of the next
page is in the ``Carbonlink-Next-Cursor`` header (absent on the last page), the format in
``Carbonlink-Listing-Format``. Cursors are opaque, keyset-based (never offsets), so a page boundary does
not move when records are added before it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError

from gateway.sandbox.errors import SandboxError, SeedError
from gateway.sandbox.store import SandboxStore
from gateway.sandbox.units import HELD, Block, Units, parse_hold_spec
from standards.errors import CarbonlinkError
from standards.itmo import ItmoBlock
from standards.model import Project

KINDS = ("projects", "units", "issuances", "actions")
LISTING_FORMAT = "canonical"
NEXT_HEADER = "Carbonlink-Next-Cursor"
FORMAT_HEADER = "Carbonlink-Listing-Format"
MAX_LIMIT = 10_000
#: Journal action types whose debit takes units out of circulation, and the unit status that follows.
_ENDED = {"Retirement": "retired", "Cancellation": "cancelled", "Voluntary Cancellation": "cancelled",
          "Use": "retired"}


class ListingQueryInvalid(SandboxError):
    """An unknown kind, a limit out of range or a cursor this registry did not hand out."""

    code = "SANDBOX.LISTING_QUERY"


def encode_cursor(position: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(position)).decode().rstrip("=")


def decode_cursor(cursor: str | None, kind: str) -> list[Any]:
    if not cursor:
        return []
    try:
        position = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise ListingQueryInvalid(f"cursor {cursor[:40]!r} was not handed out by this registry") from exc
    shapes = {"projects": (str,), "issuances": (int,), "actions": (int,)}
    if kind == "units":
        ok = isinstance(position, list) and (
            (len(position) == 3 and position[0] == "b" and isinstance(position[1], str)
             and isinstance(position[2], int))
            or (len(position) == 2 and position[0] == "j" and isinstance(position[1], int)))
    else:
        ok = isinstance(position, list) and len(position) == 1 and isinstance(position[0], shapes[kind])
    if not ok:
        raise ListingQueryInvalid(f"cursor {cursor[:40]!r} is not a {kind} cursor of this registry")
    return list(position)


def parse_limit(raw: str | None, default: int) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ListingQueryInvalid(f"limit must be an integer from 1 to {MAX_LIMIT}")
    return int(raw)


class Listing:
    """Builds one page of one kind from the sandbox's store."""

    def __init__(self, store: SandboxStore, *, registry_id: str, party: str | None) -> None:
        self.store = store
        self.registry_id = registry_id
        self.party = party

    def page(self, kind: str, cursor: str | None, limit: int) -> tuple[dict[str, Any], str | None]:
        """``(canonical document, next cursor or None)``."""
        if kind not in KINDS:
            raise ListingQueryInvalid(f"unknown listing kind {kind!r} (one of {', '.join(KINDS)})")
        position = decode_cursor(cursor, kind)
        builders: dict[str, Callable[[list[Any], int], tuple[dict[str, Any], str | None]]] = {
            "projects": self._projects, "units": self._units, "issuances": self._issuances, "actions": self._actions}
        return builders[kind](position, limit)

    # -- kinds --------------------------------------------------------------------------------

    def _projects(self, position: list[Any], limit: int) -> tuple[dict[str, Any], str | None]:
        docs = [json.loads(doc) for doc in self.store.projects_after(position[0] if position else "", limit)]
        following = encode_cursor([docs[-1]["project_id"]]) if len(docs) == limit else None
        return {"projects": docs}, following

    def _units(self, position: list[Any], limit: int) -> tuple[dict[str, Any], str | None]:
        """Held and pending blocks first (keyset on series and first number), then the ended ones from the
        journal (keyset on the journal id); a short page of blocks hands over to the journal."""
        if not position or position[0] == "b":
            blocks = self.store.blocks_after((position[1], position[2]) if position else None, limit)
            following = ["b", blocks[-1].series, blocks[-1].first] if len(blocks) == limit else ["j", 0]
            return {"units": [self._held(b) for b in blocks]}, encode_cursor(following)
        rows = self.store.journal_after(int(position[1]), limit,
                                        f"direction = 'debit' AND type IN ({','.join('?' * len(_ENDED))})",
                                        list(_ENDED))
        units = [u for u in (self._ended(row) for row in rows) if u is not None]
        return {"units": units}, encode_cursor(["j", rows[-1][0]]) if len(rows) == limit else None

    def _issuances(self, position: list[Any], limit: int) -> tuple[dict[str, Any], str | None]:
        rows = self.store.journal_after(position[0] if position else 0, limit, "sender = '@seed'")
        actions = [a for a in (self._action(row, "Issuance") for row in rows) if a is not None]
        return {"actions": actions}, encode_cursor([rows[-1][0]]) if len(rows) == limit else None

    def _actions(self, position: list[Any], limit: int) -> tuple[dict[str, Any], str | None]:
        rows = self.store.journal_after(position[0] if position else 0, limit,
                                        "sender != '@seed' AND action >= 0 AND type IS NOT NULL")
        actions = [a for a in (self._action(row, str(row[4])) for row in rows) if a is not None]
        return {"actions": actions}, encode_cursor([rows[-1][0]]) if len(rows) == limit else None

    # -- records ------------------------------------------------------------------------------

    def _held(self, block: Block) -> dict[str, Any]:
        out = self._unit_fields(block.kind, block.label(), block.first, block.last, block.vintage, block.series)
        out.update(status="held" if block.status == HELD else "pending", account=block.account)
        return out

    def _ended(self, row: tuple[Any, ...]) -> dict[str, Any] | None:
        units = _units_from_label(str(row[6]))
        if units is None:
            return None
        out = self._unit_fields(units.kind, str(row[6]), units.first, units.last, units.vintage, units.series)
        out.update(status=_ENDED[str(row[4])], status_date=str(row[1])[:10], account=row[8])
        return out

    def _unit_fields(self, kind: str, label: str, first: int, last: int, vintage: int | None,
                     series: str) -> dict[str, Any]:
        out: dict[str, Any] = {"registry": self.registry_id, "first_id": first, "last_id": last,
                               "quantity": str(last - first + 1), "vintage": vintage}
        if kind == "itmo":
            out["itmo_reference"] = label
        elif kind == "serial":
            out["serial"] = label
        else:
            _, registry, unit_type, project_id, _ = json.loads(series)
            out.update(unit_type=unit_type, project_id=project_id, extra={"series_registry": registry})
        return {k: v for k, v in out.items() if v is not None}

    def _action(self, row: tuple[Any, ...], action_type: str) -> dict[str, Any] | None:
        _, at, sender, message_id, _, direction, label, quantity, account = row
        units = _units_from_label(str(label))
        if units is None:
            return None
        out: dict[str, Any] = {"action_type": action_type, "date": _when(str(at)), "quantity": str(quantity),
                               "message_id": message_id, "registry": self.registry_id, "vintage": units.vintage,
                               "extra": {"direction": direction, "account": account, "sender": sender}}
        if units.kind == "itmo":
            block = ItmoBlock.from_ids(*str(label).split(".."))
            out.update(cooperative_approach=block.cooperative_approach, registry=block.registry,
                       first_transferring_party=block.first_transferring_party, first_id=block.first,
                       last_id=block.last)
        else:
            unit = self._unit_fields(units.kind, str(label), units.first, units.last, units.vintage, units.series)
            unit.pop("extra", None)
            out["units"] = unit
        return out


def seed_projects(entries: Any, where: str) -> list[tuple[str, str]]:
    """A seed file's ``projects`` list: canonical project records (``project_id`` required)."""
    if not isinstance(entries, list):
        raise SeedError(f"{where}: projects is a list of canonical project records")
    out: list[tuple[str, str]] = []
    for i, entry in enumerate(entries):
        try:
            project = Project.model_validate(entry)
        except ValidationError as exc:
            raise SeedError(f"{where} /projects/{i}: not a canonical project: {exc.errors()[0]['msg']}") from exc
        out.append((project.project_id, project.model_dump_json(exclude_none=True, exclude_defaults=True)))
    return out


def _units_from_label(label: str) -> Units | None:
    """The units of a journal line (ITMO ids or a serial); None for bare ranges, whose label is not reversible."""
    try:
        return parse_hold_spec(label.replace("@", ""))[0]
    except CarbonlinkError:
        return None


def _when(at: str) -> str:
    return datetime.fromisoformat(at.replace("Z", "+00:00")).isoformat()
