"""The transaction controls' cost on the relay: the same transfers relayed with the policy's controls on and off,
in one run.

    .venv/bin/python bench/bench_policy.py --messages 200 --rounds 3

Starts a :class:`gateway.demo.Network` (a gateway process, which the sandboxes fetch the gateway's keys from, and
two sandbox registries), then builds two transfer services in this process exactly as the gateway builds them
(``build_trust`` + ``build_service``, SQLite stores in their own data directories, evidence ``synchronous=full``):
one without ``CARBONLINK_POLICY`` (the baseline) and one with a policy that turns every control on for the
sending registry - business hours (every day, 00:00-23:59 in its time zone), a holding period with the receiver
on its trusted list, four eyes above 5 units (every message carries two officers' approvals, signed before the
clock starts), daily limits in total and per counterpart that no run reaches (a reservation per message in the
controls store), no kill switch. Each timed message is a different AEF transfer of 10 ITMOs under a new message
id through :meth:`TransferService.submit` (what ``/v1/transfers`` runs in its worker thread), delivered to the
receiving sandbox; every answer must be an accepted receipt. Rounds alternate the two services, so the machine's
load falls on both alike.

Reported: messages per second of each (wall, best round) and CPU milliseconds per message of this process (median
round), the ratios controls-on / off, and the CPU ratio of the pre-delivery path alone (``plan`` + the controls'
decision + ``Recorder.intend``; no HTTP round trip, so the worst case for the controls). On a loaded machine the
CPU ratios are the figures to read; the wall ones move with the other processes. ``--store`` names the
controls store (default: the embedded one, ``synchronous=normal``; e.g. ``sqlite:///x?synchronous=full`` or a
PostgreSQL DSN).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path
from statistics import median
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_transfers as bt

from gateway.demo import Network, Registry
from gateway.demo_policy import approvals
from gateway.digests import sha256_hex
from gateway.governance import TransactionControls, sign_policy
from gateway.protocol import MessageKind
from gateway.settings import CarbonlinkSettings, Settings
from gateway.transfers import TransferService, build_service
from gateway.trust import development
from gateway.trust.keys import generate_key, public_jwk
from gateway.trust.setup import build_trust

WARMUP = 20


def write_policy(root: Path, four_eyes_above: int) -> tuple[Path, dict[str, Any]]:
    officers = {"officer-a": generate_key("ES256", "officer-a-1"), "officer-b": generate_key("ES256", "officer-b-1")}
    controls = {"timezone": "Africa/Accra", "four_eyes_above": str(four_eyes_above), "daily_limit": "1000000000",
                "counterparty_daily_limit": "1000000000", "trusted": [bt.RECEIVER], "holding_seconds": 86400,
                "business_hours": {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00",
                                   "end": "23:59"},
                "officers": [{"id": n, "keys": [public_jwk(k)]} for n, k in officers.items()]}
    content = {"iss": "bench-network-operator", "environment": "development", "version": 1,
               "participants": {bt.SENDER: controls}}
    path = root / "policy.jws"
    path.write_text(sign_policy(content, development.anchor(), valid_for=86400))
    return path, officers


def service(net: Network, data: Path, policy: Path | None, store: str | None) -> TransferService:
    env = {"CARBONLINK_ISSUER": net.issuer, "CARBONLINK_DIRECTORY": str(net.root / "directory.jws"),
           "CARBONLINK_DATA_DIR": str(data)}
    if policy is not None:
        env["CARBONLINK_POLICY"] = str(policy)
        if store:
            env["CARBONLINK_POLICY_STORE"] = (f"{store}?table=bench_policy_{uuid.uuid4().hex[:8]}"
                                              if store.startswith("postgres") else store)
    settings = Settings.for_service(CarbonlinkSettings.from_environ(env))
    return build_service(build_trust(settings), settings.transfers)


def drop_tables(dsn: str, svc: TransferService) -> None:
    """Drop the controls tables this run made in a shared PostgreSQL database."""
    import psycopg

    controls = svc.controls
    assert isinstance(controls, TransactionControls)
    table = controls.store.t
    with psycopg.connect(dsn, autocommit=True) as conn:
        for suffix in ("usage", "totals", "counterparts"):
            conn.execute(f"DROP TABLE IF EXISTS {table}_{suffix}")


class Load:
    """Messages ready to send: bodies of distinct blocks, message ids and (for the controlled service) approvals."""

    def __init__(self, blocks: bt.BlockCounter, count: int, officers: dict[str, Any] | None) -> None:
        tag = secrets.token_hex(4)
        self.ids = [f"pol-{tag}-{i}" for i in range(count)]
        self.bodies = [bt.aef_body(*blocks.ids(b)) for b in blocks.take(count)]
        self.approvals = [approvals(officers, sender=bt.SENDER, message_id=m, body=b) if officers else []
                          for m, b in zip(self.ids, self.bodies, strict=True)]


def relay(svc: TransferService, load: Load) -> tuple[float, float]:
    """Wall and CPU seconds to relay ``load`` through ``submit``."""
    sender = svc.outbound.participant(bt.SENDER)
    times, wall = os.times(), time.perf_counter()
    for message_id, body, signed in zip(load.ids, load.bodies, load.approvals, strict=True):
        outcome = svc.submit(sender, MessageKind.TRANSFERS, message_id, body, "application/json", None, signed)
        if outcome.status != 200 or outcome.receipt.get("outcome") != "accepted":
            raise SystemExit(f"{message_id} was not accepted: {outcome.status} {outcome.body[:300]!r}")
    after = os.times()
    return time.perf_counter() - wall, (after.user - times.user) + (after.system - times.system)


def pre_delivery(svc: TransferService, load: Load) -> float:
    """CPU seconds for what the relay does before delivery: plan, the controls' decision, the intent record."""
    sender = svc.outbound.participant(bt.SENDER)
    began = time.process_time()
    for message_id, body, signed in zip(load.ids, load.bodies, load.approvals, strict=True):
        digest = sha256_hex(body)
        plan = svc.plan(sender, MessageKind.TRANSFERS, body, "application/json", None)
        decision = None if svc.controls is None else svc.controls.decide(
            sender, MessageKind.TRANSFERS, message_id, digest, plan.receiver, plan.quantity, signed)
        svc.recorder.intend(sender, MessageKind.TRANSFERS, message_id, digest, plan,
                            None if decision is None else decision.verdicts())
    return time.process_time() - began


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200, help="timed messages per round and service")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--store", default=None, help="the controls store URL (default: the embedded one)")
    parser.add_argument("--four-eyes-above", type=int, default=5,
                        help="the sender's four-eyes threshold (default 5: every message of 10 units carries two "
                             "approvals; 10 or more: none does)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    total = (args.messages * args.rounds * 2 + WARMUP * 2) * 10
    sender = Registry(bt.SENDER, bt.SENDER_PARTY, "aef",
                      holds=[f"CA0001-GHA01-GHA-1-2023..CA0001-GHA01-GHA-{total}-2023@treasury"])
    receiver = Registry(bt.RECEIVER, bt.RECEIVER_PARTY, "canonical")
    blocks = bt.BlockCounter(10)
    walls: dict[str, list[float]] = {"off": [], "on": []}
    cpus: dict[str, list[float]] = {"off": [], "on": []}
    with Network([sender, receiver]) as net, tempfile.TemporaryDirectory(prefix="carbonlink-bench-policy-") as tmp:
        root = Path(tmp)
        policy, officers = write_policy(root, args.four_eyes_above)
        approving = officers if args.four_eyes_above < 10 else None
        services = {"off": service(net, root / "off", None, None), "on": service(net, root / "on", policy, args.store)}
        keys = {"off": None, "on": approving}
        try:
            for name, svc in services.items():
                relay(svc, Load(blocks, WARMUP, keys[name]))
            for _ in range(args.rounds):
                for name, svc in services.items():
                    wall, cpu = relay(svc, Load(blocks, args.messages, keys[name]))
                    walls[name].append(wall)
                    cpus[name].append(cpu)
            pre: dict[str, list[float]] = {"off": [], "on": []}
            for _ in range(args.rounds):
                for name, svc in services.items():
                    pre[name].append(pre_delivery(svc, Load(blocks, args.messages, keys[name])))
        finally:
            for svc in services.values():
                svc.close()
            if args.store and args.store.startswith("postgres"):
                drop_tables(args.store, services["on"])
    n = args.messages
    report = {
        "messages": n, "rounds": args.rounds, "store": args.store or "sqlite (embedded, synchronous=normal)",
        "approvals_per_message": 2 if args.four_eyes_above < 10 else 0,
        "off_per_s": round(n / min(walls["off"]), 1), "on_per_s": round(n / min(walls["on"]), 1),
        "ratio": round(min(walls["off"]) / min(walls["on"]), 3),
        "off_cpu_ms": round(median(cpus["off"]) / n * 1e3, 3), "on_cpu_ms": round(median(cpus["on"]) / n * 1e3, 3),
        "cpu_ratio": round(median(cpus["off"]) / median(cpus["on"]), 3),
        "pre_delivery_cpu_ratio": round(median(pre["off"]) / median(pre["on"]), 3),
        "pre_delivery_added_cpu_ms": round((median(pre["on"]) - median(pre["off"])) / n * 1e3, 3),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{n} transfers x {args.rounds} rounds through TransferService.submit (delivered), "
              f"{report['approvals_per_message']} approvals per message, controls store "
              f"{report['store']}: off {report['off_per_s']}/s, on {report['on_per_s']}/s = {report['ratio']} of the "
              f"throughput; CPU {report['off_cpu_ms']} -> {report['on_cpu_ms']} ms per message = "
              f"{report['cpu_ratio']}; "
              f"pre-delivery path alone (CPU) {report['pre_delivery_cpu_ratio']} "
              f"(+{report['pre_delivery_added_cpu_ms']} ms); "
              f"load {report['load_average']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
