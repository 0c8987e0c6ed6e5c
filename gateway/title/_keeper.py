"""Keeping the title index up to date in the background, so a lookup rarely has records to catch up.

A daemon thread of the gateway process brings the index up to date with the evidence log every
:data:`KEEP_UP_SECONDS` (an idle log costs one query for its head and one for the index's mark). It reads only the
log, never the relay's locks, and a failure is logged and tried again next time: a lookup catches up (or scans)
by itself anyway. :meth:`IndexKeeper.stop` ends it after the batch under way, before the stores are closed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from gateway.evidence.log import EvidenceLog
from gateway.title._index import TitleIndex
from standards.errors import CarbonlinkError

log = logging.getLogger("carbonlink.title")

#: Seconds between two catch-ups of the background keeper.
KEEP_UP_SECONDS = 30.0


class IndexKeeper:
    """Catches ``index()`` up with ``evidence()`` every ``interval`` seconds (both built on demand: ``None``
    while the service that holds them is not up)."""

    def __init__(self, index: Callable[[], TitleIndex | None], evidence: Callable[[], EvidenceLog | None], *,
                 interval: float = KEEP_UP_SECONDS) -> None:
        self._index, self._evidence, self._interval = index, evidence, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="title-index-keeper", daemon=True)
        self.last_error: str | None = None

    def start(self) -> IndexKeeper:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.once()

    def once(self) -> int:
        """One catch-up (records read); a failure is logged and kept in :attr:`last_error`."""
        try:
            index, evidence = self._index(), self._evidence()
            if index is None or evidence is None:
                return 0
            read = index.catch_up(evidence, stop=self._stop)
        except CarbonlinkError as exc:
            if self.last_error != exc.code:
                log.warning("the title index could not catch up with the evidence log (%s): %s", exc.code,
                            exc.message)
            self.last_error = exc.code
            return 0
        self.last_error = None
        return read

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the batch under way (waits up to ``timeout`` seconds for it)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
