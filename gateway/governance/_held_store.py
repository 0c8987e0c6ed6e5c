"""The store of held messages: transfers above the four-eyes threshold that wait for separate approval messages
(``_holds``), with the approvals gathered so far. SQLite (embedded) or PostgreSQL (shared by every gateway
process), through :mod:`gateway.sqlstore`.

A message is held once (``sender``, ``message_id``); its state goes ``held`` -> ``released`` (relayed),
``expired`` (it waited past ``expires_at``) or ``policy_changed`` (the policy it was held under is no longer in
force), never back. An officer approves a held message once; the same approval token is taken once.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from gateway.governance.errors import GovernanceError, HeldStoreUnavailable
from gateway.sqlstore import Cursor, PostgresEngine, SqliteEngine, TableStore, open_store
from standards.errors import CarbonlinkError

HELD, RELEASED, EXPIRED, POLICY_CHANGED = "held", "released", "expired", "policy_changed"
_COLUMNS = ("sender, message_id, kind, sha256, body, content_type, receiver_hint, receiver, units, version, needed, "
            "held_at, expires_at, state, ended_at")


@dataclass(frozen=True, slots=True)
class Approval:
    officer: str
    token: str
    digest: str
    approved_at: float


@dataclass(frozen=True, slots=True)
class Held:
    """A held message, as stored."""

    sender: str
    message_id: str
    kind: str
    sha256: str
    body: bytes
    content_type: str | None
    receiver_hint: str | None
    receiver: str
    units: Decimal
    version: int
    needed: int
    held_at: float
    expires_at: float
    state: str = HELD
    ended_at: float | None = None
    approvals: tuple[Approval, ...] = ()

    def officers(self) -> tuple[str, ...]:
        return tuple(a.officer for a in self.approvals)

    def view(self) -> dict[str, Any]:
        """What the sender and its approvers see (no body, no tokens)."""
        return {"sender": self.sender, "message_id": self.message_id, "kind": self.kind, "sha256": self.sha256,
                "receiver": self.receiver, "units": str(self.units), "policy_version": self.version,
                "state": self.state, "approvals_needed": self.needed, "approved_by": list(self.officers()),
                "held_at": self.held_at, "expires_at": self.expires_at, "ended_at": self.ended_at}


def _row(row: Sequence[Any], approvals: tuple[Approval, ...] = ()) -> Held:
    return Held(str(row[0]), str(row[1]), str(row[2]), str(row[3]), base64.b64decode(row[4]), row[5], row[6],
                str(row[7]), Decimal(row[8]), int(row[9]), int(row[10]), float(row[11]), float(row[12]), str(row[13]),
                None if row[14] is None else float(row[14]), approvals)


class HeldStore(TableStore):
    """Held messages and their approvals; the engine gives :meth:`_tx` (one serialized transaction)."""

    what = "the store of held messages"
    config_error, config_code = GovernanceError, "GOVERNANCE.CONFIG"
    unavailable = HeldStoreUnavailable

    def _schema(self) -> list[str]:
        return [self._sql(s) for s in (
            "CREATE TABLE IF NOT EXISTS {t}_held (sender TEXT NOT NULL, message_id TEXT NOT NULL, kind TEXT NOT NULL, "
            "sha256 TEXT NOT NULL, body TEXT NOT NULL, content_type TEXT, receiver_hint TEXT, receiver TEXT NOT NULL, "
            "units TEXT NOT NULL, version INTEGER NOT NULL, needed INTEGER NOT NULL, "
            "held_at DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION NOT NULL, state TEXT NOT NULL, "
            "ended_at DOUBLE PRECISION, PRIMARY KEY (sender, message_id))",
            "CREATE TABLE IF NOT EXISTS {t}_approvals (sender TEXT NOT NULL, message_id TEXT NOT NULL, "
            "officer TEXT NOT NULL, token TEXT NOT NULL, digest TEXT NOT NULL, approved_at DOUBLE PRECISION NOT NULL, "
            "PRIMARY KEY (sender, message_id, officer))",
        )]

    def _get(self, cur: Cursor, sender: str, message_id: str) -> Held | None:
        row = cur.execute(self._sql(f"SELECT {_COLUMNS} FROM {{t}}_held WHERE sender = ? AND message_id = ?"),
                          (sender, message_id)).fetchone()
        if row is None:
            return None
        found = cur.execute(self._sql("SELECT officer, token, digest, approved_at FROM {t}_approvals WHERE "
                                      "sender = ? AND message_id = ? ORDER BY approved_at, officer"),
                            (sender, message_id)).fetchall()
        return _row(row, tuple(Approval(str(a[0]), str(a[1]), str(a[2]), float(a[3])) for a in found))

    def hold(self, held: Held) -> tuple[Held, bool]:
        """Keep ``held`` unless its message is held already; the stored one, and whether this call stored it."""
        def work(cur: Cursor) -> tuple[Held, bool]:
            earlier = self._get(cur, held.sender, held.message_id)
            if earlier is not None:
                return earlier, False
            cur.execute(self._sql(f"INSERT INTO {{t}}_held ({_COLUMNS}) VALUES "
                                  "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                        (held.sender, held.message_id, held.kind, held.sha256,
                         base64.b64encode(held.body).decode("ascii"), held.content_type, held.receiver_hint,
                         held.receiver, str(held.units), held.version, held.needed, held.held_at, held.expires_at,
                         HELD, None))
            for a in held.approvals:
                self._insert(cur, held, a)
            return held, True
        return self._run(work)

    def _insert(self, cur: Cursor, held: Held, approval: Approval) -> None:
        cur.execute(self._sql("INSERT INTO {t}_approvals VALUES (?, ?, ?, ?, ?, ?)"),
                    (held.sender, held.message_id, approval.officer, approval.token, approval.digest,
                     approval.approved_at))

    def get(self, sender: str, message_id: str) -> Held | None:
        return self._run(lambda cur: self._get(cur, sender, message_id), write=False)

    def approve(self, sender: str, message_id: str, approvals: Sequence[Approval],
                refuse: Callable[[str, str], CarbonlinkError]) -> Held | None:
        """Add officers' approvals to a held message, in one transaction: ``refuse(what, message)`` makes the
        error of an approval taken already (``REPLAYED``) or of an officer who approved already
        (``SAME_OFFICER``); then nothing is added."""
        def work(cur: Cursor) -> Held | None:
            held = self._get(cur, sender, message_id)
            if held is None or held.state != HELD:
                return held  # the caller checked; it changed meanwhile: the caller decides
            digests = {a.digest: a.officer for a in held.approvals}
            officers = set(digests.values())
            for approval in approvals:
                if approval.digest in digests:
                    raise refuse("REPLAYED", f"this approval by {approval.officer!r} was taken already")
                if approval.officer in officers:
                    raise refuse("SAME_OFFICER", f"officer {approval.officer!r} approved this message already; "
                                                 "four eyes need different officers")
                digests[approval.digest] = approval.officer
                officers.add(approval.officer)
                self._insert(cur, held, approval)
            return held if not approvals else self._get(cur, sender, message_id)
        return self._run(work)

    def drop_approvals(self, sender: str, message_id: str, officers: Sequence[str]) -> None:
        """Forget approvals that no longer hold (their key left the directory, they expired)."""
        def work(cur: Cursor) -> None:
            for officer in officers:
                cur.execute(self._sql("DELETE FROM {t}_approvals WHERE sender = ? AND message_id = ? AND "
                                      "officer = ?"), (sender, message_id, officer))
        self._run(work)

    def end(self, sender: str, message_id: str, state: str, now: float) -> bool:
        """Move a held message to ``state``; whether this call moved it (it was still held)."""
        def work(cur: Cursor) -> bool:
            done = cur.execute(self._sql("UPDATE {t}_held SET state = ?, ended_at = ? WHERE sender = ? AND "
                                         "message_id = ? AND state = ?"), (state, now, sender, message_id, HELD))
            return bool(done.rowcount)
        return self._run(work)

    def listing(self, sender: str | None = None, state: str | None = None, limit: int = 500) -> list[Held]:
        """Held messages (of ``sender``, in ``state``), oldest first."""
        def work(cur: Cursor) -> list[Held]:
            where = [(name, value) for name, value in (("sender", sender), ("state", state)) if value is not None]
            clause = " AND ".join(f"{name} = ?" for name, _ in where) or "1 = 1"
            rows = cur.execute(self._sql(f"SELECT sender, message_id FROM {{t}}_held WHERE {clause} "
                                         f"ORDER BY held_at, sender, message_id LIMIT {int(limit)}"),
                               tuple(value for _, value in where)).fetchall()
            return [h for h in (self._get(cur, r[0], r[1]) for r in rows) if h is not None]
        return self._run(work, write=False)


class SqliteHeldStore(SqliteEngine, HeldStore):
    """The embedded store: one SQLite file (WAL), shared safely by the processes of one machine."""

    def __init__(self, path: str | Path, *, table: str = "holds", synchronous: str = "full") -> None:
        super().__init__(path, table=table, synchronous=synchronous)


class PostgresHeldStore(PostgresEngine, HeldStore):
    """The scaled-out store: every gateway process shares one PostgreSQL database."""

    def __init__(self, dsn: str, *, table: str = "holds") -> None:
        super().__init__(dsn, table=table, namespace="holds")


def open_held_store(url: str) -> HeldStore:
    """``sqlite:///path[?table=name&synchronous=full|normal]`` or ``postgresql://...[?table=name]``."""
    return open_store(url, default_table="holds", sqlite=SqliteHeldStore, postgres=PostgresHeldStore,
                      what="store of held messages", misconfigured=HeldStore.misconfigured)
