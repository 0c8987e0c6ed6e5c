"""A receipted message's claim is not completed when its receipt is recorded (one write per outcome): it stays
held for its lease, retries meanwhile are answered from the evidence log, and the first retry after the lease
completes the claim with the receipt on record. Every answer is the receipt on record, byte for byte with its
signature, and the message is never delivered twice. Run on SQLite and on the real Redis."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import pytest

from gateway.evidence import Exchange, JwkSigner, open_log
from gateway.evidence.errors import EvidenceStoreUnavailable
from gateway.idempotency import Claim, ClaimState, IdempotencyConflict, IdempotencyStore
from gateway.protocol import MessageKind
from gateway.transfers import DetachedSigner, Recorder
from gateway.transfers._recorder import RECEIPT_SIGNATURE, receipt_bytes
from gateway.transfers.service import Outcome, TransferService
from gateway.trust import development
from gateway.trust.keys import SigningKeyRing
from tests.idempotency.conftest import DIGEST_A, DIGEST_B, Backend

KEYRING = SigningKeyRing.from_document(development.keyring_document(), grace_seconds=0)
LEASE = 0.6


class CountingStore:
    """Wraps a store and counts the writes made to it."""

    def __init__(self, inner: IdempotencyStore) -> None:
        self.inner = inner
        self.completed: list[Claim] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def complete(self, claim: Claim, receipt: Any) -> None:
        self.completed.append(claim)
        self.inner.complete(claim, receipt)


def _service(tmp_path: Path, backend: Backend) -> tuple[TransferService, CountingStore]:
    store = CountingStore(backend.open(lease_seconds=LEASE))
    evidence = open_log(f"sqlite:///{tmp_path / 'evidence.db'}", signer=JwkSigner(KEYRING.current))
    recorder = Recorder(evidence=evidence, idempotency=store,  # type: ignore[arg-type]
                        signer=DetachedSigner(KEYRING, "https://gw.test"))
    service = TransferService(settings=MagicMock(), translator=MagicMock(), planners=(), notices=MagicMock(),
                              signer=MagicMock(), recorder=recorder, idempotency=store,  # type: ignore[arg-type]
                              outbound=MagicMock(), http=MagicMock())
    return service, store


def _sender() -> Any:
    sender = MagicMock()
    sender.id = "gha"
    return sender


def _deliver_and_record(service: TransferService, claim: Claim, message_id: str) -> dict[str, Any]:
    """What ``submit`` does after a NEW claim and a delivery: the intent, then the receipt on record."""
    recorder = service.recorder
    recorder.evidence.append(Exchange(kind="transfers", sender="gha", receiver="che", message_id=message_id,
                                      inbound_sha256=DIGEST_A, outbound_sha256=DIGEST_A, receipt=None,
                                      verdicts={"outcome": "delivering"}))
    receipt = {"type": "carbonlink-receipt", "receipt_id": f"r-{message_id}", "message_id": message_id,
               "outcome": "accepted", "receiver_answer": {"body": {"units": [1, 2, 3], "note": "é ✓"}}}
    _, signature = recorder.seal(receipt)
    stored = {"status": 200, "receipt": receipt, "signature": signature}
    in_force, earlier = recorder.record(claim, Exchange(
        kind="transfers", sender="gha", receiver="che", message_id=message_id, inbound_sha256=DIGEST_A,
        outbound_sha256=DIGEST_A, receipt=receipt, verdicts={"outcome": "accepted", RECEIPT_SIGNATURE: signature}),
        stored)
    assert in_force == stored and not earlier
    return stored


def _retry(service: TransferService, message_id: str, digest: str = DIGEST_A) -> Claim | Outcome:
    return service._claim(_sender(), MessageKind.TRANSFERS, message_id, digest)


def test_a_recorded_receipt_answers_every_retry_byte_for_byte(tmp_path: Path, backend: Backend) -> None:
    service, store = _service(tmp_path, backend)
    claim = _retry(service, "m-1")
    assert isinstance(claim, Claim) and claim.state is ClaimState.NEW
    stored = _deliver_and_record(service, claim, "m-1")
    assert store.completed == []  # recording the receipt is the one write of the outcome
    expected = receipt_bytes(stored["receipt"])

    during = _retry(service, "m-1")  # the claim is held for its lease: the evidence log answers
    assert isinstance(during, Outcome) and during.replayed
    assert during.body == expected and during.signature == stored["signature"]
    assert store.inner.claim("gha", "m-1", DIGEST_A).state is ClaimState.IN_PROGRESS

    time.sleep(LEASE + 0.2)
    after = _retry(service, "m-1")  # the first retry after the lease completes the claim with the receipt
    assert isinstance(after, Outcome) and after.replayed
    assert after.body == expected and after.signature == stored["signature"]
    assert len(store.completed) == 1
    done = store.inner.claim("gha", "m-1", DIGEST_A)
    assert done.state is ClaimState.DONE and done.receipt is not None
    assert receipt_bytes(done.receipt["receipt"]) == expected and done.receipt["signature"] == stored["signature"]

    # from now on the store answers alone: the evidence log is not read
    service.recorder.evidence.find = MagicMock(side_effect=EvidenceStoreUnavailable("down"))  # type: ignore[method-assign]
    later = _retry(service, "m-1")
    assert isinstance(later, Outcome) and later.body == expected and later.signature == stored["signature"]
    assert len(store.completed) == 1
    service.recorder.evidence.close()


def test_a_held_claim_still_refuses_another_body(tmp_path: Path, backend: Backend) -> None:
    service, _ = _service(tmp_path, backend)
    claim = _retry(service, "m-2")
    assert isinstance(claim, Claim)
    _deliver_and_record(service, claim, "m-2")
    with pytest.raises(IdempotencyConflict):
        _retry(service, "m-2", DIGEST_B)  # within the lease: the store's claim has the first body
    time.sleep(LEASE + 0.2)
    with pytest.raises(IdempotencyConflict):
        _retry(service, "m-2", DIGEST_B)  # after it: the receipt on record has the first body
    # the refused retry gave its claim back: the message's own body is still answered with its receipt
    again = _retry(service, "m-2")
    assert isinstance(again, Outcome) and again.replayed
    service.recorder.evidence.close()


def test_a_retry_while_the_log_is_down_is_refused_not_delivered(tmp_path: Path, backend: Backend,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    service, _ = _service(tmp_path, backend)
    claim = _retry(service, "m-3")
    assert isinstance(claim, Claim)
    _deliver_and_record(service, claim, "m-3")
    service.recorder.evidence.find = MagicMock(side_effect=EvidenceStoreUnavailable("down"))  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING), pytest.raises(EvidenceStoreUnavailable):
        _retry(service, "m-3")  # held: 503 with Retry-After, never a second delivery
    time.sleep(LEASE + 0.2)
    with pytest.raises(EvidenceStoreUnavailable):
        _retry(service, "m-3")  # after the lease: claimed anew, looked up, refused and given back
    del service.recorder.evidence.find  # the log's own read again
    answered = _retry(service, "m-3")  # the log is back: the receipt on record answers
    assert isinstance(answered, Outcome) and answered.replayed
    service.recorder.evidence.close()
