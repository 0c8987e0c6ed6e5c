"""A feed request's query string, checked: every unusable value is a coded ``FEED.QUERY_INVALID``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from gateway.feeds.errors import FeedQueryInvalid
from gateway.feeds.feed import FeedRequest
from standards.model import ActionType, UnitStatus
from standards.parties import is_alpha3

FORMATS = {"json": "application/json", "ndjson": "application/x-ndjson", "csv": "text/csv",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
_BY_MEDIA = {media: name for name, media in FORMATS.items()}
_ACTION_TYPES = {t.value.lower(): t.value for t in ActionType}
_STATUSES = {s.value for s in UnitStatus}


def values(query: Mapping[str, Sequence[str]], name: str) -> tuple[str, ...] | None:
    """Repeated and comma-separated values of one parameter, or None when absent."""
    raw = query.get(name)
    if not raw:
        return None
    out = tuple(v.strip() for item in raw for v in item.split(",") if v.strip())
    if not out:
        raise FeedQueryInvalid(f"{name} is empty")
    return out


def one(query: Mapping[str, Sequence[str]], name: str) -> str | None:
    raw = query.get(name)
    if not raw:
        return None
    if len(raw) > 1:
        raise FeedQueryInvalid(f"{name} is given more than once")
    return raw[0]


def response_format(query: Mapping[str, Sequence[str]], accept: str | None, allowed: Sequence[str]) -> str:
    """``format=`` or else the first Accept media type the feed offers; JSON by default."""
    chosen = one(query, "format")
    if chosen is None and accept:
        for part in accept.split(","):
            media = part.split(";")[0].strip().lower()
            if media in _BY_MEDIA and _BY_MEDIA[media] in allowed:
                chosen = _BY_MEDIA[media]
                break
    chosen = (chosen or "json").lower()
    if chosen not in allowed:
        raise FeedQueryInvalid(f"format {chosen!r} is not offered here (one of {', '.join(allowed)})")
    return chosen


def _integers(query: Mapping[str, Sequence[str]], name: str) -> tuple[int, ...] | None:
    raw = values(query, name)
    if raw is None:
        return None
    if not all(v.isdigit() and 1900 <= int(v) <= 2100 for v in raw):
        raise FeedQueryInvalid(f"{name} takes years from 1900 to 2100")
    return tuple(int(v) for v in raw)


def _since(raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise FeedQueryInvalid(f"updated_since {raw[:40]!r} is not an ISO 8601 date-time") from exc
    if moment.tzinfo is None:
        raise FeedQueryInvalid("updated_since needs a time zone (Z or +hh:mm)")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def feed_request(standard: str, kind: str, query: Mapping[str, Sequence[str]]) -> FeedRequest:
    parties = values(query, "party")
    if parties is not None and not all(is_alpha3(p) for p in parties):
        raise FeedQueryInvalid("party takes ISO 3166-1 alpha-3 codes")
    statuses = values(query, "status")
    if statuses is not None:
        statuses = tuple(s.lower() for s in statuses)
        unknown = [s for s in statuses if s not in _STATUSES]
        if unknown:
            raise FeedQueryInvalid(f"unknown unit status {unknown[0]!r} (one of {', '.join(sorted(_STATUSES))})")
    action_types = values(query, "action_type")
    if action_types is not None:
        unknown = [a for a in action_types if a.lower() not in _ACTION_TYPES]
        if unknown:
            raise FeedQueryInvalid(f"unknown action type {unknown[0]!r} (one of {', '.join(_ACTION_TYPES.values())})")
        action_types = tuple(_ACTION_TYPES[a.lower()] for a in action_types)
    return FeedRequest(standard, kind, registries=values(query, "registry"), parties=parties,
                       vintages=_integers(query, "vintage"), statuses=statuses, action_types=action_types,
                       updated_since=_since(one(query, "updated_since")), cursor=one(query, "cursor"))


def limit(query: Mapping[str, Sequence[str]], maximum: int) -> int:
    raw = one(query, "limit")
    if raw is None:
        return min(100, maximum)
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise FeedQueryInvalid(f"limit takes an integer from 1 to {maximum}")
    return int(raw)


__all__ = ["FORMATS", "feed_request", "limit", "one", "response_format", "values"]
