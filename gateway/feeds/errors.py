"""Errors of the harmonized feeds. Each has a stable ``code``; :mod:`gateway._status_table` gives the HTTP
status. A registry that cannot be read is not an error of the feed request: it is named in the feed's
``missing`` list (:class:`SourceFailure`), with one of the ``FEED.SOURCE_*`` codes below."""

from __future__ import annotations

from standards.errors import CarbonlinkError


class FeedError(CarbonlinkError):
    code = "FEED.ERROR"


class FeedQueryInvalid(FeedError):
    """A filter, format, limit or cursor the feed cannot use."""

    code = "FEED.QUERY_INVALID"


class FeedForbidden(FeedError):
    """The caller may not read this (scope ``feeds:read:own`` asking for another registry's data)."""

    code = "FEED.FORBIDDEN"


class SnapshotInvalid(FeedError):
    """A pushed snapshot is unreadable in the registry's format, or carries errors."""

    code = "FEED.SNAPSHOT_INVALID"


class SubscriptionUnknown(FeedError):
    """No webhook subscription of the caller's under that id."""

    code = "FEED.SUBSCRIPTION_UNKNOWN"


class FeedStoreUnavailable(FeedError):
    """The view's store (SQLite file or PostgreSQL) cannot be reached."""

    code = "FEED.STORE_UNAVAILABLE"


class ChangesCompacted(FeedError):
    """The change log no longer holds the changes after the subscriber's position (compacted away): the
    subscriber must re-read the feed and resume from the position given in the findings' detail."""

    code = "FEED.CHANGES_COMPACTED"


class SourceFailure(FeedError):
    """One registry could not be read; the code says why (``FEED.SOURCE_UNREACHABLE``, ``_REFUSED``,
    ``_UNSIGNED``, ``_GARBAGE``, ``_NOT_CONNECTED``, ``_TOO_LARGE``)."""

    code = "FEED.SOURCE_FAILED"


__all__ = [
    "ChangesCompacted",
    "FeedError",
    "FeedForbidden",
    "FeedQueryInvalid",
    "FeedStoreUnavailable",
    "SnapshotInvalid",
    "SourceFailure",
    "SubscriptionUnknown",
]
