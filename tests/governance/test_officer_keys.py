"""Officers' keys in the signed directory: the policy names officers by id, their keys come from the participant's
entry in the directory in force (a key removed from it stops being valid with that directory); policies that
embed keys still work; entries with private, kid-less, shared or duplicate officer keys are refused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from gateway.digests import sha256_hex
from gateway.governance import Policy, PolicyRefused, TransactionControls, sign_approval
from gateway.governance._controls_store import SqliteControlsStore
from gateway.governance._officers import officer_keys
from gateway.protocol import MessageKind
from gateway.trust.directory import Directory, Participant
from gateway.trust.keys import generate_key, public_jwk
from tests.governance.policy_support import MONDAY_10_UTC, Network
from tests.governance.support import entry

BODY = b'{"a transfer": 1}'
DIGEST = sha256_hex(BODY)
ALICE, BOB, BOB_NEW = (generate_key("ES256", "alice-d1"), generate_key("Ed25519", "bob-d1"),
                       generate_key("ES256", "bob-d2"))


def che_entry(*officers: tuple[str, list[Any]]) -> Participant:
    listed = [{"id": name, "keys": [public_jwk(k) for k in keys]} for name, keys in officers]
    return Participant.model_validate(entry("che-registry", "CHE", roles=[{"role": "registry-operator"}],
                                            officers=listed))


def by_id(net: Network, *names: str, version: int = 1) -> str:
    """A policy whose che-registry officers are named by id only."""
    content = net.content(version=version, officers=[{"id": n} for n in names])
    return net.sign(content, now=MONDAY_10_UTC - 3600)


class World:
    def __init__(self, root: Path, net: Network, token: str) -> None:
        self.net = net
        self.policies = self.net.store([token], refresh=1e9)
        self.policies.refresh(MONDAY_10_UTC)
        self.store = SqliteControlsStore(root / "controls.sqlite3")
        self.controls = TransactionControls(self.policies, self.store, clock=lambda: MONDAY_10_UTC)
        self.gha = self.net.people["gha-registry"]

    def decide(self, sender: Participant, *tokens: str) -> Any:
        return self.controls.decide(sender, MessageKind.TRANSFERS, "m-1", DIGEST, self.gha, Decimal(5000), tokens)


def approval(key: Any, officer: str, sender: str = "che-registry") -> str:
    return sign_approval(key, officer=officer, sender=sender, kind="transfers", message_id="m-1", body_sha256=DIGEST,
                         now=int(MONDAY_10_UTC))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    net = Network()
    w = World(tmp_path, net, by_id(net, "alice", "bob"))
    yield w
    w.store.close()


def test_officers_named_by_id_sign_with_the_keys_of_the_directory_entry(world: World) -> None:
    che = che_entry(("alice", [ALICE]), ("bob", [BOB]))
    decision = world.decide(che, approval(ALICE, "alice"), approval(BOB, "bob"))
    assert decision.approved_by == ("alice", "bob")


def test_a_key_removed_from_the_directory_stops_being_valid_at_once(world: World) -> None:
    before = che_entry(("alice", [ALICE]), ("bob", [BOB]))
    assert world.decide(before, approval(ALICE, "alice"), approval(BOB, "bob")).approved_by == ("alice", "bob")
    rotated = che_entry(("alice", [ALICE]), ("bob", [BOB_NEW]))  # the next directory: bob's key replaced
    with pytest.raises(PolicyRefused) as caught:
        world.decide(rotated, approval(ALICE, "alice"), approval(BOB, "bob"))
    assert caught.value.code == "GOVERNANCE.POLICY_APPROVAL_INVALID"
    assert "no officer key of che-registry" in caught.value.message
    assert world.decide(rotated, approval(ALICE, "alice"), approval(BOB_NEW, "bob")).approved_by == ("alice", "bob")


def test_an_officer_the_policy_does_not_name_approves_nothing(world: World) -> None:
    carol = generate_key("ES256", "carol-d1")
    che = che_entry(("alice", [ALICE]), ("carol", [carol]))  # carol is in the directory, not in the policy
    with pytest.raises(PolicyRefused) as caught:
        world.decide(che, approval(ALICE, "alice"), approval(carol, "carol"))
    assert caught.value.code == "GOVERNANCE.POLICY_APPROVAL_INVALID"


def test_another_registrys_officer_in_the_directory_is_not_ours(world: World) -> None:
    che = che_entry(("alice", [ALICE]))
    gha = Participant.model_validate(entry("gha-registry", "GHA", officers=[{"id": "bob", "keys": [public_jwk(BOB)]}]))
    assert officer_keys(world.policies.current(MONDAY_10_UTC)[0].controls("che-registry"), gha)  # gha's bob...
    with pytest.raises(PolicyRefused) as caught:  # ...does not sign for che-registry, whose entry lacks him
        world.decide(che, approval(ALICE, "alice"), approval(BOB, "bob"))
    assert caught.value.code == "GOVERNANCE.POLICY_APPROVAL_INVALID"


def test_policies_that_embed_keys_still_work_and_win_over_the_directory(tmp_path: Path) -> None:
    net = Network()  # its content embeds alice's and bob's keys
    w = World(tmp_path, net, net.sign(net.content(), now=MONDAY_10_UTC - 3600))
    keys = net.officers.keys
    plain = net.people["che-registry"]
    assert w.decide(plain, approval(keys["alice"], "alice"), approval(keys["bob"], "bob")).approved_by == (
        "alice", "bob")
    other = che_entry(("alice", [ALICE]), ("bob", [BOB]))  # the directory lists other keys: the policy's stand
    assert w.decide(other, approval(keys["alice"], "alice"), approval(keys["bob"], "bob")).approved_by == (
        "alice", "bob")
    w.store.close()


@pytest.mark.parametrize("bad", ["private key", "no kid", "one key two officers", "officer twice"])
def test_directory_entries_with_bad_officer_keys_are_refused(bad: str) -> None:
    alice = public_jwk(ALICE)
    officers: list[dict[str, Any]] = {
        "private key": [{"id": "alice", "keys": [ALICE.as_dict(private=True)]}],
        "no kid": [{"id": "alice", "keys": [{k: v for k, v in alice.items() if k != "kid"}]}],
        "one key two officers": [{"id": "alice", "keys": [alice]}, {"id": "bob", "keys": [alice]}],
        "officer twice": [{"id": "alice", "keys": [alice]}, {"id": "alice", "keys": [public_jwk(BOB)]}],
    }[bad]
    with pytest.raises(ValidationError):
        Participant.model_validate(entry("che-registry", "CHE", officers=officers))


def test_a_signed_directory_carries_the_officers_and_the_policy_may_omit_keys() -> None:
    now = int(time.time())
    directory = Directory.model_validate({"iss": "t", "environment": "test", "sequence": 1, "iat": now,
                                          "exp": now + 3600, "participants": [
                                              entry("che-registry", "CHE",
                                                    officers=[{"id": "alice", "keys": [public_jwk(ALICE)]}])]})
    che = directory.get("che-registry")
    assert che is not None and che.officers[0].id == "alice"
    assert che.public_view()["officers"][0]["keys"][0]["kid"] == "alice-d1"
    policy = Policy.model_validate({"iss": "o", "environment": "test", "version": 1, "iat": now, "nbf": now,
                                    "exp": now + 60, "participants": {"che-registry": {"officers": [{"id": "alice"}]}}})
    assert set(officer_keys(policy.controls("che-registry"), che)) == {"alice-d1"}
    assert officer_keys(policy.controls("che-registry"), None) == {}


@pytest.mark.parametrize("officers", [
    [{"id": "alice"}, {"id": "alice"}],  # named twice, both by id only (keys from the directory)
    [{"id": "alice", "keys": [public_jwk(ALICE)]}, {"id": "alice"}],
    [{"id": "alice", "keys": [public_jwk(ALICE)]}, {"id": "bob", "keys": [public_jwk(ALICE)]}],
    [{"id": "alice", "keys": [ALICE.as_dict(private=True)]}],
])
def test_policies_with_bad_officers_are_refused_as_directory_entries_are(officers: list[dict[str, Any]]) -> None:
    now = int(time.time())
    with pytest.raises(ValidationError):
        Policy.model_validate({"iss": "o", "environment": "test", "version": 1, "iat": now, "nbf": now,
                               "exp": now + 60, "participants": {"che-registry": {"officers": officers}}})
