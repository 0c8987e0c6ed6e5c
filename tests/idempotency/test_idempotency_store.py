"""The idempotency store on SQLite and Redis: states, leases, hostile input, and a two-process race."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from gateway.idempotency import (
    Claim,
    ClaimInProgress,
    ClaimState,
    IdempotencyConflict,
    IdempotencyStore,
    IdempotencyStoreUnavailable,
    InvalidClaim,
    LeaseLost,
    open_store,
)
from tests.idempotency.conftest import DIGEST_A, DIGEST_B, Backend
from tests.support.racing import finish_race, start_race

WORKER = "tests.idempotency.claim_worker"
RECEIPT = {"status": "ACCEPTED", "receiver": "GHA-registry", "units": "100", "nested": {"n": 1.5}}


def test_first_claim_delivers_and_a_retry_gets_the_original_receipt(store: IdempotencyStore) -> None:
    claim = store.claim("CHE", "m-1", DIGEST_A)
    assert claim.state is ClaimState.NEW and claim.token and claim.receipt is None
    assert claim.raise_unless_new() is claim
    store.complete(claim, RECEIPT)
    retry = store.claim("CHE", "m-1", DIGEST_A)
    assert retry.state is ClaimState.DONE and retry.receipt == RECEIPT and retry.token is None
    assert retry.raise_unless_new() is retry


def test_a_different_body_under_a_used_id_is_a_coded_conflict(store: IdempotencyStore) -> None:
    store.complete(store.claim("CHE", "m-1", DIGEST_A), RECEIPT)
    claim = store.claim("CHE", "m-1", DIGEST_B)
    assert claim.state is ClaimState.CONFLICT and claim.body_sha256 == DIGEST_A and claim.receipt is None
    with pytest.raises(IdempotencyConflict) as info:
        claim.raise_unless_new()
    assert info.value.code == "IDEMPOTENCY.BODY_MISMATCH"


def test_a_conflict_is_reported_while_the_first_body_is_still_in_flight(store: IdempotencyStore) -> None:
    store.claim("CHE", "m-1", DIGEST_A)
    assert store.claim("CHE", "m-1", DIGEST_B).state is ClaimState.CONFLICT


def test_a_concurrent_retry_sees_in_progress_with_a_retry_after(backend: Backend) -> None:
    store = backend.open(lease_seconds=30)
    store.claim("CHE", "m-1", DIGEST_A)
    busy = store.claim("CHE", "m-1", DIGEST_A)
    assert busy.state is ClaimState.IN_PROGRESS and busy.token is None
    assert busy.retry_after is not None and 25 < busy.retry_after <= 30
    with pytest.raises(ClaimInProgress) as info:
        busy.raise_unless_new()
    assert info.value.code == "IDEMPOTENCY.IN_PROGRESS" and 25 < info.value.retry_after <= 30


def test_senders_and_message_ids_are_separate_keys(store: IdempotencyStore) -> None:
    store.complete(store.claim("CHE", "m-1", DIGEST_A), {"who": "CHE"})
    assert store.claim("GHA", "m-1", DIGEST_B).state is ClaimState.NEW
    assert store.claim("CHE", "m-2", DIGEST_B).state is ClaimState.NEW
    # no ambiguity when a separator appears inside the ids
    store.complete(store.claim("a:b", "c", DIGEST_A), {"who": "a:b"})
    assert store.claim("a", "b:c", DIGEST_B).state is ClaimState.NEW


def test_release_lets_a_retry_deliver_again(store: IdempotencyStore) -> None:
    first = store.claim("CHE", "m-1", DIGEST_A)
    store.release(first)
    second = store.claim("CHE", "m-1", DIGEST_A)
    assert second.state is ClaimState.NEW and second.token != first.token
    with pytest.raises(LeaseLost):
        store.release(first)  # the old claim no longer holds the message
    with pytest.raises(LeaseLost):
        store.complete(first, RECEIPT)
    store.complete(second, RECEIPT)
    assert store.claim("CHE", "m-1", DIGEST_A).receipt == RECEIPT


def test_a_released_claim_may_come_back_with_another_body(store: IdempotencyStore) -> None:
    store.release(store.claim("CHE", "m-1", DIGEST_A))
    assert store.claim("CHE", "m-1", DIGEST_B).state is ClaimState.NEW


def test_a_completed_claim_cannot_be_released_and_completing_twice_is_harmless(
        store: IdempotencyStore) -> None:
    claim = store.claim("CHE", "m-1", DIGEST_A)
    store.complete(claim, RECEIPT)
    store.complete(claim, {"other": "receipt"})
    assert store.claim("CHE", "m-1", DIGEST_A).receipt == RECEIPT
    with pytest.raises(LeaseLost) as info:
        store.release(claim)
    assert info.value.code == "IDEMPOTENCY.LEASE_LOST"


def test_an_expired_lease_can_be_taken_over_and_the_old_holder_is_refused(backend: Backend) -> None:
    store = backend.open(lease_seconds=0.3)
    stale = store.claim("CHE", "m-1", DIGEST_A)
    assert store.claim("CHE", "m-1", DIGEST_A).state is ClaimState.IN_PROGRESS
    time.sleep(0.45)
    fresh = store.claim("CHE", "m-1", DIGEST_A)
    assert fresh.state is ClaimState.NEW
    with pytest.raises(LeaseLost):
        store.complete(stale, RECEIPT)
    with pytest.raises(LeaseLost):
        store.release(stale)
    store.complete(fresh, {"by": "fresh"})
    assert store.claim("CHE", "m-1", DIGEST_A).receipt == {"by": "fresh"}


def test_completing_after_the_lease_expired_still_records_the_receipt_if_nobody_took_over(
        backend: Backend) -> None:
    store = backend.open(lease_seconds=0.2)
    claim = store.claim("CHE", "m-1", DIGEST_A)
    time.sleep(0.35)
    store.complete(claim, RECEIPT)
    assert store.claim("CHE", "m-1", DIGEST_A).state is ClaimState.DONE


def test_done_claims_are_forgotten_after_the_retention(backend: Backend) -> None:
    store = backend.open(retention_seconds=0.3)
    store.complete(store.claim("CHE", "m-1", DIGEST_A), RECEIPT)
    assert store.claim("CHE", "m-1", DIGEST_A).state is ClaimState.DONE
    time.sleep(0.45)
    assert store.claim("CHE", "m-1", DIGEST_B).state is ClaimState.NEW


def test_two_store_instances_share_the_state(backend: Backend) -> None:
    one, two = backend.open(), backend.open()
    claim = one.claim("CHE", "m-1", DIGEST_A)
    assert two.claim("CHE", "m-1", DIGEST_A).state is ClaimState.IN_PROGRESS
    one.complete(claim, RECEIPT)
    assert two.claim("CHE", "m-1", DIGEST_A).receipt == RECEIPT


@pytest.mark.parametrize(("sender", "message_id", "digest", "fragment"), [
    ("", "m", DIGEST_A, "sender"), ("CHE", "", DIGEST_A, "message id"), ("C\x00HE", "m", DIGEST_A, "control"),
    ("CHE", "m\n", DIGEST_A, "control"), ("x" * 257, "m", DIGEST_A, "longer"),
    ("CHE", "m" * 257, DIGEST_A, "longer"),
    ("CHE", "m", "A" * 64, "digest"), ("CHE", "m", "a" * 63, "digest"), ("CHE", "m", None, "digest"),
    (None, "m", DIGEST_A, "sender"),
])
def test_malformed_claims_are_refused_with_a_code(store: IdempotencyStore, sender: object, message_id: object,
                                                  digest: object, fragment: str) -> None:
    with pytest.raises(InvalidClaim, match=fragment) as info:
        store.claim(sender, message_id, digest)  # type: ignore[arg-type]
    assert info.value.code == "IDEMPOTENCY.INVALID"


def test_bad_receipts_and_foreign_claims_are_refused(store: IdempotencyStore) -> None:
    claim = store.claim("CHE", "m-1", DIGEST_A)
    for receipt in (["a list"], {"x": object()}, {"big": "x" * 1_100_000}):
        with pytest.raises(InvalidClaim):
            store.complete(claim, receipt)  # type: ignore[arg-type]
    done = Claim(ClaimState.DONE, "CHE", "m-1", DIGEST_A, receipt={})
    with pytest.raises(InvalidClaim, match="NEW claim"):
        store.complete(done, RECEIPT)
    forged = Claim(ClaimState.NEW, "CHE", "m-1", DIGEST_A, token="guessed-token-0000000")
    with pytest.raises(LeaseLost):
        store.complete(forged, RECEIPT)
    assert store.claim("CHE", "m-1", DIGEST_A).state is ClaimState.IN_PROGRESS


@pytest.mark.parametrize("url", ["memcached://x", "sqlite://", "sqlite:///x.db?bogus=1",
                                 "sqlite:///x.db?table=bad-name", "sqlite:///x.db?synchronous=off"])
def test_bad_store_urls_are_configuration_errors(url: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidClaim) as info:
        open_store(url)
    assert info.value.code == "IDEMPOTENCY.CONFIGURATION"


def test_an_unreachable_redis_is_a_coded_error() -> None:
    store = open_store("redis://127.0.0.1:1/0")
    with pytest.raises(IdempotencyStoreUnavailable):
        store.claim("CHE", "m-1", DIGEST_A)
    with pytest.raises(IdempotencyStoreUnavailable):
        store.ping()


def test_threads_racing_on_one_key_deliver_once(backend: Backend) -> None:
    store = backend.open()
    outcomes: list[ClaimState] = []
    barrier = threading.Barrier(8)

    def race() -> None:
        barrier.wait()
        outcomes.append(store.claim("CHE", "hot", DIGEST_A).state)

    threads = [threading.Thread(target=race) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count(ClaimState.NEW) == 1 and outcomes.count(ClaimState.IN_PROGRESS) == 7


@pytest.mark.e2e  # two processes racing
def test_two_processes_racing_on_the_same_keys_never_both_deliver(backend: Backend, tmp_path: Path) -> None:
    backend.open().ping()  # create the table before the race
    start, keys = tmp_path / "go", 300
    procs = start_race(WORKER, {tag: [backend.url, tag, str(keys), str(start)] for tag in ("a", "b")}, start)
    results = {tag: json.loads(out) for tag, out in finish_race(procs).items()}
    won_a, won_b = set(results["a"]["won"]), set(results["b"]["won"])
    assert not won_a & won_b, "a message was delivered twice"
    assert won_a | won_b == {f"race-{i}" for i in range(keys)}
    # both processes claimed every key (who wins how many depends on scheduling: SQLite may let one win all)
    assert sum(results["a"]["states"].values()) == keys and sum(results["b"]["states"].values()) == keys
    reader = backend.open()
    for i in range(keys):
        claim = reader.claim("CHE-registry", f"race-{i}", "c" * 64)
        winner = "a" if f"race-{i}" in won_a else "b"
        assert claim.state is ClaimState.DONE
        assert claim.receipt == {"delivered_by": winner, "message_id": f"race-{i}"}


def test_sqlite_purges_expired_rows_in_bounded_batches(tmp_path: Path) -> None:
    import sqlite3

    from gateway.idempotency import sqlite as backend_module

    now = [1000.0]
    store = backend_module.SqliteIdempotencyStore(tmp_path / "p.db", table="purge", lease_seconds=10,
                                                  retention_seconds=10, clock=lambda: now[0])
    for i in range(backend_module._PURGE_BATCH + 20):
        store.complete(store.claim("CHE", f"m-{i}", DIGEST_A), {"i": i})

    def rows() -> int:
        with sqlite3.connect(tmp_path / "p.db") as conn:
            return int(conn.execute("SELECT count(*) FROM purge").fetchone()[0])

    assert rows() == backend_module._PURGE_BATCH + 20
    now[0] += 3600  # everything expired; the next claims purge, one bounded batch at a time
    store.claim("GHA", "fresh-1", DIGEST_A)
    assert rows() == 20 + 1
    now[0] += 1.5
    store.claim("GHA", "fresh-2", DIGEST_A)
    assert rows() == 2
    store.close()
