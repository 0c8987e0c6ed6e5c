"""CPU the gateway spends on the inbound side of a relayed transfer, measured in process.

    .venv/bin/python bench/bench_inbound_cpu.py --messages 300

The set-up of ``bench_relay_cpu.py`` (a :class:`gateway.demo.Network` with the receiving sandbox, the gateway's
settings in this process), but the gateway is the whole app, :func:`gateway.main.create_app`, with its lifespan
running. Two phases alternate, one message at a time, AEF JSON bodies of 10 ITMOs, every answer an accepted
receipt:

* ``app``: ``POST /v1/transfers`` handed to the app as one ASGI request, exactly as the HTTP server hands it
  over (scope, one ``http.request`` message, the answer's ``http.response.*`` messages), with a DPoP-bound
  access token and a fresh DPoP proof per message (both made before the clock starts): middleware, routing,
  the caller's authentication (token, proof, replay cache, nonce), the body, the thread hand-over,
  ``TransferService.submit``, the receipt;
* ``submit``: ``TransferService.submit`` of the same app's service, called directly (what the route calls in
  its worker thread).

The difference is what the app adds around ``submit``: the inbound side without the HTTP server and its
parser (which ``bench_transfers.py`` measures with the rest, under load). One message at a time, so the figure
moves little with the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_transfers as bt
import orjson

from gateway.demo import Network, Registry
from gateway.main import create_app
from gateway.protocol import MessageKind
from gateway.settings import CarbonlinkSettings, Settings
from gateway.trust.keys import generate_key
from gateway.trust.proofs import dpop_proof

WARMUP = 30


async def _asgi_post(app: Any, path: str, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[int, bytes]:
    """One request as uvicorn hands it to the app; the status and the body of the answer."""
    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
             "query_string": b"", "headers": headers, "client": ("127.0.0.1", 50000),
             "server": ("127.0.0.1", 8000), "state": {}}
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

    await app(scope, receive, send)
    return int(answer["status"]), b"".join(answer["body"])


async def _run(app: Any, args: argparse.Namespace, receiver_pid: int) -> dict[str, list[float]]:
    trust = app.state.trust
    participant = trust.directory.participant(bt.SENDER)
    dpop_key = generate_key("ES256", "bench-inbound-dpop")
    token = trust.tokens.issue(participant, ["messages:send"], jkt=dpop_key.thumbprint())
    url = trust.settings.issuer + bt.TRANSFERS_PATH
    blocks = bt.BlockCounter(10)
    tag = secrets.token_hex(3)
    count = WARMUP + args.messages
    figures: dict[str, list[float]] = {"app": [], "submit": [], "sandbox_app": [], "sandbox_submit": []}
    service = await asyncio.to_thread(app.state.transfers.get)

    def check(index: int, status: int, body: bytes) -> None:
        receipt = orjson.loads(body)
        if status != 200 or receipt.get("outcome") != "accepted":
            raise SystemExit(f"message {index} was not accepted: {status} {body[:300]!r}")

    for round_no in range(args.rounds):
        for phase in ("app", "submit"):
            bodies = [bt.aef_body(*blocks.ids(b)) for b in blocks.take(count)]
            nonce = trust.dpop.nonces.issue()
            requests: list[Callable[[], Any]] = []
            for index, body in enumerate(bodies):
                message_id = f"in-{tag}-{round_no}-{phase}-{index}"
                if phase == "app":
                    headers = [(b"authorization", f"DPoP {token}".encode()),
                               (b"dpop", dpop_proof(dpop_key, method="POST", url=url, nonce=nonce,
                                                    access_token=token).encode()),
                               (b"carbonlink-message-id", message_id.encode()),
                               (b"content-type", b"application/json"),
                               (b"content-length", str(len(body)).encode())]
                    requests.append(lambda h=headers, b=body: _asgi_post(app, bt.TRANSFERS_PATH, h, b))
                else:
                    requests.append(lambda m=message_id, b=body: _submit(service, participant, m, b))

            async def one(index: int, requests: list[Callable[[], Any]] = requests) -> None:
                status, answer = await requests[index]()
                check(index, status, answer)

            for index in range(WARMUP):
                await one(index)
            sandbox = bt.cpu_seconds(receiver_pid)
            times = os.times()
            for index in range(WARMUP, count):
                await one(index)
            after = os.times()
            cpu = (after.user - times.user) + (after.system - times.system)
            figures[phase].append(cpu / args.messages * 1e3)
            figures[f"sandbox_{phase}"].append((bt.cpu_seconds(receiver_pid) - sandbox) / args.messages * 1e3)
    return figures


async def _submit(service: Any, participant: Any, message_id: str, body: bytes) -> tuple[int, bytes]:
    """``TransferService.submit`` called directly (no thread: one message at a time), as the route calls it."""
    outcome = service.submit(participant, MessageKind.TRANSFERS, message_id, body, "application/json", None)
    return outcome.status, outcome.body


async def _with_lifespan(app: Any, args: argparse.Namespace, receiver_pid: int) -> dict[str, list[float]]:
    async with app.router.lifespan_context(app):
        return await _run(app, args, receiver_pid)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=300, help="timed messages per phase and round")
    parser.add_argument("--rounds", type=int, default=2, help="app+submit rounds, alternating (1-5)")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio",
                        help="the event loop (uvicorn takes uvloop when it is installed)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not 10 <= args.messages <= 5_000 or not 1 <= args.rounds <= 5:
        parser.error("--messages must be between 10 and 5000, --rounds between 1 and 5")
    total = (args.messages + WARMUP) * 10 * 2 * args.rounds
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
    app_ms, submit_ms = figures["app"], figures["submit"]
    inbound = [a - s for a, s in zip(app_ms, submit_ms, strict=True)]
    report = {"messages": args.messages, "rounds": args.rounds, "loop": args.loop,
              **{f"{k}_ms": [round(v, 3) for v in vs] for k, vs in figures.items()},
              "inbound_ms": [round(v, 3) for v in inbound],
              "load_average": [round(x, 2) for x in os.getloadavg()]}
    if args.json:
        print(json.dumps(report))
    else:
        print(f"CPU per message, {args.messages} messages one at a time, per round: through the app "
              f"{report['app_ms']} ms; submit alone {report['submit_ms']} ms; inbound side (the difference) "
              f"{report['inbound_ms']} ms; receiving sandbox {report['sandbox_app_ms']} / "
              f"{report['sandbox_submit_ms']} ms; loop {args.loop}; load {report['load_average']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
