"""CPU the gateway spends relaying one transfer, measured in process, beside the receiving registry's.

    .venv/bin/python bench/bench_relay_cpu.py --messages 300

Starts a :class:`gateway.demo.Network` (a gateway process, which the sandboxes fetch the gateway's keys
from, and two sandbox registries), then builds the transfer service in this process exactly as the
gateway builds it (``build_trust`` + ``build_service`` on the same settings: development keyring,
issuer, directory, SQLite stores with evidence ``synchronous=full``) and calls
:meth:`TransferService.submit` - the function the ``/v1/transfers`` route runs in its worker thread -
once per message, one after the other, with AEF JSON bodies of 10 ITMOs for the receiving sandbox
(canonical JSON). Every answer must be an accepted receipt.

Reported: this process's CPU (user and system) per message, the receiving sandbox's CPU per message in
the same run (from ``/proc``), and their ratio. One message at a time, without the HTTP server, the
caller's authentication or the thread hand-over, so the figure is the relay pipeline's own cost and
moves less with the machine's load than ``bench_transfers.py`` (which measures all of it under
load). ``--profile FILE`` writes cProfile statistics of the timed messages (slower; for reading, not
for the figures); with ``--profile-cpu`` they count this process's CPU time instead of the wall clock.
``--steps`` adds the thread CPU of each step of the pipeline (:mod:`relay_steps`). ``--stores redis-postgres``
keeps the idempotency claims in the local Redis and the evidence in the local PostgreSQL, as
``bench_transfers.py --stores redis-postgres`` does (its :class:`bench_transfers.Stores`).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_transfers as bt
from relay_steps import per_message, steps_timed

from gateway.demo import Network, Registry
from gateway.protocol import MessageKind
from gateway.settings import CarbonlinkSettings, Settings
from gateway.transfers import build_service
from gateway.trust.setup import build_trust

WARMUP = 50


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=300, help="timed messages (after 50 untimed)")
    parser.add_argument("--profile", type=Path, help="write cProfile statistics of the timed messages here")
    parser.add_argument("--profile-cpu", action="store_true",
                        help="with --profile: time functions by this process's CPU (time.process_time), not by wall "
                             "clock, so waits (fsync, the receiver's answer) do not count")
    parser.add_argument("--steps", action="store_true",
                        help="also report the thread CPU of each step of the pipeline (bench/relay_steps.py)")
    parser.add_argument("--stores", default="embedded", choices=["embedded", "redis-postgres"],
                        help="the gateway's idempotency/evidence stores (as bench_transfers.py --stores)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not 10 <= args.messages <= 20_000:
        parser.error("--messages must be between 10 and 20000")
    total = (args.messages + WARMUP) * 10
    sender = Registry(bt.SENDER, bt.SENDER_PARTY, "aef",
                         holds=[f"CA0001-GHA01-GHA-1-2023..CA0001-GHA01-GHA-{total}-2023@treasury"])
    receiver = Registry(bt.RECEIVER, bt.RECEIVER_PARTY, "canonical")
    stores = bt.Stores(args.stores)
    with Network([sender, receiver]) as net, tempfile.TemporaryDirectory(prefix="carbonlink-relay-cpu-") as data, \
            contextlib.ExitStack() as cleanup:
        cleanup.callback(stores.clean)
        settings = Settings.for_service(CarbonlinkSettings.from_environ({
            "CARBONLINK_ISSUER": net.issuer, "CARBONLINK_DIRECTORY": str(net.root / "directory.jws"),
            "CARBONLINK_DATA_DIR": data, **stores.env()}))
        service = build_service(build_trust(settings), settings.transfers)
        try:
            participant = service.outbound.participant(bt.SENDER)
            blocks = bt.BlockCounter(10)
            tag = secrets.token_hex(3)
            bodies = [bt.aef_body(*blocks.ids(b)) for b in blocks.take(args.messages + WARMUP)]

            def relay(index: int) -> None:
                outcome = service.submit(participant, MessageKind.TRANSFERS, f"cpu-{tag}-{index}", bodies[index],
                                         "application/json", None)
                if outcome.status != 200 or outcome.receipt.get("outcome") != "accepted":
                    raise SystemExit(f"message {index} was not accepted: {outcome.status} {outcome.body[:300]!r}")

            for index in range(WARMUP):
                relay(index)
            assert receiver.process is not None
            sandbox_before = bt.cpu_seconds(receiver.process.pid)
            profiler = None
            if args.profile:
                profiler = cProfile.Profile(time.process_time) if args.profile_cpu else cProfile.Profile()
            times, wall = os.times(), time.perf_counter()
            if profiler:
                profiler.enable()
            timing: contextlib.AbstractContextManager[dict[str, float]] = (
                steps_timed() if args.steps else contextlib.nullcontext({}))
            with timing as spent:
                for index in range(WARMUP, WARMUP + args.messages):
                    relay(index)
            if profiler:
                profiler.disable()
                profiler.dump_stats(args.profile)
            after, wall = os.times(), time.perf_counter() - wall
            sandbox = (bt.cpu_seconds(receiver.process.pid) - sandbox_before) / args.messages * 1e3
        finally:
            service.close()
    user = (after.user - times.user) / args.messages * 1e3
    system = (after.system - times.system) / args.messages * 1e3
    report = {
        "messages": args.messages, "stores": args.stores, "gateway_cpu_ms": round(user + system, 3),
        "gateway_user_ms": round(user, 3),
        "gateway_system_ms": round(system, 3), "receiver_sandbox_cpu_ms": round(sandbox, 3),
        "ratio_to_receiver": round((user + system) / sandbox, 2) if sandbox else None,
        "wall_ms_per_message": round(wall / args.messages * 1e3, 2),
        "load_average": [round(x, 2) for x in os.getloadavg()], "profiled": bool(args.profile),
        **({"steps_ms": per_message(spent, args.messages)} if args.steps else {}),
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(f"TransferService.submit, one message at a time ({args.messages}, stores {args.stores}): gateway "
              f"{report['gateway_cpu_ms']} ms "
              f"CPU per message (user {report['gateway_user_ms']}, system {report['gateway_system_ms']}); receiving "
              f"sandbox {report['receiver_sandbox_cpu_ms']} ms; ratio {report['ratio_to_receiver']}x; wall "
              f"{report['wall_ms_per_message']} ms per message; load {report['load_average']}")
        for step, ms in report.get("steps_ms", {}).items():
            print(f"  {step:60s} {ms:7.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
