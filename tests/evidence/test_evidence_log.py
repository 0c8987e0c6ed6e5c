"""The evidence log on both backends: append, read back, verify, and every kind of tampering."""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from joserfc.jwk import ECKey

from gateway.digests import sha256_hex
from gateway.evidence import (
    GENESIS_PREV_HASH,
    EvidenceConfigError,
    EvidenceLog,
    EvidenceRecord,
    EvidenceStoreUnavailable,
    Exchange,
    InvalidEntry,
    JwkSigner,
    KeySetVerifier,
    open_log,
)
from gateway.evidence.jcs import jcs_bytes
from gateway.evidence.record import RECORD_VERSION
from tests.evidence.conftest import Backend, exchange
from tests.support.racing import finish_race, start_race

WORKER = "tests.evidence.append_worker"
Filled = tuple[Backend, EvidenceLog]


def test_appended_records_chain_and_verify(backend: Backend, signer: JwkSigner, keys: KeySetVerifier) -> None:
    with backend.open(signer) as log:
        assert log.head() == (0, GENESIS_PREV_HASH)
        assert log.verify(keys).ok and log.verify(keys).records == 0
        written = [log.append(exchange(n)) for n in range(1, 5)]
        assert [r.seq for r in written] == [1, 2, 3, 4]
        assert written[0].prev_hash == GENESIS_PREV_HASH
        assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(written))
        assert list(log.records()) == written
        assert log.head() == (4, written[-1].hash)
        assert log.get(2) == written[1] and log.get(99) is None
        assert log.last(2) == written[2:]
        assert log.find("CHE-registry", "msg-3") == [written[2]]
        report = log.verify(keys)
    assert report.ok and report.code == "EVIDENCE.OK"
    assert (report.records, report.head_seq, report.head_hash) == (4, 4, written[-1].hash)
    assert report.kids == {"gw-evidence-1"}


def test_hash_is_sha256_of_the_canonical_hashed_fields(filled: Filled) -> None:
    _, log = filled
    record = log.get(3)
    assert record is not None
    body = {k: v for k, v in record.as_dict().items() if k not in ("hash", "signature")}
    assert record.hash == sha256_hex(jcs_bytes(body))
    assert body["ts"].endswith("Z") and len(body["ts"]) == len("2026-11-25T22:00:52.123456Z")


def test_records_survive_reopening_and_a_read_only_log_refuses_appends(
        filled: Filled, keys: KeySetVerifier) -> None:
    backend, log = filled
    with backend.open() as reader:
        assert list(reader.records()) == list(log.records())
        assert reader.verify(keys).records == 6
        assert reader.recorded_keys().keys() == {"gw-evidence-1"}
        with pytest.raises(EvidenceConfigError, match="without a signer"):
            reader.append(exchange(7))


@pytest.mark.parametrize("sql", ["UPDATE {t} SET receiver = 'EVIL' WHERE seq = 2",
                                 "DELETE FROM {t} WHERE seq = 2"])
def test_the_table_refuses_update_and_delete(filled: Filled, sql: str) -> None:
    backend, log = filled
    with pytest.raises(Exception, match="append-only"):
        backend.raw.execute(sql)
    assert log.head()[0] == 6


def test_postgres_refuses_truncate(postgres_dsn: str, signer: JwkSigner) -> None:
    import psycopg

    from gateway.evidence.postgres import PostgresEvidenceLog

    table = f"ev_trunc_{uuid.uuid4().hex[:8]}"
    log = PostgresEvidenceLog(postgres_dsn, signer=signer, table=table)
    try:
        log.append(exchange(1))
        refused = pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only")
        with psycopg.connect(postgres_dsn, autocommit=True) as conn, refused:
            conn.execute(f"TRUNCATE {table}")
        assert log.head()[0] == 1
    finally:
        log.drop()
        log.close()


@pytest.mark.parametrize(("column", "value"), [
    ("receiver", "EVIL-registry"), ("outbound_sha256", "0" * 64), ("receipt", '{"status":"REJECTED"}'),
    ("ts", "2020-01-01T00:00:00Z")])
def test_an_edited_field_is_reported_with_its_sequence(filled: Filled, keys: KeySetVerifier,
                                                       column: str, value: str) -> None:
    backend, log = filled
    backend.raw.disable_triggers()
    backend.raw.execute(f"UPDATE {{t}} SET {column} = ? WHERE seq = 4", (value,))
    report = log.verify(keys)
    assert not report.ok and report.code == "EVIDENCE.HASH_MISMATCH"
    assert report.head_seq == 3 and report.records == 3
    finding = report.findings[0]
    assert finding.location.pointer == "/records/4/hash" and "record 4 was changed" in finding.message


def test_a_deleted_record_is_a_sequence_gap(filled: Filled, keys: KeySetVerifier) -> None:
    backend, log = filled
    backend.raw.disable_triggers()
    backend.raw.execute("DELETE FROM {t} WHERE seq = 3")
    report = log.verify(keys)
    assert report.code == "EVIDENCE.SEQUENCE_GAP" and report.head_seq == 2
    assert "expected record 3 next, found record 4" in report.findings[0].message


def test_reordered_records_break_the_chain(filled: Filled, keys: KeySetVerifier) -> None:
    backend, log = filled
    backend.raw.disable_triggers()
    backend.raw.execute("UPDATE {t} SET seq = -1 WHERE seq = 3")
    backend.raw.execute("UPDATE {t} SET seq = 3 WHERE seq = 4")
    backend.raw.execute("UPDATE {t} SET seq = 4 WHERE seq = -1")
    report = log.verify(keys)
    assert report.code == "EVIDENCE.CHAIN_BROKEN"
    assert report.findings[0].location.pointer == "/records/3/prev_hash"


def test_a_rewritten_record_with_a_recomputed_hash_fails_on_the_signature(
        filled: Filled, keys: KeySetVerifier) -> None:
    backend, log = filled
    original = log.get(5)
    assert original is not None
    forged_body = {k: v for k, v in original.as_dict().items() if k not in ("hash", "signature")}
    forged_body["receiver"] = "EVIL-registry"
    forged_hash = sha256_hex(jcs_bytes(forged_body))
    backend.raw.disable_triggers()
    backend.raw.execute("UPDATE {t} SET receiver = ?, hash = ? WHERE seq = 5", ("EVIL-registry", forged_hash))
    report = log.verify(keys)
    assert report.code == "EVIDENCE.SIGNATURE_MISMATCH" and report.head_seq == 4


def test_a_resigned_forgery_fails_on_the_key(filled: Filled, keys: KeySetVerifier) -> None:
    backend, log = filled
    record = log.get(2)
    assert record is not None
    backend.raw.disable_triggers()
    impostor_same_kid = JwkSigner.generate("ES256", kid="gw-evidence-1")
    backend.raw.execute("UPDATE {t} SET signature = ? WHERE seq = 2",
                        (impostor_same_kid.sign(record.hash.encode()),))
    report = log.verify(keys)
    assert report.code == "EVIDENCE.SIGNATURE_INVALID" and report.head_seq == 1
    other_kid = JwkSigner.generate("Ed25519", kid="attacker")
    backend.raw.execute("UPDATE {t} SET signature = ? WHERE seq = 2", (other_kid.sign(record.hash.encode()),))
    assert log.verify(keys).code == "EVIDENCE.KEY_UNKNOWN"
    backend.raw.execute("UPDATE {t} SET signature = ? WHERE seq = 2", ("not.a-jws",))
    assert log.verify(keys).code == "EVIDENCE.SIGNATURE_INVALID"


def test_verifying_with_the_wrong_keys_fails(filled: Filled) -> None:
    _, log = filled
    other = KeySetVerifier.from_jwks({"keys": [JwkSigner.generate("ES256", kid="someone-else").public_jwk()]})
    assert log.verify(other).code == "EVIDENCE.KEY_UNKNOWN"
    impostor = JwkSigner.generate("ES256", kid="gw-evidence-1")
    same_kid = KeySetVerifier.from_jwks({"keys": [impostor.public_jwk()]})
    report = log.verify(same_kid)
    assert report.code == "EVIDENCE.SIGNATURE_INVALID" and report.records == 0


def test_an_unreadable_json_column_is_a_malformed_record(filled: Filled,
                                                         keys: KeySetVerifier) -> None:
    backend, log = filled
    backend.raw.disable_triggers()
    backend.raw.execute("UPDATE {t} SET verdicts = '{not json' WHERE seq = 6")
    report = log.verify(keys)
    assert report.code == "EVIDENCE.RECORD_MALFORMED" and report.head_seq == 5
    assert "record 6" in report.findings[0].message


@pytest.mark.parametrize(("changes", "fragment"), [
    ({"receipt": {"quantity": float("nan")}}, "not a JSON number"),
    ({"verdicts": {"n": 2**60}}, "safe range"),
    ({"inbound_sha256": "ABC"}, "inbound_sha256"),
    ({"outbound_sha256": "g" * 64}, "outbound_sha256"),
    ({"sender": ""}, "sender"),
    ({"message_id": "m\n1"}, "control characters"),
    ({"receiver": "x" * 300}, "longer than"),
    ({"kind": "trans fer"}, "kind"),
    ({"verdicts": None}, "verdicts"),
    ({"receipt": ["not", "an", "object"]}, "receipt"),
    ({"receipt": {"big": "x" * 1_100_000}}, "over the limit"),
    ({"receipt": {"bad": "\ud800"}}, "UTF-8"),
])
def test_bad_entries_are_refused_with_a_code_and_nothing_is_written(
        backend: Backend, signer: JwkSigner, changes: dict[str, object], fragment: str) -> None:
    with backend.open(signer) as log:
        log.append(exchange(1))
        with pytest.raises(InvalidEntry, match=fragment) as info:
            log.append(exchange(2, **changes))
        assert info.value.code == "EVIDENCE.INVALID_ENTRY"
        assert log.head()[0] == 1


@pytest.mark.parametrize("url", ["mysql://x", "sqlite://", "sqlite:///x.db?table=Bad-Name",
                                 "sqlite:///x.db?mode=ro", "postgresql://u@h/db?table=x;drop"])
def test_bad_log_urls_are_configuration_errors(url: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(EvidenceConfigError):
        open_log(url)


def test_a_missing_sqlite_file_is_not_created_by_readers(tmp_path: Path) -> None:
    with pytest.raises(EvidenceConfigError) as info:
        open_log(f"sqlite:///{tmp_path}/absent.db", create=False)
    assert info.value.code == "EVIDENCE.NOT_FOUND" and not (tmp_path / "absent.db").exists()


def test_an_unreachable_postgres_is_a_coded_error() -> None:
    with pytest.raises(EvidenceStoreUnavailable):
        open_log("postgresql://postgres@127.0.0.1:1/test")


def run_threads(count: int, work: Callable[[int], None]) -> None:
    """Run ``work(0) .. work(count - 1)`` in threads and wait for all of them."""
    threads = [threading.Thread(target=work, args=(t,)) for t in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_threads_appending_concurrently_keep_one_chain(backend: Backend, signer: JwkSigner,
                                                      keys: KeySetVerifier) -> None:
    with backend.open(signer) as log:
        def work(t: int) -> None:
            for i in range(15):
                log.append(exchange(1000 * t + i))

        run_threads(4, work)
        report = log.verify(keys)
    assert report.ok and report.records == 60


def test_concurrent_appends_are_group_committed_and_each_caller_gets_its_own_record(
        backend: Backend, signer: JwkSigner, keys: KeySetVerifier) -> None:
    """Appends that queue behind a commit share the next transaction; every caller still gets the
    record of its own exchange, and the chain is the same as if they had been appended one by one."""
    groups: list[int] = []
    with backend.open(signer) as log:
        real_batch = log._append_batch

        def counting_batch(exchanges: list[Exchange]) -> list[EvidenceRecord]:
            groups.append(len(exchanges))
            time.sleep(0.005)  # a slow disk: others queue up meanwhile
            return real_batch(exchanges)

        log._append_batch = counting_batch  # type: ignore[method-assign]
        returned: dict[str, EvidenceRecord] = {}
        barrier = threading.Barrier(16)

        def work(t: int) -> None:
            barrier.wait()
            for i in range(5):
                record = log.append(exchange(100 * t + i))
                returned[record.message_id] = record

        run_threads(16, work)
        report = log.verify(keys)
        stored = {r.message_id: r for r in log.records()}
    assert report.ok and report.records == 80
    assert sum(groups) == 80 and max(groups) > 1 and len(groups) < 80
    assert returned == stored  # each caller got exactly its committed record


def test_a_failing_group_fails_every_member_and_writes_nothing(backend: Backend, signer: JwkSigner) -> None:
    with backend.open(signer) as log:
        log.append(exchange(1))
    with open_log(backend.url, signer=BrokenSigner()) as log:
        errors: list[BaseException] = []
        barrier = threading.Barrier(8)

        def work(t: int) -> None:
            barrier.wait()
            try:
                log.append(exchange(10 + t))
            except EvidenceConfigError as exc:
                errors.append(exc)

        run_threads(8, work)
        assert len(errors) == 8 and all(getattr(e, "code", "") == "EVIDENCE.SIGNER_FAILED" for e in errors)
        assert log.head()[0] == 1


@pytest.mark.e2e  # two processes appending
def test_two_processes_appending_concurrently_keep_one_chain(backend: Backend, tmp_path: Path) -> None:
    key = ECKey.generate_key("P-256", parameters={"kid": "gw-shared"})
    jwk_file = tmp_path / "key.json"
    jwk_file.write_text(json.dumps(key.as_dict(private=True)))
    signer = JwkSigner(key)
    with backend.open(signer):
        pass  # create the tables once, before the race
    start = tmp_path / "go"
    count = 80
    workers = start_race(WORKER, {tag: [backend.url, str(jwk_file), tag, str(count), str(start)]
                                  for tag in ("proc-a", "proc-b")}, start)
    for out in finish_race(workers).values():
        assert out.strip() == "done"
    keys = KeySetVerifier.from_jwks({"keys": [signer.public_jwk()]})
    with backend.open() as log:
        report = log.verify(keys)
        records = list(log.records())
    assert report.ok, report.findings
    assert report.records == 2 * count
    senders = [r.sender for r in records]
    assert sorted(r.message_id for r in records) == sorted(f"{t}-{i}" for t in ("proc-a", "proc-b")
                                                           for i in range(count))
    # the appends really interleaved: both processes wrote while the other was writing
    switches = sum(1 for a, b in itertools.pairwise(senders) if a != b)
    assert switches >= 2


def test_records_with_floats_verify_after_storage_and_export(backend: Backend, signer: JwkSigner,
                                                             keys: KeySetVerifier, tmp_path: Path) -> None:
    from gateway.evidence import export_log, verify_export

    floats = {"ratio": 0.1, "tiny": 1e-7, "big": 1e21, "whole": 100.0, "neg": -2.5}
    with backend.open(signer) as log:
        log.append(exchange(1, receipt={"figures": floats}, verdicts={"score": 0.75}))
        log.append(exchange(2))
        assert log.verify(keys).ok
        assert log.get(1).receipt == {"figures": floats}  # type: ignore[union-attr]
        export_log(log, tmp_path / "f.jsonl", signer=signer)
    report, _ = verify_export(tmp_path / "f.jsonl", keys=keys)
    assert report.ok and report.records == 2


def test_a_lost_postgres_connection_is_a_coded_error_then_the_log_reconnects(
        postgres_dsn: str, signer: JwkSigner, keys: KeySetVerifier) -> None:
    import psycopg

    from gateway.evidence.postgres import PostgresEvidenceLog

    log = PostgresEvidenceLog(postgres_dsn, signer=signer, table=f"ev_lost_{uuid.uuid4().hex[:8]}")
    try:
        log.append(exchange(1))
        pid = log._conn.info.backend_pid
        with psycopg.connect(postgres_dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(EvidenceStoreUnavailable):
            log.append(exchange(2))
        again = log.append(exchange(3))
        assert again.seq == 2
        assert log.verify(keys).ok and log.verify(keys).records == 2
    finally:
        log.drop()
        log.close()


class BrokenSigner:
    kid = "hsm-1"

    def public_jwk(self) -> dict[str, str]:
        return {"kid": "hsm-1"}

    def sign(self, payload: bytes) -> str:
        raise OSError("the HSM is unreachable")


def test_a_failing_signer_is_a_coded_error_and_nothing_is_written(backend: Backend,
                                                                  signer: JwkSigner) -> None:
    with backend.open(signer) as log:
        log.append(exchange(1))
    with open_log(backend.url, signer=BrokenSigner()) as log:
        with pytest.raises(EvidenceConfigError, match="HSM is unreachable") as info:
            log.append(exchange(2))
        assert info.value.code == "EVIDENCE.SIGNER_FAILED"
        assert log.head()[0] == 1


def _rewrite_from(backend: Backend, log: EvidenceLog, seq: int) -> None:
    """Rewrite record ``seq`` and re-hash every later record, keeping the old signatures."""
    records = list(log.records())
    backend.raw.disable_triggers()
    prev = records[seq - 2].hash if seq > 1 else GENESIS_PREV_HASH
    for record in records[seq - 1:]:
        body = {k: v for k, v in record.as_dict().items() if k not in ("hash", "signature")}
        body["prev_hash"] = prev
        if record.seq == seq:
            body["receiver"] = "EVIL-registry"
        new_hash = sha256_hex(jcs_bytes(body))
        backend.raw.execute("UPDATE {t} SET receiver = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                            (body["receiver"], prev, new_hash, record.seq))
        prev = new_hash


def test_head_mode_proves_the_chain_with_one_signature(filled: Filled, keys: KeySetVerifier) -> None:
    backend, log = filled
    report = log.verify(keys, signatures="head")
    assert report.ok and report.records == 6 and report.kids == {"gw-evidence-1"}
    _rewrite_from(backend, log, 3)
    head = log.verify(keys, signatures="head")
    assert head.code == "EVIDENCE.SIGNATURE_MISMATCH"
    assert head.findings[0].location.pointer == "/records/6/signature"
    assert "no record is proven" in head.findings[0].message
    full = log.verify(keys)
    assert full.code == "EVIDENCE.SIGNATURE_MISMATCH" and full.head_seq == 2


def test_head_mode_still_catches_edits_and_only_all_mode_checks_each_signature(
        filled: Filled, keys: KeySetVerifier) -> None:
    backend, log = filled
    record = log.get(3)
    assert record is not None
    backend.raw.disable_triggers()
    other = JwkSigner.generate("ES256", kid="gw-evidence-1")
    backend.raw.execute("UPDATE {t} SET signature = ? WHERE seq = 3", (other.sign(record.hash.encode()),))
    assert log.verify(keys, signatures="head").ok  # the chain itself is intact
    assert log.verify(keys).code == "EVIDENCE.SIGNATURE_INVALID"
    backend.raw.execute("UPDATE {t} SET kind = 'retirement' WHERE seq = 2")
    assert log.verify(keys, signatures="head").code == "EVIDENCE.HASH_MISMATCH"


def test_a_sealed_record_is_the_exchange_with_its_hash_and_signature(backend: Backend, signer: JwkSigner,
                                                                     keys: KeySetVerifier) -> None:
    """The record :meth:`EvidenceLog.seal` makes in one go carries every field of the exchange, and its hash is
    the one its hashed fields give (with and without a receipt)."""
    with backend.open(signer) as log:
        sent = [exchange(1), exchange(2, receipt=None, outbound_sha256=None)]
        for n, ex in enumerate(sent, start=1):
            record = log.append(ex)
            assert (record.seq, record.v, record.kind, record.sender, record.receiver, record.message_id) == (
                n, RECORD_VERSION, ex.kind, ex.sender, ex.receiver, ex.message_id)
            assert (record.inbound_sha256, record.outbound_sha256, record.receipt, record.verdicts) == (
                ex.inbound_sha256, ex.outbound_sha256, ex.receipt, ex.verdicts)
            assert record.hash == record.computed_hash() and record.signature.count(".") == 2
            assert log.get(n) == record
        assert log.verify(keys).ok
