"""Soak: two gateway processes on Redis and PostgreSQL, at 70% of the measured maximum, for minutes.

    .venv/bin/python bench/soak.py --seconds 600

Real processes on loopback (``gateway.demo.Network``): two ``carbonlink serve`` gateways sharing the replay
store and the idempotency records (Redis, a unique key prefix) and the evidence log (PostgreSQL, a unique
table), a sending sandbox (``gha``, AEF) and a receiving one (``che``, canonical). First a saturation phase
(``--probe-seconds``, ``--threads`` senders as fast as they can, alternating gateways) measures the maximum
throughput; then the soak sends at ``--load`` of it. Each message moves one ITMO of its own, so the end
check is exact: every message has one receipt, the receiver credited each exactly once, the evidence chain
verifies. Every ``--sample`` seconds the resident memory (VmRSS) of both gateways is recorded.

Exits 1 on any error answer, a count mismatch, a broken chain or memory growth over ``--max-growth``
(from the first sample after the warm-up minute to the last).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from gateway.client import GatewayClient
from gateway.demo import Network, Registry, itmo_message
from tests.support.cli import run_cli
from tests.support.services import delete_redis_keys, require_postgres, require_redis, unique_prefix

HOLDS = "CA0001-GHA01-GHA-1-2023..CA0001-GHA01-GHA-5000000-2023"
ISSUER = "http://gateway.carbonlink.test"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Load:
    """Senders (one client per thread and gateway), the unit counter and what came back."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self.lock = threading.Lock()
        self.next_unit = 1
        self.statuses: Counter[str] = Counter()
        self.latencies: list[float] = []
        self.local = threading.local()

    def client(self, gateway: int) -> GatewayClient:
        clients: dict[int, GatewayClient] | None = getattr(self.local, "clients", None)
        if clients is None:
            clients = self.local.clients = {}
        if gateway not in clients:
            clients[gateway] = self.net.client("gha", gateway=gateway)
        return clients[gateway]

    def send_one(self) -> None:
        with self.lock:
            unit = self.next_unit
            self.next_unit += 1
        body = json.dumps(itmo_message(sender_party="GHA", receiver_party="CHE", first=unit, last=unit)).encode()
        started = time.perf_counter()
        try:
            sent = self.client(unit % 2).send(body, message_id=f"soak-{unit}")
            key = "200" if sent.status == 200 else f"{sent.status} {sent.body.get('code')}"
        except Exception as exc:  # a transport error counts as an error answer
            key = f"error {type(exc).__name__}"
        elapsed = time.perf_counter() - started
        with self.lock:
            self.statuses[key] += 1
            self.latencies.append(elapsed)

    @property
    def sent(self) -> int:
        return self.next_unit - 1


def saturate(load: Load, seconds: float, threads: int) -> float:
    """Messages per second with ``threads`` senders as fast as they go."""
    stop = time.monotonic() + seconds
    before = load.sent

    def worker() -> None:
        while time.monotonic() < stop:
            load.send_one()

    began = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for _ in range(threads):
            pool.submit(worker)
    return (load.sent - before) / (time.perf_counter() - began)


def soak(load: Load, rate: float, seconds: float, threads: int, sample: float,
         gateways: list[int]) -> list[dict[str, Any]]:
    """Send at ``rate`` messages/s for ``seconds``; sample both gateways' RSS every ``sample`` s."""
    samples: list[dict[str, Any]] = []
    began = time.monotonic()
    stop = began + seconds
    next_sample = began
    interval = 1.0 / rate
    slot = [began]
    slot_lock = threading.Lock()

    def worker() -> None:
        while True:
            with slot_lock:
                due = slot[0]
                slot[0] += interval
            if due >= stop:
                return
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            load.send_one()

    with ThreadPoolExecutor(threads) as pool:
        for _ in range(threads):
            pool.submit(worker)
        while time.monotonic() < stop:
            if time.monotonic() >= next_sample:
                with load.lock:
                    sent, errors = load.sent, sum(n for k, n in load.statuses.items() if k != "200")
                samples.append({"t": round(time.monotonic() - began), "sent": sent, "errors": errors,
                                "rss_kib": [rss_kib(pid) for pid in gateways]})
                print(f"  t={samples[-1]['t']:4d}s sent {sent:6d} errors {errors} rss "
                      + " / ".join(f"{r / 1024:.1f} MiB" for r in samples[-1]["rss_kib"]), flush=True)
                next_sample += sample
            time.sleep(0.2)
    samples.append({"t": round(time.monotonic() - began), "sent": load.sent,
                    "errors": sum(n for k, n in load.statuses.items() if k != "200"),
                    "rss_kib": [rss_kib(pid) for pid in gateways]})
    return samples


def check(net: Network, load: Load, evidence: str) -> dict[str, Any]:
    """Receipts, credits and the evidence chain against what was sent."""
    journal = net.sandbox("che").journal()
    credits = Counter(line["message_id"] for line in journal if line.get("direction") == "credit")
    expected = {f"soak-{unit}" for unit in range(1, load.sent + 1)}
    verify = run_cli("evidence", "verify", "--log", evidence)
    return {"messages": load.sent, "credited_once": sum(1 for m in expected if credits[m] == 1),
            "credited_twice": sum(1 for m in expected if credits[m] > 1),
            "not_credited": sum(1 for m in expected if credits[m] == 0),
            "held_by_receiver": net.sandbox("che").holdings()["total"]["held"],
            "evidence_chain": verify.stdout.strip().splitlines()[-1] if verify.returncode == 0 else verify.stderr}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600, help="length of the soak")
    parser.add_argument("--probe-seconds", type=float, default=30, help="length of the saturation phase")
    parser.add_argument("--load", type=float, default=0.7, help="fraction of the measured maximum to soak at")
    parser.add_argument("--threads", type=int, default=8, help="sending threads")
    parser.add_argument("--sample", type=float, default=30, help="seconds between memory samples")
    parser.add_argument("--warmup", type=float, default=60, help="seconds before the memory baseline sample")
    parser.add_argument("--max-growth", type=float, default=10.0, help="allowed RSS growth, percent")
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    args = parser.parse_args(argv)

    redis_url, postgres_dsn = require_redis(), require_postgres()
    table = f"evidence_soak_{uuid.uuid4().hex[:8]}"
    evidence = f"{postgres_dsn}?table={table}"
    prefix = unique_prefix("soak")
    env = {"CARBONLINK_IDEMPOTENCY_STORE": f"{redis_url}?prefix={prefix}", "CARBONLINK_EVIDENCE_LOG": evidence,
           "CARBONLINK_REPLAY_STORE": redis_url, "CARBONLINK_RATE_LIMIT_PER_MINUTE": "10000000",
           "CARBONLINK_RATE_LIMIT_BURST": "1000000"}
    registries = [Registry("gha", "GHA", "aef", holds=[HOLDS]), Registry("che", "CHE", "canonical")]
    try:
        with Network(registries, gateway_env=env, gateways=2, issuer=ISSUER) as net:
            pids = [process.pid for process in net.gateways]
            load = Load(net)
            print(f"saturation: {args.threads} threads for {args.probe_seconds:g} s", flush=True)
            maximum = saturate(load, args.probe_seconds, args.threads)
            rate = maximum * args.load
            probe_statuses = dict(load.statuses)
            load.statuses.clear()
            load.latencies.clear()
            print(f"maximum {maximum:.1f} msg/s; soak at {rate:.1f} msg/s for {args.seconds:g} s", flush=True)
            began_sent = load.sent
            samples = soak(load, rate, args.seconds, args.threads, args.sample, pids)
            soaked = load.sent - began_sent
            ended = check(net, load, evidence)
    finally:
        delete_redis_keys(redis_url, prefix)
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    baseline = next((s for s in samples if s["t"] >= args.warmup), samples[0])
    growth = [100.0 * (last - base) / base for base, last in zip(baseline["rss_kib"], samples[-1]["rss_kib"],
                                                                  strict=True)]
    latencies = sorted(load.latencies)
    errors = sum(n for k, n in load.statuses.items() if k != "200")
    figures = {
        "maximum_msgs_per_s": round(maximum, 1), "soak_rate_msgs_per_s": round(rate, 1),
        "soak_seconds": args.seconds, "soaked_messages": soaked,
        "achieved_msgs_per_s": round(soaked / max(samples[-1]["t"], 1), 1),
        "errors": errors, "statuses": dict(load.statuses), "probe_statuses": probe_statuses,
        "latency_p50_ms": round(1000 * latencies[len(latencies) // 2], 1) if latencies else None,
        "latency_p99_ms": round(1000 * latencies[int(len(latencies) * 0.99)], 1) if latencies else None,
        "rss_growth_percent": [round(g, 1) for g in growth], "rss_baseline_at_s": baseline["t"],
        "samples": samples, "end_check": ended,
    }
    print(json.dumps({k: v for k, v in figures.items() if k != "samples"}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    ok = (errors == 0 and ended["credited_once"] == ended["messages"] and ended["held_by_receiver"] == ended["messages"]
          and "OK" in ended["evidence_chain"] and max(growth) <= args.max_growth)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
