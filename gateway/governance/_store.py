"""The authorization store: signed authorization records, their revocations and the quantity drawn on each.

One SQL schema on two engines: embedded SQLite (the default, one file in the data directory) and PostgreSQL
(every gateway process of a scaled-out network shares it). A drawing on an authorization's quantity is taken
in one transaction that serializes with every other drawing on the same store (SQLite ``BEGIN IMMEDIATE``,
PostgreSQL a transaction-scoped advisory lock), so two gateways never both let the last units through.
Drawings are keyed by (sender, message id): a retry of the same message draws nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from gateway.evidence.log import EvidenceLog
from gateway.evidence.sqlite import SqliteEvidenceLog
from gateway.governance.errors import (
    AuthorizationChanged,
    AuthorizationConflict,
    AuthorizationStoreUnavailable,
    GovernanceError,
)
from gateway.sqlstore import Cursor, PostgresEngine, SqliteEngine, TableStore, open_store

T = TypeVar("T")
#: An authorization's standing: its latest version and whether it is revoked.
Stamp = tuple[int, bool]
#: Changes (versions, revocations) made through this process, by store URL: what the gate's cache follows.
_CHANGES: dict[str, int] = {}


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """One version of an authorization as kept: its signed record and the parts the queries need."""

    party: str
    authorization_id: str
    version: int
    token: str


@dataclass(frozen=True, slots=True)
class StoredRevocation:
    party: str
    authorization_id: str
    token: str


class AuthorizationStore(TableStore):
    """Versions, revocations and drawings; the engine gives :meth:`_tx` (one serialized transaction)."""

    what = "the authorization store"
    config_error, config_code = GovernanceError, "GOVERNANCE.CONFIG"
    unavailable = AuthorizationStoreUnavailable

    def _schema(self) -> list[str]:
        return [self._sql(s) for s in (
            "CREATE TABLE IF NOT EXISTS {t}_versions (party TEXT NOT NULL, authorization_id TEXT NOT NULL, "
            "version INTEGER NOT NULL, token TEXT NOT NULL, PRIMARY KEY (party, authorization_id, version))",
            "CREATE TABLE IF NOT EXISTS {t}_revocations (party TEXT NOT NULL, authorization_id TEXT NOT NULL, "
            "token TEXT NOT NULL, PRIMARY KEY (party, authorization_id))",
            "CREATE TABLE IF NOT EXISTS {t}_drawings (sender TEXT NOT NULL, message_id TEXT NOT NULL, "
            "party TEXT NOT NULL, authorization_id TEXT NOT NULL, quantity TEXT NOT NULL, "
            "PRIMARY KEY (sender, message_id, party, authorization_id))",
            "CREATE TABLE IF NOT EXISTS {t}_totals (party TEXT NOT NULL, authorization_id TEXT NOT NULL, "
            "total TEXT NOT NULL, PRIMARY KEY (party, authorization_id))",
        )]

    def add_version(self, party: str, authorization_id: str, version: int, token: str) -> None:
        """Keep a new version; it must be the next one (1 for a new authorization) and not revoked."""
        def work(cur: Cursor) -> None:
            row = cur.execute(self._sql("SELECT MAX(version) FROM {t}_versions WHERE party = ? AND "
                                        "authorization_id = ?"), (party, authorization_id)).fetchone()
            latest = row[0] if row and row[0] is not None else 0
            if version != latest + 1:
                what = "is already issued" if latest and version == 1 else f"is not the next version ({latest + 1})"
                raise AuthorizationConflict(f"authorization {authorization_id!r} of {party}: version {version} {what}")
            if self._revoked(cur, party, authorization_id):
                raise AuthorizationConflict(f"authorization {authorization_id!r} of {party} is revoked")
            cur.execute(self._sql("INSERT INTO {t}_versions VALUES (?, ?, ?, ?)"),
                        (party, authorization_id, version, token))
        self._run(work)
        self._changed()

    def add_revocation(self, party: str, authorization_id: str, token: str) -> None:
        def work(cur: Cursor) -> None:
            if self._revoked(cur, party, authorization_id):
                raise AuthorizationConflict(f"authorization {authorization_id!r} of {party} is already revoked")
            cur.execute(self._sql("INSERT INTO {t}_revocations VALUES (?, ?, ?)"), (party, authorization_id, token))
        self._run(work)
        self._changed()

    def _changed(self) -> None:
        _CHANGES[self.url] = _CHANGES.get(self.url, 0) + 1

    @property
    def changes(self) -> int:
        """How many versions and revocations were added through this process to this store (any handle)."""
        return _CHANGES.get(self.url, 0)

    def _revoked(self, cur: Cursor, party: str, authorization_id: str) -> bool:
        return cur.execute(self._sql("SELECT 1 FROM {t}_revocations WHERE party = ? AND authorization_id = ?"),
                           (party, authorization_id)).fetchone() is not None

    def versions(self, party: str, authorization_id: str) -> list[StoredVersion]:
        """Every version of one authorization, oldest first."""
        rows = self._run(lambda cur: cur.execute(self._sql(
            "SELECT party, authorization_id, version, token FROM {t}_versions WHERE party = ? AND "
            "authorization_id = ? ORDER BY version"), (party, authorization_id)).fetchall(), write=False)
        return [StoredVersion(r[0], r[1], int(r[2]), r[3]) for r in rows]

    def standing(self, party: str, authorization_id: str) -> tuple[list[StoredVersion], StoredRevocation | None]:
        """Every version of one authorization (oldest first) and its revocation, in one read (what the gate
        asks for each action)."""
        rows = self._run(lambda cur: cur.execute(self._sql(
            "SELECT version, token FROM {t}_versions WHERE party = ? AND authorization_id = ? UNION ALL "
            "SELECT 0, token FROM {t}_revocations WHERE party = ? AND authorization_id = ? ORDER BY 1"),
            (party, authorization_id, party, authorization_id)).fetchall(), write=False)
        revoked = [StoredRevocation(party, authorization_id, r[1]) for r in rows if int(r[0]) == 0]
        return ([StoredVersion(party, authorization_id, int(r[0]), r[1]) for r in rows if int(r[0]) > 0],
                revoked[0] if revoked else None)

    def revocation(self, party: str, authorization_id: str) -> StoredRevocation | None:
        row = self._run(lambda cur: cur.execute(self._sql(
            "SELECT token FROM {t}_revocations WHERE party = ? AND authorization_id = ?"),
            (party, authorization_id)).fetchone(), write=False)
        return None if row is None else StoredRevocation(party, authorization_id, row[0])

    def latest(self, party: str | None = None) -> list[StoredVersion]:
        """The latest version of every authorization (of one Party), by Party and id."""
        where, params = ("WHERE v.party = ?", (party,)) if party else ("", ())
        rows = self._run(lambda cur: cur.execute(self._sql(
            "SELECT v.party, v.authorization_id, v.version, v.token FROM {t}_versions v JOIN (SELECT party, "
            "authorization_id, MAX(version) AS top FROM {t}_versions GROUP BY party, authorization_id) m ON "
            "v.party = m.party AND v.authorization_id = m.authorization_id AND v.version = m.top "
            f"{where} ORDER BY v.party, v.authorization_id"), params).fetchall(), write=False)
        return [StoredVersion(r[0], r[1], int(r[2]), r[3]) for r in rows]

    def drawn(self, party: str, authorization_id: str) -> Decimal:
        """The quantity drawn on one authorization so far."""
        return self._run(lambda cur: self._total(cur, party, authorization_id), write=False)

    def _total(self, cur: Cursor, party: str, authorization_id: str) -> Decimal:
        row = cur.execute(self._sql("SELECT total FROM {t}_totals WHERE party = ? AND authorization_id = ?"),
                          (party, authorization_id)).fetchone()
        return Decimal(row[0]) if row else Decimal(0)

    def _add(self, cur: Cursor, party: str, authorization_id: str, total: Decimal) -> None:
        cur.execute(self._sql("INSERT INTO {t}_totals VALUES (?, ?, ?) ON CONFLICT (party, authorization_id) "
                              "DO UPDATE SET total = excluded.total"), (party, authorization_id, str(total)))

    def draw(self, sender: str, message_id: str, wants: dict[tuple[str, str], tuple[Decimal, Decimal | None]],
             stamps: dict[tuple[str, str], Stamp] | None = None) -> dict[tuple[str, str], Decimal]:
        """Draw ``quantity`` on each (party, authorization id) for one message, in one transaction, unless a
        cap (``None``: no cap) would be passed; return what was drawn before (the message's own earlier
        drawing excluded). Raises :class:`QuantityExceeded` and draws nothing when a cap would be passed, and
        :class:`AuthorizationChanged` when an authorization's standing is no longer ``stamps``'."""
        return self._run(lambda cur: self._draw(cur, sender, message_id, wants, stamps))

    def shares(self, evidence: EvidenceLog) -> bool:
        """Whether this store lives in the evidence log's own database, so a drawing can commit in the same
        transaction as the evidence record of the delivery (:meth:`draw_within`)."""
        return False

    def draw_within(self, cur: Any, sender: str, message_id: str,
                    wants: dict[tuple[str, str], tuple[Decimal, Decimal | None]],
                    stamps: dict[tuple[str, str], Stamp] | None = None) -> dict[tuple[str, str], Decimal]:
        """:meth:`draw` on ``cur``, a connection of the evidence log in its append's transaction (the store
        :meth:`shares` its database): the drawing serializes with every other drawing as :meth:`draw` does and
        commits with the evidence record, in one durable write."""
        return self._draw(cur, sender, message_id, wants, stamps)

    def _confirm(self, cur: Cursor, stamps: dict[tuple[str, str], Stamp]) -> None:
        for (party, auth_id), stamp in sorted(stamps.items()):
            row = cur.execute(self._sql("SELECT MAX(version), (SELECT COUNT(*) FROM {t}_revocations WHERE party = ? "
                                        "AND authorization_id = ?) FROM {t}_versions WHERE party = ? AND "
                                        "authorization_id = ?"), (party, auth_id, party, auth_id)).fetchone()
            now = (int(row[0] or 0), bool(row[1]))
            if now != stamp:
                raise AuthorizationChanged(f"authorization {auth_id!r} of {party} changed while the message was "
                                           f"checked (version {stamp[0]} -> {now[0]}, revoked {now[1]}); send it "
                                           "again")

    def _draw(self, cur: Cursor, sender: str, message_id: str,
              wants: dict[tuple[str, str], tuple[Decimal, Decimal | None]],
              stamps: dict[tuple[str, str], Stamp] | None = None) -> dict[tuple[str, str], Decimal]:
        if stamps:
            self._confirm(cur, stamps)
        wants = {k: w for k, w in wants.items() if w[0] > 0}  # 0: the message relies on it, draws nothing
        before: dict[tuple[str, str], Decimal] = {}
        for (party, auth_id), (quantity, cap) in sorted(wants.items()):
            own = cur.execute(self._sql(
                "SELECT quantity FROM {t}_drawings WHERE sender = ? AND message_id = ? AND party = ? AND "
                "authorization_id = ?"), (sender, message_id, party, auth_id)).fetchone()
            drawn = before[(party, auth_id)] = self._total(cur, party, auth_id) - (Decimal(own[0]) if own else 0)
            if cap is not None and drawn + quantity > cap:
                raise QuantityExceeded(f"authorization {auth_id!r} of {party}: {drawn} already drawn, {quantity} "
                                       f"more would pass the authorized quantity {cap}", drawn=drawn, cap=cap)
        for (party, auth_id), (quantity, _) in sorted(wants.items()):
            cur.execute(self._sql("INSERT INTO {t}_drawings VALUES (?, ?, ?, ?, ?) ON CONFLICT (sender, message_id, "
                                  "party, authorization_id) DO UPDATE SET quantity = excluded.quantity"),
                        (sender, message_id, party, auth_id, str(quantity)))
            self._add(cur, party, auth_id, before[(party, auth_id)] + quantity)
        return before

    def release(self, sender: str, message_id: str) -> None:
        """Give back what one message drew (it was not relayed)."""
        def work(cur: Cursor) -> None:
            rows = cur.execute(self._sql("SELECT party, authorization_id, quantity FROM {t}_drawings WHERE sender = ? "
                                         "AND message_id = ?"), (sender, message_id)).fetchall()
            for party, auth_id, quantity in rows:
                self._add(cur, party, auth_id, self._total(cur, party, auth_id) - Decimal(quantity))
            if rows:
                cur.execute(self._sql("DELETE FROM {t}_drawings WHERE sender = ? AND message_id = ?"),
                            (sender, message_id))
        if self._run(lambda cur: cur.execute(self._sql(
                "SELECT 1 FROM {t}_drawings WHERE sender = ? AND message_id = ?"), (sender, message_id)).fetchone(),
                write=False) is not None:
            self._run(work)



class QuantityExceeded(GovernanceError):
    """Drawing this quantity would pass the authorization's cap (turned into a coded refusal by the gate)."""

    code = "GOVERNANCE.AUTHORIZATION_QUANTITY"

    def __init__(self, message: str, *, drawn: Decimal = Decimal(0), cap: Decimal = Decimal(0)) -> None:
        super().__init__(message)
        self.drawn, self.cap = drawn, cap


class SqliteAuthorizationStore(SqliteEngine, AuthorizationStore):
    """The embedded store: one SQLite file (WAL), shared safely by the processes of one machine."""

    def __init__(self, path: str | Path, *, table: str = "authorizations", synchronous: str = "full") -> None:
        super().__init__(path, table=table, synchronous=synchronous)

    def shares(self, evidence: EvidenceLog) -> bool:
        # the evidence append holds the file's write lock (BEGIN IMMEDIATE): drawings serialize on it
        return isinstance(evidence, SqliteEvidenceLog) and evidence.path.resolve() == self.path.resolve()


class PostgresAuthorizationStore(PostgresEngine, AuthorizationStore):
    """The scaled-out store: every gateway process shares one PostgreSQL database."""

    def __init__(self, dsn: str, *, table: str = "authorizations") -> None:
        super().__init__(dsn, table=table, namespace="governance")

    def shares(self, evidence: EvidenceLog) -> bool:
        from gateway.evidence.postgres import PostgresEvidenceLog

        return isinstance(evidence, PostgresEvidenceLog) and evidence.dsn == self._dsn

    def draw_within(self, cur: Any, sender: str, message_id: str,
                    wants: dict[tuple[str, str], tuple[Decimal, Decimal | None]],
                    stamps: dict[tuple[str, str], Stamp] | None = None) -> dict[tuple[str, str], Decimal]:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (self._key,))  # taken after the evidence lock, always
        return self._draw(cur, sender, message_id, wants, stamps)


def open_authorization_store(url: str) -> AuthorizationStore:
    """``sqlite:///path[?table=name&synchronous=full|normal]`` or ``postgresql://...[?table=name]``."""
    return open_store(url, default_table="authorizations", sqlite=SqliteAuthorizationStore,
                      postgres=PostgresAuthorizationStore, what="authorization store",
                      misconfigured=AuthorizationStore.misconfigured)
