"""Operator console pages against an evidence log of ``--messages`` relayed messages on PostgreSQL, each page
measured through HTTP against the same SQL run directly in the same run.

A gateway app is served by uvicorn on 127.0.0.1 (``--port``) in this process, its evidence log a fresh
PostgreSQL table filled with ``--messages`` messages as the relay records them (an intent, then a receipt or
a fault: two records each; receipts with findings, rejections with the receiver's reasons). The idempotency
store stays SQLite (it has no PostgreSQL backend). For every page the console's own SQL is captured during a
warm-up load (the reader's one query method), then:

* **page**: ``--requests`` sequential GETs of the page over HTTP (session cookie of the development login),
  p50 / p95 / max in ms: router, session check, queries, templates, SVG;
* **direct**: the captured statements run ``--requests`` times on a bare psycopg connection, p50 / p95 (without
  server-side prepared statements, as the console's reader runs them).

The health page also probes the stores (a rolled-back write to the evidence log, a ping of the idempotency
store), which the direct baseline leaves out.

The later pages (conformance, feeds) read no evidence SQL: their baseline is the page's own read function called
directly in this process (``_read`` of the feeds page: the view's sources, coverage, the kept sweep and the
subscriptions; ``run_view`` over the kept runs for conformance). The feeds view is filled with ``--feed-units``
unit blocks in three registries (a tenth overlapping) through the store's own replacement, with 50 webhook
subscriptions; the conformance runs are the 200 the gateway keeps, each a real ``aef-messages`` run. The cold
double-counting sweep, which a page never waits for more than 0.1 s, is timed on its own.

Usage: ``python bench/bench_console.py [--messages 100000] [--requests 100] [--postgres DSN] [--keep TABLE]``
(``--keep TABLE`` reuses or keeps that table: filling 200,000 records takes minutes).
"""

from __future__ import annotations

import argparse
import math
import random
import re
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import psycopg

from gateway.evidence import Exchange, JwkSigner, open_log
from gateway.main import create_app
from gateway.settings import Settings
from gateway.trust import development

PARTIES = ["dev-che-registry", "dev-gha-registry", "nor-registry", "sgp-registry", "per-registry", "jpn-registry"]
HOSTILE = "<script>alert(1)</script>"


def _receipt(sender: str, receiver: str, message_id: str, outcome: str, rng: random.Random) -> dict[str, Any]:
    ms = rng.randint(20, 900)
    digest = f"{rng.getrandbits(256):064x}"
    reasons = [] if outcome == "accepted" else [{
        "rule": "SANDBOX.UNITS_HELD", "severity": "error", "location": f"/Actions/{rng.randint(0, 9)}",
        "pointer": "/Actions/0", "message": f"the units are held already {HOSTILE}", "reference": "sandbox ledger"}]
    return {"type": "carbonlink-receipt", "version": 1, "receipt_id": str(uuid.UUID(int=rng.getrandbits(128))),
            "gateway": "http://127.0.0.1", "message_id": message_id, "kind": "transfers", "outcome": outcome,
            "sender": {"id": sender, "party": "CHE", "registry": "CHE01"},
            "receiver": {"id": receiver, "party": "GHA", "registry": "GHA01"},
            "inbound": {"sha256": digest, "bytes": 1800, "format": "aef", "medium": "json"},
            "outbound": {"sha256": digest, "bytes": 2100, "format": "cadt-v2", "medium": "json"},
            "receiver_answer": {"status": 200, "sha256": digest, "signature": "e30.e30.sig", "attempts": 1,
                                "body": {"verdict": outcome, "reasons": reasons}},
            "losses": [], "warnings": [{"rule": "AEF.T3.EXPLANATION", "severity": "warning",
                                        "location": "/Actions/0/AdditionalExplanatoryInformation",
                                        "pointer": "/Actions/0", "message": "free text is not checked",
                                        "reference": "decision 6/CMA.4 annex II"}],
            "warnings_total": 1, "received_at": "2026-12-06T10:00:00.000000Z",
            "delivered_at": "2026-12-06T10:00:00.010000Z",
            "answered_at": f"2026-12-06T10:00:00.{ms:03d}000Z", "request_sha256_b64": "AAAA"}


def fill(url: str, messages: int, threads: int = 16) -> float:
    """Append ``messages`` relayed messages (two records each) with group commit; returns the seconds taken."""
    signer = JwkSigner.from_keyring(development.keyring_document())
    log = open_log(url, signer=signer)
    per_thread = math.ceil(messages / threads)
    started = time.perf_counter()

    def run(t: int) -> None:
        rng = random.Random(t)
        for i in range(t * per_thread, min(messages, (t + 1) * per_thread)):
            sender, receiver = rng.sample(PARTIES, 2)
            message_id = f"bench-{i}"
            digest = f"{rng.getrandbits(256):064x}"
            log.append(Exchange(kind="transfers", sender=sender, receiver=receiver, message_id=message_id,
                                inbound_sha256=digest, outbound_sha256=digest, receipt=None,
                                verdicts={"outcome": "delivering"}))
            roll = rng.random()
            if roll < 0.1:
                log.append(Exchange(kind="transfers", sender=sender, receiver=receiver, message_id=message_id,
                                    inbound_sha256=digest, outbound_sha256=None, receipt=None,
                                    verdicts={"outcome": "fault", "code": "UPSTREAM.UNAVAILABLE",
                                              "detail": "the registry could not be reached"}))
                continue
            outcome = "rejected" if roll < 0.25 else "accepted"
            log.append(Exchange(kind="transfers", sender=sender, receiver=receiver, message_id=message_id,
                                inbound_sha256=digest, outbound_sha256=digest,
                                receipt=_receipt(sender, receiver, message_id, outcome, rng),
                                verdicts={"outcome": outcome, "receiver_status": 200}))

    workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    log.close()
    return time.perf_counter() - started


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered), p95, ordered[-1]


def timed(n: int, work: Callable[[], object]) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        work()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--port", type=int, default=18550)
    parser.add_argument("--keep", default=None, help="table to reuse (filled if empty) and keep afterwards")
    parser.add_argument("--feed-units", type=int, default=300_000, help="unit blocks in the feeds view")
    parser.add_argument("--show-sql", action="store_true", help="print each page's statements with one direct time")
    args = parser.parse_args()
    table = args.keep or f"bench_console_{uuid.uuid4().hex[:8]}"
    url = f"{args.postgres}?table={table}"
    import tempfile

    import uvicorn

    with psycopg.connect(args.postgres, autocommit=True) as bare:
        have = bare.execute("SELECT to_regclass(%s)", (table,)).fetchone()
        existing = bare.execute(f"SELECT count(*) FROM {table}").fetchone()[0] if have and have[0] else 0
    if existing == 0:
        seconds = fill(url, args.messages)
        print(f"filled {table}: {args.messages:,} messages ({2 * args.messages:,} records at most) in {seconds:.0f} s")
    else:
        print(f"reusing {table}: {existing:,} records")
    data = tempfile.mkdtemp(prefix="bench-console-")
    # no pulls of the feeds view (the development directory's read endpoints do not answer here: the sources
    # would turn missing): no background refresher, and no webhook delivery round (a round pulls stale sources)
    # during the run; the console itself never pulls
    settings = Settings(environment="development", port=args.port,
                        transfers={"evidence_log": url, "data_dir": data}, console={"console_page_size": 50},
                        feeds={"feeds_max_age_seconds": 0})
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=args.port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{args.port}"
    try:
        run(app, base, args, table)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        if not args.keep:
            with psycopg.connect(args.postgres, autocommit=True) as bare:
                bare.execute(f"DROP TABLE IF EXISTS {table}, {table}_keys")
                bare.execute(f"DROP FUNCTION IF EXISTS {table}_refuse()")


def _client(base: str, role: str, registry: str = "") -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    page = client.get("/console/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf, page.text[:500]
    client.post("/console/login/dev", data={"csrf": csrf.group(1), "role": role, "registry": registry})
    return client


def run(app: Any, base: str, args: argparse.Namespace, table: str) -> None:
    reader = app.state.console.reader
    captured: list[tuple[str, tuple[Any, ...]]] = []
    original = reader.query

    def capturing(sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        captured.append((sql, params))
        return original(sql, params)

    network = _client(base, "network")
    operator = _client(base, "registry", "dev-che-registry")
    some_seq = int(re.findall(r'href="/console/messages/(\d+)"', network.get("/console/messages").text)[10])
    pages = [("messages", network, "/console/messages"),
             ("messages, outcome rejected", network, "/console/messages?outcome=rejected"),
             ("messages, counterpart + kind", network, "/console/messages?counterpart=nor-registry&kind=transfers"),
             ("messages, one day", network, "/console/messages?day_from=2026-12-01&day_to=2026-12-31"),
             ("messages, registry operator", operator, "/console/messages?outcome=fault"),
             ("one message", network, f"/console/messages/{some_seq}"),
             ("evidence", network, "/console/evidence"),
             ("participants", network, "/console/participants"),
             ("health (with 3 plots)", network, "/console/health"),
             ("health, registry operator", operator, "/console/health")]
    print(f"{'page':32} {'page p50':>9} {'page p95':>9} {'page max':>9} {'direct p50':>11} {'direct p95':>11}"
          f" {'statements':>10}")
    # the bare connection plans each statement as the console's reader does (no server-side prepared statements)
    with psycopg.connect(args.postgres, autocommit=True, prepare_threshold=None) as bare:
        for name, client, path in pages:
            captured.clear()
            reader.query = capturing
            warm = client.get(path)
            reader.query = original
            assert warm.status_code == 200, (path, warm.status_code, warm.text[:300])
            statements = list(captured)
            page = percentiles(timed(args.requests, lambda c=client, p=path: c.get(p).raise_for_status()))

            def direct(statements: list[tuple[str, tuple[Any, ...]]] = statements) -> None:
                for sql, params in statements:
                    bare.execute(sql, params).fetchall()

            base_ms = percentiles(timed(args.requests, direct)) if statements else (0.0, 0.0, 0.0)
            print(f"{name:32} {page[0]:9.1f} {page[1]:9.1f} {page[2]:9.1f} {base_ms[0]:11.1f} {base_ms[1]:11.1f}"
                  f" {len(statements):10d}")
            for sql, params in statements if args.show_sql else ():
                started = time.perf_counter()
                bare.execute(sql, params).fetchall()
                print(f"    {(time.perf_counter() - started) * 1000:8.1f} ms  {sql[:150]} {params}")
        rows = bare.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    print(f"records in the log: {rows:,}; requests per page: {args.requests}")
    later_pages(app, network, operator, args)


def _feed_view(app: Any, units: int) -> None:
    """``units`` unit blocks in three registries of the directory (a tenth overlapping across two), pushed
    through the store's own replacement, and 50 webhook subscriptions."""
    from gateway.feeds.keys import index
    from gateway.feeds.render import prerender
    from standards.model import UnitBlock

    service = app.state.feeds.get()
    service.webhooks.close()  # no delivery rounds (the subscriptions stay readable): a round pulls stale sources
    tail = "VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1"
    for n, source in enumerate(PARTIES[:3]):
        blocks = []
        for i in range(units // 3):
            first = (i * 100 + (50 if n and i % 10 == 0 else 0)) + 1 + n * (0 if i % 10 == 0 else 10_000_000)
            blocks.append(UnitBlock(serial=f"19385-{first}-{first + 99}-{tail}", first_id=first, last_id=first + 99,
                                    quantity=100, vintage=2020, status="retired" if n == 2 else "held"))
        with service.store.replacing(source, "CHE", "push") as replacement:
            for start in range(0, len(blocks), 5000):
                chunk = blocks[start:start + 5000]
                indexed = [index("units", b, f"{source}:{start + j}") for j, b in enumerate(chunk)]
                shapes = prerender("units", chunk, [i.key for i in indexed])
                replacement.add([(i, b.model_dump_json(exclude_defaults=True).encode(), sh)
                                 for i, b, sh in zip(indexed, chunk, shapes, strict=True)])
    for i in range(50):
        service.webhooks.subscribe(PARTIES[i % 3], f"http://127.0.0.1:9/hook-{i}", None, None)


def later_pages(app: Any, network: httpx.Client, operator: httpx.Client, args: argparse.Namespace) -> None:
    import json
    import tempfile
    from pathlib import Path

    from conformance import Target, default_kits, run_kit
    from gateway.api.routes.conformance import Run, runs_of
    from gateway.console import _feeds
    from gateway.console._conformance import run_view
    from gateway.console._session import Operator

    started = time.perf_counter()
    _feed_view(app, args.feed_units)
    print(f"feeds view: {args.feed_units:,} unit blocks in 3 registries, 50 subscriptions, filled in "
          f"{time.perf_counter() - started:.0f} s")
    service = app.state.feeds.get()
    cold = time.perf_counter()
    sweep, _ = _feeds.ConflictSweeps().current(service, service.view.coverage().included, wait=3600)
    assert sweep is not None
    print(f"cold double-counting sweep: {time.perf_counter() - cold:.2f} s, {sweep.total:,} findings over "
          f"{len(service.view.coverage().included)} sources")
    example = Path(__file__).resolve().parents[1] / "standards/examples/aef-v2-report.json"
    failing = Path(tempfile.mkdtemp(prefix="bench-console-run-")) / "report.json"
    document = json.loads(example.read_text(encoding="utf-8"))
    for action in document["Actions"]:  # every action with an alpha-2 Party: failures with observations
        action["AcquiringPartyID"] = "CH"
    failing.write_text(json.dumps(document), encoding="utf-8")
    result = run_kit(default_kits().get("aef-messages"), Target(str(failing)))
    runs = runs_of(app)
    for i in range(200):
        run = Run(id=f"bench-run-{i}", owner=PARTIES[i % len(PARTIES)], kit="aef-messages@2026.1",
                  target=str(example), status="done", result=result.as_dict(), outcome=result)
        runs.add(run)
    network.get("/console/feeds").raise_for_status()  # the page's own sweep, kept from here on
    deadline = time.time() + 3600
    while "under way" in network.get("/console/feeds").text and time.time() < deadline:
        time.sleep(0.5)
    sweeps = app.state.console_sweeps
    everyone = Operator("bench", "network", None, int(time.time()) + 3600, "sid", "development")
    one = Operator("bench", "registry", PARTIES[0], int(time.time()) + 3600, "sid", "development")
    pages = [("conformance (200 runs)", network, "/console/conformance",
              lambda: [run_view(r, with_failures=False) for r in runs.listing(None)]),
             ("conformance, one run", network, "/console/conformance/runs/bench-run-7",
              lambda: run_view(runs.listing(None)[192], with_failures=True)),
             ("feeds", network, "/console/feeds", lambda: _feeds._read(service, everyone, sweeps)),
             ("feeds, registry operator", operator, "/console/feeds", lambda: _feeds._read(service, one, sweeps))]
    for name, client, path, direct in pages:
        client.get(path).raise_for_status()
        page = percentiles(timed(args.requests, lambda c=client, p=path: c.get(p).raise_for_status()))
        base_ms = percentiles(timed(args.requests, direct))
        print(f"{name:32} {page[0]:9.1f} {page[1]:9.1f} {page[2]:9.1f} {base_ms[0]:11.1f} {base_ms[1]:11.1f}"
              f" {'-':>10}")


if __name__ == "__main__":
    main()
