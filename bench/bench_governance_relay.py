"""The whole transfer relay with governance on against the same relay with it off, in one run.

Each round runs :mod:`bench_transfers` twice, alternating, on the same network shape: the sender GHA's
national authority in the directory and an authorization issued (signed with its own key) that every transfer
cites. ``--compare`` says what the "on" run turns on: ``gate`` the authorization gate
(``CARBONLINK_GOVERNANCE_ENFORCE=always`` against ``off``); ``controls`` the transaction-controls policy
(``bench_transfers --controls on``: every control on for the sender, four eyes with two officers' approvals
carried by each transfer, limits no run reaches; the gate off in both); ``all`` both at once against neither.
Each ``bench_transfers`` run
starts its gateway and sandbox registries, warms up, and measures the direct phase (the receiving registry
alone, a yardstick of the machine's load at that moment) and the gateway phase (authenticate, validate,
gate, translate, sign, deliver, record evidence, receipt). Printed: the gateway's accepted requests/s and CPU
per request with and without the gate, their ratios (target: >= 0.9), and the same ratio normalised by each
run's own direct phase. Every answer is checked (accepted, receipt signature) by ``bench_transfers``.

Usage: ``python bench/bench_governance_relay.py [--compare gate|controls|all] [--seconds 8] [--rounds 2]
[--clients 16] [--json]``
(other options are passed to ``bench_transfers``, e.g. ``--stores redis-postgres``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from statistics import median
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import bench_transfers  # a sibling script

#: What each run passes to bench_transfers, by --compare and mode.
SWITCHES = {
    "gate": {"off": ["--governance", "off"], "on": ["--governance", "on"]},
    "controls": {"off": ["--governance", "off", "--controls", "off"],
                 "on": ["--governance", "off", "--controls", "on"]},
    "all": {"off": ["--governance", "off", "--controls", "off"], "on": ["--governance", "on", "--controls", "on"]},
}


def one(compare: str, mode: str, seconds: float, clients: int, extra: list[str]) -> dict[str, Any]:
    args = bench_transfers.parse_args(["--seconds", str(seconds), "--clients", str(clients),
                                       *SWITCHES[compare][mode], "--json", *extra])
    report = bench_transfers.run(args)
    gateway, direct = report["gateway"], report["direct"]
    return {"mode": mode, "gateway_rps": gateway["accepted_rps"], "direct_rps": direct["accepted_rps"],
            "gateway_errors": gateway["errors"], "gateway_cpu_ms": gateway["cpu_ms_per_request"].get("gateway"),
            "p99_ms": gateway["p99_ms"], "load": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--compare", default="gate", choices=sorted(SWITCHES),
                        help="what the 'on' runs turn on: the authorization gate, the transaction controls, or both")
    parser.add_argument("--json", action="store_true")
    args, extra = parser.parse_known_args()
    runs: list[dict[str, Any]] = []
    for _ in range(args.rounds):
        for mode in ("off", "on"):
            runs.append(one(args.compare, mode, args.seconds, args.clients, extra))
    best = {m: max(r["gateway_rps"] for r in runs if r["mode"] == m) for m in ("off", "on")}
    cpu = {m: min(r["gateway_cpu_ms"] or 0.0 for r in runs if r["mode"] == m) for m in ("off", "on")}
    normal = {m: max(r["gateway_rps"] / r["direct_rps"] for r in runs if r["mode"] == m and r["direct_rps"])
              for m in ("off", "on")}
    cpu_median = {m: median(r["gateway_cpu_ms"] or 0.0 for r in runs if r["mode"] == m) for m in ("off", "on")}
    result = {"runs": runs, "compare": args.compare, "seconds": args.seconds, "clients": args.clients, "options": extra,
              "gateway_rps": best, "ratio": round(best["on"] / best["off"], 3),
              "gateway_cpu_ms_per_request": cpu, "cpu_ratio": round(cpu["off"] / cpu["on"], 3) if cpu["on"] else None,
              "cpu_ratio_median": round(cpu_median["off"] / cpu_median["on"], 3) if cpu_median["on"] else None,
              "normalised_ratio": round(normal["on"] / normal["off"], 3),
              "errors": sum(sum(r["gateway_errors"].values()) for r in runs), "target": 0.9}
    if args.json:
        print(json.dumps(result))
        return
    for r in runs:
        print(f"{args.compare} {r['mode']:>3}: gateway {r['gateway_rps']}/s (direct {r['direct_rps']}/s), gateway CPU "
              f"{r['gateway_cpu_ms']} ms/request, p99 {r['p99_ms']} ms, errors {r['gateway_errors']}, "
              f"load {r['load']:.1f}")
    print(f"relay with {args.compare} on / off: throughput {result['ratio']} (best run of each), gateway CPU per "
          f"request {result['cpu_ratio']} (least of each; medians {result['cpu_ratio_median']}), normalised by each "
          f"run's direct phase {result['normalised_ratio']}; "
          f"target >= 0.9; errors {result['errors']}")


if __name__ == "__main__":
    main()
