"""The controls store: units each participant sent per day (in total and per counterpart) and when each of its
counterparts was first seen (the holding period of a new counterpart).

One SQL schema on two engines, as the authorization store (:mod:`gateway.governance._store`): embedded SQLite
(one file in the data directory) and PostgreSQL (every gateway process of a scaled-out network shares it). A
reservation against the daily limits is one transaction that serializes with every other (SQLite ``BEGIN
IMMEDIATE``, PostgreSQL a transaction-scoped advisory lock), so two gateways never both let the last units of a
day through. Reservations are keyed by (sender, message id): a retry of the same message reserves nothing more,
and a message that is not relayed after all gives its units back.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from gateway.governance.errors import ControlsStoreUnavailable, GovernanceError
from gateway.sqlite_writes import begin_immediate

T = TypeVar("T")
_TABLE = re.compile(r"[a-z_][a-z0-9_]{0,40}")
#: The ``counterpart`` of a participant's total over all its counterparts.
ALL = "*"


class LimitExceeded(GovernanceError):
    """Reserving these units would pass a daily limit (the controls turn it into a coded refusal)."""

    code = "GOVERNANCE.POLICY_DAILY_LIMIT"

    def __init__(self, message: str, *, counterpart: str = ALL, used: Decimal = Decimal(0),
                 limit: Decimal = Decimal(0)) -> None:
        super().__init__(message)
        self.counterpart, self.used, self.limit = counterpart, used, limit


class _Cursor(Protocol):
    def execute(self, sql: str, params: tuple[Any, ...] = ...) -> Any: ...


class ControlsStore:
    """Daily usage and first-seen counterparts; the engine gives :meth:`_tx` (one serialized transaction)."""

    placeholder = "?"
    url = ""

    def __init__(self, table: str) -> None:
        if not _TABLE.fullmatch(table):
            raise GovernanceError(f"table prefix {table!r} must match [a-z_][a-z0-9_]{{0,40}}",
                                  code="GOVERNANCE.CONFIG")
        self.t = table
        self._seen: dict[tuple[str, str], float] = {}

    def _sql(self, text: str) -> str:
        return text.replace("{t}", self.t).replace("?", self.placeholder)

    def _schema(self) -> list[str]:
        return [self._sql(s) for s in (
            "CREATE TABLE IF NOT EXISTS {t}_usage (sender TEXT NOT NULL, message_id TEXT NOT NULL, day TEXT NOT NULL, "
            "counterpart TEXT NOT NULL, quantity TEXT NOT NULL, PRIMARY KEY (sender, message_id))",
            "CREATE TABLE IF NOT EXISTS {t}_totals (sender TEXT NOT NULL, day TEXT NOT NULL, "
            "counterpart TEXT NOT NULL, total TEXT NOT NULL, PRIMARY KEY (sender, day, counterpart))",
            "CREATE TABLE IF NOT EXISTS {t}_counterparts (sender TEXT NOT NULL, counterpart TEXT NOT NULL, "
            "first_seen DOUBLE PRECISION NOT NULL, PRIMARY KEY (sender, counterpart))",
        )]

    @contextmanager
    def _tx(self) -> Iterator[_Cursor]:  # pragma: no cover - each engine has its own
        raise NotImplementedError
        yield

    @contextmanager
    def _reading(self) -> Iterator[_Cursor]:  # pragma: no cover - each engine has its own
        raise NotImplementedError
        yield

    def _run(self, work: Callable[[_Cursor], T], *, write: bool = True) -> T:
        try:
            with self._tx() if write else self._reading() as cur:
                return work(cur)
        except GovernanceError:
            raise
        except Exception as exc:  # the driver's errors: sqlite3.Error, psycopg.Error
            raise ControlsStoreUnavailable(f"the controls store failed: {exc}") from exc

    def _total(self, cur: _Cursor, sender: str, day: str, counterpart: str) -> Decimal:
        row = cur.execute(self._sql("SELECT total FROM {t}_totals WHERE sender = ? AND day = ? AND counterpart = ?"),
                          (sender, day, counterpart)).fetchone()
        return Decimal(row[0]) if row else Decimal(0)

    def _set(self, cur: _Cursor, sender: str, day: str, counterpart: str, total: Decimal) -> None:
        cur.execute(self._sql("INSERT INTO {t}_totals VALUES (?, ?, ?, ?) ON CONFLICT (sender, day, counterpart) "
                              "DO UPDATE SET total = excluded.total"), (sender, day, counterpart, str(total)))

    def reserve(self, sender: str, message_id: str, day: str, counterpart: str, quantity: Decimal,
                limits: dict[str, Decimal | None]) -> None:
        """Reserve ``quantity`` units of ``sender``'s ``day`` for one message to ``counterpart``, unless a limit
        (``limits[ALL]``: the participant's, ``limits[counterpart]``: to that counterpart; ``None``: none) would be
        passed: then :class:`LimitExceeded` and nothing is reserved."""
        def work(cur: _Cursor) -> None:
            rows = cur.execute(self._sql(  # one read: the message's own earlier reservation and both totals
                "SELECT 'own', day, counterpart, quantity FROM {t}_usage WHERE sender = ? AND message_id = ? "
                "UNION ALL SELECT 'total', day, counterpart, total FROM {t}_totals WHERE sender = ? AND day = ? AND "
                "counterpart IN (?, ?)"), (sender, message_id, sender, day, ALL, counterpart)).fetchall()
            own = next((r[1:] for r in rows if r[0] == "own"), None)
            if own is not None:  # a retry of a message that kept its reservation: give it back first
                self._give_back(cur, sender, message_id, own)
                rows = [("total", day, what, self._total(cur, sender, day, what)) for what in (ALL, counterpart)]
            found = {r[2]: Decimal(r[3]) for r in rows if r[0] == "total"}
            totals = {}
            for what in (ALL, counterpart):
                used = totals[what] = found.get(what, Decimal(0))
                limit = limits.get(what)
                if limit is not None and used + quantity > limit:
                    scope = "in total" if what == ALL else f"to {what}"
                    raise LimitExceeded(f"{sender} has sent {used} units {scope} on {day}; {quantity} more would pass "
                                        f"the daily limit {limit}", counterpart=what, used=used, limit=limit)
            cur.execute(self._sql("INSERT INTO {t}_usage VALUES (?, ?, ?, ?, ?)"),
                        (sender, message_id, day, counterpart, str(quantity)))
            cur.execute(self._sql("INSERT INTO {t}_totals VALUES (?, ?, ?, ?), (?, ?, ?, ?) ON CONFLICT (sender, day, "
                                  "counterpart) DO UPDATE SET total = excluded.total"),
                        (sender, day, ALL, str(totals[ALL] + quantity),
                         sender, day, counterpart, str(totals[counterpart] + quantity)))
        self._run(work)

    def _give_back(self, cur: _Cursor, sender: str, message_id: str, row: Any) -> None:
        day, counterpart, quantity = row[0], row[1], Decimal(row[2])
        for what in (ALL, counterpart):
            self._set(cur, sender, day, what, self._total(cur, sender, day, what) - quantity)
        cur.execute(self._sql("DELETE FROM {t}_usage WHERE sender = ? AND message_id = ?"), (sender, message_id))

    def release(self, sender: str, message_id: str) -> None:
        """Give back what one message reserved (it was not relayed)."""
        def work(cur: _Cursor) -> None:
            row = cur.execute(self._sql("SELECT day, counterpart, quantity FROM {t}_usage WHERE sender = ? AND "
                                        "message_id = ?"), (sender, message_id)).fetchone()
            if row is not None:
                self._give_back(cur, sender, message_id, row)
        self._run(work)

    def used(self, sender: str, day: str, counterpart: str = ALL) -> Decimal:
        """Units ``sender`` has reserved on ``day`` (to ``counterpart``; :data:`ALL`: in total)."""
        return self._run(lambda cur: self._total(cur, sender, day, counterpart), write=False)

    def first_seen(self, sender: str, counterpart: str, now: float) -> float:
        """When ``sender`` first sent to ``counterpart`` (``now`` if this is the first time); one value for every
        gateway sharing the store."""
        known = self._seen.get((sender, counterpart))
        if known is not None:
            return known

        def work(cur: _Cursor) -> float:
            row = cur.execute(self._sql("SELECT first_seen FROM {t}_counterparts WHERE sender = ? AND "
                                        "counterpart = ?"), (sender, counterpart)).fetchone()
            if row is not None:
                return float(row[0])
            cur.execute(self._sql("INSERT INTO {t}_counterparts VALUES (?, ?, ?)"), (sender, counterpart, now))
            return now
        seen = self._run(work)
        self._seen[(sender, counterpart)] = seen
        return seen

    def close(self) -> None:  # pragma: no cover - each engine has its own
        raise NotImplementedError


class SqliteControlsStore(ControlsStore):
    """The embedded store: one SQLite file (WAL), shared safely by the processes of one machine."""

    def __init__(self, path: str | Path, *, table: str = "controls", synchronous: str = "full") -> None:
        super().__init__(table)
        if synchronous not in ("full", "normal"):
            raise GovernanceError(f"synchronous must be full or normal, not {synchronous!r}", code="GOVERNANCE.CONFIG")
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(f"PRAGMA synchronous={synchronous}")
            for statement in self._schema():
                self._conn.execute(statement)
        except (OSError, sqlite3.Error) as exc:
            raise ControlsStoreUnavailable(f"cannot open the controls store {self.path}: {exc}") from exc

    @contextmanager
    def _tx(self) -> Iterator[_Cursor]:
        with self._lock:
            begin_immediate(self._conn)
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def _reading(self) -> Iterator[_Cursor]:
        with self._lock:
            yield self._conn

    def close(self) -> None:
        self._conn.close()


class PostgresControlsStore(ControlsStore):
    """The scaled-out store: every gateway process shares one PostgreSQL database."""

    placeholder = "%s"

    def __init__(self, dsn: str, *, table: str = "controls") -> None:
        super().__init__(table)
        import psycopg

        self._psycopg = psycopg
        self._dsn = dsn
        self.url = f"{dsn.split('@')[-1]} table={table}"
        self._key = int.from_bytes(hashlib.sha256(f"carbonlink.controls:{table}".encode()).digest()[:8], "big",
                                   signed=True)
        self._lock = threading.Lock()
        self._conn: Any = None
        self._run(lambda cur: [cur.execute(s) for s in self._schema()])

    def _connection(self) -> Any:
        if self._conn is None or self._conn.closed or self._conn.broken:
            try:
                self._conn = self._psycopg.connect(self._dsn, autocommit=True, connect_timeout=5)
            except self._psycopg.Error as exc:
                raise ControlsStoreUnavailable(f"cannot connect to the controls store: {exc}") from exc
        return self._conn

    @contextmanager
    def _tx(self) -> Iterator[_Cursor]:
        with self._lock:
            conn = self._connection()
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._key,))
                yield conn

    @contextmanager
    def _reading(self) -> Iterator[_Cursor]:
        with self._lock:
            yield self._connection()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def open_controls_store(url: str) -> ControlsStore:
    """``sqlite:///path[?table=name&synchronous=full|normal]`` or ``postgresql://...[?table=name]``."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    table = query.pop("table", "controls")
    if parts.scheme == "sqlite":
        path = url[len("sqlite://"):].partition("?")[0]
        path = path[1:] if path.startswith("/") else path
        synchronous = query.pop("synchronous", "full")
        if query or not path:
            raise GovernanceError(f"controls store URL {url!r}: sqlite:///path[?table=name&synchronous=...]",
                                  code="GOVERNANCE.CONFIG")
        return SqliteControlsStore(path, table=table, synchronous=synchronous)
    if parts.scheme in ("postgresql", "postgres"):
        dsn = urlunsplit(parts._replace(query=urlencode(query)))
        return PostgresControlsStore(dsn.rstrip("?"), table=table)
    raise GovernanceError(f"controls store URL {url!r} is neither sqlite:///... nor postgresql://...",
                          code="GOVERNANCE.CONFIG")
