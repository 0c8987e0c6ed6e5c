"""The authorization gate on real stores: which first transfers, uses and cancellations may be relayed, with
coded refusals citing their clause; quantities drawn across messages, amended, given back."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest

from gateway.governance import (
    Authorities,
    AuthorizationGate,
    AuthorizationNotYours,
    AuthorizationRefused,
)
from gateway.governance._store import SqliteAuthorizationStore
from gateway.governance.errors import AuthorizationChanged
from gateway.trust.directory import Directory, Participant
from gateway.trust.keys import SigningKeyRing
from standards.model import ActionType
from tests.governance.support import AUTH_ID, authority, entry, first_transfer, statement


@pytest.fixture
def world(tmp_path: Path) -> tuple[Authorities, AuthorizationGate, dict[str, Participant]]:
    entries = [entry("che-authority", "CHE", roles=authority("CHE")),
               entry("che-registry", "CHE", roles=[{"role": "registry-operator"}]),
               entry("gha-registry", "GHA", message_kinds=["transfers"], scopes=["messages:send"])]
    now = int(time.time())
    directory = Directory.model_validate({"iss": "test", "environment": "test", "sequence": 1, "iat": now,
                                          "exp": now + 3600, "participants": entries})
    store = SqliteAuthorizationStore(tmp_path / "auth.sqlite3")
    authorities = Authorities(store, SigningKeyRing.generate("ES256", kid="gw-1"))
    gate = AuthorizationGate(store, lambda: directory)
    people = {p.id: p for p in directory.participants}
    return authorities, gate, people


def refused(gate: AuthorizationGate, sender: Participant, doc: object, code: str) -> AuthorizationRefused:
    with pytest.raises(AuthorizationRefused) as caught:
        gate.check(sender, doc)  # type: ignore[arg-type]
    assert caught.value.code == f"GOVERNANCE.AUTHORIZATION_{code}"
    assert "CMA" in caught.value.reference
    return caught.value


World = tuple[Authorities, AuthorizationGate, dict[str, Participant]]


def test_a_covered_first_transfer_is_allowed_and_draws_its_quantity(world: World) -> None:
    authorities, gate, p = world
    authorities.issue(p["che-authority"], statement())
    drawings = gate.check(p["che-registry"], first_transfer(400))
    assert {k: d.quantity for k, d in drawings.items()} == {("CHE", AUTH_ID): 400}
    gate.draw("che-registry", "m-1", drawings)
    assert authorities.show("CHE", AUTH_ID)["drawn"] == "400"


def test_refusals_are_coded_and_cite_the_clause(world: World) -> None:
    authorities, gate, p = world
    che = p["che-registry"]
    refused(gate, che, first_transfer(10, auth_id=None), "MISSING")
    refused(gate, che, first_transfer(10), "UNKNOWN")
    authorities.issue(p["che-authority"], statement())
    refused(gate, che, first_transfer(10, when="2022-12-31"), "NOT_IN_FORCE")
    refused(gate, che, first_transfer(10, vintage=2019), "TIMEFRAME")
    refused(gate, che, first_transfer(10, when="2031-02-01"), "TIMEFRAME")
    refused(gate, che, first_transfer(10, to="JPN"), "PARTY")
    refused(gate, che, first_transfer(10, oimp_purpose="OIMP"), "PURPOSE")
    refused(gate, che, first_transfer(10, cooperative_approach="CA0002"), "APPROACH")
    assert gate.check(che, first_transfer(10, to="SWE"))


def test_a_use_or_cancellation_is_gated_and_an_ungoverned_party_is_not(world: World) -> None:
    authorities, gate, p = world
    che = p["che-registry"]
    refused(gate, che, first_transfer(5, action_type=ActionType.USE, using_party="CHE"), "UNKNOWN")
    refused(gate, che, first_transfer(5, action_type=ActionType.CANCELLATION), "UNKNOWN")
    authorities.issue(p["che-authority"], statement(purposes="NDC and OIMP"))
    assert gate.check(che, first_transfer(5, action_type=ActionType.CANCELLATION, oimp_purpose="OIMP"))
    # GHA has no national authority in the directory: in 'auto' mode its actions are not gated
    assert gate.check(p["gha-registry"], first_transfer(5, party="GHA", to="CHE", auth_id=None)) == {}


def test_the_edge_of_the_quantity_limit_across_messages(world: World) -> None:
    authorities, gate, p = world
    che = p["che-registry"]
    authorities.issue(p["che-authority"], statement())
    gate.draw("che-registry", "m-1", gate.check(che, first_transfer(600)))
    gate.draw("che-registry", "m-1", gate.check(che, first_transfer(600)))  # a retry draws nothing more
    gate.draw("che-registry", "m-2", gate.check(che, first_transfer(400)))  # exactly the 1000 authorized
    with pytest.raises(AuthorizationRefused) as caught:
        gate.draw("che-registry", "m-3", gate.check(che, first_transfer(1)))
    assert caught.value.code == "GOVERNANCE.AUTHORIZATION_QUANTITY"
    assert "1000 already drawn" in caught.value.message
    gate.store.release("che-registry", "m-2")  # m-2 was not relayed after all: its 400 come back
    gate.draw("che-registry", "m-3", gate.check(che, first_transfer(400)))
    assert authorities.show("CHE", AUTH_ID)["drawn"] == "1000"


def test_an_amended_quantity_applies_from_its_date(world: World) -> None:
    authorities, gate, p = world
    che, na = p["che-registry"], p["che-authority"]
    authorities.issue(na, statement())
    gate.draw("che-registry", "m-1", gate.check(che, first_transfer(1000)))
    with pytest.raises(AuthorizationRefused):
        gate.draw("che-registry", "m-2", gate.check(che, first_transfer(500)))
    shown = authorities.amend(na, "CHE", AUTH_ID, statement(authorized_quantity="1500", date="2024-03-01"))
    assert shown["version"] == 2 and [v["version"] for v in shown["versions"]] == [1, 2]
    gate.draw("che-registry", "m-2", gate.check(che, first_transfer(500)))  # dated after the amendment
    with pytest.raises(AuthorizationRefused):  # dated before it: version 1's 1000 still apply
        gate.draw("che-registry", "m-3", gate.check(che, first_transfer(1, when="2024-02-01")))


def test_a_revoked_authorization_covers_nothing_from_its_revocation_on(world: World) -> None:
    authorities, gate, p = world
    che, na = p["che-registry"], p["che-authority"]
    authorities.issue(na, statement())
    shown = authorities.revoke(na, "CHE", AUTH_ID, date(2024, 6, 1), "withdrawn by decree")
    assert shown["status"] == "revoked" and shown["revocation"]["reason"] == "withdrawn by decree"
    refused(gate, che, first_transfer(10, when="2024-06-03"), "REVOKED")
    assert gate.check(che, first_transfer(10, when="2024-05-31"))  # an action before the revocation
    with pytest.raises(Exception, match="revoked"):
        authorities.amend(na, "CHE", AUTH_ID, statement(authorized_quantity="5"))


def test_a_registry_cannot_pose_as_its_national_authority(world: World) -> None:
    authorities, _, p = world
    with pytest.raises(AuthorizationNotYours):
        authorities.issue(p["che-registry"], statement())
    authorities.issue(p["che-authority"], statement())
    with pytest.raises(AuthorizationNotYours):  # nor may an authority act for another Party
        authorities.revoke(p["che-authority"], "GHA", AUTH_ID, date(2024, 1, 1))


def test_records_are_signed_by_the_gateway(world: World) -> None:
    authorities, _, p = world
    shown = authorities.issue(p["che-authority"], statement())
    token = shown["versions"][0]["token"]
    assert authorities.verify(token)["issued_by"] == "che-authority"
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(Exception, match="does not verify"):
        authorities.verify(forged)


def test_a_use_by_the_acquiring_party_is_checked_but_draws_nothing(world: World) -> None:
    authorities, gate, p = world
    gha = p["gha-registry"]
    use = first_transfer(300, action_type=ActionType.USE, using_party="GHA")  # CHE's ITMOs, used by GHA
    refused(gate, gha, use, "UNKNOWN")
    authorities.issue(p["che-authority"], statement())
    relied = gate.check(gha, use)  # covered; CHE's quantity counts CHE's own first transfers only
    assert {k: d.quantity for k, d in relied.items()} == {("CHE", AUTH_ID): 0}  # relied on, nothing drawn
    gate.draw("gha-registry", "u-1", relied)
    assert gate.store.drawn("CHE", AUTH_ID) == 0
    refused(gate, gha, first_transfer(300, action_type=ActionType.USE, using_party="JPN"), "PARTY")


def test_a_failing_store_is_a_coded_error_and_never_masks_the_error_on_its_way_out(
        world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from gateway.evidence import JwkSigner, open_log
    from gateway.governance import AuthorizationStoreUnavailable
    from gateway.governance._relay import GovernedRecorder
    from gateway.idempotency import open_store
    from gateway.transfers import DetachedSigner

    authorities, gate, p = world
    authorities.issue(p["che-authority"], statement())
    keyring = SigningKeyRing.generate("ES256", kid="gw-2")
    idempotency = open_store(f"sqlite:///{tmp_path / 'idem.sqlite3'}")
    recorder = GovernedRecorder(evidence=open_log(f"sqlite:///{tmp_path / 'ev.sqlite3'}",
                                                  signer=JwkSigner(keyring.current)),
                                idempotency=idempotency, signer=DetachedSigner(keyring, "http://gw"))
    recorder.gate = gate
    claim = idempotency.claim("che-registry", "m-9", "00" * 32)
    gate.draw("che-registry", "m-9", gate.check(p["che-registry"], first_transfer(10)))
    drawings = gate.check(p["che-registry"], first_transfer(10))
    gate.store.close()
    with pytest.raises(AuthorizationStoreUnavailable) as caught:  # an authorization the gate has not read yet
        gate.check(p["che-registry"], first_transfer(10, auth_id="CHE-A6-2023-002"))
    assert caught.value.code == "GOVERNANCE.STORE_UNAVAILABLE" and caught.value.retry_after
    with pytest.raises(AuthorizationStoreUnavailable):  # the drawing, whose transaction confirms the standing
        gate.draw("che-registry", "m-10", drawings)
    recorder.release(claim)  # logs, does not raise
    assert "was not given back (GOVERNANCE.STORE_UNAVAILABLE)" in caplog.text


def test_an_authorization_changed_between_check_and_drawing_refuses_the_message_retryably(world: World) -> None:
    authorities, gate, people = world
    che, gha = people["che-registry"], people["gha-registry"]
    authorities.issue(people["che-authority"], statement())
    drawings = gate.check(che, first_transfer(600))  # the gate now knows version 1, not revoked
    authorities.amend(people["che-authority"], "CHE", AUTH_ID, statement(authorized_quantity="500"))
    with pytest.raises(AuthorizationChanged) as caught:  # checked against version 1, drawn under version 2
        gate.draw("che-registry", "m-1", drawings)
    assert caught.value.code == "GOVERNANCE.AUTHORIZATION_CHANGED" and caught.value.retry_after == 1
    assert gate.store.drawn("CHE", AUTH_ID) == 0
    again = gate.check(che, first_transfer(600))  # sent again: checked against version 2
    with pytest.raises(AuthorizationRefused, match="authorized quantity 500"):
        gate.draw("che-registry", "m-1", again)
    # a use by the acquiring Party draws nothing but relies on the authorization: a revocation in between
    # refuses it too
    use = first_transfer(10, action_type=ActionType.USE, using_party="GHA")
    relied = gate.check(gha, use)
    authorities.revoke(people["che-authority"], "CHE", AUTH_ID, date(2024, 1, 1))
    with pytest.raises(AuthorizationChanged):
        gate.draw("gha-registry", "u-1", relied)
    refused(gate, gha, use, "REVOKED")
