"""The MRV store: the MRV messages the gateway relayed (exact bodies, their digests, the gateway's signed records),
the issuance notices registries answered with, and the attestations of uploaded evidence files.

One SQL schema on two engines, as the authorization store: embedded SQLite (default, one file in the data
directory) and PostgreSQL (every gateway process of a scaled-out network shares it). A monitoring report claims
its project's monitoring period in one transaction that serializes with every other claim on the store (SQLite
``BEGIN IMMEDIATE``, PostgreSQL a transaction-scoped advisory lock), so two gateways - or two registries served by
one gateway - can never both take overlapping periods of one project.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from gateway.mrv.errors import AlreadyRequested, MrvConfigError, MrvStoreUnavailable, PeriodOverlap
from gateway.sqlstore import Cursor, PostgresEngine, SqliteEngine, TableStore, open_store

T = TypeVar("T")
#: Status of a message on record: put there before delivery, then the receiver's verdict.
DELIVERING, ACCEPTED, REJECTED = "delivering", "accepted", "rejected"
_COLUMNS = ("kind", "sender", "message_id", "receiver", "digest", "cites", "project_id", "period_start",
            "period_end", "body", "status", "record", "receipt", "receipt_signature")


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """One MRV message as kept (``record`` is the gateway's signed record of it, once relayed)."""

    kind: str
    sender: str
    message_id: str
    receiver: str
    digest: str
    cites: str | None
    project_id: str
    period_start: str | None
    period_end: str | None
    body: str
    status: str
    record: str | None = None
    receipt: str | None = None
    receipt_signature: str | None = None


@dataclass(frozen=True, slots=True)
class StoredNotice:
    """An issuance notice: the registry's signed answer to a request, and the gateway's record of it."""

    request_digest: str
    digest: str
    registry: str
    block: str
    first: int
    last: int
    body: str
    answer: str
    answer_signature: str
    record: str


@dataclass(frozen=True, slots=True)
class StoredEvidence:
    sha256: str
    size: int
    media_type: str
    uploaded_by: str
    role: str
    attestation: str


class MrvStore(TableStore):
    """Messages, notices and evidence attestations; the engine gives :meth:`_tx`."""

    what = "the MRV store"
    unavailable = MrvStoreUnavailable
    config_error, config_code = MrvConfigError, MrvConfigError.code

    def _schema(self) -> list[str]:
        return [self._sql(s) for s in (
            "CREATE TABLE IF NOT EXISTS {t}_messages (kind TEXT NOT NULL, sender TEXT NOT NULL, "
            "message_id TEXT NOT NULL, receiver TEXT NOT NULL, digest TEXT NOT NULL, cites TEXT, "
            "project_id TEXT NOT NULL, period_start TEXT, period_end TEXT, body TEXT NOT NULL, status TEXT NOT NULL, "
            "record TEXT, receipt TEXT, receipt_signature TEXT, PRIMARY KEY (sender, message_id))",
            "CREATE INDEX IF NOT EXISTS {t}_messages_digest ON {t}_messages (digest)",
            "CREATE INDEX IF NOT EXISTS {t}_messages_cites ON {t}_messages (cites)",
            "CREATE INDEX IF NOT EXISTS {t}_messages_project ON {t}_messages (project_id)",
            "CREATE TABLE IF NOT EXISTS {t}_notices (request_digest TEXT PRIMARY KEY, digest TEXT NOT NULL, "
            "registry TEXT NOT NULL, block TEXT NOT NULL, first_unit BIGINT NOT NULL, last_unit BIGINT NOT NULL, "
            "body TEXT NOT NULL, answer TEXT NOT NULL, answer_signature TEXT NOT NULL, record TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS {t}_notices_block ON {t}_notices (block)",
            "CREATE TABLE IF NOT EXISTS {t}_evidence (sha256 TEXT NOT NULL, uploaded_by TEXT NOT NULL, "
            "size BIGINT NOT NULL, media_type TEXT NOT NULL, role TEXT NOT NULL, attestation TEXT NOT NULL, "
            "PRIMARY KEY (sha256, uploaded_by))",
        )]

    # -- messages -------------------------------------------------------------------------------

    def claim(self, message: StoredMessage) -> None:
        """Put ``message`` on record as being delivered. A monitoring report (one with a period) first takes its
        project's period: :class:`PeriodOverlap` when another report of the project, relayed or being delivered
        to any registry, covers a day of it."""
        def work(cur: Cursor) -> None:
            if message.period_start is not None and message.period_end is not None:
                row = cur.execute(self._sql(
                    "SELECT sender, message_id, receiver, period_start, period_end FROM {t}_messages WHERE "
                    "project_id = ? AND period_start IS NOT NULL AND status IN ('delivering', 'accepted') AND "
                    "period_start <= ? AND period_end >= ? AND NOT (sender = ? AND message_id = ?)"),
                    (message.project_id, message.period_end, message.period_start, message.sender,
                     message.message_id)).fetchone()
                if row is not None:
                    raise PeriodOverlap(
                        f"project {message.project_id!r}: the monitoring period {message.period_start}.."
                        f"{message.period_end} overlaps {row[3]}..{row[4]} already reported by {row[0]!r} to "
                        f"{row[2]!r} (message {row[1]!r}); one period is reported once, across every registry")
            if message.kind == "issuance-requests":
                self._first_request(cur, message)
            cur.execute(self._sql("DELETE FROM {t}_messages WHERE sender = ? AND message_id = ?"),
                        (message.sender, message.message_id))
            cur.execute(self._sql(f"INSERT INTO {{t}}_messages ({', '.join(_COLUMNS)}) VALUES "
                                  f"({', '.join('?' * len(_COLUMNS))})"),
                        tuple(getattr(message, c) for c in _COLUMNS))
        self._run(work)

    def _first_request(self, cur: Cursor, message: StoredMessage) -> None:
        row = cur.execute(self._sql(
            "SELECT sender, message_id FROM {t}_messages WHERE kind = 'issuance-requests' AND cites = ? AND "
            "status IN ('delivering', 'accepted') AND NOT (sender = ? AND message_id = ?)"),
            (message.cites, message.sender, message.message_id)).fetchone()
        if row is not None:
            raise AlreadyRequested(f"issuance on verification {message.cites} was already requested (message "
                                   f"{row[1]!r} from {row[0]!r})")

    def settle(self, sender: str, message_id: str, status: str, record: str | None, receipt: str | None,
               receipt_signature: str | None) -> None:
        """The receiver's verdict on a message on record, with the gateway's record and the receipt."""
        self._run(lambda cur: cur.execute(self._sql(
            "UPDATE {t}_messages SET status = ?, record = ?, receipt = ?, receipt_signature = ? WHERE sender = ? "
            "AND message_id = ?"), (status, record, receipt, receipt_signature, sender, message_id)))

    def release(self, sender: str, message_id: str) -> None:
        """Forget a message that was not relayed after all (its period is free again)."""
        self._run(lambda cur: cur.execute(self._sql(
            "DELETE FROM {t}_messages WHERE sender = ? AND message_id = ? AND status = 'delivering'"),
            (sender, message_id)))

    def by_digest(self, kind: str, digest: str) -> list[StoredMessage]:
        """Messages of ``kind`` whose document has ``digest`` (any status)."""
        rows = self._run(lambda cur: cur.execute(self._sql(
            f"SELECT {', '.join(_COLUMNS)} FROM {{t}}_messages WHERE kind = ? AND digest = ?"),
            (kind, digest)).fetchall(), write=False)
        return [StoredMessage(*row) for row in rows]

    def citing(self, kind: str, digest: str) -> list[StoredMessage]:
        """Messages of ``kind`` that cite ``digest``."""
        rows = self._run(lambda cur: cur.execute(self._sql(
            f"SELECT {', '.join(_COLUMNS)} FROM {{t}}_messages WHERE kind = ? AND cites = ?"),
            (kind, digest)).fetchall(), write=False)
        return [StoredMessage(*row) for row in rows]

    def message(self, sender: str, message_id: str) -> StoredMessage | None:
        row = self._run(lambda cur: cur.execute(self._sql(
            f"SELECT {', '.join(_COLUMNS)} FROM {{t}}_messages WHERE sender = ? AND message_id = ?"),
            (sender, message_id)).fetchone(), write=False)
        return None if row is None else StoredMessage(*row)

    # -- notices --------------------------------------------------------------------------------

    def add_notice(self, notice: StoredNotice) -> None:
        self._run(lambda cur: (cur.execute(self._sql("DELETE FROM {t}_notices WHERE request_digest = ?"),
                                           (notice.request_digest,)),
                               cur.execute(self._sql("INSERT INTO {t}_notices VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                                           (notice.request_digest, notice.digest, notice.registry, notice.block,
                                            notice.first, notice.last, notice.body, notice.answer,
                                            notice.answer_signature, notice.record))))

    def notices(self, block: str | None = None) -> list[StoredNotice]:
        """Every notice on record, or those whose block (serial text or ``first-last``) is ``block``."""
        def work(cur: Cursor) -> list[Any]:
            if block is None:
                return list(cur.execute(self._sql("SELECT * FROM {t}_notices ORDER BY block")).fetchall())
            return list(cur.execute(self._sql("SELECT * FROM {t}_notices WHERE block = ?"), (block,)).fetchall())
        return [StoredNotice(r[0], r[1], r[2], r[3], int(r[4]), int(r[5]), r[6], r[7], r[8], r[9])
                for r in self._run(work, write=False)]

    # -- evidence -------------------------------------------------------------------------------

    def attest(self, evidence: StoredEvidence) -> StoredEvidence:
        """Keep an upload's attestation; an upload of the same file by the same participant keeps the first."""
        def work(cur: Cursor) -> StoredEvidence:
            row = cur.execute(self._sql("SELECT sha256, size, media_type, uploaded_by, role, attestation FROM "
                                        "{t}_evidence WHERE sha256 = ? AND uploaded_by = ?"),
                              (evidence.sha256, evidence.uploaded_by)).fetchone()
            if row is not None:
                return StoredEvidence(row[0], int(row[1]), row[2], row[3], row[4], row[5])
            cur.execute(self._sql("INSERT INTO {t}_evidence (sha256, uploaded_by, size, media_type, role, "
                                  "attestation) VALUES (?, ?, ?, ?, ?, ?)"),
                        (evidence.sha256, evidence.uploaded_by, evidence.size, evidence.media_type, evidence.role,
                         evidence.attestation))
            return evidence
        return self._run(work)

    def evidence(self, sha256: str) -> list[StoredEvidence]:
        rows = self._run(lambda cur: cur.execute(self._sql(
            "SELECT sha256, size, media_type, uploaded_by, role, attestation FROM {t}_evidence WHERE sha256 = ? "
            "ORDER BY uploaded_by"), (sha256,)).fetchall(), write=False)
        return [StoredEvidence(r[0], int(r[1]), r[2], r[3], r[4], r[5]) for r in rows]



class SqliteMrvStore(SqliteEngine, MrvStore):
    """The embedded store: one SQLite file (WAL), shared safely by the processes of one machine."""

    def __init__(self, path: str | Path, *, table: str = "mrv", synchronous: str = "full") -> None:
        super().__init__(path, table=table, synchronous=synchronous)


class PostgresMrvStore(PostgresEngine, MrvStore):
    """The scaled-out store: every gateway process shares one PostgreSQL database."""

    def __init__(self, dsn: str, *, table: str = "mrv") -> None:
        super().__init__(dsn, table=table, namespace="mrv")


def open_mrv_store(url: str) -> MrvStore:
    """``sqlite:///path[?table=name]`` or ``postgresql://...[?table=name]``."""
    return open_store(url, default_table="mrv", sqlite=SqliteMrvStore, postgres=PostgresMrvStore,
                      what="MRV store", misconfigured=MrvStore.misconfigured)
