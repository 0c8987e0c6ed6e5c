"""Harmonized data feeds: every connected registry's records in one view, out in CAD Trust and AEF shapes.

Public API: :func:`build_feeds` (what the gateway app starts), :class:`FeedService`, the request and the
bodies (:mod:`gateway.feeds.feed`), the AEF report (:mod:`gateway.feeds.aef`), double-counting detection
(:func:`detect`) and the errors. See docs/feeds.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters import AdapterCatalog
from gateway.feeds.compaction import Compactor
from gateway.feeds.conflicts import CODES, DEFAULT_THRESHOLD, DoubleCount, detect
from gateway.feeds.errors import FeedError, FeedForbidden, FeedQueryInvalid, SnapshotInvalid, SourceFailure
from gateway.feeds.feed import FeedRequest, Feeds, Prepared
from gateway.feeds.pull import Puller
from gateway.feeds.store import FeedStore
from gateway.feeds.view import Coverage, FeedView, Missing
from gateway.feeds.webhooks import Webhooks
from gateway.settings import FeedSettings
from gateway.trust.setup import Trust

READ_SCOPE = "feeds:read"
READ_OWN_SCOPE = "feeds:read:own"
PUSH_SCOPE = "feeds:push"


@dataclass
class FeedService:
    """What the feed routes use: the view, the feeds over it, the detection threshold."""

    store: FeedStore
    puller: Puller
    view: FeedView
    feeds: Feeds
    threshold: float
    webhooks: Webhooks
    compactor: Compactor

    def close(self) -> None:
        self.compactor.close()
        self.view.stop_refresher()
        self.webhooks.close()
        self.puller.close()
        self.store.close()


def build_feeds(trust: Trust, config: FeedSettings, catalog: AdapterCatalog, *, data_dir: str) -> FeedService:
    store = FeedStore(config.feeds_store or f"{data_dir}/feeds.sqlite3", prefix=config.feeds_store_prefix)
    puller = Puller(trust.outbound, catalog, page_size=config.feeds_pull_page_size, timeout=config.feeds_pull_timeout,
                    max_pages=config.feeds_pull_max_pages)
    view = FeedView(store, puller, trust.directory, catalog, max_age=config.feeds_max_age_seconds,
                    workers=config.feeds_pull_workers)
    webhooks = Webhooks(view, trust.keyring, trust.settings.gateway_client_id, backoff=config.feeds_webhook_backoff,
                        max_backoff=config.feeds_webhook_max_backoff)
    webhooks.start(config.feeds_webhook_interval)
    view.start_refresher()
    compactor = Compactor(store, keep_days=config.feeds_changes_keep_days, keep_last=config.feeds_changes_keep_last,
                          interval=config.feeds_compaction_interval)
    compactor.start()
    return FeedService(store, puller, view, Feeds(view), config.feeds_fuzzy_threshold, webhooks, compactor)


__all__ = ["CODES", "DEFAULT_THRESHOLD", "PUSH_SCOPE", "READ_OWN_SCOPE", "READ_SCOPE", "Coverage", "DoubleCount",
           "FeedError", "FeedForbidden", "FeedQueryInvalid", "FeedRequest", "FeedService", "FeedStore", "FeedView",
           "Feeds", "Missing", "Prepared", "Puller", "SnapshotInvalid", "SourceFailure", "Webhooks", "build_feeds",
           "detect"]
