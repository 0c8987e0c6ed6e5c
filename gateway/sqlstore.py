"""What the gateway's own small stores (authorizations, transaction controls, MRV messages) share:
table-prefixed SQL written once for both engines, one serialized write transaction
(:meth:`TableStore._tx`), and the two engines - an embedded SQLite file (WAL) and a PostgreSQL database
shared by every gateway process, whose writes serialize on a transaction-scoped advisory lock - opened
from one URL form. Each store names what it is and the errors it raises."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from gateway.sqlite_writes import begin_immediate
from standards.errors import CarbonlinkError

T = TypeVar("T")
_TABLE = re.compile(r"[a-z_][a-z0-9_]{0,40}")


class Cursor(Protocol):
    def execute(self, sql: str, params: tuple[Any, ...] = ...) -> Any: ...


class TableStore:
    """A store whose tables share one prefix; subclasses name what they keep and the error of an unusable store."""

    placeholder = "?"
    #: What the store is called in messages ("the controls store").
    what: ClassVar[str] = "the store"
    #: Raised when the engine cannot be reached or fails.
    unavailable: ClassVar[type[CarbonlinkError]] = CarbonlinkError
    #: Raised for a configuration the store cannot take (table prefix, URL, ``synchronous``), with its code.
    config_error: ClassVar[type[CarbonlinkError]] = CarbonlinkError
    config_code: ClassVar[str] = "STORE.CONFIG"

    @classmethod
    def misconfigured(cls, message: str) -> CarbonlinkError:
        return cls.config_error(message, code=cls.config_code)

    def __init__(self, table: str) -> None:
        if not _TABLE.fullmatch(table):
            raise self.misconfigured(f"table prefix {table!r} must match [a-z_][a-z0-9_]{{0,40}}")
        self.t = table
        self.url = ""
        self._statements: dict[str, str] = {}

    def _sql(self, text: str) -> str:
        sql = self._statements.get(text)
        if sql is None:
            sql = self._statements[text] = text.replace("{t}", self.t).replace("?", self.placeholder)
        return sql

    def _schema(self) -> list[str]:  # pragma: no cover - each store has its own
        raise NotImplementedError

    @contextmanager
    def _tx(self) -> Iterator[Cursor]:  # pragma: no cover - each engine has its own
        raise NotImplementedError
        yield

    @contextmanager
    def _reading(self) -> Iterator[Cursor]:  # pragma: no cover - each engine has its own
        raise NotImplementedError
        yield

    def _run(self, work: Callable[[Cursor], T], *, write: bool = True) -> T:
        try:
            with self._tx() if write else self._reading() as cur:
                return work(cur)
        except CarbonlinkError:  # the store's own refusals
            raise
        except Exception as exc:  # the driver's errors: sqlite3.Error, psycopg.Error
            raise self.unavailable(f"{self.what} failed: {exc}") from exc

    def close(self) -> None:  # pragma: no cover - each engine has its own
        raise NotImplementedError


class SqliteEngine(TableStore):
    """The embedded engine: one SQLite file (WAL), shared safely by the processes of one machine."""

    def __init__(self, path: str | Path, *, table: str, synchronous: str = "full") -> None:
        super().__init__(table)
        if synchronous not in ("full", "normal"):
            raise self.misconfigured(f"synchronous must be full or normal, not {synchronous!r}")
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
            raise self.unavailable(f"cannot open {self.what} {self.path}: {exc}") from exc

    @contextmanager
    def _tx(self) -> Iterator[Cursor]:
        with self._lock:
            begin_immediate(self._conn)
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def _reading(self) -> Iterator[Cursor]:
        with self._lock:  # one connection, shared by the threads of this process
            yield self._conn

    def close(self) -> None:
        self._conn.close()


class PostgresEngine(TableStore):
    """The scaled-out engine: every gateway process shares one PostgreSQL database; writes serialize on a
    transaction-scoped advisory lock named by ``namespace`` and the table prefix."""

    placeholder = "%s"

    def __init__(self, dsn: str, *, table: str, namespace: str) -> None:
        super().__init__(table)
        import psycopg

        self._psycopg = psycopg
        self._dsn = dsn
        self.url = f"{dsn.split('@')[-1]} table={table}"
        self._key = int.from_bytes(hashlib.sha256(f"carbonlink.{namespace}:{table}".encode()).digest()[:8], "big",
                                   signed=True)
        self._lock = threading.Lock()
        self._conn: Any = None
        self._run(lambda cur: [cur.execute(statement) for statement in self._schema()])

    def _connection(self) -> Any:
        if self._conn is None or self._conn.closed or self._conn.broken:
            try:
                self._conn = self._psycopg.connect(self._dsn, autocommit=True, connect_timeout=5)
            except self._psycopg.Error as exc:
                raise self.unavailable(f"cannot connect to {self.what}: {exc}") from exc
        return self._conn

    @contextmanager
    def _tx(self) -> Iterator[Cursor]:
        with self._lock:
            conn = self._connection()
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._key,))
                yield conn

    @contextmanager
    def _reading(self) -> Iterator[Cursor]:
        with self._lock:
            yield self._connection()  # autocommit: each statement sees the latest committed state

    def _one_trip(self, sql: str, params: dict[str, Any]) -> Any:
        """One serialized transaction of a single statement ``sql`` (``%(name)s`` parameters): BEGIN, the
        advisory lock, the statement and COMMIT sent as one query string (the parameters bound on the client by
        the driver's own quoting), so one round trip to the database. Returns the statement's first row."""
        try:
            with self._lock:
                conn = self._connection()
                cursor = self._psycopg.ClientCursor(conn)
                try:
                    cursor.execute(f"BEGIN; SELECT pg_advisory_xact_lock(%(_lock)s); {sql}; COMMIT",
                                   {**params, "_lock": self._key})
                except BaseException:
                    if not conn.closed and conn.info.transaction_status != self._psycopg.pq.TransactionStatus.IDLE:
                        conn.rollback()
                    raise
                cursor.nextset()
                cursor.nextset()
                return cursor.fetchone()
        except CarbonlinkError:
            raise
        except Exception as exc:  # psycopg.Error
            raise self.unavailable(f"{self.what} failed: {exc}") from exc

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def open_store(url: str, *, default_table: str, sqlite: Callable[..., T], postgres: Callable[..., T],
               what: str, misconfigured: Callable[[str], CarbonlinkError]) -> T:
    """``sqlite:///path[?table=name&synchronous=full|normal]`` or ``postgresql://...[?table=name]``."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    table = query.pop("table", default_table)
    if parts.scheme == "sqlite":
        path = url[len("sqlite://"):].partition("?")[0]
        path = path[1:] if path.startswith("/") else path
        synchronous = query.pop("synchronous", "full")
        if query or not path:
            raise misconfigured(f"{what} URL {url!r}: sqlite:///path[?table=name&synchronous=...]")
        return sqlite(path, table=table, synchronous=synchronous)
    if parts.scheme in ("postgresql", "postgres"):
        dsn = urlunsplit(parts._replace(query=urlencode(query)))
        return postgres(dsn.rstrip("?"), table=table)
    raise misconfigured(f"{what} URL {url!r} is neither sqlite:///... nor postgresql://...")
