"""PostgreSQL evidence log (scale-out: N gateway processes append to one chain).

Every append is one transaction that first takes a transaction-scoped advisory lock keyed on
the table, then reads the head, seals the next record and inserts it; the lock is released at
COMMIT, so appends from all processes are serialized and the chain never forks. ``seq`` is the
primary key and ``hash`` is unique, a second line of defence. Triggers refuse UPDATE, DELETE
and TRUNCATE on the record table.

A process that knows the head (the last record it committed or read under the lock) seals on it
first and sends one transaction in one round trip: the lock, then an ``INSERT`` that writes only
if that record is still the head (and, for receipt-once appends, no receipt of the message is on
record). If another process appended meanwhile, nothing is written and the append is made again
the long way (lock, read the head, seal, insert).
"""

from __future__ import annotations

import hashlib
import threading
from contextlib import AbstractContextManager
from typing import Any

import orjson
import psycopg
import psycopg.generators

from gateway.evidence.errors import EvidenceStoreUnavailable
from gateway.evidence.jcs import jcs_bytes
from gateway.evidence.log import COLUMNS, EvidenceLog, _PendingAppend, check_table_name, record_from_row, record_to_row
from gateway.evidence.record import EvidenceRecord
from gateway.evidence.signing import Signer

#: The driver's generator that waits for a sent query's results (psycopg takes its C one when the binary package
#: is installed).
_EXECUTE: Any = psycopg.generators.execute

#: After an append on a stale head, the groups appended the long way before one is tried on the known head again.
STALE_HEAD_GROUPS = 8


#: ``SELECT`` of the typed columns (in :data:`COLUMNS` order) of the rows sent as one JSON array of arrays
#: (:func:`_rows_json`); ``->>`` gives back each text exactly as sent, and ``NULL`` for a JSON null.
_ROWS_FROM_JSON = (
    "SELECT (r ->> 0)::bigint, r ->> 1, r ->> 2, r ->> 3, r ->> 4, r ->> 5, r ->> 6, r ->> 7, r ->> 8, r ->> 9, "
    "r ->> 10, r ->> 11, r ->> 12, (r ->> 13)::integer FROM json_array_elements(%s::json) AS r")
assert _ROWS_FROM_JSON.count("->>") == len(COLUMNS)


def _rows_json(records: list[EvidenceRecord]) -> str:
    """The rows of ``records`` (:func:`record_to_row`) as one JSON array: the parameter of :data:`_ROWS_FROM_JSON`."""
    return orjson.dumps([record_to_row(record) for record in records]).decode("utf-8")


def _text(value: bytes | None) -> str | None:
    """A column as libpq returns it in text format (``seq`` and ``v`` are turned into integers by
    :func:`record_from_row`)."""
    return None if value is None else value.decode("utf-8")


def _bound(conn: psycopg.Connection[Any], sql: str, values: list[Any]) -> bytes:
    """``sql`` with its ``%s`` placeholders replaced by ``values`` as literals: integers as digits, text quoted by
    libpq (``PQescapeLiteral``, as the driver's client-side binding does). ``sql`` is carbonlink's own text
    (no ``%`` but its placeholders)."""
    parts = sql.split("%s")
    if len(parts) != len(values) + 1:  # pragma: no cover - a statement and its values built together
        raise ValueError(f"{len(parts) - 1} placeholders for {len(values)} values")
    escaping = psycopg.pq.Escaping(conn.pgconn)
    out = [parts[0].encode()]
    for value, part in zip(values, parts[1:], strict=True):
        out.append(str(value).encode() if type(value) is int else escaping.escape_literal(str(value).encode()))
        out.append(part.encode())
    return b"".join(out)


def _simple_query(conn: psycopg.Connection[Any], query: bytes) -> list[Any]:
    """Send ``query`` (several statements, simple query protocol) and return the result of each, as a cursor
    would, without the cursor: the driver's own wait for the results (its C generator when it has one). The
    first failed statement raises its :class:`psycopg.Error` (what follows it was not run)."""
    pgconn = conn.pgconn
    with conn.lock:
        pgconn.send_query(query)
        results: list[Any] = conn.wait(_EXECUTE(pgconn))
    for result in results:
        if result.status not in (psycopg.pq.ExecStatus.COMMAND_OK, psycopg.pq.ExecStatus.TUPLES_OK):
            raise psycopg.errors.error_from_result(result, encoding=conn.info.encoding)
    return results


def _lock_key(table: str) -> int:
    """A stable signed 64-bit advisory-lock key for one chain."""
    digest = hashlib.sha256(f"carbonlink.evidence:{table}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PostgresEvidenceLog(EvidenceLog):
    _placeholder = "%s"

    def __init__(self, dsn: str, *, signer: Signer | None = None, table: str = "evidence") -> None:
        super().__init__(signer)
        self._table = t = check_table_name(table)
        self._dsn = dsn
        self.url = f"{dsn.split('@')[-1]} table={table}"
        self._key = _lock_key(table)
        #: ``(seq, hash)`` of the last record this process committed or read as the head under the lock.
        self._head: tuple[int, str] | None = None
        #: Groups left to append the long way after the known head turned out stale (another process appends).
        self._long_way = 0
        self._conn = self._connect()
        #: Reads (a message's records before it is claimed, the head, exports) have a connection and a lock
        #: of their own, so they never wait for a group being committed on the append connection.
        self._read_conn: psycopg.Connection[Any] | None = None
        self._read_lock = threading.Lock()
        self._create()
        # The statements of an append, built once: the rows go as one JSON parameter (one literal quoted
        # by the driver, one query text its cache keeps), unpacked by the server into the typed columns.
        self._insert_sql = f"INSERT INTO {t} ({', '.join(COLUMNS)}) {_ROWS_FROM_JSON}"
        guard = (f"BEGIN; SELECT pg_advisory_xact_lock(%s); {self._insert_sql} "
                 f"WHERE (%s::bigint, %s::text) = (SELECT seq, hash FROM {t} ORDER BY seq DESC LIMIT 1)")
        self._find_sql = (f"SELECT {', '.join(COLUMNS)} FROM {t} WHERE sender = $1 AND message_id = $2 "
                          "ORDER BY seq").encode()
        #: ``[plain, with receipt-once members]``: the one-round-trip append on a known head.
        self._on_head_sql = [guard, guard + (
            f" AND NOT EXISTS (SELECT 1 FROM {t} WHERE receipt IS NOT NULL AND (sender, message_id) IN "
            "(SELECT o ->> 0, o ->> 1 FROM json_array_elements(%s::json) AS o))")]

    @property
    def dsn(self) -> str:
        """The database's DSN, without carbonlink's own options."""
        return self._dsn

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(self._dsn, autocommit=True, connect_timeout=5)
        except psycopg.Error as exc:
            raise EvidenceStoreUnavailable(f"cannot connect to the PostgreSQL evidence log: {exc}") from exc

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn.closed or self._conn.broken:
            self._conn = self._connect()
        return self._conn

    def _create(self) -> None:
        t = self._table
        try:
            with self._conn.transaction():
                self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._key,))
                self._conn.execute(f"""
                    CREATE TABLE IF NOT EXISTS {t} (
                        seq BIGINT PRIMARY KEY, ts TEXT NOT NULL, kind TEXT NOT NULL, sender TEXT NOT NULL,
                        receiver TEXT NOT NULL, message_id TEXT NOT NULL, inbound_sha256 TEXT,
                        outbound_sha256 TEXT, receipt TEXT, verdicts TEXT NOT NULL, prev_hash TEXT NOT NULL,
                        hash TEXT NOT NULL UNIQUE, signature TEXT NOT NULL, v INTEGER NOT NULL)""")
                self._conn.execute(f"CREATE INDEX IF NOT EXISTS {t}_message ON {t} (sender, message_id)")
                self._conn.execute(f"CREATE TABLE IF NOT EXISTS {t}_keys "
                                   "(kid TEXT PRIMARY KEY, jwk TEXT NOT NULL)")
                self._conn.execute(f"""
                    CREATE OR REPLACE FUNCTION {t}_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        RAISE EXCEPTION 'the evidence log is append-only: % refused', TG_OP
                            USING ERRCODE = 'insufficient_privilege';
                    END $$""")
                self._conn.execute(f"CREATE OR REPLACE TRIGGER {t}_append_only "
                                   f"BEFORE UPDATE OR DELETE ON {t} "
                                   f"FOR EACH ROW EXECUTE FUNCTION {t}_refuse()")
                self._conn.execute(f"CREATE OR REPLACE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} "
                                   f"FOR EACH STATEMENT EXECUTE FUNCTION {t}_refuse()")
        except psycopg.Error as exc:
            raise EvidenceStoreUnavailable(f"cannot prepare the PostgreSQL evidence table {t}: {exc}"
                                           ) from exc

    def _append_batch(self, group: list[_PendingAppend]) -> list[EvidenceRecord | None]:
        try:
            conn = self._connection()
            if any(member.alongside is not None for member in group):
                answers = self._append_joint(conn, group)
            else:
                answers = self._append_plain(conn, group)
        except psycopg.Error as exc:
            raise EvidenceStoreUnavailable(f"the PostgreSQL evidence log refused the append: {exc}") from exc
        if self._signer is not None:
            self._known_kids.add(self._signer.kid)
        return answers

    def _append_plain(self, conn: psycopg.Connection[Any], group: list[_PendingAppend]
                      ) -> list[EvidenceRecord | None]:
        """A group without work of its own: on the known head in one round trip if it is still the head,
        otherwise the long way (:meth:`_append_locked`)."""
        if self._head is not None and self._long_way == 0:
            answers = self._append_on_head(conn, group, self._head)
            if answers is not None:
                return answers
            self._long_way = STALE_HEAD_GROUPS
        elif self._long_way:
            self._long_way -= 1
        return self._append_locked(conn, group)

    def _append_on_head(self, conn: psycopg.Connection[Any], group: list[_PendingAppend], head: tuple[int, str]
                        ) -> list[EvidenceRecord | None] | None:
        """Seal the group on ``head`` and write it in one round trip (``BEGIN``, the lock, a guarded
        ``INSERT``, ``COMMIT``). The ``INSERT`` reads the head after the lock is held (its own statement,
        its own snapshot) and writes only if ``head`` is still the last record and no receipt-once member's
        message has a receipt on record; ``None`` if it wrote nothing (the caller goes the long way)."""
        answers, new = self._seal_batch(group, head, lambda sender, message_id: None)
        once = list(dict.fromkeys((m.exchange.sender, m.exchange.message_id) for m in group if m.once))
        values: list[Any] = [self._key, _rows_json(new), *head]
        sql = self._on_head_sql[bool(once)]
        if once:
            values.append(orjson.dumps(once).decode("utf-8"))
        sql += self._key_statement(values)
        try:
            written = _simple_query(conn, _bound(conn, sql + "; COMMIT", values))[2].command_tuples
        except BaseException:
            self._rollback(conn)
            raise
        if written != len(new):
            if written:  # pragma: no cover - the INSERT writes all of its rows or none
                raise EvidenceStoreUnavailable(f"the PostgreSQL evidence log wrote {written} of {len(new)} records")
            return None
        self._head = (new[-1].seq, new[-1].hash)
        return answers

    def _append_locked(self, conn: psycopg.Connection[Any], group: list[_PendingAppend]
                       ) -> list[EvidenceRecord | None]:
        """The long way, in two round trips of simple queries (parameters bound by the driver's quoting):
        ``BEGIN``, the lock, the head and the receipts already on record for the group's receipt-once
        messages; then the group's records in one ``INSERT`` and ``COMMIT``. Each statement takes its
        snapshot after the one before it, so the head is read with the lock held."""
        t = self._table
        once = list(dict.fromkeys((m.exchange.sender, m.exchange.message_id) for m in group if m.once))
        sql = f"BEGIN; SELECT pg_advisory_xact_lock(%s); SELECT seq, hash FROM {t} ORDER BY seq DESC LIMIT 1"
        params: list[Any] = [self._key]
        if once:
            sql += (f"; SELECT {', '.join(COLUMNS)} FROM {t} WHERE receipt IS NOT NULL AND (sender, message_id) "
                    f"IN ({', '.join(['(%s, %s)'] * len(once))}) ORDER BY seq")
            params += [part for key in once for part in key]
        cursor = psycopg.ClientCursor(conn)
        try:
            cursor.execute(sql, params)
            cursor.nextset()
            cursor.nextset()
            row = cursor.fetchone()
            receipted: dict[tuple[str, str], EvidenceRecord] = {}
            if once:
                cursor.nextset()
                for found in cursor.fetchall():
                    receipted.setdefault((found[3], found[5]), record_from_row(found, orjson.loads))
            head = (int(row[0]), str(row[1])) if row else None
            self._head = head
            answers, new = self._seal_batch(group, head,
                                            lambda sender, message_id: receipted.get((sender, message_id)))
            values: list[Any] = []
            sql = ""
            if new:
                sql = self._insert_sql
                values.append(_rows_json(new))
            sql += self._key_statement(values)
            cursor.execute(f"{sql}; COMMIT" if sql else "COMMIT", values)
        except BaseException:
            self._rollback(conn)
            raise
        finally:
            cursor.close()
        if new:
            self._head = (new[-1].seq, new[-1].hash)
        return answers

    def _key_statement(self, values: list[Any]) -> str:
        """``; INSERT`` of the signer's public key (its parameters added to ``values``) unless it is known."""
        assert self._signer is not None
        if self._signer.kid in self._known_kids:
            return ""
        values += [self._signer.kid, jcs_bytes(self._signer.public_jwk()).decode("utf-8")]
        return f"; INSERT INTO {self._table}_keys (kid, jwk) VALUES (%s, %s) ON CONFLICT DO NOTHING"

    @staticmethod
    def _rollback(conn: psycopg.Connection[Any]) -> None:
        if not conn.closed and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.rollback()

    def _append_joint(self, conn: psycopg.Connection[Any], group: list[_PendingAppend]
                      ) -> list[EvidenceRecord | None]:
        """A group with work of its own (``alongside``), which runs on the append's connection."""
        t = self._table
        # pipelined: BEGIN + lock + head read go in one round trip, INSERTs + COMMIT in another.
        # The lock is its own statement, so the head read's snapshot is taken after it is held.
        with conn.pipeline(), conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._key,))
            row = conn.execute(f"SELECT seq, hash FROM {t} ORDER BY seq DESC LIMIT 1").fetchone()

            def recorded(sender: str, message_id: str) -> EvidenceRecord | None:
                found = conn.execute(self._receipt_sql(), (sender, message_id)).fetchone()
                return record_from_row(found, orjson.loads) if found else None

            answers, new = self._seal_batch(group, (int(row[0]), str(row[1])) if row else None, recorded, conn)
            if new:
                with conn.cursor() as cursor:
                    cursor.executemany(f"INSERT INTO {t} ({', '.join(COLUMNS)}) "
                                       f"VALUES ({', '.join(['%s'] * len(COLUMNS))})",
                                       [record_to_row(r) for r in new])
            self._remember_key(conn)
        self._head = (new[-1].seq, new[-1].hash) if new else (int(row[0]), str(row[1])) if row else None
        return answers

    def _savepoint(self, conn: psycopg.Connection[Any]) -> AbstractContextManager[Any]:
        return conn.transaction()  # nested in the append's transaction: a savepoint

    def probe(self) -> None:
        try:
            with self._lock:
                conn = self._connection()
                with conn.transaction(force_rollback=True):
                    conn.execute("SET TRANSACTION READ WRITE")
                    conn.execute(f"INSERT INTO {self._table}_keys (kid, jwk) VALUES ('~probe', '{{}}') "
                                 "ON CONFLICT DO NOTHING")
        except psycopg.Error as exc:
            raise EvidenceStoreUnavailable(f"the PostgreSQL evidence log cannot be written: {exc}") from exc

    def _remember_key(self, conn: psycopg.Connection[Any]) -> None:
        assert self._signer is not None
        kid = self._signer.kid
        if kid not in self._known_kids:
            jwk = jcs_bytes(self._signer.public_jwk()).decode("utf-8")
            conn.execute(f"INSERT INTO {self._table}_keys (kid, jwk) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                         (kid, jwk))

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """A read on the read connection (autocommit: each statement sees what was committed before it,
        every append this process returned included)."""
        try:
            with self._read_lock:
                conn = self._read_conn
                if conn is None or conn.closed or conn.broken:
                    conn = self._read_conn = self._connect()
                return conn.execute(sql, params).fetchall()
        except psycopg.Error as exc:
            raise EvidenceStoreUnavailable(f"cannot read the PostgreSQL evidence log: {exc}") from exc

    def find(self, sender: str, message_id: str) -> list[EvidenceRecord]:
        """Every record of one message: read before every claim of a message, so sent straight through the
        driver's libpq connection (one ``PQexecParams``, the text of the rows decoded here) instead of its
        cursor machinery, which costs several times the round trip's own CPU for a read that is usually
        empty. Same query, same connection and lock as :meth:`_query`."""
        try:
            with self._read_lock:
                conn = self._read_conn
                if conn is None or conn.closed or conn.broken:
                    conn = self._read_conn = self._connect()
                result = conn.pgconn.exec_params(self._find_sql, [sender.encode(), message_id.encode()])
                if result.status != psycopg.pq.ExecStatus.TUPLES_OK:
                    problem = (result.error_message or conn.pgconn.error_message).decode("utf-8", "replace")
                    if conn.pgconn.status != psycopg.pq.ConnStatus.OK:
                        conn.close()  # the next read connects again
                    raise EvidenceStoreUnavailable(f"cannot read the PostgreSQL evidence log: {problem.strip()}")
                rows = [tuple(_text(result.get_value(r, c)) for c in range(len(COLUMNS)))
                        for r in range(result.ntuples)]
        except psycopg.Error as exc:
            raise EvidenceStoreUnavailable(f"cannot read the PostgreSQL evidence log: {exc}") from exc
        return [record_from_row(row, orjson.loads) for row in rows]

    def drop(self) -> None:
        """Drop the chain's tables and function (tests only: this destroys evidence)."""
        t = self._table
        with self._lock, self._connection().transaction():
            self._conn.execute(f"DROP TABLE IF EXISTS {t}, {t}_keys")
            self._conn.execute(f"DROP FUNCTION IF EXISTS {t}_refuse()")

    def close(self) -> None:
        with self._read_lock:
            if self._read_conn is not None:
                self._read_conn.close()
        self._conn.close()
