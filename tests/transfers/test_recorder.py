"""The recorder keeps a message's receipt in the evidence log: whatever the idempotency store does
after that (fails, forgets the claim, loses the lease), every later answer is the receipt on record,
byte for byte with its signature, and the message is not delivered again."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from gateway.evidence import Exchange, JwkSigner, open_log
from gateway.idempotency import Claim, ClaimState, IdempotencyConflict, IdempotencyStoreUnavailable, open_store
from gateway.idempotency.sqlite import SqliteIdempotencyStore
from gateway.transfers import DetachedSigner, Recorder
from gateway.transfers._recorder import RECEIPT_SIGNATURE, receipt_bytes
from gateway.trust import development
from gateway.trust.keys import SigningKeyRing

DIGEST = "d" * 64


class StoreThatFailsToComplete(SqliteIdempotencyStore):
    """Claims work; completing a claim fails as a Redis killed mid-flight does."""

    def complete(self, claim: Claim, receipt: Mapping[str, Any]) -> None:
        raise IdempotencyStoreUnavailable("the idempotency store (Redis) is unavailable: connection refused")


def _recorder(tmp_path: Path, store: Any) -> Recorder:
    keyring = SigningKeyRing.from_document(development.keyring_document(), grace_seconds=0)
    evidence = open_log(f"sqlite:///{tmp_path / 'evidence.db'}", signer=JwkSigner(keyring.current))
    return Recorder(evidence=evidence, idempotency=store, signer=DetachedSigner(keyring, "https://gw.test"))


def _exchange(recorder: Recorder, receipt_id: str) -> tuple[Exchange, dict[str, Any]]:
    receipt = {"type": "carbonlink-receipt", "receipt_id": receipt_id, "message_id": "m-1", "outcome": "accepted",
               "answered_at": f"2026-01-01T00:00:0{receipt_id[-1]}Z"}
    _, signature = recorder.seal(receipt)
    exchange = Exchange(kind="transfers", sender="gha", receiver="che", message_id="m-1", inbound_sha256=DIGEST,
                        outbound_sha256=DIGEST, receipt=receipt,
                        verdicts={"outcome": "accepted", RECEIPT_SIGNATURE: signature})
    return exchange, {"status": 200, "receipt": receipt, "signature": signature}


def test_a_receipt_on_record_answers_while_its_claim_is_held(tmp_path: Path) -> None:
    store = StoreThatFailsToComplete(tmp_path / "idem.db", lease_seconds=60)
    recorder = _recorder(tmp_path, store)
    claim = store.claim("gha", "m-1", DIGEST)
    exchange, stored = _exchange(recorder, "A1")
    in_force, earlier = recorder.record(claim, exchange, stored)
    assert in_force == stored and not earlier
    assert recorder.health.failing() == {}  # recording a receipt does not complete the claim: one write
    # the claim is still held (in progress) for its lease; a retry looks the message up
    assert store.claim("gha", "m-1", DIGEST).state is ClaimState.IN_PROGRESS
    again = recorder.recorded("gha", "m-1", DIGEST)
    assert again is not None
    assert receipt_bytes(again["receipt"]) == receipt_bytes(stored["receipt"])
    assert again["signature"] == stored["signature"]
    with pytest.raises(IdempotencyConflict):
        recorder.recorded("gha", "m-1", "e" * 64)


def test_a_second_delivery_of_a_message_gets_the_first_receipt(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'idem.db'}", lease_seconds=60)
    recorder = _recorder(tmp_path, store)
    first_claim = store.claim("gha", "m-1", DIGEST)
    exchange_a, stored_a = _exchange(recorder, "A1")
    # the store forgets the claim (a Redis restarted without persistence) and a retry claims it anew
    store.release(first_claim)
    second_claim = store.claim("gha", "m-1", DIGEST)
    assert recorder.record(second_claim, exchange_a, stored_a) == (stored_a, False)
    exchange_b, stored_b = _exchange(recorder, "B2")
    in_force, earlier = recorder.record(first_claim, exchange_b, stored_b)
    assert earlier and in_force["receipt"] == stored_a["receipt"] and in_force["signature"] == stored_a["signature"]
    assert len([r for r in recorder.evidence.find("gha", "m-1") if r.receipt is not None]) == 1


def test_one_lookup_answers_the_receipt_or_a_delivery_under_way(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'idem.db'}", lease_seconds=60)
    recorder = _recorder(tmp_path, store)
    assert recorder.lookup("gha", "m-1", DIGEST, 60) == (None, None)  # nothing on record
    recorder.evidence.append(Exchange(kind="transfers", sender="gha", receiver="che", message_id="m-1",
                                      inbound_sha256=DIGEST, outbound_sha256=DIGEST, receipt=None,
                                      verdicts={"outcome": "delivering"}))
    stored, left = recorder.lookup("gha", "m-1", DIGEST, 60)
    assert stored is None and left is not None and 55 < left <= 60  # an intent just recorded: under way
    assert recorder.lookup("gha", "m-1", DIGEST, 0.000001) == (None, None)  # older than the lease: not held
    claim = store.claim("gha", "m-1", DIGEST)
    exchange, expected = _exchange(recorder, "A1")
    recorder.record(claim, exchange, expected)
    stored, left = recorder.lookup("gha", "m-1", DIGEST, 60)  # the receipt answers, whatever came before
    assert left is None and stored is not None
    assert receipt_bytes(stored["receipt"]) == receipt_bytes(expected["receipt"])
    assert stored["signature"] == expected["signature"]
    with pytest.raises(IdempotencyConflict):
        recorder.lookup("gha", "m-1", "e" * 64, 60)
    # the same answers as the two separate reads
    assert recorder.recorded("gha", "m-1", DIGEST) == stored


def test_a_claim_that_cannot_adopt_the_receipt_is_answered_from_the_log(tmp_path: Path,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    store = StoreThatFailsToComplete(tmp_path / "idem.db", lease_seconds=60)
    recorder = _recorder(tmp_path, store)
    exchange, stored = _exchange(recorder, "A1")
    recorder.record(store.claim("gha", "m-1", DIGEST), exchange, stored)
    with caplog.at_level("WARNING", logger="carbonlink.transfers"):
        recorder.adopt(Claim(ClaimState.NEW, "gha", "m-1", DIGEST, token="t" * 24), stored)
    assert recorder.health.failing().keys() == {"idempotency_store"}
    assert "IDEMPOTENCY.STORE_UNAVAILABLE" in caplog.text
    again = recorder.recorded("gha", "m-1", DIGEST)
    assert again is not None and receipt_bytes(again["receipt"]) == receipt_bytes(stored["receipt"])
