"""Fault injection, the long run: every scenario of ``tests/transfers/faults.py`` with more messages,
and the counts of lost, duplicated and falsely receipted messages (all must be 0).

    .venv/bin/python bench/faults.py --messages 600

Real processes on loopback: a gateway (``carbonlink serve``) on a private ``redis-server`` without
persistence (idempotency) and a SQLite evidence log, a sending and a receiving sandbox registry, and a
forwarding proxy in front of the receiver that counts, garbles, slows, drops or holds deliveries. The
messages are split evenly over the scenarios; each injects its fault while its messages flow (see the
scenario functions for when). Needs ``redis-server`` and ``chattr`` (root, a file system that takes
``chattr +i``). Exits 1 if any count other than ``redelivered`` is not 0.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.transfers.faults import SCENARIOS, fault_run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=600, help="messages in all, split over the scenarios")
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    args = parser.parse_args(argv)
    per_scenario = max(3, args.messages // len(SCENARIOS))
    results: dict[str, dict[str, float]] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="carbonlink-faults-") as root, fault_run(Path(root)) as run:
        for name, scenario in SCENARIOS.items():
            began = time.perf_counter()
            ids = scenario(run, per_scenario)
            counts: dict[str, float] = dict(run.counts(ids))
            counts["seconds"] = round(time.perf_counter() - began, 1)
            results[name] = counts
            if not args.json:
                print(f"{name:45s} " + "  ".join(f"{k} {v:g}" for k, v in counts.items()), flush=True)
        statuses = dict(run.tally.statuses)
    total = {key: sum(r[key] for r in results.values())
             for key in ("messages", "lost", "duplicated", "falsely_receipted", "redelivered")}
    if args.json:
        print(json.dumps({"scenarios": results, "total": total, "answers": statuses}, indent=2))
    else:
        print(f"{'total':45s} " + "  ".join(f"{k} {v:g}" for k, v in total.items())
              + f"  seconds {time.perf_counter() - started:.0f}")
        print("answers seen by the senders: " + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())))
    return 1 if total["lost"] or total["duplicated"] or total["falsely_receipted"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
