"""Evidence log appends/s and idempotency claims/s, each against a bare baseline in the same run.

Measured (``--n`` operations each, one thread unless said otherwise):

* ``sign``: the evidence signature alone (ES256 / Ed25519 through joserfc): the crypto floor;
* SQLite: a bare one-row ``INSERT`` per ``BEGIN IMMEDIATE`` transaction (same file settings) vs
  ``EvidenceLog.append`` (head read + canonical JSON + SHA-256 + signature + insert), for
  ``synchronous=full`` (default) and ``normal``; 16 threads appending to one log at ``full`` against
  one thread (group commit: appends queued behind a commit share the next one); 4 threads at ``normal``;
* PostgreSQL: a bare one-row ``INSERT`` per transaction vs ``append`` (advisory lock + head read
  + insert), and 16 threads against one, when ``--postgres`` is reachable;
* ``verify``: records verified per second (hash + signature), and with ``signatures="head"``;
* idempotency: a claim + complete cycle vs a bare ``INSERT`` (SQLite) or ``SET NX`` (Redis).

Usage: ``python bench/bench_evidence.py [--n 500] [--alg ES256] [--postgres DSN] [--redis URL]``.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from gateway.evidence import Exchange, JwkSigner, KeySetVerifier, open_log
from gateway.idempotency import IdempotencyStore, open_store


def rate(n: int, work: Callable[[int], object]) -> float:
    start = time.perf_counter()
    for i in range(n):
        work(i)
    return n / (time.perf_counter() - start)


def threaded_rate(threads: int, n: int, work: Callable[[int], object]) -> float:
    """Operations/s of ``n`` calls of ``work`` shared by ``threads`` threads started together."""
    per_thread = max(1, n // threads)
    barrier = threading.Barrier(threads + 1)

    def run(t: int) -> None:
        barrier.wait()
        for i in range(per_thread):
            work(t * per_thread + i)

    workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    barrier.wait()
    start = time.perf_counter()
    for worker in workers:
        worker.join()
    return threads * per_thread / (time.perf_counter() - start)


def entry(i: int) -> Exchange:
    return Exchange(kind="transfer", sender="CHE-registry", receiver="GHA-registry", message_id=f"bench-{i}",
                    inbound_sha256="ab" * 32, outbound_sha256="cd" * 32,
                    receipt={"status": "ACCEPTED", "receiver_message_id": f"r-{i}", "units": "1000",
                             "received_at": "2026-11-25T22:00:00.000000Z"},
                    verdicts={"validation": {"error": 0, "warning": 1}, "receiver": "ACCEPTED"})


def bare_sqlite(path: Path, synchronous: str, n: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    body = "x" * 900  # about the size of one evidence row

    def work(i: int) -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (seq, body) VALUES (?, ?)", (i, body))
        conn.execute("COMMIT")

    result = rate(n, work)
    conn.close()
    return result


def line(name: str, value: float, baseline: float | None = None, unit: str = "ops/s") -> None:
    ratio = f"  ({value / baseline:5.1%} of baseline)" if baseline else ""
    print(f"  {name:54} {value:10.0f} {unit}{ratio}")


def bench_evidence(args: argparse.Namespace, tmp: Path, signer: JwkSigner) -> None:
    n = args.n
    print(f"evidence log ({args.alg}, n={n})")
    line("sign only (crypto floor)", rate(n, lambda i: signer.sign(b"0" * 64)))
    for sync in ("full", "normal"):
        base = bare_sqlite(tmp / f"bare-{sync}.db", sync, n)
        line(f"SQLite bare INSERT txn, synchronous={sync} (baseline)", base)
        synced = open_log(f"sqlite:///{tmp / f'ev-{sync}.db'}?synchronous={sync}", signer=signer)
        line(f"SQLite append, synchronous={sync}", rate(n, lambda i, lg=synced: lg.append(entry(i))),  # type: ignore[misc]
             base)
        synced.close()
    single = open_log(f"sqlite:///{tmp / 'ev-one.db'}?synchronous=full", signer=signer)
    one = rate(n, lambda i: single.append(entry(i)))
    single.close()
    grouped = open_log(f"sqlite:///{tmp / 'ev-16.db'}?synchronous=full", signer=signer)
    line("SQLite append, 16 threads, synchronous=full (group commit; vs 1 thread)",
         threaded_rate(16, n, lambda i: grouped.append(entry(i))), one)
    grouped.close()
    log = open_log(f"sqlite:///{tmp / 'ev-threads.db'}?synchronous=normal", signer=signer)
    line("SQLite append, 4 threads, synchronous=normal", threaded_rate(4, n, lambda i: log.append(entry(i))))
    keys = KeySetVerifier.from_jwks({"keys": [signer.public_jwk()]})
    start = time.perf_counter()
    report = log.verify(keys)
    assert report.ok
    elapsed = time.perf_counter() - start
    line("verify (hash + signature per record)", report.records / elapsed, unit="records/s")
    start = time.perf_counter()
    report = log.verify(keys, signatures="head")
    assert report.ok
    elapsed = time.perf_counter() - start
    line("verify --signatures head (hashes + head signature)", report.records / elapsed, unit="records/s")
    log.close()
    if args.postgres:
        try:
            import psycopg

            table = f"bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f"CREATE TABLE {table}_bare (seq BIGINT PRIMARY KEY, body TEXT)")
                body = "x" * 900

                def bare(i: int) -> None:
                    with conn.transaction():
                        conn.execute(f"INSERT INTO {table}_bare VALUES (%s, %s)", (i, body))

                base = rate(n, bare)
                conn.execute(f"DROP TABLE {table}_bare")
            line("PostgreSQL bare INSERT txn (baseline)", base)
            from gateway.evidence.postgres import PostgresEvidenceLog

            pg = PostgresEvidenceLog(args.postgres, signer=signer, table=table)
            alone = rate(n, lambda i: pg.append(entry(i)))
            line("PostgreSQL append (advisory lock + head + insert)", alone, base)
            line("PostgreSQL append, 16 threads (group commit; vs 1 thread)",
                 threaded_rate(16, n, lambda i: pg.append(entry(i))), alone)
            pg.drop()
            pg.close()
        except Exception as exc:  # a benchmark without the service still reports the rest
            print(f"  PostgreSQL skipped: {exc}")


def bench_idempotency(args: argparse.Namespace, tmp: Path) -> None:
    n = args.n
    print(f"idempotency store (n={n}; one op = claim + complete)")
    receipt = {"status": "ACCEPTED", "receipt": "x" * 600}
    for sync in ("full", "normal"):
        base = bare_sqlite(tmp / f"bare-idem-{sync}.db", sync, n)
        line(f"SQLite bare INSERT txn, synchronous={sync} (baseline)", base)
        store = open_store(f"sqlite:///{tmp / f'idem-{sync}.db'}?synchronous={sync}")

        def cycle(i: int, store: IdempotencyStore = store) -> None:
            store.complete(store.claim("CHE", f"m-{i}", "ab" * 32), receipt)

        def retry(i: int, store: IdempotencyStore = store) -> None:
            store.claim("CHE", f"m-{i}", "ab" * 32)

        line(f"SQLite claim + complete, synchronous={sync}", rate(n, cycle), base / 2)
        line(f"SQLite retry answered from the receipt, synchronous={sync}", rate(n, retry), base)
        store.close()
    if args.redis:
        try:
            import redis

            client = redis.Redis.from_url(args.redis)
            prefix = f"bench:{uuid.uuid4().hex[:8]}"
            base = rate(n, lambda i: client.set(f"{prefix}:bare:{i}", b"1", nx=True, px=60_000))
            line("Redis bare SET NX (baseline)", base)
            rstore = open_store(f"{args.redis}?prefix={prefix}")
            cycle_rate = rate(n, lambda i: rstore.complete(rstore.claim("CHE", f"m-{i}", "ab" * 32), receipt))
            line("Redis claim + complete (two Lua calls)", cycle_rate, base / 2)
            retries = rate(n, lambda i: rstore.claim("CHE", f"m-{i}", "ab" * 32))
            line("Redis retry answered from the receipt", retries, base)
            for key in client.scan_iter(f"{prefix}:*"):
                client.delete(key)
            rstore.close()
        except Exception as exc:
            print(f"  Redis skipped: {exc}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--alg", default="ES256", choices=["ES256", "Ed25519"])
    parser.add_argument("--postgres", default=os.environ.get("CARBONLINK_TEST_POSTGRES_DSN",
                                                             "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--redis", default=os.environ.get("CARBONLINK_TEST_REDIS_URL",
                                                          "redis://127.0.0.1:6379/15"))
    args = parser.parse_args()
    signer = JwkSigner.generate(args.alg, kid="bench")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        bench_evidence(args, Path(tmp), signer)
        bench_idempotency(args, Path(tmp))


if __name__ == "__main__":
    main()
