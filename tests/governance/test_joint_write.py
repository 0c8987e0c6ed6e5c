"""The drawing on an authorization commits in the evidence log's own transaction when the store lives in the
evidence log's database (the default): one durable write, both kept or neither; a refused drawing writes no
evidence record and leaves the other appends of its group alone."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.evidence import Exchange, JwkSigner, KeySetVerifier, open_log
from gateway.evidence.log import EvidenceLog
from gateway.evidence.postgres import PostgresEvidenceLog
from gateway.governance import Authorities, AuthorizationRefused, open_authorization_store
from gateway.governance._gate import AuthorizationGate, Drawing
from gateway.governance._store import AuthorizationStore
from gateway.settings import Settings
from gateway.trust.directory import Participant
from gateway.trust.keys import SigningKeyRing
from tests.governance.support import AUTH_ID, authority, entry, statement
from tests.support.services import unique_prefix

AUTHORITY = Participant.model_validate(entry("che-authority", "CHE", roles=authority("CHE")))
KEY = ("CHE", AUTH_ID)


def intent(message_id: str) -> Exchange:
    return Exchange(kind="transfers", sender="che-registry", receiver="gha-registry", message_id=message_id,
                    inbound_sha256="00" * 32, outbound_sha256="11" * 32, receipt=None,
                    verdicts={"outcome": "delivering"})


@pytest.fixture(params=["sqlite", "postgresql"])
def joined(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[EvidenceLog, AuthorizationStore]:
    signer = JwkSigner(SigningKeyRing.generate("ES256", kid="gw-1").current)
    if request.param == "sqlite":
        evidence_url = f"sqlite:///{tmp_path / 'evidence.sqlite3'}"
    else:
        request.applymarker(pytest.mark.service)
        dsn = request.getfixturevalue("postgres_dsn")
        evidence_url = f"{dsn}?table={unique_prefix('ev').replace('-', '_')}"
    evidence = open_log(evidence_url, signer=signer)
    settings = Settings.from_environ({"CARBONLINK_DATA_DIR": str(tmp_path)})
    url = settings.governance.authorization_url(tmp_path, evidence_url)
    if request.param == "postgresql":
        url += f"?table={unique_prefix('auth').replace('-', '_')}"
    store = open_authorization_store(url)
    request.addfinalizer(store.close)
    request.addfinalizer(evidence.close)
    if isinstance(evidence, PostgresEvidenceLog):  # the database is shared: drop this test's tables
        def drop() -> None:
            import psycopg

            with psycopg.connect(evidence.dsn, autocommit=True) as conn:
                conn.execute(f"DROP TABLE IF EXISTS {store.t}_versions, {store.t}_revocations, {store.t}_drawings, "
                             f"{store.t}_totals")
            evidence.drop()
        request.addfinalizer(drop)
    Authorities(store, SigningKeyRing.generate("ES256", kid="gw-1")).issue(AUTHORITY, statement())
    return evidence, store


def test_the_default_store_is_the_evidence_log_database(tmp_path: Path) -> None:
    settings = Settings.from_environ({"CARBONLINK_DATA_DIR": str(tmp_path)})
    evidence_url = settings.transfers.evidence_url()
    assert settings.governance.authorization_url(tmp_path, evidence_url) == evidence_url
    assert settings.governance.authorization_url(tmp_path, "postgresql://u@h/db?table=ev&sslmode=disable") == \
        "postgresql://u@h/db?sslmode=disable"
    (tmp_path / "authorizations.sqlite3").touch()  # a store kept under the first default is still used
    assert settings.governance.authorization_url(tmp_path, evidence_url).endswith("authorizations.sqlite3")


def test_a_drawing_commits_with_its_evidence_record_or_not_at_all(
        joined: tuple[EvidenceLog, AuthorizationStore]) -> None:
    evidence, store = joined
    assert store.shares(evidence)
    gate = AuthorizationGate(store, lambda: None, "always")  # type: ignore[arg-type,return-value]
    wants = {KEY: Drawing(Decimal(600), Decimal(1000))}
    evidence.append(intent("m-1"), alongside=lambda cur: gate.draw("che-registry", "m-1", wants, within=cur))
    assert store.drawn(*KEY) == Decimal(600)
    assert [r.message_id for r in evidence.records()] == ["m-1"]
    with pytest.raises(AuthorizationRefused) as caught:  # 600 + 600 > 1000: neither the drawing nor the record
        evidence.append(intent("m-2"), alongside=lambda cur: gate.draw("che-registry", "m-2", wants, within=cur))
    assert caught.value.code == "GOVERNANCE.AUTHORIZATION_QUANTITY"
    assert store.drawn(*KEY) == Decimal(600)
    assert [r.message_id for r in evidence.records()] == ["m-1"]

    def broken(cur: object) -> None:  # a store failure inside the transaction: nothing of the append is kept
        gate.draw("che-registry", "m-3", {KEY: Drawing(Decimal(1), Decimal(1000))}, within=cur)
        raise RuntimeError("disk gone")

    with pytest.raises(Exception, match="disk gone"):
        evidence.append(intent("m-3"), alongside=broken)
    assert store.drawn(*KEY) == Decimal(600)
    assert [r.message_id for r in evidence.records()] == ["m-1"]


def test_a_refused_drawing_leaves_the_rest_of_its_group_committed(
        joined: tuple[EvidenceLog, AuthorizationStore]) -> None:
    evidence, store = joined
    gate = AuthorizationGate(store, lambda: None, "always")  # type: ignore[arg-type,return-value]
    errors: dict[str, str] = {}

    def send(n: int) -> None:
        def draw(cur: object) -> None:
            gate.draw("che-registry", f"m-{n}", {KEY: Drawing(Decimal(90), Decimal(1000))}, within=cur)
        try:
            evidence.append(intent(f"m-{n}"), alongside=draw)
        except AuthorizationRefused as exc:
            errors[f"m-{n}"] = exc.code

    threads = [threading.Thread(target=send, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    kept = [r.message_id for r in evidence.records()]
    assert len(kept) == 11 and len(errors) == 5  # 11 x 90 = 990; the other five would pass 1000
    assert set(kept).isdisjoint(errors) and set(errors.values()) == {"GOVERNANCE.AUTHORIZATION_QUANTITY"}
    assert store.drawn(*KEY) == Decimal(990)
    # the chain stays whole around the refused members
    keys = KeySetVerifier.from_jwks({"keys": list(evidence.recorded_keys().values())})
    assert evidence.verify(keys).ok
