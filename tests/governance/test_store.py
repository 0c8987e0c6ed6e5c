"""The authorization store on both engines: two stores on one database act as one (what two gateways sharing
a PostgreSQL store, or two processes sharing the embedded file, see); concurrent drawings never pass the cap;
``carbonlink authorizations list|show`` read it; an unusable store is a coded error."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.governance import Authorities, AuthorizationStore, GovernanceError, open_authorization_store
from gateway.governance._store import QuantityExceeded
from gateway.trust.directory import Participant
from gateway.trust.keys import SigningKeyRing
from tests.governance.support import AUTH_ID, authority, entry, statement
from tests.support.cli import run_cli
from tests.support.services import unique_prefix

AUTHORITY = Participant.model_validate(entry("che-authority", "CHE", roles=authority("CHE")))


@pytest.fixture(params=["sqlite", "postgresql"])
def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[AuthorizationStore, AuthorizationStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'auth.sqlite3'}"
    else:
        request.applymarker(pytest.mark.service)
        dsn = request.getfixturevalue("postgres_dsn")
        url = f"{dsn}?table={unique_prefix('auth').replace('-', '_')}"
    first, second = open_authorization_store(url), open_authorization_store(url)
    request.addfinalizer(first.close)
    request.addfinalizer(second.close)
    return first, second


def test_two_stores_on_one_database_act_as_one(two_stores: tuple[AuthorizationStore, AuthorizationStore]) -> None:
    first, second = two_stores
    Authorities(first, SigningKeyRing.generate("ES256", kid="gw-a")).issue(AUTHORITY, statement())
    seen = Authorities(second, SigningKeyRing.generate("ES256", kid="gw-b")).show("CHE", AUTH_ID)
    assert seen["versions"][0]["issued_by"] == "che-authority"
    stores = [first, second]

    def draw(n: int) -> bool:
        try:
            stores[n % 2].draw(f"sender-{n % 3}", f"m-{n}", {("CHE", AUTH_ID): (Decimal(90), Decimal(1000))})
        except QuantityExceeded:
            return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        allowed = sum(pool.map(draw, range(20)))
    assert allowed == 11  # 11 x 90 = 990; a twelfth would pass the 1000
    assert first.drawn("CHE", AUTH_ID) == second.drawn("CHE", AUTH_ID) == Decimal(990)


@pytest.mark.parametrize("url", ["redis://127.0.0.1/0", "sqlite://", "sqlite:///x.db?mode=ro",
                                 "sqlite:///x.db?table=Bad-Name"])
def test_an_unusable_store_url_is_a_coded_error(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(GovernanceError) as caught:
        open_authorization_store(url)
    assert caught.value.code == "GOVERNANCE.CONFIG"


def test_the_cli_lists_and_shows_authorizations(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'auth.sqlite3'}"
    authorities = Authorities(open_authorization_store(url), SigningKeyRing.generate("ES256", kid="gw"))
    authorities.issue(AUTHORITY, statement())
    authorities.amend(AUTHORITY, "CHE", AUTH_ID, statement(authorized_quantity="1500", date="2024-02-01"))
    authorities.close()
    listed = run_cli("authorizations", "list", "--store", url, "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)["authorizations"]
    assert [(r["authorization_id"], r["version"], r["authorized_quantity"]) for r in rows] == [(AUTH_ID, 2, "1500")]
    table = run_cli("authorizations", "list", "--store", url, env={"COLUMNS": "200"})
    assert table.returncode == 0 and AUTH_ID in table.stdout and "1 authorization(s)" in table.stdout
    shown = run_cli("authorizations", "show", "CHE", AUTH_ID, "--store", url)
    assert shown.returncode == 0 and "version 2 of 2024-02-01" in shown.stdout, shown.stderr
    unknown = run_cli("authorizations", "show", "CHE", "NOPE", "--store", url)
    assert unknown.returncode == 2 and "GOVERNANCE.AUTHORIZATION_NOT_FOUND" in unknown.stderr
    missing = run_cli("authorizations", "list", "--store", f"sqlite:///{tmp_path / 'none.sqlite3'}")
    assert missing.returncode == 2 and "GOVERNANCE.STORE_UNAVAILABLE" in missing.stderr
    assert not (tmp_path / "none.sqlite3").exists()
