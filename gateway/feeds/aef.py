"""The AEF-shaped feed of one Party and year: the harmonized view and the gateway's authorizations, written by
the standards' AEF writer.

- T1 is the submission header of the Party and year.
- T2 holds the Party's Article 6.2 authorizations kept by the gateway (:mod:`gateway.governance`: the national
  authority's statements are the canonical AEF T2 records): every version dated on or before 31 December of
  the year, one row per authorization and version.
- T3 holds the Article 6 actions (issuances and retirements are crediting-programme events the AEF has no
  action type for) that the Party's registries report with a date in the year.
- T4 holds the ITMOs the Party's registries held at the end of the year: what they hold now with every
  Article 6 action dated after the year undone (:mod:`gateway.feeds.holdings`).
- T5 lists the entities those T2 versions authorize (AEF T2 field "Authorized entity(ies) ID" links to T5):
  one row per entity and cooperative approach, dated by the first version naming it. The statements carry
  the entities' IDs only; a participant of the directory with that ID gives its name and Party, any other
  entity is listed under its ID with the gap said in its additional information and in ``t5_unresolved``.

The tables go out through :func:`standards.aef.codec.write_tables` (JSON, CSV per table, XLSX in the peer
template layout by default or carbonlink's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

import orjson

from gateway.feeds.errors import FeedQueryInvalid
from gateway.feeds.feed import Prepared
from gateway.feeds.holdings import year_end_holdings
from gateway.feeds.merge import merged
from gateway.feeds.store import FeedStore, Query
from standards.aef.codec import write_tables
from standards.aef.csvio import file_name, write_csv
from standards.aef.mapping import document_to_tables
from standards.aef.tables import TABLES as AEF_TABLES
from standards.codec import Medium
from standards.errors import CarbonlinkError
from standards.itmo import ItmoBlock
from standards.model import (
    Action,
    Authorization,
    AuthorizedEntity,
    CanonicalDocument,
    Holding,
    Metric,
    Submission,
    UnitBlock,
)
from standards.tabular import write_csv_bytes

TABLES = ("T1", "T2", "T3", "T4", "T5")
LAYOUTS = ("peer", "carbonlink")


class AuthorizationSource(Protocol):
    """What the AEF feed reads of the gateway's authorization store (:class:`gateway.governance.Authorities`)."""

    def listing(self, party: str | None = None) -> list[dict[str, Any]]: ...

    def show(self, party: str, authorization_id: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class AefReport:
    document: CanonicalDocument
    conflicts: list[dict[str, Any]]
    t4_as_of: str
    #: authorized entities whose name and country the gateway does not know (listed under their ID)
    t5_unresolved: list[str] = field(default_factory=list)
    #: the authorizations could not be read: (code, detail)
    authorizations_missing: tuple[str, str] | None = None


def year_end(year: int) -> datetime:
    return datetime(year, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def build(store: FeedStore, prepared: Prepared, party: str, year: int, *,
          authorities: AuthorizationSource | None = None, entities: Mapping[str, tuple[str, str]] | None = None
          ) -> AefReport:
    """The canonical document of ``party``'s AEF for ``year`` from the sources ``prepared`` covers and the
    authorizations of ``authorities``; ``entities`` names known participants (id -> (name, Party))."""
    sources = prepared.query.sources
    conflicts: list[dict[str, Any]] = []
    actions: list[Action] = []
    for item in merged("actions", store.rows(Query("actions", sources, parties=(party,), year=year))):
        action = item.record()
        assert isinstance(action, Action)
        if action.action_type.is_article6:
            actions.append(action)
            conflicts += [{"key": item.key, **c} for c in item.conflicts]
    end = year_end(year)
    later = [a for a in (item.record() for item in merged("actions", store.rows(
        Query("actions", sources, parties=(party,), since_year=year + 1)))) if isinstance(a, Action) and a.date > end
        and a.action_type.is_article6]
    now: list[Holding] = []
    for item in merged("units", store.rows(Query("units", sources, parties=(party,), statuses=("held", "pending")))):
        unit = item.record()
        assert isinstance(unit, UnitBlock)
        holding = _holding(unit)
        if holding is not None:
            now.append(holding)
    authorizations: list[Authorization] = []
    missing: tuple[str, str] | None = None
    if authorities is not None:
        try:
            authorizations = _authorizations(authorities, party, end.date())
        except CarbonlinkError as exc:  # the store is down: T2 and T5 are missing, and the answer says so
            missing = (exc.code, exc.message)
    named, unresolved = _entities(authorizations, entities or {})
    submission = Submission(party=party, reported_year=year, submission_date=datetime.now(UTC).date())
    actions.sort(key=lambda a: a.date)  # T3 in the order the actions happened
    document = CanonicalDocument(submission=submission, authorizations=authorizations, actions=actions,
                                 holdings=year_end_holdings(now, later, party), authorized_entities=named)
    as_of = min(end, datetime.now(UTC)).isoformat(timespec="seconds")
    return AefReport(document, conflicts, as_of, unresolved, missing)


def _holding(unit: UnitBlock) -> Holding | None:
    """A unit block carrying an ITMO reference as the holding it is now."""
    if not unit.itmo_reference or ".." not in unit.itmo_reference:
        return None
    try:
        block = ItmoBlock.from_ids(*unit.itmo_reference.split("..", 1))
    except (CarbonlinkError, ValueError):
        return None
    return Holding(cooperative_approach=block.cooperative_approach, registry=block.registry,
                   first_transferring_party=block.first_transferring_party, vintage=block.vintage,
                   first_id=block.first, last_id=block.last, quantity=unit.quantity, metric=Metric.GHG)


def _authorizations(authorities: AuthorizationSource, party: str, until: date) -> list[Authorization]:
    """Every version of ``party``'s authorizations dated on or before ``until``, by id and version."""
    out = []
    for listed in sorted(authorities.listing(party), key=lambda row: str(row["authorization_id"])):
        shown = authorities.show(party, listed["authorization_id"])
        for version in shown["versions"]:
            statement = Authorization.model_validate({**version["statement"], "version": version["version"]})
            if statement.date <= until:
                out.append(statement)
    return out


def _entities(authorizations: list[Authorization], known: Mapping[str, tuple[str, str]]
              ) -> tuple[list[AuthorizedEntity], list[str]]:
    """T5: one row per entity and cooperative approach the versions name, dated by the first naming it."""
    first: dict[tuple[str, str], date] = {}
    for statement in authorizations:
        for entity in statement.authorized_entities:
            key = (entity, statement.cooperative_approach)
            first[key] = min(first.get(key, statement.date), statement.date)
    rows, unresolved = [], []
    for (entity, approach), when in sorted(first.items()):
        if entity in known:
            name, country = known[entity]
            rows.append(AuthorizedEntity(authorization_date=when, name=name or entity, country=country,
                                         entity_id=entity, cooperative_approach=approach))
            continue
        unresolved.append(entity)
        rows.append(AuthorizedEntity(authorization_date=when, name=entity, entity_id=entity,
                                     cooperative_approach=approach,
                                     additional_information="name and country of incorporation not recorded at the "
                                     "gateway: the authorization names this entity by its ID"))
    return rows, sorted(set(unresolved))


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
        files = write_csv(tables)  # one file per non-empty table; an empty one is its header row
        return files.get(file_name(table)) or write_csv_bytes([[f.label for f in AEF_TABLES[table].fields]])
    aef = orjson.loads(write_tables(tables, Medium.JSON)[0])
    return orjson.dumps({"report": aef, "complete": report_complete(report, prepared),
                        "missing": report_missing(report, prepared), "sources": sorted(prepared.coverage.included),
                        "conflicts": report.conflicts, "t4_as_of": report.t4_as_of,
                        "t5_unresolved": report.t5_unresolved})


#: the name under which the gateway's own authorization store is reported missing
AUTHORIZATIONS = "gateway-authorizations"


def report_missing(report: AefReport, prepared: Prepared) -> list[dict[str, Any]]:
    out = prepared.missing()
    if report.authorizations_missing is not None:
        code, detail = report.authorizations_missing
        out.append({"registry": AUTHORIZATIONS, "code": code, "detail": f"T2 and T5 are empty: {detail}",
                    "since": None})
    return out


def report_complete(report: AefReport, prepared: Prepared) -> bool:
    return prepared.coverage.complete and report.authorizations_missing is None


__all__ = ["AUTHORIZATIONS", "LAYOUTS", "TABLES", "AefReport", "AuthorizationSource", "build", "report_complete",
           "report_missing", "write", "year_end"]
