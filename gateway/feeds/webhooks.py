"""Change subscriptions as webhooks: signed batches of changes POSTed to a subscriber, retried with backoff.

A subscription names a URL, the sources it follows (default: every source the subscriber may read) and
keeps its *position* (``source -> last sequence delivered``) in the view's store, next to the change log. A
delivery is a JSON batch ``{"subscription", "changes": [...], "position"}`` (at most ``batch`` changes, in
sequence per source) signed by the gateway: ``Carbonlink-Signature`` is a detached JWS (RFC 7797, ``typ``
``carbonlink-feed-changes+jws``, the gateway's key, verifiable with its JWKS). A 2xx answer moves the
position past the batch; anything else (or no answer) is a failed attempt: the next one waits
``backoff * 2^(attempts-1)`` seconds, at most ``max_backoff``, and the subscription's state (attempts, last
error, next attempt, delivered count) is visible at ``GET /v1/feeds/subscriptions/{id}``. Positions only move
after a 2xx, so a restart or another gateway process sharing the store resumes where delivery stopped; a
lease on the subscription row keeps two processes from delivering the same batch at once. A batch that was
delivered but whose answer was lost is delivered again: subscribers drop changes at or below the sequence
they already have (every change carries ``source`` and ``seq``).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from gateway.feeds.changes import check_position, parse_position, render_position
from gateway.feeds.errors import ChangesCompacted, FeedQueryInvalid, SubscriptionUnknown
from gateway.feeds.keys import SEP
from gateway.feeds.sql import Connection
from gateway.feeds.view import FeedView
from gateway.trust import jose
from gateway.trust.keys import SigningKeyRing

log = logging.getLogger("carbonlink.feeds")

SIGNATURE_HEADER = "Carbonlink-Signature"
WEBHOOK_TYP = "carbonlink-feed-changes+jws"


@dataclass(frozen=True)
class Subscription:
    id: str
    owner: str
    url: str
    sources: list[str] | None
    position: dict[str, int]
    attempts: int
    next_attempt: float
    last_error: str | None
    last_attempt_at: float | None
    delivered: int

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "owner": self.owner, "url": self.url, "sources": self.sources,
                "position": render_position(self.position), "attempts": self.attempts,
                "next_attempt_at": _iso(self.next_attempt) if self.attempts else None,
                "last_error": self.last_error, "last_attempt_at": _iso(self.last_attempt_at),
                "delivered": self.delivered}


def _iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


class Webhooks:
    """Subscriptions in the view's store and the delivery loop (:meth:`run_once`, :meth:`start`)."""

    def __init__(self, view: FeedView, keyring: SigningKeyRing, issuer: str, *, batch: int = 500,
                 backoff: float = 1.0, max_backoff: float = 300.0, timeout: float = 10.0, lease: float = 60.0) -> None:
        self.view = view
        self.keyring = keyring
        self.issuer = issuer
        self.batch = batch
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.lease = lease
        self.http = httpx.Client(timeout=timeout, follow_redirects=False)
        self.owner_id = secrets.token_hex(8)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _db(self) -> contextlib.AbstractContextManager[Connection]:
        return self.view.store.database.session()

    # -- subscriptions ------------------------------------------------------------------------

    def subscribe(self, owner: str, url: str, sources: list[str] | None, after: str | None) -> Subscription:
        if not url.startswith(("http://", "https://")) or len(url) > 2000:
            raise FeedQueryInvalid("a webhook url is an absolute http(s) URL")
        position = parse_position(after)
        sid = "sub-" + secrets.token_urlsafe(12)
        with self._db() as db:
            db.execute("INSERT INTO feed_subscriptions (id, owner, url, sources, position, created_at) VALUES "
                       "(?, ?, ?, ?, ?, ?)", (sid, owner, url, orjson.dumps(sources).decode() if sources else None,
                                              render_position(position), time.time()))
        return self.get(sid, owner)

    def get(self, sid: str, owner: str | None) -> Subscription:
        with self._db() as db:
            row = db.execute("SELECT id, owner, url, sources, position, attempts, next_attempt, last_error, "
                             "last_attempt_at, delivered FROM feed_subscriptions WHERE id = ?", (sid,)).fetchone()
        if row is None or (owner is not None and row[1] != owner):
            raise SubscriptionUnknown(f"no subscription {sid!r} of yours")
        return Subscription(row[0], row[1], row[2], orjson.loads(row[3]) if row[3] else None,
                            parse_position(row[4]), *row[5:])

    def subscriptions(self, owner: str | None = None, limit: int = 500) -> list[Subscription]:
        """The subscriptions (of ``owner``, or all), oldest first, with their delivery state: a read for the
        operator console."""
        sql = ("SELECT id, owner, url, sources, position, attempts, next_attempt, last_error, last_attempt_at, "
               "delivered FROM feed_subscriptions")
        params: tuple[Any, ...] = ()
        if owner is not None:
            sql, params = sql + " WHERE owner = ?", (owner,)
        with self._db() as db:
            rows = db.execute(f"{sql} ORDER BY created_at, id LIMIT {int(limit)}", params).fetchall()
        return [Subscription(r[0], r[1], r[2], orjson.loads(r[3]) if r[3] else None, parse_position(r[4]), *r[5:])
                for r in rows]

    def delete(self, sid: str, owner: str) -> None:
        self.get(sid, owner)
        with self._db() as db:
            db.execute("DELETE FROM feed_subscriptions WHERE id = ?", (sid,))

    # -- delivery -----------------------------------------------------------------------------

    def _claim(self) -> list[str]:
        """Subscriptions due now, leased to this process (another process skips them until the lease ends)."""
        now = time.time()
        claimed = []
        with self._db() as db:
            due = [r[0] for r in db.execute("SELECT id FROM feed_subscriptions WHERE next_attempt <= ? AND "
                                            "lease_until < ?", (now, now)).fetchall()]
            for sid in due:
                cursor = db.execute("UPDATE feed_subscriptions SET lease_until = ? WHERE id = ? AND lease_until < ?",
                                    (now + self.lease, sid, now))
                if cursor.rowcount == 1:
                    claimed.append(sid)
        return claimed

    def run_once(self) -> int:
        """Deliver one batch to every due subscription; the number of changes delivered."""
        delivered = 0
        for sid in self._claim():
            try:
                delivered += self._deliver(self.get(sid, None))
            except Exception:  # a subscription must never stop the loop
                log.exception("webhook delivery of %s failed unexpectedly", sid)
            finally:
                with self._db() as db:
                    db.execute("UPDATE feed_subscriptions SET lease_until = 0 WHERE id = ?", (sid,))
        return delivered

    def _sources(self, sub: Subscription) -> list[str]:
        registries = set(self.view.registries())
        if sub.sources is not None:
            return sorted(registries & set(sub.sources))
        owner = self.view.registries().get(sub.owner)
        return sorted(registries if owner is None or not owner.message_kinds else {sub.owner})

    def _deliver(self, sub: Subscription) -> int:
        names = self._sources(sub)
        self.view.refresh(names)
        position = {name: sub.position.get(name, 0) for name in names}
        try:
            check_position(self.view.store, names, position)
        except ChangesCompacted as exc:  # never skip silently: the subscription shows why it is stuck
            self._failed(sub, f"{exc.code}: {exc.message}")
            return 0
        changes: list[dict[str, Any]] = []
        for name in names:
            for change in self.view.store.changes(name, position[name], self.batch - len(changes)):
                changes.append({"source": change.source, "seq": change.seq, "kind": change.kind,
                                "key": change.key.replace(SEP, " "), "op": change.op, "at": change.at,
                                "record": orjson.loads(change.body) if change.body is not None else None})
                position[name] = change.seq
            if len(changes) >= self.batch:
                break
        if not changes:
            return 0
        body = orjson.dumps({"subscription": sub.id, "changes": changes, "position": render_position(position)})
        signature = jose.sign_detached({"typ": WEBHOOK_TYP, "iss": self.issuer, "iat": int(time.time())}, body,
                                       self.keyring.current)
        error = self._post(sub.url, body, signature)
        now = time.time()
        if error is None:
            with self._db() as db:
                db.execute("UPDATE feed_subscriptions SET position = ?, attempts = 0, next_attempt = 0, "
                           "last_error = NULL, last_attempt_at = ?, delivered = delivered + ? WHERE id = ?",
                           (render_position({**sub.position, **position}), now, len(changes), sub.id))
                return len(changes)
        self._failed(sub, error)
        return 0

    def _failed(self, sub: Subscription, error: str) -> None:
        """A failed attempt: the next waits ``backoff * 2^(attempts-1)`` seconds (at most ``max_backoff``)."""
        now = time.time()
        attempts = sub.attempts + 1
        wait = min(self.backoff * 2 ** (attempts - 1), self.max_backoff)
        with self._db() as db:
            db.execute("UPDATE feed_subscriptions SET attempts = ?, next_attempt = ?, last_error = ?, "
                       "last_attempt_at = ? WHERE id = ?", (attempts, now + wait, error[:500], now, sub.id))

    def _post(self, url: str, body: bytes, signature: str) -> str | None:
        try:
            response = self.http.post(url, content=body, headers={"Content-Type": "application/json",
                                                                  SIGNATURE_HEADER: signature})
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"

    def start(self, interval: float = 0.5) -> None:
        def loop() -> None:
            while not self._stop.wait(interval):
                self.run_once()

        self._thread = threading.Thread(target=loop, name="carbonlink-feed-webhooks", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
        self.http.close()


__all__ = ["SIGNATURE_HEADER", "WEBHOOK_TYP", "Subscription", "Webhooks"]
