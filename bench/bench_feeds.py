"""Harmonized feeds: NDJSON streaming of unit records and double-counting detection, between real processes.

One run, everything on 127.0.0.1, each server its own process:

1. three sandbox registries (``carbonlink sandbox``) hold ``--units`` unit blocks between them (Verra
   serials; every 100th block of the second registry repeats one of the first's, so detection has findings);
2. **baseline**: the sandboxes' own raw listing speed: this process pages ``GET /read/units`` of each
   registry (operator token, pages of 5,000, following the cursors) and counts records/s;
3. **first pull**: the first feed request (``GET /v1/feeds/cadt/v2/units?limit=1``) at the gateway
   (``carbonlink serve``) pulls every registry through its read side (gateway tokens, signed pages, the
   canonical adapter, the view's SQLite store) before it answers: records pulled per second, the largest
   size of the store's write-ahead log meanwhile (sampled every 0.1 s from outside) and the gateway's peak
   RSS after it;
   **pull + stream** (``--pull-and-stream``, the earlier form of this step): the first NDJSON request pulls
   and then streams;
4. **stream**: the same feed again, the view fresh (the product's steady state);
5. **detection**: ``GET /v1/feeds/conflicts?format=ndjson`` over the same view (the route ``carbonlink feed
   conflicts`` calls);
6. the gateway's peak RSS (``VmHWM`` of its process) after all of it.

Prints one JSON object. Usage: ``python bench/bench_feeds.py [--units 1000000] [--base-port 18460]
[--store postgresql://...] [--pull-and-stream]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.demo import Registry  # noqa: E402
from gateway.sandbox.store import SandboxStore  # noqa: E402
from gateway.sandbox.units import Block, serial_units  # noqa: E402
from tests.feeds.support import FeedNetwork  # noqa: E402

TAIL = "VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1"
REGISTRIES = (("reg-a", "GHA"), ("reg-b", "CHE"), ("reg-c", "COL"))


def _blocks(registry: int, count: int) -> list[Block]:
    """``count`` blocks of 5 units, 1,000 per batch; registry 1 repeats every 100th block of registry 0."""
    out = []
    for i in range(count):
        batch, slot = 30000 + i // 1000, i % 1000
        owner = 0 if registry == 1 and i % 100 == 0 else registry
        first = owner * 10_000_000 + slot * 10 + 1
        units = serial_units(f"{batch}-{first}-{first + 4}-{TAIL}")
        out.append(Block.of(units, "treasury"))
    return out


def seed(root: Path, total: int) -> None:
    share = [total // 3 + (1 if i < total % 3 else 0) for i in range(3)]
    for i, (name, _) in enumerate(REGISTRIES):
        store = SandboxStore(root / f"{name}.sqlite3")
        try:
            store.import_blocks(_blocks(i, share[i]))
        finally:
            store.close()


def raw_listing(net: FeedNetwork) -> tuple[int, float]:
    """Records and seconds for paging every registry's read side directly (the baseline)."""
    count, started = 0, time.perf_counter()
    with httpx.Client(timeout=120) as http:
        for name, _ in REGISTRIES:
            registry = net.registries[name]
            cursor = None
            while True:
                params = {"limit": "5000", **({"after": cursor} if cursor else {})}
                response = http.get(f"{registry.base_url}/read/units", params=params,
                                    headers={"Authorization": f"Bearer {registry.operator_token}"})
                response.raise_for_status()
                count += len(response.json()["units"])
                cursor = response.headers.get("carbonlink-next-cursor")
                if cursor is None:
                    break
    return count, time.perf_counter() - started


def stream(net: FeedNetwork, path: str) -> tuple[int, float, dict[str, Any]]:
    """Lines, seconds and the end line of one NDJSON feed request."""
    client = net.reader()
    client.http = httpx.Client(timeout=900)
    client.token()
    token = client.token()
    headers = {"Authorization": f"DPoP {token}", "DPoP": client.proof("GET", path.split("?")[0], access_token=token)}
    lines, tail, started = 0, b"", time.perf_counter()
    with client.http.stream("GET", client.base_url + path, headers=headers) as response:
        if response.status_code != 200:
            response.read()
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:300]}")
        for chunk in response.iter_bytes():
            lines += chunk.count(b"\n")
            tail = (tail + chunk)[-4096:]
    elapsed = time.perf_counter() - started
    return lines - 1, elapsed, json.loads(tail.strip().rsplit(b"\n", 1)[-1])


def first_pull(net: FeedNetwork) -> float:
    """Seconds of the first feed request: it pulls every registry (never pulled yet) before it answers."""
    client = net.reader()
    client.http = httpx.Client(timeout=1800)
    started = time.perf_counter()
    response = client.request("GET", "/v1/feeds/cadt/v2/units?limit=1")
    elapsed = time.perf_counter() - started
    if response.status_code != 200 or not response.json()["complete"]:
        raise RuntimeError(f"first pull failed: HTTP {response.status_code}: {response.text[:300]}")
    return elapsed


class WalWatch(threading.Thread):
    """The largest size of the feeds store's ``-wal`` file(s) under ``root``, sampled every 0.1 s."""

    def __init__(self, root: Path) -> None:
        super().__init__(daemon=True)
        self.root, self.peak, self.stop = root, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.1):
            for wal in self.root.glob("**/feeds.sqlite3-wal"):
                with contextlib.suppress(OSError):
                    self.peak = max(self.peak, wal.stat().st_size)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (robust to a shared machine, unlike wall time)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--base-port", type=int, default=18460)
    parser.add_argument("--store", default=None,
                        help="the view's store (CARBONLINK_FEEDS_STORE): default a SQLite file; a postgresql:// DSN "
                             "uses fresh tables (a unique prefix) dropped afterwards")
    parser.add_argument("--pull-and-stream", action="store_true",
                        help="measure the first pull inside the first NDJSON request (the earlier form)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="carbonlink-bench-feeds-"))
    started = time.perf_counter()
    seed(root, args.units)
    seeded = time.perf_counter() - started
    prefix = f"feedbench{os.getpid()}_"
    store_env = {"CARBONLINK_FEEDS_STORE": args.store, "CARBONLINK_FEEDS_STORE_PREFIX": prefix} if args.store else {}
    env = {**store_env, "CARBONLINK_FEEDS_MAX_AGE_SECONDS": "86400", "CARBONLINK_FEEDS_PULL_PAGE_SIZE": "5000",
           "CARBONLINK_FEEDS_PULL_TIMEOUT": "120", "CARBONLINK_LOG_LEVEL": "warning"}
    registries = [Registry(name, party, "canonical") for name, party in REGISTRIES]
    net = FeedNetwork(registries, root=root, base=args.base_port, readable={n for n, _ in REGISTRIES},
                      gateway_env=env)
    with net:
        assert net.gateway is not None
        raw_count, raw_seconds = raw_listing(net)
        watch = WalWatch(root)
        watch.start()
        pull: dict[str, Any] = {}
        if args.pull_and_stream:
            first_count, first_seconds, first_end = stream(net, "/v1/feeds/cadt/v2/units?format=ndjson")
            pull = {"pull_and_stream": {
                "records": first_count, "seconds": round(first_seconds, 2),
                "records_per_s": round(first_count / first_seconds),
                "ratio_to_raw_listing": round(first_count / first_seconds / raw_count * raw_seconds, 3),
                "complete": first_end["complete"]}}
        else:
            cpu = cpu_seconds(net.gateway.pid)
            pull_seconds = first_pull(net)
            cpu = cpu_seconds(net.gateway.pid) - cpu
            pull = {"first_pull": {"records": raw_count, "seconds": round(pull_seconds, 2),
                                   "records_per_s": round(raw_count / pull_seconds),
                                   "ratio_to_raw_listing": round(raw_seconds / pull_seconds, 3),
                                   "gateway_cpu_seconds": round(cpu, 2),
                                   "gateway_cpu_ms_per_1000_records": round(cpu * 1e6 / raw_count, 1)}}
        watch.stop.set()
        watch.join()
        pull_rss = peak_rss_mb(net.gateway.pid)
        pull[next(iter(pull))].update(wal_peak_mb=round(watch.peak / 2**20, 1), gateway_peak_rss_mb=round(pull_rss, 1))
        count, seconds, end = stream(net, "/v1/feeds/cadt/v2/units?format=ndjson")
        dc_count, dc_seconds, dc_end = stream(net, "/v1/feeds/conflicts?format=ndjson")
        rss = peak_rss_mb(net.gateway.pid)
    raw_rate = raw_count / raw_seconds
    result = {
        "units": args.units, "seed_seconds": round(seeded, 1),
        "baseline_raw_listing": {"records": raw_count, "seconds": round(raw_seconds, 2),
                                 "records_per_s": round(raw_rate)},
        **pull,
        "stream": {"records": count, "seconds": round(seconds, 2), "records_per_s": round(count / seconds),
                   "ratio_to_raw_listing": round(count / seconds / raw_rate, 3), "complete": end["complete"],
                   "target_records_per_s": 30000},
        "detection": {"blocks": count, "findings": dc_count, "seconds": round(dc_seconds, 2), "target_seconds": 60,
                      "complete": dc_end["complete"]},
        "gateway_peak_rss_mb": round(rss, 1), "rss_target_mb": 250,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "shared": True},
    }
    result["store"] = "postgresql" if args.store else "sqlite"
    if args.store:
        from gateway.feeds.sql import Database

        Database(args.store, prefix=prefix).drop()
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
