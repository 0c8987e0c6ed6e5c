"""CPU the gateway spends on the inbound side of a relayed transfer, measured in process.

    .venv/bin/python bench/bench_inbound_cpu.py --messages 300

The set-up of ``bench_relay_cpu.py`` (a :class:`gateway.demo.Network` with the receiving sandbox, the gateway's
settings in this process), but the gateway is the whole app, :func:`gateway.main.create_app`, with its lifespan
running. Phases alternate in blocks of ``--block`` messages (so the machine's load drifts over all of them
alike), one message at a time, AEF JSON bodies of 10 ITMOs, every answer an accepted receipt:

* ``app``: ``POST /v1/transfers`` handed to the app as one ASGI request, exactly as the HTTP server hands it
  over (scope, one ``http.request`` message, the answer's ``http.response.*`` messages), with a DPoP-bound
  access token and a fresh DPoP proof per message (both made before the clock starts): middleware, the relay
  endpoint, the caller's authentication (token, proof, replay cache, nonce), the body, the thread hand-over,
  ``TransferService.submit``, the receipt;
* ``routes``: the same app and requests with the lean relay endpoint taken out of its middleware, so the
  FastAPI routes answer (routing, dependency solving, exception middleware), as before the endpoint existed;
  only where the app has the endpoint;
* ``submit``: ``TransferService.submit`` of the same app's service as the route runs it: handed to the relay's
  worker thread (:func:`gateway.api.blocking.run_blocking`) with the app's translation options in force.

The differences to ``submit`` are what the app adds around it: the inbound side without the HTTP server and
its parser (which ``bench_transfers.py`` measures with the rest, under load). CPU is this process's
(``time.process_time``), the receiving sandbox's from ``/proc``. ``--profile FILE`` writes cProfile statistics
of the timed ``app`` messages (slower; for reading, not for the figures); with ``--profile-cpu`` they count this
process's CPU time instead of the wall clock.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import functools
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_transfers as bt
import orjson

import adapters
import standards
from gateway.api.blocking import run_blocking
from gateway.demo import Network, Registry
from gateway.main import create_app
from gateway.protocol import MessageKind
from gateway.settings import CarbonlinkSettings, Settings
from gateway.trust.keys import generate_key
from gateway.trust.proofs import dpop_proof

WARMUP = 30


async def _asgi_post(app: Any, stack: Any, path: str, headers: list[tuple[bytes, bytes]], body: bytes
                     ) -> tuple[int, bytes]:
    """One request as uvicorn hands it to the app (``stack``: the app's middleware stack, which the app calls
    with ``scope["app"]`` set); the status and the body of the answer."""
    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
             "query_string": b"", "headers": headers, "client": ("127.0.0.1", 50000),
             "server": ("127.0.0.1", 8000), "state": {}, "app": app}
    sent = False
    answer: dict[str, Any] = {"status": 0, "body": []}

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"].append(message.get("body", b""))

    await stack(scope, receive, send)
    return int(answer["status"]), b"".join(answer["body"])


async def _run(app: Any, args: argparse.Namespace, receiver_pid: int) -> dict[str, tuple[float, float]]:
    trust = app.state.trust
    participant = trust.directory.participant(bt.SENDER)
    dpop_key = generate_key("ES256", "bench-inbound-dpop")
    token = trust.tokens.issue(participant, ["messages:send"], jkt=dpop_key.thumbprint())
    url = trust.settings.issuer + bt.TRANSFERS_PATH
    blocks = bt.BlockCounter(10)
    tag = secrets.token_hex(3)
    service = await asyncio.to_thread(app.state.transfers.get)
    stacks = {"app": app.build_middleware_stack()}
    lean = [m for m in app.user_middleware if m.cls.__name__ == "RelayEndpoint"]
    if lean:  # the same app with the relay answered by the FastAPI routes (as before the lean endpoint)
        app.user_middleware = [m for m in app.user_middleware if m not in lean]
        stacks["routes"] = app.build_middleware_stack()
    phases = [*stacks, "submit"]
    cpu = dict.fromkeys(phases, 0.0)
    sandbox = dict.fromkeys(phases, 0.0)

    def check(status: int, body: bytes) -> None:
        receipt = orjson.loads(body)
        if status != 200 or receipt.get("outcome") != "accepted":
            raise SystemExit(f"a message was not accepted: {status} {body[:300]!r}")

    def prepared(phase: str, size: int) -> list[Callable[[], Any]]:
        """The requests of one block, made before the clock starts (bodies, proofs)."""
        nonce = trust.dpop.nonces.issue()
        requests: list[Callable[[], Any]] = []
        for body in [bt.aef_body(*blocks.ids(b)) for b in blocks.take(size)]:
            message_id = f"in-{tag}-{phase}-{secrets.token_hex(6)}"
            if phase == "submit":
                requests.append(functools.partial(_submit, service, participant, message_id, body,
                                                   trust.settings.translation))
                continue
            headers = [(b"authorization", f"DPoP {token}".encode()),
                       (b"dpop", dpop_proof(dpop_key, method="POST", url=url, nonce=nonce,
                                            access_token=token).encode()),
                       (b"carbonlink-message-id", message_id.encode()), (b"content-type", b"application/json"),
                       (b"content-length", str(len(body)).encode())]
            requests.append(functools.partial(_asgi_post, app, stacks[phase], bt.TRANSFERS_PATH, headers, body))
        return requests

    for phase in phases:  # warm-up, untimed
        for request in prepared(phase, WARMUP):
            check(*await request())
    profiler = None
    if args.profile:
        profiler = cProfile.Profile(time.process_time) if args.profile_cpu else cProfile.Profile()
    for _ in range(args.messages // args.block):
        for phase in phases:
            requests = prepared(phase, args.block)
            box, started = bt.cpu_seconds(receiver_pid), time.process_time()
            with _profiled(profiler if phase == "app" else None):
                for request in requests:
                    check(*await request())
            cpu[phase] += time.process_time() - started
            sandbox[phase] += bt.cpu_seconds(receiver_pid) - box
    if profiler:
        profiler.dump_stats(args.profile)
    timed = args.messages // args.block * args.block
    return {phase: (cpu[phase] / timed * 1e3, sandbox[phase] / timed * 1e3) for phase in phases}


@contextlib.contextmanager
def _profiled(profiler: cProfile.Profile | None) -> Iterator[None]:
    """``profiler`` enabled while the block runs (nothing when None)."""
    if profiler is None:
        yield
        return
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()


async def _submit(service: Any, participant: Any, message_id: str, body: bytes, translation: Any
                  ) -> tuple[int, bytes]:
    """``TransferService.submit`` as the route runs it: in the relay's worker thread, with the app's translation
    options in force (what :class:`gateway.main.TranslationOptionsMiddleware` does), so the difference to the
    ``app`` phase is only what the app adds around it."""
    with standards.use_options(translation.standards_options()), adapters.use_options(translation.adapter_options()):
        outcome = await run_blocking(service.submit, participant, MessageKind.TRANSFERS, message_id, body,
                                     "application/json", None)
    return outcome.status, outcome.body


async def _with_lifespan(app: Any, args: argparse.Namespace, receiver_pid: int
                         ) -> dict[str, tuple[float, float]]:
    async with app.router.lifespan_context(app):
        return await _run(app, args, receiver_pid)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=300, help="timed messages per phase and round")
    parser.add_argument("--block", type=int, default=20, help="messages per timed block (phases alternate)")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio",
                        help="the event loop (uvicorn takes uvloop when it is installed)")
    parser.add_argument("--profile", type=Path, help="write cProfile statistics of the timed app messages here")
    parser.add_argument("--profile-cpu", action="store_true",
                        help="with --profile: time functions by this process's CPU (time.process_time), not by wall "
                             "clock")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not 10 <= args.messages <= 5_000 or not 1 <= args.block <= args.messages:
        parser.error("--messages must be between 10 and 5000, --block between 1 and --messages")
    total = (args.messages + WARMUP) * 10 * 3 + 10_000
    sender = Registry(bt.SENDER, bt.SENDER_PARTY, "aef",
                      holds=[f"CA0001-GHA01-GHA-1-2023..CA0001-GHA01-GHA-{total}-2023@treasury"])
    receiver = Registry(bt.RECEIVER, bt.RECEIVER_PARTY, "canonical")
    with Network([sender, receiver]) as net, tempfile.TemporaryDirectory(prefix="carbonlink-inbound-") as data:
        settings = Settings.for_service(CarbonlinkSettings.from_environ({
            "CARBONLINK_ISSUER": net.issuer, "CARBONLINK_DIRECTORY": str(net.root / "directory.jws"),
            "CARBONLINK_DATA_DIR": data, "CARBONLINK_RATE_LIMIT_PER_MINUTE": "1000000",
            "CARBONLINK_RATE_LIMIT_BURST": "1000000"}))
        assert receiver.process is not None
        run = _with_lifespan(create_app(settings), args, receiver.process.pid)
        if args.loop == "uvloop":
            import uvloop

            figures = uvloop.run(run)
        else:
            figures = asyncio.run(run)
    submit_ms = figures["submit"][0]
    report: dict[str, Any] = {
        "messages": args.messages, "block": args.block, "loop": args.loop,
        "cpu_ms": {phase: round(ms, 3) for phase, (ms, _) in figures.items()},
        "inbound_ms": {phase: round(ms - submit_ms, 3) for phase, (ms, _) in figures.items() if phase != "submit"},
        "receiver_sandbox_ms": {phase: round(ms, 3) for phase, (_, ms) in figures.items()},
        "load_average": [round(x, 2) for x in os.getloadavg()], "profiled": bool(args.profile)}
    if args.json:
        print(json.dumps(report))
    else:
        print(f"CPU per message ({args.messages} per phase, one at a time, phases alternating in blocks of "
              f"{args.block}): {report['cpu_ms']} ms; around submit (the inbound side): {report['inbound_ms']} ms; "
              f"receiving sandbox {report['receiver_sandbox_ms']} ms; loop {args.loop}; load {report['load_average']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
