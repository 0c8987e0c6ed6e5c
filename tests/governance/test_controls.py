"""Transaction controls on a real store and evidence log, at chosen moments: each control allowed, refused and
at the edge, with its code, clause and the policy version on record; the approval attacks; a rollover mid-run."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gateway.digests import sha256_hex
from gateway.evidence import JwkSigner, open_log
from gateway.governance import PolicyRefused, PolicyUnavailable, TransactionControls, sign_approval
from gateway.governance._controls_store import SqliteControlsStore
from gateway.protocol import MessageKind
from gateway.trust.keys import generate_key
from tests.governance.policy_support import MONDAY_10_UTC, Network

T = MessageKind.TRANSFERS
BODY = b'{"a transfer": 1}'
DIGEST = sha256_hex(BODY)


class World:
    def __init__(self, root: Path, che: dict[str, Any]) -> None:
        self.net = Network()
        self.now = MONDAY_10_UTC
        self.policies = self.net.store([self.net.sign(self.net.content(**che), now=self.now - 86400)], refresh=1e9)
        self.policies.refresh(self.now)
        self.store = SqliteControlsStore(root / "controls.sqlite3")
        self.evidence = open_log(f"sqlite:///{root / 'evidence.sqlite3'}", signer=JwkSigner(generate_key("ES256", "e")))
        self.controls = TransactionControls(self.policies, self.store, self.evidence, clock=lambda: self.now)
        self.che, self.gha, self.swe = (self.net.people[p] for p in ("che-registry", "gha-registry", "swe-registry"))

    def decide(self, units: int, *, message_id: str = "m-1", approvals: tuple[str, ...] = (), to: str = "gha",
               kind: MessageKind = T, body_sha256: str = DIGEST) -> Any:
        receiver = {"gha": self.gha, "swe": self.swe}[to]
        return self.controls.decide(self.che, kind, message_id, body_sha256, receiver, Decimal(units), approvals)

    def refused(self, units: int, code: str, **kw: Any) -> PolicyRefused:
        with pytest.raises(PolicyRefused) as caught:
            self.decide(units, **kw)
        assert caught.value.code == f"GOVERNANCE.POLICY_{code}", caught.value.message
        return caught.value

    def approval(self, officer: str, *, message_id: str = "m-1", body_sha256: str = DIGEST,
                 sender: str = "che-registry", **kw: Any) -> str:
        return sign_approval(self.net.officers.keys[officer], officer=officer, sender=sender, kind="transfers",
                             message_id=message_id, body_sha256=body_sha256, now=int(self.now), **kw)

    def policy_records(self, message_id: str) -> list[dict[str, Any]]:
        return [r.verdicts for r in self.evidence.find("che-registry", message_id)]


@pytest.fixture
def make(tmp_path: Path) -> Iterator[Any]:
    worlds: list[World] = []

    def build(**che: Any) -> World:
        world = World(tmp_path / str(len(worlds)), che)
        worlds.append(world)
        return world

    yield build
    for w in worlds:
        w.store.close()
        w.evidence.close()


def test_four_eyes_below_at_and_above_the_threshold(make: Any) -> None:
    w = make()  # four eyes above 1000, officers alice and bob
    assert w.decide(999).approved_by == ()
    assert w.decide(1000).approved_by == ()  # the threshold itself needs no approvals
    refusal = w.refused(1001, "APPROVAL_REQUIRED")
    assert refusal.clause == "participants.che-registry.four_eyes_above" and refusal.version == 1
    decision = w.decide(1001, approvals=(w.approval("alice"), w.approval("bob")))
    assert decision.approved_by == ("alice", "bob") and decision.version == 1


def test_an_approval_by_the_same_officer_twice_is_refused(make: Any) -> None:
    w = make()
    w.refused(5000, "APPROVAL_SAME_OFFICER", approvals=(w.approval("alice"), w.approval("alice")))
    w.refused(5000, "APPROVAL_REQUIRED", approvals=(w.approval("alice"),))


def test_a_replayed_approval_or_one_for_another_transfer_is_refused(make: Any) -> None:
    w = make()
    first = (w.approval("alice", message_id="m-1"), w.approval("bob", message_id="m-1"))
    assert w.decide(5000, message_id="m-1", approvals=first).approved_by == ("alice", "bob")
    # the same approvals on another message: bound to the message id
    refusal = w.refused(5000, "APPROVAL_MISMATCH", message_id="m-2", approvals=first)
    assert "message_id" in refusal.message
    # approvals for this message id but another body (another transfer): bound to the digest
    other = sha256_hex(b"another transfer")
    w.refused(5000, "APPROVAL_MISMATCH", message_id="m-3",
              approvals=(w.approval("alice", message_id="m-3", body_sha256=other),
                         w.approval("bob", message_id="m-3", body_sha256=other)))
    # approvals for another sender's message with the same id and body
    w.refused(5000, "APPROVAL_MISMATCH", message_id="m-4",
              approvals=(w.approval("alice", message_id="m-4", sender="gha-registry"),
                         w.approval("bob", message_id="m-4", sender="gha-registry")))


def test_approvals_by_a_stranger_a_forged_key_or_expired_are_refused(make: Any) -> None:
    w = make()
    # gina is an officer of GHA, not of CHE
    w.refused(5000, "APPROVAL_INVALID", approvals=(w.approval("alice"), w.approval("gina")))
    forged = sign_approval(generate_key("Ed25519", "bob-1"), officer="bob", sender="che-registry", kind="transfers",
                           message_id="m-1", body_sha256=DIGEST, now=int(w.now))
    w.refused(5000, "APPROVAL_INVALID", approvals=(w.approval("alice"), forged))
    # bob's key, signing as alice
    posing = sign_approval(w.net.officers.keys["bob"], officer="alice", sender="che-registry", kind="transfers",
                           message_id="m-1", body_sha256=DIGEST, now=int(w.now))
    w.refused(5000, "APPROVAL_INVALID", approvals=(w.approval("alice"), posing))
    stale = w.approval("bob", valid_for=60)
    w.now += 61
    w.refused(5000, "APPROVAL_INVALID", approvals=(w.approval("alice"), stale))
    w.refused(5000, "APPROVAL_INVALID", approvals=(w.approval("alice"), w.approval("bob", valid_for=2 * 86400)))
    w.refused(5000, "APPROVAL_INVALID", approvals=(w.approval("alice"), "not.a.jws"))


def test_daily_limits_in_total_and_per_counterparty_at_the_edge(make: Any) -> None:
    w = make(four_eyes_above=None, daily_limit="1000", counterparty_daily_limit="600")
    assert w.decide(600, message_id="a").reserved
    refusal = w.refused(1, "COUNTERPARTY_LIMIT", message_id="b")  # 600 to GHA already
    assert refusal.clause == "participants.che-registry.counterparty_daily_limit"
    assert w.decide(400, message_id="c", to="swe")  # exactly the 1000 of the day
    refusal = w.refused(1, "DAILY_LIMIT", message_id="d", to="swe")
    assert refusal.clause == "participants.che-registry.daily_limit" and "1000" in refusal.message
    w.controls.release("che-registry", "c")  # message c was not relayed after all: its units come back
    assert w.decide(400, message_id="e", to="swe")
    assert w.decide(400, message_id="e", to="swe")  # a retry of the same message reserves nothing more
    assert w.store.used("che-registry", "2026-06-01") == 1000
    w.now += 12 * 3600  # Tuesday in Zurich: a new day
    assert w.decide(600, message_id="f").reserved
    assert w.store.used("che-registry", "2026-06-02") == 600


def test_a_named_counterparty_limit_overrides_the_general_one(make: Any) -> None:
    w = make(four_eyes_above=None, counterparty_daily_limit="600", counterparty_limits={"swe-registry": "50"})
    assert w.decide(50, message_id="a", to="swe")
    refusal = w.refused(1, "COUNTERPARTY_LIMIT", message_id="b", to="swe")
    assert refusal.clause == "participants.che-registry.counterparty_limits.swe-registry"
    assert w.decide(600, message_id="c")


def test_business_hours_in_the_participants_time_zone(make: Any) -> None:
    hours = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00"}
    w = make(four_eyes_above=None, business_hours=hours)  # Zurich: UTC+2 in June
    w.now = MONDAY_10_UTC - 4 * 3600  # 08:00 in Zurich: the window opens
    assert w.decide(1)
    w.now = MONDAY_10_UTC - 4 * 3600 - 1  # 07:59:59
    refusal = w.refused(1, "BUSINESS_HOURS")
    assert refusal.retry_after == 1 and "Europe/Zurich" in refusal.message
    w.now = MONDAY_10_UTC + 6 * 3600  # 18:00 in Zurich: closed (the end is exclusive)
    refusal = w.refused(1, "BUSINESS_HOURS")
    assert refusal.retry_after == 14 * 3600
    w.now = MONDAY_10_UTC + 5 * 86400  # Saturday
    assert w.refused(1, "BUSINESS_HOURS").retry_after == 2 * 86400 - 4 * 3600


def test_a_new_counterpart_is_held_a_trusted_one_is_not(make: Any) -> None:
    w = make(four_eyes_above=None, trusted=["gha-registry"], holding_seconds=3600)
    assert w.decide(10, to="gha")
    refusal = w.refused(10, "HOLDING_PERIOD", to="swe", message_id="s-1")
    assert refusal.retry_after == 3600 and refusal.clause == "participants.che-registry.holding_seconds"
    w.now += 3599
    assert w.refused(10, "HOLDING_PERIOD", to="swe", message_id="s-2").retry_after == 1
    w.now += 1
    assert w.decide(10, to="swe", message_id="s-3")


def test_the_kill_switch_stops_the_participant_both_ways_and_every_kind(make: Any) -> None:
    w = make(kill_switch=True, kill_reason="incident 42")
    refusal = w.refused(1, "KILL_SWITCH", kind=MessageKind.CANCELLATIONS)
    assert "incident 42" in refusal.message and refusal.clause == "participants.che-registry.kill_switch"
    content = w.net.content()
    content["participants"]["gha-registry"]["kill_switch"] = True
    w.policies.accept(w.net.sign({**content, "version": 2}), now=w.now)
    with pytest.raises(PolicyRefused, match="gha-registry"):
        w.decide(1)  # the receiver is stopped
    assert w.decide(1, to="swe")


def test_kinds_the_policy_does_not_control_pass_with_its_version(make: Any) -> None:
    w = make(daily_limit="1")
    decision = w.decide(50_000, kind=MessageKind.CANCELLATIONS)
    assert decision.controlled is False and decision.verdicts()["policy"]["version"] == 1


def test_every_decision_puts_the_policy_version_on_record_and_a_rollover_mid_run(make: Any) -> None:
    w = make()
    w.refused(2000, "APPROVAL_REQUIRED", message_id="r-1")
    [record] = w.policy_records("r-1")
    assert record["outcome"] == "refused" and record["code"] == "GOVERNANCE.POLICY_APPROVAL_REQUIRED"
    assert record["policy"] == {"version": 1, "decision": "refused",
                                "clause": "participants.che-registry.four_eyes_above"}
    assert w.decide(10).verdicts() == {"policy": {"version": 1, "decision": "allowed", "controlled": True,
                                                  "units": "10"}}
    # version 2, scheduled an hour ahead, lowers the threshold; the run goes on across the rollover
    w.policies.accept(w.net.sign(w.net.content(version=2, four_eyes_above="5"), not_before=w.now + 3600), now=w.now)
    assert w.decide(10, message_id="before").version == 1
    w.now += 3600
    refusal = w.refused(10, "APPROVAL_REQUIRED", message_id="after")
    assert refusal.version == 2 and w.policy_records("after")[0]["policy"]["version"] == 2


def test_without_a_valid_policy_the_controlled_kinds_fail_closed(make: Any) -> None:
    w = make()
    w.now += 31 * 86400  # the only version expired
    with pytest.raises(PolicyUnavailable):
        w.decide(1, message_id="x")
    with pytest.raises(PolicyUnavailable):
        w.decide(1, message_id="y", kind=MessageKind.CANCELLATIONS)
    assert w.decide(1, kind=MessageKind.ACCEPTANCES) is None  # a notice about an earlier message still passes
    assert w.policy_records("x")[0]["policy"] == {"version": None, "decision": "refused", "clause": "in_force"}
