"""The store of held messages shared by two gateways (two store objects on one SQLite file, or on one PostgreSQL
table): a message is held once, an officer approves it once and the same token is taken once - also when two
gateways take approvals at the same moment - and a hold ends once. The default store URL follows the policy
store's."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from gateway._settings_sections import GovernanceSettings
from gateway.governance import HeldStore, PolicyRefused, open_held_store
from gateway.governance._held_store import EXPIRED, HELD, RELEASED, Approval, Held

Opener = Callable[[], HeldStore]


@pytest.fixture(params=["sqlite", "postgresql"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'holds.sqlite3'}"
    else:
        request.applymarker(pytest.mark.service)
        dsn = request.getfixturevalue("postgres_dsn")
        url = f"{dsn}?table=holds_{uuid.uuid4().hex[:10]}"
    opened: list[HeldStore] = []

    def open_one() -> HeldStore:
        opened.append(open_held_store(url))
        return opened[-1]

    yield open_one
    for store in opened:
        store.close()
    if request.param == "postgresql":
        table = url.rpartition("table=")[2]
        import psycopg

        with psycopg.connect(request.getfixturevalue("postgres_dsn"), autocommit=True) as conn:
            for suffix in ("held", "approvals"):
                conn.execute(f"DROP TABLE IF EXISTS {table}_{suffix}")


def held(message_id: str = "m-1", body: bytes = b"\x00body\xff", **kw: object) -> Held:
    return Held("che", message_id, "transfers", "d" * 64, body, "application/json", None, "gha", Decimal("5000"), 3,
                2, 1000.0, 2000.0, **kw)  # type: ignore[arg-type]


def approval(officer: str, token: str | None = None) -> Approval:
    token = token or f"token-of-{officer}"
    return Approval(officer, token, f"digest-{token}", 1500.0)


def refuse(what: str, message: str) -> PolicyRefused:
    return PolicyRefused(message, code=f"GOVERNANCE.POLICY_APPROVAL_{what}", clause="c", version=3)


def test_a_message_is_held_once_and_read_back_byte_for_byte(opener: Opener) -> None:
    one, other = opener(), opener()
    stored, first = one.hold(held(approvals=(approval("alice"),)))
    assert first and stored.body == b"\x00body\xff"
    again, second = other.hold(held(body=b"another body"))
    assert not second and again.body == b"\x00body\xff" and again.officers() == ("alice",)
    assert again.units == Decimal("5000") and again.version == 3 and again.state == HELD
    assert other.get("che", "m-2") is None and other.get("gha", "m-1") is None


def test_an_officer_approves_once_and_a_token_is_taken_once(opener: Opener) -> None:
    store = opener()
    store.hold(held())
    after = store.approve("che", "m-1", [approval("alice")], refuse)
    assert after is not None and after.officers() == ("alice",)
    with pytest.raises(PolicyRefused) as replayed:
        store.approve("che", "m-1", [approval("alice")], refuse)
    assert replayed.value.code == "GOVERNANCE.POLICY_APPROVAL_REPLAYED"
    with pytest.raises(PolicyRefused) as twice:
        store.approve("che", "m-1", [approval("bob"), approval("alice", "a-second-token")], refuse)
    assert twice.value.code == "GOVERNANCE.POLICY_APPROVAL_SAME_OFFICER"
    current = store.get("che", "m-1")
    assert current is not None and current.officers() == ("alice",)  # bob's was not added either: one transaction
    store.drop_approvals("che", "m-1", ["alice"])
    current = store.get("che", "m-1")
    assert current is not None and current.officers() == ()


def test_two_gateways_taking_the_same_officer_at_once_keep_one(opener: Opener) -> None:
    gateways = [opener(), opener()]
    gateways[0].hold(held())
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def take(store: HeldStore, token: str) -> None:
        barrier.wait()
        try:
            store.approve("che", "m-1", [approval("alice", token)], refuse)
            outcomes.append("taken")
        except PolicyRefused as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=take, args=(g, f"t{i}")) for i, g in enumerate(gateways)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["GOVERNANCE.POLICY_APPROVAL_SAME_OFFICER", "taken"]


def test_a_hold_ends_once_and_the_listing_filters(opener: Opener) -> None:
    store = opener()
    store.hold(held("m-1"))
    store.hold(held("m-2"))
    assert store.end("che", "m-1", EXPIRED, 2100.0)
    assert not store.end("che", "m-1", RELEASED, 2200.0)  # ended already: no second transition
    assert [h.message_id for h in store.listing("che", HELD)] == ["m-2"]
    ended = store.listing("che", EXPIRED)
    assert [(h.message_id, h.ended_at) for h in ended] == [("m-1", 2100.0)]
    assert len(store.listing("che")) == 2 and store.listing("gha") == []
    assert store.approve("che", "m-1", [approval("bob")], refuse) is not None  # an ended hold takes nothing
    ended_again = store.get("che", "m-1")
    assert ended_again is not None and ended_again.officers() == ()


def test_the_default_store_follows_the_policy_store(tmp_path: Path) -> None:
    assert GovernanceSettings().hold_url(tmp_path) == f"sqlite:///{tmp_path / 'holds.sqlite3'}"
    shared = GovernanceSettings(policy_store="postgresql://db/carbon?table=ctl&sslmode=require")
    assert shared.hold_url(tmp_path) == "postgresql://db/carbon?sslmode=require&table=ctl_holds"
    named = GovernanceSettings(policy_store="postgresql://db/carbon", hold_store="sqlite:///x.sqlite3")
    assert named.hold_url(tmp_path) == "sqlite:///x.sqlite3"
    assert GovernanceSettings(policy_store="postgresql://db/c").hold_url(tmp_path) == "postgresql://db/c?table=controls_holds"
