"""Store faults, the long run: PostgreSQL (the evidence log) killed and restarted, a persistent Redis killed
and restarted, the evidence disk really full; counts of lost, duplicated and falsely receipted messages
(all must be 0).

    .venv/bin/python bench/faults_stores.py --messages 60

Each scenario runs on its own network (``tests/transfers/faults_stores.py``: a private PostgreSQL cluster,
a private ``redis-server --appendonly yes``, a tmpfs on the gateway's data directory). Needs root,
``initdb``/``pg_ctl``, ``redis-server`` and ``mount``. Exits 1 if any count other than ``redelivered``
is not 0.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.transfers import faults_stores as stores
from tests.transfers.faults import FaultRun


def _scenario(name: str, root: Path, count: int) -> tuple[dict[str, Any], FaultRun]:
    if name == "postgres":
        with stores.postgres_run(root) as (run, postgres):
            ids = stores.postgres_restart(run, count, postgres)
            return dict(run.counts(ids)), run
    if name == "redis-aof":
        with stores.persistent_redis_run(root) as run:
            ids = stores.redis_persistent_restart(run, count)
            return dict(run.counts(ids)), run
    with stores.full_disk_run(root) as (run, disk):
        ids = stores.disk_full(run, count, disk)
        return dict(run.counts(ids)), run


NAMES = {"postgres": "PostgreSQL (evidence) killed mid-flight, restarted",
         "redis-aof": "Redis with AOF killed mid-flight, restarted",
         "disk-full": "evidence disk full, then freed"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=60, help="messages per scenario")
    parser.add_argument("--only", choices=sorted(NAMES), action="append", help="run only these scenarios")
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    args = parser.parse_args(argv)
    missing = stores.missing_tools()
    if missing:
        print(f"cannot run: {', '.join(missing)} not installed", file=sys.stderr)
        return 2
    results: dict[str, dict[str, Any]] = {}
    for key in args.only or list(NAMES):
        began = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="carbonlink-store-faults-") as root:
            counts, run = _scenario(key, Path(root), args.messages)
        counts["seconds"] = round(time.perf_counter() - began, 1)
        counts["answers"] = dict(run.tally.statuses)
        if run.health_seen:
            counts["healthz_during"] = run.health_seen.get("during", {}).get("status")
            counts["healthz_after"] = run.health_seen.get("after", {}).get("status")
        results[NAMES[key]] = counts
        if not args.json:
            print(f"{NAMES[key]:52s} " + "  ".join(f"{k} {v}" for k, v in counts.items()), flush=True)
    total = {k: sum(r[k] for r in results.values()) for k in ("messages", "lost", "duplicated", "falsely_receipted")}
    if args.json:
        print(json.dumps({"scenarios": results, "total": total}, indent=2))
    else:
        print(f"{'total':52s} " + "  ".join(f"{k} {v}" for k, v in total.items()))
    return 1 if total["lost"] or total["duplicated"] or total["falsely_receipted"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
