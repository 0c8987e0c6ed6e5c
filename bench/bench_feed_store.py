"""The feeds view's store alone: one source replaced by ``--blocks`` unit blocks (a first pull), then again
unchanged (a steady-state pull), through ``FeedStore.replacing`` (what a pull and a pushed snapshot call),
pages of 5,000 as a pull stores them. The records are built and rendered before the clock starts, so only
the store's work is timed: wall time and this process's CPU time (the database server's is not counted).

Usage: ``python bench/bench_feed_store.py [--blocks 30000] [--store postgresql://...] [--no-copy]``;
``--no-copy`` writes PostgreSQL rows by ``executemany`` instead of ``COPY`` (the comparison in
docs/benchmarks.md). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.feeds.store import FeedStore  # noqa: E402
from gateway.feeds.view import _stored  # noqa: E402
from standards.model import UnitBlock  # noqa: E402

TAIL = "VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1"


def timed(store: FeedStore, items: list, page: int = 5000) -> tuple[float, float]:  # type: ignore[type-arg]
    wall, cpu = time.perf_counter(), time.process_time()
    with store.replacing("bench", "GHA", "pull") as replacement:
        for start in range(0, len(items), page):
            replacement.add(items[start:start + page])
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=30_000)
    parser.add_argument("--store", default=None, help="a postgresql:// DSN (fresh tables, dropped after); "
                                                      "default a SQLite file in a temporary directory")
    parser.add_argument("--no-copy", action="store_true", help="PostgreSQL: executemany instead of COPY")
    args = parser.parse_args()
    if args.no_copy:
        from gateway.feeds import replace

        replace.POSTGRES_COPY = False
    records = [UnitBlock(serial=f"19385-{i * 10 + 1}-{i * 10 + 5}-{TAIL}", first_id=i * 10 + 1, last_id=i * 10 + 5,
                         quantity=5, vintage=2020, status="held") for i in range(args.blocks)]
    items = _stored("units", records, "bench", 0)
    target = args.store or str(Path(tempfile.mkdtemp(prefix="carbonlink-bench-store-")) / "view.sqlite3")
    store = FeedStore(target, prefix=f"feedstorebench{os.getpid()}_")
    try:
        first = timed(store, items)
        again = timed(store, items)
    finally:
        store.close()
        if store.database.postgres:
            store.database.drop()
    result = {"blocks": args.blocks, "store": "postgresql" if args.store else "sqlite",
              "copy": not args.no_copy if args.store else None,
              "first_pull": {"seconds": round(first[0], 2), "records_per_s": round(args.blocks / first[0]),
                             "cpu_seconds": round(first[1], 2)},
              "unchanged_pull": {"seconds": round(again[0], 2), "records_per_s": round(args.blocks / again[0]),
                                 "cpu_seconds": round(again[1], 2)}}
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
