"""The idempotency lease is a setting (``CARBONLINK_IDEMPOTENCY_LEASE``, seconds): the transfer service opens its
store with it, and a short lease lets a retry take over the claim of a gateway that crashed mid-delivery
(SQLite and Redis)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from gateway.idempotency import ClaimState
from gateway.settings import Settings, TransferSettings
from gateway.transfers import build_service
from gateway.trust.setup import build_trust
from tests.idempotency.conftest import DIGEST_A, Backend

#: A gateway process that claims a message and dies before it can complete or release the claim.
_CRASHING_GATEWAY = """
import os, sys
from gateway.idempotency import ClaimState, open_store
store = open_store(sys.argv[1], lease_seconds=float(sys.argv[2]))
claim = store.claim("CHE-registry", "crashed-1", "a" * 64)
assert claim.state is ClaimState.NEW, claim.state
print("claimed", flush=True)
os._exit(9)  # no release, no complete, no close: a crash in the middle of the delivery
"""


def test_the_lease_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().transfers.delivery_lease_seconds >= 120  # unset: the slowest delivery, at least 120 s
    monkeypatch.setenv("CARBONLINK_IDEMPOTENCY_LEASE", "1.5")
    assert Settings().transfers.idempotency_lease == 1.5
    assert Settings().transfers.delivery_lease_seconds == 1.5
    monkeypatch.setenv("CARBONLINK_IDEMPOTENCY_LEASE", "0")
    with pytest.raises(ValueError):
        Settings()


def test_a_short_lease_takes_over_a_crashed_claim(backend: Backend, tmp_path: Path) -> None:
    lease = 0.8
    settings = TransferSettings(data_dir=tmp_path, idempotency_store=backend.url, idempotency_lease=lease)
    service = build_service(build_trust(Settings(environment="development")), settings)
    try:
        store = service.idempotency
        assert store.lease_seconds == lease  # the service's store holds claims for the configured lease
        crashed = subprocess.run([sys.executable, "-c", _CRASHING_GATEWAY, backend.url, str(lease)],
                                 capture_output=True, text=True, timeout=60)
        assert crashed.returncode == 9 and "claimed" in crashed.stdout, crashed.stderr
        held = store.claim("CHE-registry", "crashed-1", DIGEST_A)
        assert held.state is ClaimState.IN_PROGRESS  # the dead gateway's claim still holds, for the lease only
        time.sleep(lease + 0.3)
        taken = store.claim("CHE-registry", "crashed-1", DIGEST_A)
        assert taken.state is ClaimState.NEW  # taken over after the lease, not after the 120 s default
        store.complete(taken, {"receipt": "after-takeover"})
        again = store.claim("CHE-registry", "crashed-1", DIGEST_A)
        assert again.state is ClaimState.DONE and again.receipt == {"receipt": "after-takeover"}
    finally:
        service.close()
