"""Where the harmonized view lives: an embedded SQLite file (one host) or PostgreSQL (gateway processes on
several hosts), behind one small connection type so the store and the subscriptions hold one set of SQL.

The modules above write their SQL once, with ``?`` placeholders and ``feed_`` table names; :class:`Database`
turns that into the backend's form (``%s`` for psycopg, the configured table prefix). Both backends sort keys
bytewise (PostgreSQL columns use the ``C`` collation), so cursors and the key order are the same on either.
The target is a path or ``sqlite:///path`` for SQLite, ``postgresql://...`` for PostgreSQL.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import psycopg

from gateway.feeds.errors import FeedStoreUnavailable

_PREFIX = re.compile(r"^[a-z][a-z0-9_]{0,40}_$")

# One schema, written for SQLite; the PostgreSQL form swaps the types (see _postgres_schema).
_SCHEMA = """
CREATE TABLE IF NOT EXISTS feed_records (
    kind TEXT NOT NULL, nkey TEXT NOT NULL, source TEXT NOT NULL, party TEXT, vintage INTEGER, status TEXT,
    action_type TEXT, year INTEGER, series TEXT, first BIGINT, last BIGINT, digest BLOB NOT NULL,
    body BLOB NOT NULL, rendered BLOB NOT NULL, updated_at TEXT NOT NULL, seq BIGINT NOT NULL,
    gen BIGINT NOT NULL, gen_end BIGINT NOT NULL, PRIMARY KEY (kind, nkey, source, gen)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS feed_records_generations ON feed_records (source, gen_end, gen);
CREATE TABLE IF NOT EXISTS feed_sources (
    source TEXT PRIMARY KEY, party TEXT, mode TEXT NOT NULL, gen BIGINT NOT NULL DEFAULT 0,
    seq BIGINT NOT NULL DEFAULT 0, attempted_at TEXT, ok_at TEXT, error_code TEXT, error_detail TEXT,
    records BIGINT NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS feed_changes (
    source TEXT NOT NULL, seq BIGINT NOT NULL, kind TEXT NOT NULL, nkey TEXT NOT NULL, op TEXT NOT NULL,
    body BLOB, at TEXT NOT NULL, PRIMARY KEY (source, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS feed_compactions (
    source TEXT PRIMARY KEY, floor BIGINT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feed_subscriptions (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, url TEXT NOT NULL, sources TEXT, position TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, next_attempt REAL NOT NULL DEFAULT 0, last_error TEXT,
    last_attempt_at REAL, delivered BIGINT NOT NULL DEFAULT 0, lease_until REAL NOT NULL DEFAULT 0,
    created_at REAL NOT NULL);
"""


def _postgres_schema() -> str:
    text = _SCHEMA.replace(" WITHOUT ROWID", "").replace("BLOB", "BYTEA").replace("REAL", "DOUBLE PRECISION")
    for column in ("kind", "nkey", "source"):  # bytewise order, as SQLite sorts
        text = re.sub(rf"\b{column} TEXT\b", f'{column} TEXT COLLATE "C"', text)
    return text


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def fetchmany(self, size: int) -> list[Any]: ...


#: a statement made inside the read transaction (it may read the snapshot first, e.g. published generations)
Statement = Callable[["Connection"], tuple[str, Sequence[Any]]]


class Connection:
    """One connection in the backend's dialect; statements are written for SQLite (see the module text)."""

    def __init__(self, database: Database, raw: sqlite3.Connection | psycopg.Connection[Any]) -> None:
        self.database = database
        self.raw = raw

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Cursor:
        return self.raw.execute(self.database.sql(sql), tuple(args))  # type: ignore[return-value]

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if isinstance(self.raw, sqlite3.Connection):
            self.raw.executemany(self.database.sql(sql), rows)
        else:
            with self.raw.cursor() as cursor:
                cursor.executemany(self.database.sql(sql), rows)

    def copy(self, table: str, columns: str, rows: Sequence[Sequence[Any]]) -> None:
        """Append ``rows`` to ``table``: PostgreSQL's ``COPY ... FROM STDIN`` (one stream, no per-row statement),
        SQLite's ``executemany``. For rows that cannot conflict with any in the table."""
        if not rows:
            return
        if isinstance(self.raw, sqlite3.Connection):
            self.raw.executemany(self.database.sql(f"INSERT INTO {table} ({columns}) VALUES "
                                                   f"({', '.join('?' * len(rows[0]))})"), rows)
            return
        with self.raw.cursor() as cursor, cursor.copy(self.database.sql(f"COPY {table} ({columns}) FROM STDIN")
                                                      ) as stream:
            for row in rows:
                stream.write_row(row)

    def begin_write(self, lock: str) -> None:
        """Start a write transaction; writers of the same ``lock`` (a source) wait for each other, in every
        process sharing the store."""
        if isinstance(self.raw, sqlite3.Connection):
            self.raw.execute("BEGIN IMMEDIATE")
        else:
            self.raw.execute("BEGIN")
            self.raw.execute("SELECT pg_advisory_xact_lock(%s)", (self.database.lock_key(lock),))

    def begin_read(self) -> None:
        self.raw.execute("BEGIN" if isinstance(self.raw, sqlite3.Connection) else "BEGIN ISOLATION LEVEL "
                         "REPEATABLE READ READ ONLY")

    def commit(self) -> None:
        self.raw.execute("COMMIT")

    def rollback(self) -> None:
        self.raw.execute("ROLLBACK")

    def stream(self, statement: Statement, batch: int) -> Iterator[tuple[Any, ...]]:
        """Rows of one query, fetched ``batch`` at a time from one snapshot (a server-side cursor on PostgreSQL,
        so a large result is never held whole)."""
        for chunk in self.chunks(statement, batch):
            yield from chunk

    def chunks(self, statement: Statement, batch: int) -> Iterator[list[tuple[Any, ...]]]:
        """:meth:`stream` a list of ``batch`` rows at a time; ``statement`` is made inside the snapshot."""
        self.begin_read()
        try:
            sql, args = statement(self)
            if isinstance(self.raw, sqlite3.Connection):
                cursor: Any = self.raw.execute(self.database.sql(sql), tuple(args))
            else:
                cursor = self.raw.cursor(name="feed_rows")
                cursor.itersize = batch
                cursor.execute(self.database.sql(sql), tuple(args))
            while chunk := cursor.fetchmany(batch):
                yield chunk
            cursor.close()
        finally:
            self.rollback()

    def close(self) -> None:
        self.raw.close()


class Database:
    """The view's backend: where it is, how its connections are made, its SQL dialect."""

    def __init__(self, target: str | Path, *, prefix: str = "feed_") -> None:
        text = str(target)
        if not _PREFIX.match(prefix):
            raise ValueError(f"table prefix {prefix!r} is not lower-case letters, digits and _ ending in _")
        self.prefix = prefix
        self.postgres = text.startswith(("postgresql://", "postgres://"))
        self.target = text.removeprefix("sqlite:///") if text.startswith("sqlite:///") else text
        if not self.postgres:
            Path(self.target).parent.mkdir(parents=True, exist_ok=True)
        #: where the store is, without credentials (for logs and docs)
        self.where = f"{self.target.split('@')[-1]} (tables {prefix}*)" if self.postgres else self.target

    def sql(self, statement: str) -> str:
        if self.prefix != "feed_":
            statement = statement.replace("feed_", self.prefix)
        return statement.replace("?", "%s") if self.postgres else statement

    def lock_key(self, name: str) -> int:
        digest = hashlib.sha256(f"carbonlink.feeds:{self.prefix}:{name}".encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)

    def connect(self) -> Connection:
        """A connection in autocommit mode (transactions are explicit)."""
        if not self.postgres:
            raw_sqlite = sqlite3.connect(self.target, check_same_thread=False, isolation_level=None, timeout=60)
            raw_sqlite.execute("PRAGMA synchronous=NORMAL")
            raw_sqlite.execute(f"PRAGMA journal_size_limit={64 * 1024 * 1024}")
            return Connection(self, raw_sqlite)
        try:
            return Connection(self, psycopg.connect(self.target, autocommit=True, connect_timeout=5))
        except psycopg.Error as exc:
            raise FeedStoreUnavailable(f"cannot connect to the feeds' PostgreSQL store {self.where}: "
                                       f"{type(exc).__name__}") from exc

    @contextlib.contextmanager
    def session(self) -> Iterator[Connection]:
        """A connection for one read or one small write; PostgreSQL going away meanwhile is
        FEED.STORE_UNAVAILABLE, not a traceback."""
        connection = self.connect()
        try:
            yield connection
        except psycopg.OperationalError as exc:
            raise FeedStoreUnavailable(f"the feeds' PostgreSQL store {self.where} failed: {type(exc).__name__}"
                                       ) from exc
        finally:
            connection.close()

    def create(self, connection: Connection) -> None:
        if not self.postgres:
            assert isinstance(connection.raw, sqlite3.Connection)
            connection.raw.execute("PRAGMA journal_mode=WAL")
            self._upgrade(connection)
            connection.raw.executescript(self.sql(_SCHEMA))
            return
        connection.begin_write("schema")
        try:
            self._upgrade(connection)
            for statement in _postgres_schema().split(";"):
                if statement.strip():
                    connection.raw.execute(self.sql(statement))
        except BaseException:
            connection.rollback()
            raise
        connection.commit()

    def columns(self, connection: Connection, table: str) -> set[str]:
        name = f"{self.prefix}{table}"
        if not self.postgres:
            return {row[1] for row in connection.raw.execute(f"PRAGMA table_info({name})").fetchall()}
        return {row[0] for row in connection.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND "
            "table_name = ?", (name,)).fetchall()}

    def _upgrade(self, connection: Connection) -> None:
        """A store of the feeds' earlier layout (one row per key and source, no ``gen_end``): its records are
        dropped and its sources marked never read, so they are pulled again; sequences and changes stay."""
        found = self.columns(connection, "records")
        if found and "gen_end" not in found:
            connection.raw.execute(self.sql("DROP TABLE feed_records"))
            connection.raw.execute(self.sql("UPDATE feed_sources SET gen = 0, ok_at = NULL, attempted_at = NULL, "
                                            "records = 0"))

    def create_session(self, connection: Connection) -> None:
        """The writer connection's own temporary tables: keys a replacement found unchanged, and (PostgreSQL)
        the rows of one batch on their way in by ``COPY``."""
        text = 'TEXT COLLATE "C"' if self.postgres else "TEXT"
        connection.execute(f"CREATE TEMP TABLE IF NOT EXISTS feed_seen (kind {text} NOT NULL, nkey {text} NOT NULL, "
                           "PRIMARY KEY (kind, nkey))")
        if self.postgres:
            connection.execute("CREATE TEMP TABLE IF NOT EXISTS feed_stage (LIKE feed_records) ON COMMIT DELETE ROWS")

    def checkpoint(self, connection: Connection) -> None:
        """After a large replacement: copy SQLite's write-ahead log into the database and truncate it (readers
        still on an older snapshot can delay that; ``journal_size_limit`` then trims it later)."""
        if not self.postgres:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()

    def drop(self) -> None:
        """Drop the view's tables (tests clean up their PostgreSQL tables with it)."""
        with self.session() as connection:
            for table in ("records", "sources", "changes", "compactions", "subscriptions"):
                connection.raw.execute(f"DROP TABLE IF EXISTS {self.prefix}{table}")


__all__ = ["Connection", "Cursor", "Database"]
