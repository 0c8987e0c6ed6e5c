"""Change log compaction: the log of each source is trimmed from its oldest end, and a subscriber whose
position lies below what was trimmed is told so with a code, never sent a stream with a hole in it.

Policy (settings ``feeds_changes_keep_days``, ``feeds_changes_keep_last``): a change is removed when it is
older than ``keep_days`` *and* not among the last ``keep_last`` changes of its source. The highest removed
sequence of a source is its *floor* (kept in the store, so every process sharing it knows). A subscriber at
a position below a floor (it has not seen change floor) gets ``FEED.CHANGES_COMPACTED`` (HTTP 410 before an
event stream starts, an ``error`` event during one, the webhook subscription's ``last_error``): it reads the
feed again and resumes at the sequence the error names (the source's sequence when the answer was made;
changes after it may repeat what the fresh read holds, and applying a change twice is harmless). The floor
is raised before any change is deleted, and deletions go in batches, so the log's write-ahead file stays small.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from gateway.feeds.changes import check_position, render_position
from gateway.feeds.store import FeedStore

log = logging.getLogger("carbonlink.feeds")


def cutoff(keep_days: float) -> str:
    moment = datetime.now(UTC) - timedelta(days=keep_days)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Compactor:
    """Compacts the change log every ``interval`` seconds in a background thread (:meth:`run_once` for one)."""

    def __init__(self, store: FeedStore, *, keep_days: float, keep_last: int, interval: float) -> None:
        self.store = store
        self.keep_days = keep_days
        self.keep_last = keep_last
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> dict[str, int]:
        """Compact now; the sources whose floor rose, with the new floor."""
        return self.store.compact(cutoff(self.keep_days), self.keep_last)

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.wait(self.interval):
                try:
                    raised = self.run_once()
                    if raised:
                        log.info("feeds change log compacted: %s", render_position(raised))
                except Exception:  # the loop must survive anything
                    log.exception("the feeds' change log compaction failed")

        self._thread = threading.Thread(target=loop, name="carbonlink-feed-compaction", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


__all__ = ["Compactor", "check_position", "cutoff"]
