"""The AEF-shaped feed of one Party and year: the harmonized view written by the standards' AEF writer.

T1 is the submission header of the Party and year. T3 holds the Article 6 actions (issuances and
retirements are crediting-programme events the AEF has no action type for) that the Party's registries
report with a date in the year. T4 holds the ITMO blocks those registries hold *now* (the view keeps no
history: the answer names the moment in ``t4_as_of``; a T4 for 31 December of a past year needs that day's
snapshot). T2 and T5 (authorizations, authorized entities) are not part of a registry's read side and stay
empty. The tables go out through :func:`standards.aef.codec.write_tables` (JSON, CSV per table, XLSX in the
peer template layout by default or carbonlink's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from gateway.feeds.errors import FeedQueryInvalid
from gateway.feeds.feed import Prepared
from gateway.feeds.merge import merged
from gateway.feeds.store import FeedStore, Query
from standards.aef.codec import write_tables
from standards.aef.mapping import document_to_tables
from standards.codec import Medium
from standards.errors import CarbonlinkError
from standards.itmo import ItmoBlock
from standards.model import Action, CanonicalDocument, Holding, Metric, Submission, UnitBlock

TABLES = ("T1", "T2", "T3", "T4", "T5")
LAYOUTS = ("peer", "carbonlink")


@dataclass(frozen=True)
class AefReport:
    document: CanonicalDocument
    conflicts: list[dict[str, Any]]
    t4_as_of: str


def build(store: FeedStore, prepared: Prepared, party: str, year: int) -> AefReport:
    """The canonical document of ``party``'s AEF for ``year`` from the sources ``prepared`` covers."""
    sources = prepared.query.sources
    conflicts: list[dict[str, Any]] = []
    actions: list[Action] = []
    for item in merged("actions", store.rows(Query("actions", sources, parties=(party,), year=year))):
        action = item.record()
        assert isinstance(action, Action)
        if action.action_type.is_article6:
            actions.append(action)
            conflicts += [{"key": item.key, **c} for c in item.conflicts]
    holdings: list[Holding] = []
    for item in merged("units", store.rows(Query("units", sources, parties=(party,), statuses=("held", "pending")))):
        unit = item.record()
        assert isinstance(unit, UnitBlock)
        holding = _holding(unit)
        if holding is not None:
            holdings.append(holding)
    submission = Submission(party=party, reported_year=year, submission_date=datetime.now(UTC).date())
    document = CanonicalDocument(submission=submission, actions=actions, holdings=holdings)
    return AefReport(document, conflicts, datetime.now(UTC).isoformat(timespec="seconds"))


def _holding(unit: UnitBlock) -> Holding | None:
    if not unit.itmo_reference or ".." not in unit.itmo_reference:
        return None
    try:
        block = ItmoBlock.from_ids(*unit.itmo_reference.split("..", 1))
    except (CarbonlinkError, ValueError):
        return None
    return Holding(cooperative_approach=block.cooperative_approach, registry=block.registry,
                   first_transferring_party=block.first_transferring_party, vintage=block.vintage,
                   first_id=block.first, last_id=block.last, quantity=unit.quantity, metric=Metric.GHG)


def write(report: AefReport, prepared: Prepared, medium: Medium, *, table: str = "T3",
          layout: str = "peer") -> bytes:
    """The report as AEF JSON (in an envelope naming coverage and conflicts), one CSV table, or XLSX."""
    tables = document_to_tables(report.document)
    if medium is Medium.XLSX:
        if layout not in LAYOUTS:
            raise FeedQueryInvalid(f"unknown AEF workbook layout {layout!r} (one of {', '.join(LAYOUTS)})")
        return write_tables(tables, medium, xlsx_layout=layout)[0]
    if medium is Medium.CSV:
        if table not in TABLES:
            raise FeedQueryInvalid(f"unknown AEF table {table!r} (one of {', '.join(TABLES)})")
        data, files = write_tables(tables, medium)
        chosen = [body for name, body in files.items() if name.upper().startswith(table)]
        return chosen[0] if chosen else data
    aef = orjson.loads(write_tables(tables, Medium.JSON)[0])
    return orjson.dumps({"report": aef, "complete": prepared.coverage.complete, "missing": prepared.missing(),
                        "sources": sorted(prepared.coverage.included), "conflicts": report.conflicts,
                        "t4_as_of": report.t4_as_of})


__all__ = ["LAYOUTS", "TABLES", "AefReport", "build", "write"]
