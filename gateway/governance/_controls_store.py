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

from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from gateway.governance.errors import ControlsStoreUnavailable, GovernanceError
from gateway.sqlstore import Cursor, PostgresEngine, SqliteEngine, TableStore, open_store

T = TypeVar("T")
#: The ``counterpart`` of a participant's total over all its counterparts.
ALL = "*"


class LimitExceeded(GovernanceError):
    """Reserving these units would pass a daily limit (the controls turn it into a coded refusal)."""

    code = "GOVERNANCE.POLICY_DAILY_LIMIT"

    def __init__(self, message: str, *, counterpart: str = ALL, used: Decimal = Decimal(0),
                 limit: Decimal = Decimal(0)) -> None:
        super().__init__(message)
        self.counterpart, self.used, self.limit = counterpart, used, limit


class ControlsStore(TableStore):
    """Daily usage and first-seen counterparts; the engine gives :meth:`_tx` (one serialized transaction)."""

    what = "the controls store"
    config_error, config_code = GovernanceError, "GOVERNANCE.CONFIG"
    unavailable = ControlsStoreUnavailable

    def __init__(self, table: str) -> None:
        super().__init__(table)
        self._seen: dict[tuple[str, str], float] = {}

    def _schema(self) -> list[str]:
        return [self._sql(s) for s in (
            "CREATE TABLE IF NOT EXISTS {t}_usage (sender TEXT NOT NULL, message_id TEXT NOT NULL, day TEXT NOT NULL, "
            "counterpart TEXT NOT NULL, quantity TEXT NOT NULL, PRIMARY KEY (sender, message_id))",
            "CREATE TABLE IF NOT EXISTS {t}_totals (sender TEXT NOT NULL, day TEXT NOT NULL, "
            "counterpart TEXT NOT NULL, total TEXT NOT NULL, PRIMARY KEY (sender, day, counterpart))",
            "CREATE TABLE IF NOT EXISTS {t}_counterparts (sender TEXT NOT NULL, counterpart TEXT NOT NULL, "
            "first_seen DOUBLE PRECISION NOT NULL, PRIMARY KEY (sender, counterpart))",
        )]

    def _total(self, cur: Cursor, sender: str, day: str, counterpart: str) -> Decimal:
        row = cur.execute(self._sql("SELECT total FROM {t}_totals WHERE sender = ? AND day = ? AND counterpart = ?"),
                          (sender, day, counterpart)).fetchone()
        return Decimal(row[0]) if row else Decimal(0)

    def _set(self, cur: Cursor, sender: str, day: str, counterpart: str, total: Decimal) -> None:
        cur.execute(self._sql("INSERT INTO {t}_totals VALUES (?, ?, ?, ?) ON CONFLICT (sender, day, counterpart) "
                              "DO UPDATE SET total = excluded.total"), (sender, day, counterpart, str(total)))

    def reserve(self, sender: str, message_id: str, day: str, counterpart: str, quantity: Decimal,
                limits: dict[str, Decimal | None]) -> None:
        """Reserve ``quantity`` units of ``sender``'s ``day`` for one message to ``counterpart``, unless a limit
        (``limits[ALL]``: the participant's, ``limits[counterpart]``: to that counterpart; ``None``: none) would be
        passed: then :class:`LimitExceeded` and nothing is reserved."""
        def work(cur: Cursor) -> None:
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

    def _give_back(self, cur: Cursor, sender: str, message_id: str, row: Any) -> None:
        day, counterpart, quantity = row[0], row[1], Decimal(row[2])
        for what in (ALL, counterpart):
            self._set(cur, sender, day, what, self._total(cur, sender, day, what) - quantity)
        cur.execute(self._sql("DELETE FROM {t}_usage WHERE sender = ? AND message_id = ?"), (sender, message_id))

    def release(self, sender: str, message_id: str) -> None:
        """Give back what one message reserved (it was not relayed)."""
        def work(cur: Cursor) -> None:
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

        def work(cur: Cursor) -> float:
            row = cur.execute(self._sql("SELECT first_seen FROM {t}_counterparts WHERE sender = ? AND "
                                        "counterpart = ?"), (sender, counterpart)).fetchone()
            if row is not None:
                return float(row[0])
            cur.execute(self._sql("INSERT INTO {t}_counterparts VALUES (?, ?, ?)"), (sender, counterpart, now))
            return now
        seen = self._run(work)
        self._seen[(sender, counterpart)] = seen
        return seen



class SqliteControlsStore(SqliteEngine, ControlsStore):
    """The embedded store: one SQLite file (WAL), shared safely by the processes of one machine."""

    def __init__(self, path: str | Path, *, table: str = "controls", synchronous: str = "full") -> None:
        super().__init__(path, table=table, synchronous=synchronous)


class PostgresControlsStore(PostgresEngine, ControlsStore):
    """The scaled-out store: every gateway process shares one PostgreSQL database.

    A reservation is one statement, sent with its transaction's BEGIN, advisory lock and COMMIT as one query
    (one round trip): under the lock it reads both totals, checks both limits and - only when both hold and the
    message has no reservation yet - books the message and writes both totals. A retry of a message that kept
    its reservation (rare) takes the general path of :class:`ControlsStore`."""

    def __init__(self, dsn: str, *, table: str = "controls") -> None:
        super().__init__(dsn, table=table, namespace="controls")
        self._reserving = _RESERVE.replace("{t}", self.t)

    def reserve(self, sender: str, message_id: str, day: str, counterpart: str, quantity: Decimal,
                limits: dict[str, Decimal | None]) -> None:
        row = self._one_trip(self._reserving, {
            "sender": sender, "message_id": message_id, "day": day, "all": ALL, "counterpart": counterpart,
            "quantity": quantity, "text": str(quantity), "limit_all": limits.get(ALL),
            "limit_to": limits.get(counterpart)})
        kept, booked = row[0], row[3]
        if booked:
            return
        if kept:  # a retry of a message that kept its reservation: give it back and reserve again
            super().reserve(sender, message_id, day, counterpart, quantity, limits)
            return
        for what, used in ((ALL, Decimal(row[1])), (counterpart, Decimal(row[2]))):
            limit = limits.get(what)
            if limit is not None and used + quantity > limit:
                scope = "in total" if what == ALL else f"to {what}"
                raise LimitExceeded(f"{sender} has sent {used} units {scope} on {day}; {quantity} more would pass "
                                    f"the daily limit {limit}", counterpart=what, used=used, limit=limit)
        raise self.unavailable(f"{self.what} booked nothing for message {message_id!r} and named no limit")


#: The reservation of :class:`PostgresControlsStore`: returns (the message already has a reservation, total so far,
#: total to the counterpart so far, rows booked: 1 when reserved now).
_RESERVE = """
WITH own AS (SELECT 1 FROM {t}_usage WHERE sender = %(sender)s AND message_id = %(message_id)s),
used AS (
  SELECT COALESCE(MAX(CASE WHEN counterpart = %(all)s THEN CAST(total AS NUMERIC) END), 0) AS total_all,
         COALESCE(MAX(CASE WHEN counterpart = %(counterpart)s THEN CAST(total AS NUMERIC) END), 0) AS total_to
  FROM {t}_totals WHERE sender = %(sender)s AND day = %(day)s AND counterpart IN (%(all)s, %(counterpart)s)),
fits AS (
  SELECT total_all, total_to FROM used WHERE NOT EXISTS (SELECT 1 FROM own)
  AND (CAST(%(limit_all)s AS NUMERIC) IS NULL OR total_all + %(quantity)s <= CAST(%(limit_all)s AS NUMERIC))
  AND (CAST(%(limit_to)s AS NUMERIC) IS NULL OR total_to + %(quantity)s <= CAST(%(limit_to)s AS NUMERIC))),
booked AS (
  INSERT INTO {t}_usage SELECT %(sender)s, %(message_id)s, %(day)s, %(counterpart)s, %(text)s FROM fits
  RETURNING 1),
summed AS (
  INSERT INTO {t}_totals
  SELECT %(sender)s, %(day)s, %(all)s, CAST(total_all + %(quantity)s AS TEXT) FROM fits
  UNION ALL SELECT %(sender)s, %(day)s, %(counterpart)s, CAST(total_to + %(quantity)s AS TEXT) FROM fits
  ON CONFLICT (sender, day, counterpart) DO UPDATE SET total = excluded.total RETURNING 1)
SELECT EXISTS (SELECT 1 FROM own), total_all, total_to, (SELECT COUNT(*) FROM booked), (SELECT COUNT(*) FROM summed)
FROM used
"""


def open_controls_store(url: str) -> ControlsStore:
    """``sqlite:///path[?table=name&synchronous=full|normal]`` or ``postgresql://...[?table=name]``."""
    return open_store(url, default_table="controls", sqlite=SqliteControlsStore, postgres=PostgresControlsStore,
                      what="controls store",
                      misconfigured=ControlsStore.misconfigured)
