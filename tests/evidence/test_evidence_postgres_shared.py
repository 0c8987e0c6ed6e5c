"""One PostgreSQL chain written by several gateways: each log (its own connection, as a process of its own)
appends on the head it last saw in one round trip, and must notice when another gateway appended since."""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from gateway.evidence import EvidenceStoreUnavailable, Exchange, JwkSigner, KeySetVerifier
from gateway.evidence.log import COLUMNS, EvidenceLog, _PendingAppend, record_to_row
from gateway.evidence.postgres import STALE_HEAD_GROUPS, PostgresEvidenceLog
from tests.evidence.conftest import exchange

pytestmark = pytest.mark.service


@pytest.fixture
def pair(postgres_dsn: str, signer: JwkSigner) -> Iterator[tuple[PostgresEvidenceLog, PostgresEvidenceLog]]:
    """Two gateways' logs on one table."""
    table = f"ev_shared_{uuid.uuid4().hex[:8]}"
    first = PostgresEvidenceLog(postgres_dsn, signer=signer, table=table)
    second = PostgresEvidenceLog(postgres_dsn, signer=signer, table=table)
    try:
        yield first, second
    finally:
        second.close()
        first.drop()
        first.close()


def intent(n: int) -> Exchange:
    return exchange(n, receipt=None, verdicts={"outcome": "delivering"})


def test_a_gateway_appends_after_records_another_gateway_made_since_its_last_append(
        pair: tuple[PostgresEvidenceLog, PostgresEvidenceLog], keys: KeySetVerifier) -> None:
    first, second = pair
    made = [first.append(intent(1)), first.append(intent(2)),   # the second on the head the first one left
            second.append(intent(3)),                           # second has never seen the head
            first.append(intent(4)),                            # first's head is stale: seq 3 is second's
            second.append(intent(5)), second.append(intent(6)), first.append(intent(7))]
    assert [r.seq for r in made] == list(range(1, 8))
    for before, after in itertools.pairwise(made):
        assert after.prev_hash == before.hash
    assert [r.message_id for r in first.records()] == [f"msg-{n}" for n in range(1, 8)]
    report = second.verify(keys)
    assert report.ok and report.records == 7


def test_a_stale_gateway_answers_the_receipt_another_gateway_recorded(
        pair: tuple[PostgresEvidenceLog, PostgresEvidenceLog]) -> None:
    first, second = pair
    first.append(intent(1))  # first now knows the head
    theirs = second.append_receipt(exchange(1, receipt={"status": "ACCEPTED", "by": "second"}))
    mine = first.append_receipt(exchange(1, receipt={"status": "ACCEPTED", "by": "first"}))
    assert mine == theirs and mine.receipt == {"status": "ACCEPTED", "by": "second"}
    assert [r.seq for r in first.find("CHE-registry", "msg-1")] == [1, 2]


def test_a_receipt_on_record_is_answered_when_the_known_head_is_current(
        pair: tuple[PostgresEvidenceLog, PostgresEvidenceLog]) -> None:
    first, _ = pair
    recorded = first.append_receipt(exchange(1, receipt={"status": "ACCEPTED", "try": 1}))
    first.append(intent(2))  # the head first knows is current, and msg-1's receipt is on record
    again = first.append_receipt(exchange(1, receipt={"status": "ACCEPTED", "try": 2}))
    assert again == recorded
    assert first.head()[0] == 2


def test_after_a_stale_head_appends_go_on_and_the_known_head_is_used_again(
        pair: tuple[PostgresEvidenceLog, PostgresEvidenceLog], keys: KeySetVerifier,
        monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = pair
    first.append(intent(0))
    second.append(intent(1))
    tries: list[bool] = []  # each append tried on the known head: did it write?
    on_head = first._append_on_head

    def counted(*args: Any) -> Any:
        answers = on_head(*args)
        tries.append(answers is not None)
        return answers

    monkeypatch.setattr(first, "_append_on_head", counted)
    for n in range(2, STALE_HEAD_GROUPS + 5):
        first.append(intent(n))
    # the stale head wrote nothing (that append went the long way), the next groups went the long way,
    # then the head the long way left was current again
    assert tries == [False, True, True]
    assert first.head()[0] == STALE_HEAD_GROUPS + 5
    report = first.verify(keys)
    assert report.ok and report.records == STALE_HEAD_GROUPS + 5


def test_gateways_racing_keep_one_chain_in_time_order_and_one_receipt_per_message(
        pair: tuple[PostgresEvidenceLog, PostgresEvidenceLog], keys: KeySetVerifier) -> None:
    """Threads of two gateways append intents and receipts of the same messages at once."""
    logs = pair
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(t: int) -> None:
        log = logs[t % 2]
        barrier.wait()
        try:
            for i in range(12):
                log.append(intent(100 * t + i))
                log.append_receipt(exchange(i, receipt={"status": "ACCEPTED", "thread": t}))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    report = logs[0].verify(keys)
    records = list(logs[1].records())
    assert report.ok and report.records == 8 * 12 + 12 == len(records)
    assert [r.ts for r in records] == sorted(r.ts for r in records)  # each record sealed after the one before
    receipted = [r.message_id for r in records if r.receipt is not None]
    assert sorted(receipted) == sorted(f"msg-{i}" for i in range(12))


def test_a_lost_connection_during_an_append_on_the_known_head_is_a_coded_error_then_appends_go_on(
        pair: tuple[PostgresEvidenceLog, PostgresEvidenceLog], postgres_dsn: str, keys: KeySetVerifier) -> None:
    from gateway.evidence import EvidenceStoreUnavailable

    first, _ = pair
    first.append(intent(1))
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (first._conn.info.backend_pid,))
    with pytest.raises(EvidenceStoreUnavailable):
        first.append(intent(2))
    assert first.append(intent(3)).seq == 2
    assert first.verify(keys).ok


def test_the_stored_rows_are_the_records_texts_exactly(
        pair: tuple[PostgresEvidenceLog, PostgresEvidenceLog], postgres_dsn: str, keys: KeySetVerifier) -> None:
    """Rows travel as one JSON parameter: every column must come out as the record's own text, byte for byte,
    on the long way (no known head), on the known head, and for a group of several records."""
    first, _ = pair
    tricky = {"status": "ACCEPTED", "note": "quote ' and \" and \\ back, é ✓ \u2028 \t\n 𝄞", "n": 2**53 - 1,
              "nested": {"list": [None, True, 1.5, "x"]}}
    made = [first.append_receipt(exchange(1, receipt=tricky)),         # long way: the head is not known yet
            first.append(intent(2)),                                   # on the known head
            first.append(exchange(3, inbound_sha256=None, outbound_sha256=None, receipt=None,
                                  verdicts={"outcome": "fault", "detail": "O'Brien \\ \"x\""}))]
    group = [_PendingAppend(exchange(n, receipt={**tricky, "n": n}).checked(), once=True) for n in (4, 5, 6)]
    with first._lock:
        made += [r for r in first._append_batch(group) if r is not None]
    assert [r.seq for r in made] == list(range(1, 7))
    with psycopg.connect(postgres_dsn) as conn:
        rows = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM {first._table} ORDER BY seq").fetchall()
    assert rows == [record_to_row(r) for r in made]
    assert list(first.records()) == made
    report = first.verify(keys)
    assert report.ok and report.records == 6


def test_reads_have_a_connection_of_their_own_that_comes_back_after_a_loss(
        pair: tuple[PostgresEvidenceLog, PostgresEvidenceLog], postgres_dsn: str) -> None:
    first, _ = pair
    first.append(intent(1))
    with first._lock:  # an append being committed holds the append connection: a read does not wait for it
        assert [r.seq for r in first.find("CHE-registry", "msg-1")] == [1]
    assert first._read_conn is not None and first._read_conn is not first._conn
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (first._read_conn.info.backend_pid,))
    with pytest.raises(EvidenceStoreUnavailable):
        first.find("CHE-registry", "msg-1")
    first.append(intent(2))
    assert [r.seq for r in first.records()] == [1, 2]  # on a read connection made again
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (first._read_conn.info.backend_pid,))
    with pytest.raises(EvidenceStoreUnavailable):
        first.find("CHE-registry", "msg-1")
    assert [r.seq for r in first.find("CHE-registry", "msg-2")] == [2]  # find makes it again too


def test_the_straight_read_of_a_message_gives_the_records_the_cursor_read_gives(
        pair: tuple[PostgresEvidenceLog, PostgresEvidenceLog]) -> None:
    first, _ = pair
    odd = {"units": [1, 2**53 - 1, -3], "note": "é ✓ \u2028 \\ \" '; --", "nested": {"empty": [], "none": None,
                                                                            "flag": True}}
    written = [first.append(exchange(1, message_id="msg-x", outbound_sha256=None, receipt=None)),
               first.append(exchange(2, message_id="msg-x", receipt=odd)),
               first.append(exchange(3, message_id="msg-y"))]
    found = first.find("CHE-registry", "msg-x")
    assert found == written[:2] == EvidenceLog.find(first, "CHE-registry", "msg-x")  # the generic cursor read
    assert found[1].receipt == odd and found[0].outbound_sha256 is None and found[0].receipt is None
    assert first.find("CHE-registry", "msg-none") == [] and first.find("other", "msg-x") == []


def test_the_one_round_trip_append_quotes_every_value(pair: tuple[PostgresEvidenceLog, PostgresEvidenceLog],
                                                      keys: KeySetVerifier) -> None:
    first, _ = pair
    first.append(intent(1))  # first knows the head: the next appends go in one round trip
    assert first._head is not None and first._long_way == 0
    tricky = {"quote": "it's '' ; COMMIT; DROP TABLE x; --", "backslash": "C:\\\\path\\\\n \\\\' E'x'",
              "placeholders": "%s %% %(name)s $1", "text": "é ✓ \\u2028 \\u0000-free", "n": -(2**53 - 1)}
    made = first.append_receipt(exchange(2, message_id="msg-'x'%s", receipt=tricky))
    assert first._head == (made.seq, made.hash) and first._long_way == 0  # on the known head, not the long way
    assert first.find("CHE-registry", "msg-'x'%s") == [made] and made.receipt == tricky
    assert first.verify(keys).ok and first.verify(keys).records == 2


def test_a_statement_refused_in_the_one_round_trip_append_writes_nothing(
        pair: tuple[PostgresEvidenceLog, PostgresEvidenceLog], postgres_dsn: str, keys: KeySetVerifier) -> None:
    first, _ = pair
    first.append(intent(1))
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        admin.execute(f"ALTER TABLE {first._table} ADD CONSTRAINT no_refused CHECK (kind <> 'refused')")
    with pytest.raises(EvidenceStoreUnavailable, match="no_refused"):
        first.append(exchange(2, kind="refused"))
    assert first._conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE  # rolled back
    assert first.append(intent(3)).seq == 2  # the chain goes on from the last record written
    assert [r.message_id for r in first.records()] == ["msg-1", "msg-3"] and first.verify(keys).ok
