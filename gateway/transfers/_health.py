"""The health of the stores the transfer path writes to (evidence log, idempotency store).

Every store operation of the transfer path reports here whether it worked. A store that fails is
logged once at ERROR when it starts failing and once at WARNING when it works again (not once
per request); ``/healthz`` shows the stores failing now and probes them, so it turns back to ok
when a store recovers even without traffic.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

from gateway.evidence.errors import EvidenceStoreUnavailable
from gateway.idempotency.store import IdempotencyStoreUnavailable
from standards.errors import CarbonlinkError

log = logging.getLogger("carbonlink.transfers")

#: The store names ``/healthz`` and the log use.
EVIDENCE = "evidence_log"
IDEMPOTENCY = "idempotency_store"

_STORE_ERRORS: dict[str, type[CarbonlinkError]] = {
    EVIDENCE: EvidenceStoreUnavailable,
    IDEMPOTENCY: IdempotencyStoreUnavailable,
}


class StoreHealth:
    """Which stores are failing, with the error each last failed with."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failing: dict[str, CarbonlinkError] = {}

    def failed(self, store: str, exc: CarbonlinkError) -> None:
        with self._lock:
            first = store not in self._failing
            self._failing[store] = exc
        if first:
            log.error("the %s is failing (%s): %s; messages are refused with 503 and Retry-After until it "
                      "works again", store.replace("_", " "), exc.code, exc.message,
                      extra={"store": store, "code": exc.code})

    def worked(self, store: str) -> None:
        if store not in self._failing:  # the common case: no lock
            return
        with self._lock:
            was = self._failing.pop(store, None)
        if was is not None:
            log.warning("the %s works again (it failed with %s)", store.replace("_", " "), was.code,
                        extra={"store": store, "code": was.code})

    def failing(self) -> dict[str, CarbonlinkError]:
        with self._lock:
            return dict(self._failing)

    @contextlib.contextmanager
    def watch(self, store: str) -> Iterator[None]:
        """Run one operation on ``store``: its unavailability is recorded, its success clears it."""
        try:
            yield
        except _STORE_ERRORS[store] as exc:
            self.failed(store, exc)
            raise
        self.worked(store)
