"""The AEF feed of a Party and year: T2 from the gateway's authorizations (versions up to the year's end), T4 the
holdings at the end of the year replayed from the actions (later actions do not count), T5 the entities the
authorizations name; CSV per table and the XLSX template carry them; a failing authorization store is said."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from gateway.feeds import aef
from gateway.feeds.feed import FeedRequest, Prepared
from gateway.feeds.store import FeedStore, Query
from gateway.feeds.view import Coverage, _stored
from gateway.governance import Authorities, AuthorizationStoreUnavailable
from gateway.governance._store import SqliteAuthorizationStore
from gateway.trust.directory import Directory
from gateway.trust.keys import SigningKeyRing
from standards.codec import Medium
from standards.model import Action, Holding, UnitBlock
from tests.governance.support import authority, entry, statement

LEI = "529900T8BM49AURSDO55"


def act(kind: str, when: str, first: int, last: int, *, approach: str = "CA0001", ftp: str = "CHE",
        **extra: Any) -> Action:
    return Action(action_type=kind, date=datetime.fromisoformat(when).replace(tzinfo=UTC),
                  cooperative_approach=approach, authorization_id="CHE-A6-2023-001", first_transferring_party=ftp,
                  registry="CHE01", first_id=first, last_id=last, quantity=Decimal(last - first + 1),
                  metric="GHG", vintage=2023, mitigation_type="Emission reductions", **extra)


ACTIONS = [
    act("Authorization", "2023-02-01T10:00:00", 1, 100),
    act("First transfer", "2023-06-01T10:00:00", 1, 30, acquiring_party="GHA"),
    act("Acquisition", "2023-09-01T10:00:00", 1, 20, approach="CA0002", ftp="GHA", transferring_party="GHA"),
    act("Cancellation", "2023-12-31T23:00:00", 41, 45, using_party="CHE"),
    act("Use", "2024-02-01T10:00:00", 31, 40, using_party="CHE", ndc_year=2024),  # after the end of 2023
    act("Transfer", "2024-01-05T10:00:00", 1, 5, approach="CA0002", ftp="GHA", acquiring_party="SWE"),
]


def itmos(approach: str, ftp: str, first: int, last: int) -> UnitBlock:
    """A block the registry holds now, carrying its ITMO IDs."""
    ref = f"{approach}-CHE01-{ftp}-{first}-2023..{approach}-CHE01-{ftp}-{last}-2023"
    return UnitBlock(registry="che", first_id=first, last_id=last, quantity=last - first + 1, vintage=2023,
                     status="held", itmo_reference=ref)


# what the actions leave held now (2025): CA0001 46-100, CA0002 6-20
NOW = [itmos("CA0001", "CHE", 46, 100), itmos("CA0002", "GHA", 6, 20)]


def authorities(tmp_path: Path) -> Authorities:
    now = int(time.time())
    directory = Directory.model_validate({"iss": "test", "environment": "test", "sequence": 1, "iat": now,
                                          "exp": now + 3600,
                                          "participants": [entry("che-authority", "CHE", roles=authority("CHE"))]})
    [na] = directory.participants
    out = Authorities(SqliteAuthorizationStore(tmp_path / "auth.sqlite3"), SigningKeyRing.generate("ES256", kid="g"))
    out.issue(na, statement(authorized_entities=[LEI, "che-registry"]))
    out.amend(na, "CHE", "CHE-A6-2023-001", statement(date="2024-03-01", authorized_quantity="2000",
                                                      authorized_entities=[LEI, "che-registry", "ACME-7"]))
    out.issue(na, statement("CHE-A6-2025-002", date="2025-01-10"))
    return out


def report(store: FeedStore, year: int, source: Any) -> aef.AefReport:
    with store.replacing("che", "CHE", "pull") as replacement:
        replacement.add(_stored("actions", ACTIONS, "che", 0))
        replacement.add(_stored("units", NOW, "che", len(ACTIONS)))
    prepared = Prepared(FeedRequest("canonical", "actions", parties=("CHE",), year=year),
                        Coverage({"che": 6}, []), Query("actions", ("che",)), '"x"')
    return aef.build(store, prepared, "CHE", year, authorities=source,
                     entities={"che-registry": ("CHE registry", "CHE")})


def held(result: aef.AefReport) -> list[tuple[str | None, int | None, int | None, Decimal | None]]:
    return [(h.cooperative_approach, h.first_id, h.last_id, h.quantity) for h in result.document.holdings]


def test_year_end_holdings_t2_versions_and_t5_entities(store: FeedStore, tmp_path: Path) -> None:
    source = authorities(tmp_path)
    try:
        of_2023 = report(store, 2023, source)
        # held now, plus what left after 2023 (31-40 used in 2024, CA0002 1-5 transferred to SWE in 2024)
        assert held(of_2023) == [("CA0001", 31, 40, 10), ("CA0001", 46, 100, 55), ("CA0002", 1, 5, 5),
                                 ("CA0002", 6, 20, 15)]
        assert [a.action_type.value for a in of_2023.document.actions] == [
            "Authorization", "First transfer", "Acquisition", "Cancellation"]  # 2024's actions are not T3 of 2023
        assert [(a.authorization_id, a.version) for a in of_2023.document.authorizations] == [("CHE-A6-2023-001", 1)]
        entities = [(e.entity_id, e.name, e.country, str(e.authorization_date))
                    for e in of_2023.document.authorized_entities]
        assert entities == [(LEI, LEI, None, "2023-01-15"), ("che-registry", "CHE registry", "CHE", "2023-01-15")]
        assert of_2023.t5_unresolved == [LEI] and of_2023.t4_as_of.startswith("2023-12-31T23:59:59")
        of_2024 = report(store, 2024, source)
        assert held(of_2024) == [("CA0001", 46, 100, 55), ("CA0002", 6, 20, 15)]
        assert [(a.authorization_id, a.version, a.authorized_quantity) for a in of_2024.document.authorizations] == [
            ("CHE-A6-2023-001", 1, 1000), ("CHE-A6-2023-001", 2, 2000)]
        assert [(e.entity_id, str(e.authorization_date)) for e in of_2024.document.authorized_entities] == [
            (LEI, "2023-01-15"), ("ACME-7", "2024-03-01"), ("che-registry", "2023-01-15")]
    finally:
        source.close()


def test_the_tables_go_out_in_csv_and_the_template_workbook(store: FeedStore, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    source = authorities(tmp_path)
    try:
        result = report(store, 2023, source)
    finally:
        source.close()
    prepared = Prepared(FeedRequest("canonical", "actions"), Coverage({"che": 6}, []), Query("actions", ("che",)), "")
    t2 = aef.write(result, prepared, Medium.CSV, table="T2").decode().lstrip("\ufeff")
    t4 = aef.write(result, prepared, Medium.CSV, table="T4").decode()
    t5 = aef.write(result, prepared, Medium.CSV, table="T5").decode()
    assert t2.startswith("Authorization ID,") and "CHE-A6-2023-001" in t2 and len(t2.splitlines()) == 2
    assert len(t4.splitlines()) == 5 and ",46,100," in t4
    assert LEI in t5 and "che-registry" in t5
    empty = aef.write(aef.AefReport(result.document.model_copy(update={"authorized_entities": []}), [], ""),
                      prepared, Medium.CSV, table="T5").decode()
    assert empty.splitlines() == [t5.splitlines()[0]]  # the header of T5, not another table
    book = load_workbook(io.BytesIO(aef.write(result, prepared, Medium.XLSX)), read_only=True)
    cells = {str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for v in row if v}
    assert {"CHE-A6-2023-001", LEI, "che-registry", "CA0002"} <= cells
    body = orjson.loads(aef.write(result, prepared, Medium.JSON))
    assert [len(body["report"][t]) for t in ("Authorizations", "Holdings", "AuthorizedEntities")] == [1, 4, 2]
    assert body["t5_unresolved"] == [LEI]


class _Down:
    def listing(self, party: str | None = None) -> list[dict[str, Any]]:
        raise AuthorizationStoreUnavailable("the authorization store is unreachable")

    def show(self, party: str, authorization_id: str) -> dict[str, Any]:
        raise AssertionError("not reached")


def test_an_unreadable_authorization_store_is_named_missing(store: FeedStore) -> None:
    result = report(store, 2023, _Down())
    prepared = Prepared(FeedRequest("canonical", "actions"), Coverage({"che": 6}, []), Query("actions", ("che",)), "")
    body = orjson.loads(aef.write(result, prepared, Medium.JSON))
    assert body["complete"] is False and body["report"]["Authorizations"] == [] and len(body["report"]["Holdings"]) == 4
    [missing] = body["missing"]
    assert missing["registry"] == aef.AUTHORIZATIONS and missing["code"] == "GOVERNANCE.STORE_UNAVAILABLE"


@pytest.mark.parametrize("kind", ["Use", "Cancellation", "Voluntary Cancellation", "Transfer"])
def test_what_happens_after_the_year_is_undone(kind: str) -> None:
    from gateway.feeds.holdings import year_end_holdings

    block = Holding(cooperative_approach="CA0001", registry="CHE01", first_transferring_party="CHE", vintage=2023,
                    first_id=1, last_id=10, quantity=Decimal(10))
    ended = act(kind, "2024-01-01T00:00:00", 4, 6, acquiring_party="SWE")  # left after 2023: held at its end
    assert [(h.first_id, h.last_id, h.quantity) for h in year_end_holdings([block], [ended], "CHE")] == [
        (1, 3, 3), (4, 6, 3), (7, 10, 4)]
    arrived = act("Acquisition", "2024-01-01T00:00:00", 1, 10)  # arrived after 2023: not held at its end
    assert year_end_holdings([block], [arrived], "CHE") == []
    home = act("Transfer", "2024-01-01T00:00:00", 1, 10, acquiring_party="CHE")  # stayed with the Party
    assert len(year_end_holdings([], [home], "CHE")) == 0
