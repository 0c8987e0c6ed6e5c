"""The whole transfer relay with the authorization gate on against the same relay with it off, in one run.

Each round runs :mod:`bench_transfers` twice, alternating, on the same network shape: the sender GHA's
national authority in the directory and an authorization issued (signed with its own key) that every transfer
cites; ``CARBONLINK_GOVERNANCE_ENFORCE=off`` for one, ``always`` for the other. Each ``bench_transfers`` run
starts its gateway and sandbox registries, warms up, and measures the direct phase (the receiving registry
alone, a yardstick of the machine's load at that moment) and the gateway phase (authenticate, validate,
gate, translate, sign, deliver, record evidence, receipt). Printed: the gateway's accepted requests/s and CPU
per request with and without the gate, their ratios (target: >= 0.9), and the same ratio normalised by each
run's own direct phase. Every answer is checked (accepted, receipt signature) by ``bench_transfers``.

Usage: ``python bench/bench_governance_relay.py [--seconds 8] [--rounds 2] [--clients 16] [--json]``
(other options are passed to ``bench_transfers``, e.g. ``--stores redis-postgres``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import bench_transfers  # a sibling script


def one(mode: str, seconds: float, clients: int, extra: list[str]) -> dict[str, Any]:
    args = bench_transfers.parse_args(["--seconds", str(seconds), "--clients", str(clients), "--governance", mode,
                                       "--json", *extra])
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
    parser.add_argument("--json", action="store_true")
    args, extra = parser.parse_known_args()
    runs: list[dict[str, Any]] = []
    for _ in range(args.rounds):
        for mode in ("off", "on"):
            runs.append(one(mode, args.seconds, args.clients, extra))
    best = {m: max(r["gateway_rps"] for r in runs if r["mode"] == m) for m in ("off", "on")}
    cpu = {m: min(r["gateway_cpu_ms"] or 0.0 for r in runs if r["mode"] == m) for m in ("off", "on")}
    normal = {m: max(r["gateway_rps"] / r["direct_rps"] for r in runs if r["mode"] == m and r["direct_rps"])
              for m in ("off", "on")}
    result = {"runs": runs, "seconds": args.seconds, "clients": args.clients, "options": extra,
              "gateway_rps": best, "ratio": round(best["on"] / best["off"], 3),
              "gateway_cpu_ms_per_request": cpu, "cpu_ratio": round(cpu["off"] / cpu["on"], 3) if cpu["on"] else None,
              "normalised_ratio": round(normal["on"] / normal["off"], 3),
              "errors": sum(sum(r["gateway_errors"].values()) for r in runs), "target": 0.9}
    if args.json:
        print(json.dumps(result))
        return
    for r in runs:
        print(f"gate {r['mode']:>3}: gateway {r['gateway_rps']}/s (direct {r['direct_rps']}/s), gateway CPU "
              f"{r['gateway_cpu_ms']} ms/request, p99 {r['p99_ms']} ms, errors {r['gateway_errors']}, "
              f"load {r['load']:.1f}")
    print(f"relay with the gate / without: throughput {result['ratio']} (best run of each), gateway CPU per "
          f"request {result['cpu_ratio']}, normalised by each run's direct phase {result['normalised_ratio']}; "
          f"target >= 0.9; errors {result['errors']}")


if __name__ == "__main__":
    main()
