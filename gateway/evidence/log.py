"""The evidence log: append exchanges, read them back, verify the chain.

:func:`gateway.evidence.open_log` picks the backend from a URL: ``sqlite:///path/to/evidence.db`` (embedded,
single node) or ``postgresql://...`` (scale-out: N gateway processes append to one chain).
Both accept ``?table=name`` (default ``evidence``); SQLite also ``?synchronous=full|normal``.
"""

from __future__ import annotations

import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import orjson

from gateway.digests import sha256_hex
from gateway.evidence.errors import EvidenceConfigError, InvalidEntry
from gateway.evidence.jcs import jcs_bytes
from gateway.evidence.record import GENESIS_PREV_HASH, RECORD_VERSION, EvidenceRecord, Exchange, utc_timestamp
from gateway.evidence.signing import KeySetVerifier, Signer
from gateway.evidence.verify import ChainReport, ChainVerifier
from standards.errors import CarbonlinkError

_TABLE = re.compile(r"[a-z_][a-z0-9_]{0,47}")

#: Rows read per query when streaming records.
READ_BATCH = 1000
#: Columns of the record table, in the order the backends select them.
COLUMNS = ("seq", "ts", "kind", "sender", "receiver", "message_id", "inbound_sha256", "outbound_sha256",
           "receipt", "verdicts", "prev_hash", "hash", "signature", "v")


def check_table_name(name: str) -> str:
    if not _TABLE.fullmatch(name):
        raise EvidenceConfigError(f"table name {name!r} must match [a-z_][a-z0-9_]{{0,47}}")
    return name


def record_from_row(row: tuple[Any, ...], loads: Any) -> EvidenceRecord:
    """Rebuild a record from a row in :data:`COLUMNS` order (JSON columns hold JCS text).

    A row that cannot be read back (JSON columns edited into garbage, wrong types) raises
    :class:`InvalidEntry` naming the row's ``seq``.
    """
    (seq, ts, kind, sender, receiver, message_id, inbound, outbound, receipt, verdicts, prev_hash, hash_,
     signature, v) = row
    try:
        return EvidenceRecord(seq=int(seq), ts=ts, kind=kind, sender=sender, receiver=receiver,
                              message_id=message_id, inbound_sha256=inbound, outbound_sha256=outbound,
                              receipt=None if receipt is None else loads(receipt), verdicts=loads(verdicts),
                              prev_hash=prev_hash, hash=hash_, signature=signature, v=int(v))
    except (ValueError, TypeError) as exc:  # orjson.JSONDecodeError is a ValueError
        raise InvalidEntry(f"record {seq} cannot be read back: {exc}") from exc


def record_to_row(record: EvidenceRecord) -> tuple[Any, ...]:
    """The row of a sealed record. JSON columns are plain JSON text: verification re-encodes
    them, so their stored key order does not matter (sealing already proved them JCS-representable)."""
    receipt = None if record.receipt is None else orjson.dumps(record.receipt).decode("utf-8")
    return (record.seq, record.ts, record.kind, record.sender, record.receiver, record.message_id,
            record.inbound_sha256, record.outbound_sha256, receipt,
            orjson.dumps(record.verdicts).decode("utf-8"), record.prev_hash, record.hash, record.signature,
            record.v)


@dataclass(slots=True)
class _PendingAppend:
    """One caller's exchange waiting for its group's commit."""

    exchange: Exchange
    #: Receipt-once: if the message already has a receipted record, that record is the answer.
    once: bool = False
    #: Work run in the append's own transaction before the record is sealed (:meth:`EvidenceLog.append`).
    alongside: Callable[[Any], None] | None = None
    done: bool = False
    record: EvidenceRecord | None = None
    error: BaseException | None = None


class EvidenceLog(ABC):
    """An append-only, hash-chained, signed log of exchanges (one chain per table)."""

    url: str

    def __init__(self, signer: Signer | None) -> None:
        self._signer = signer
        self._known_kids: set[str] = set()
        self._lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: list[_PendingAppend] = []

    @property
    def signer(self) -> Signer | None:
        return self._signer

    def seal(self, exchange: Exchange, seq: int, prev_hash: str) -> EvidenceRecord:
        """Number, time-stamp, hash and sign ``exchange`` as the record after ``prev_hash``."""
        if self._signer is None:
            raise EvidenceConfigError("this evidence log was opened without a signer; it can only be read")
        # the hashed fields as EvidenceRecord.hashed_body() lists them, built once: the record is made once,
        # with its hash and signature, instead of a draft and a copy of it
        body: dict[str, Any] = {
            "v": RECORD_VERSION, "seq": seq, "ts": utc_timestamp(), "kind": exchange.kind, "sender": exchange.sender,
            "receiver": exchange.receiver, "message_id": exchange.message_id,
            "inbound_sha256": exchange.inbound_sha256, "outbound_sha256": exchange.outbound_sha256,
            "receipt": None if exchange.receipt is None else dict(exchange.receipt),
            "verdicts": dict(exchange.verdicts), "prev_hash": prev_hash}
        digest = sha256_hex(jcs_bytes(body))
        try:
            signature = self._signer.sign(digest.encode("ascii"))
        except CarbonlinkError:
            raise
        except Exception as exc:  # a signer (key store, HSM) failing is a coded refusal, nothing is written
            raise EvidenceConfigError(f"the evidence signer {self._signer.kid!r} failed: {exc}",
                                      code="EVIDENCE.SIGNER_FAILED") from exc
        return EvidenceRecord(**body, hash=digest, signature=signature)

    def append(self, exchange: Exchange, *, alongside: Callable[[Any], None] | None = None) -> EvidenceRecord:
        """Append one exchange and return the stored record once it is committed (durable per the
        backend's settings; safe across threads and processes).

        ``alongside(connection)``, when given, runs inside the append's own transaction (under a savepoint),
        just before the record is sealed: what it writes to the same database commits with the record, in
        the same durable write, or not at all. If it raises a :class:`CarbonlinkError`, its writes are rolled
        back, this record is not written and the error is raised here; the other appends of the group commit
        as usual. Any other error fails the whole group, as a store failure does."""
        return self._enqueue(_PendingAppend(exchange.checked(), alongside=alongside))

    def append_receipt(self, exchange: Exchange) -> EvidenceRecord:
        """Append a receipted exchange unless its message already has one: one receipt per ``(sender,
        message id)``. Returns the record in force: this exchange's, or the one recorded before it
        (checked in the same transaction as the append, so two gateways racing on one message
        cannot both record a receipt)."""
        if exchange.receipt is None:
            raise InvalidEntry("append_receipt takes an exchange with a receipt")
        return self._enqueue(_PendingAppend(exchange.checked(), once=True))

    def _enqueue(self, pending: _PendingAppend) -> EvidenceRecord:
        """Commit ``pending`` with whatever group is waiting.

        Group commit: appends that arrive while another thread is committing queue up, and the next
        thread to take the write lock commits all of them in one transaction (one fsync or round
        trip for the group). Every caller still returns only after its own record is committed; if
        the group's transaction fails, nothing of it is written and every caller gets the error.
        """
        with self._queue_lock:
            self._queue.append(pending)
        with self._lock:
            if not pending.done:
                with self._queue_lock:
                    group, self._queue = self._queue, []
                try:
                    records = self._append_batch(group)
                except BaseException as exc:
                    for member in group:
                        member.error, member.done = exc, True
                else:
                    for member, record in zip(group, records, strict=True):
                        member.record, member.done = record, True  # None: its own work refused it
        if pending.error is not None:
            raise pending.error
        assert pending.record is not None
        return pending.record

    @abstractmethod
    def _append_batch(self, group: list[_PendingAppend]) -> list[EvidenceRecord | None]:
        """Seal and insert the group's exchanges as consecutive records in one transaction (all or
        nothing); return each member's record in force (see :meth:`_seal_batch`)."""

    def _savepoint(self, conn: Any) -> AbstractContextManager[Any]:  # pragma: no cover - each backend has its own
        raise NotImplementedError

    def _run_alongside(self, member: _PendingAppend, conn: Any) -> bool:
        """Run the member's own work under a savepoint; ``False`` (its error kept) when it refused."""
        member.error = None  # a group tried again after a store failure runs it afresh
        if member.alongside is None:
            return True
        try:
            with self._savepoint(conn):
                member.alongside(conn)
        except CarbonlinkError as exc:
            member.error = exc
            return False
        return True

    def _seal_batch(self, group: list[_PendingAppend], head: tuple[int, str] | None,
                    recorded: Callable[[str, str], EvidenceRecord | None], conn: Any = None
                    ) -> tuple[list[EvidenceRecord | None], list[EvidenceRecord]]:
        """Seal the group's exchanges as the records after ``head`` (``None``: the log is empty).

        Returns ``(answers, new)``: each member's record in force, and the records to insert. A
        receipt-once member whose message already has a receipted record (``recorded(sender,
        message_id)``, read in the append's transaction, or an earlier member of the group) gets
        that record and adds nothing.
        """
        seq, prev = head if head is not None else (0, GENESIS_PREV_HASH)
        answers: list[EvidenceRecord | None] = []
        new: list[EvidenceRecord] = []
        receipted: dict[tuple[str, str], EvidenceRecord] = {}
        for member in group:
            exchange = member.exchange
            key = (exchange.sender, exchange.message_id)
            if member.once:
                existing = receipted.get(key) or recorded(*key)
                if existing is not None:
                    answers.append(existing)
                    continue
            if not self._run_alongside(member, conn):
                answers.append(None)
                continue
            seq += 1
            record = self.seal(exchange, seq, prev)
            if record.receipt is not None:
                receipted.setdefault(key, record)
            answers.append(record)
            new.append(record)
            prev = record.hash
        return answers, new

    def _receipt_sql(self) -> str:
        """SQL (with the backend's placeholders) of a message's first receipted record."""
        p = self._placeholder
        return (f"SELECT {', '.join(COLUMNS)} FROM {self._table} WHERE sender = {p} AND message_id = {p} "
                f"AND receipt IS NOT NULL ORDER BY seq LIMIT 1")

    def find_receipt(self, sender: str, message_id: str) -> EvidenceRecord | None:
        """The message's receipted record (the first, and with :meth:`append_receipt` the only one)."""
        rows = self._query(self._receipt_sql(), (sender, message_id))
        return record_from_row(rows[0], orjson.loads) if rows else None

    @abstractmethod
    def probe(self) -> None:
        """Check the log can be written now (a write in a transaction that is rolled back), reopening
        a connection that failed; :class:`EvidenceStoreUnavailable` if not."""

    # The reads are the same SQL on every backend; only the parameter placeholder differs.
    _table: str
    _placeholder = "?"

    @abstractmethod
    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """Run a read query and return its rows (a coded EvidenceStoreUnavailable on failure)."""

    def head(self) -> tuple[int, str]:
        """``(seq, hash)`` of the last record, ``(0, 64 zeros)`` for an empty log."""
        rows = self._query(f"SELECT seq, hash FROM {self._table} ORDER BY seq DESC LIMIT 1")
        return (int(rows[0][0]), str(rows[0][1])) if rows else (0, GENESIS_PREV_HASH)

    def records(self, *, from_seq: int = 1, to_seq: int | None = None) -> Iterator[EvidenceRecord]:
        """Records in ``seq`` order (streamed in batches)."""
        last = to_seq if to_seq is not None else 2**62
        cursor = from_seq - 1
        p = self._placeholder
        while True:
            rows = self._query(f"SELECT {', '.join(COLUMNS)} FROM {self._table} WHERE seq > {p} AND seq <= {p} "
                               f"ORDER BY seq LIMIT {READ_BATCH}", (cursor, last))
            for row in rows:
                yield record_from_row(row, orjson.loads)
            if len(rows) < READ_BATCH:
                return
            cursor = rows[-1][0]

    def find(self, sender: str, message_id: str) -> list[EvidenceRecord]:
        """Every record of one message (retries and answers included)."""
        p = self._placeholder
        rows = self._query(f"SELECT {', '.join(COLUMNS)} FROM {self._table} "
                           f"WHERE sender = {p} AND message_id = {p} ORDER BY seq", (sender, message_id))
        return [record_from_row(r, orjson.loads) for r in rows]

    def recorded_keys(self) -> dict[str, dict[str, Any]]:
        """Public JWKs the log has signed with, by kid (convenience copy: not a trust anchor)."""
        rows = self._query(f"SELECT kid, jwk FROM {self._table}_keys ORDER BY kid")
        return {str(kid): orjson.loads(jwk) for kid, jwk in rows}

    @abstractmethod
    def close(self) -> None: ...

    def get(self, seq: int) -> EvidenceRecord | None:
        return next(iter(self.records(from_seq=seq, to_seq=seq)), None)

    def last(self, count: int) -> list[EvidenceRecord]:
        head, _ = self.head()
        return list(self.records(from_seq=max(1, head - count + 1), to_seq=head))

    def verify(self, keys: KeySetVerifier, *, signatures: str = "all") -> ChainReport:
        """Prove the whole chain against ``keys`` (stops at the first break; see
        :class:`ChainVerifier` for ``signatures``)."""
        verifier = ChainVerifier(keys, signatures=signatures)
        try:
            for record in self.records():
                if not verifier.check(record):
                    break
        except InvalidEntry as exc:
            verifier.fail("EVIDENCE.RECORD_MALFORMED", exc.message, "/records")
        return verifier.finish()

    def __enter__(self) -> EvidenceLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
