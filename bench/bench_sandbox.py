"""Requests/s and latency of transfers posted straight to a sandbox registry (no gateway).

This is the "direct" side of the issue's end-to-end benchmark (gateway throughput must reach
>= 50% of it). Measured in one run, each server in its own process on 127.0.0.1:

* the baseline: a bare FastAPI/uvicorn endpoint that reads the body and answers a fixed JSON
  object of the same size (HTTP + framework floor, nothing else);
* the sandbox: ``carbonlink sandbox --format F``: bearer token check (ES256 JWS, JWKS, jti in
  SQLite), message id dedupe, adapter parse, block checks, one SQLite transaction with
  ``synchronous=FULL``, a signed answer (detached JWS over the body).

Both get the same load: ``--clients`` concurrent keep-alive clients (asyncio + httpx), each
request a distinct transfer of 10 ITMOs (so every one is accepted) with a fresh gateway token
minted beforehand (minting is not timed). Prints one JSON object with requests/s, p50/p99 and
the sandbox/baseline ratios.

Usage: ``python bench/bench_sandbox.py [--format aef] [--requests 2000] [--clients 16]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GATEWAY_ISSUER = "http://127.0.0.1:8080"  # the sandbox's default expected issuer, with the development keys


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_BASELINE_ANSWER = json.dumps({"registry": "baseline", "verdict": "accepted", "padding": "x" * 400}).encode()


async def _baseline_messages(request: Request) -> Response:
    await request.body()
    return Response(_BASELINE_ANSWER, media_type="application/json")


def serve_baseline(port: int) -> None:
    import uvicorn

    app = FastAPI()
    app.add_api_route("/messages", _baseline_messages, methods=["POST"])
    app.add_api_route("/health", lambda: {"status": "ok"}, methods=["GET"])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _wait(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.returncode}")
        try:
            httpx.get(url, timeout=0.5)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not start")


def _bodies(fmt: str, n: int) -> list[bytes]:
    if fmt == "aef":
        doc = json.loads((ROOT / "standards/examples/aef-v2-report.json").read_text())
        template = doc["Actions"][0]
        doc.pop("Holdings")
        out = []
        for i in range(n):
            first = 100_000 + i * 10
            row = {**template, "FirstID": first, "LastID": first + 9, "QuantityCO2": 10,
                   "UnderlyingUnitFirstUnitID": first, "UnderlyingUnitLastUnitID": first + 9}
            out.append(json.dumps({**doc, "Actions": [row]}).encode())
        return out
    if fmt == "canonical":
        return [json.dumps({"actions": [{
            "action_type": "First transfer", "date": "2024-02-20T09:30:00Z", "cooperative_approach": "CA0001",
            "registry": "GHA01", "first_transferring_party": "GHA", "vintage": 2023, "first_id": 100_000 + i * 10,
            "last_id": 100_009 + i * 10, "quantity": "10", "acquiring_party": "CHE"}]}).encode() for i in range(n)]
    raise SystemExit(f"--format {fmt}: aef or canonical")


def _tokens(n: int, audience: str) -> list[str]:
    from gateway.trust import development
    from gateway.trust.keys import SigningKeyRing

    ring = SigningKeyRing.from_document(development.keyring_document(), grace_seconds=330)
    now = int(time.time())
    return [ring.sign({"typ": "at+jwt"}, {"iss": GATEWAY_ISSUER, "sub": GATEWAY_ISSUER, "client_id": GATEWAY_ISSUER,
                                          "aud": audience, "iat": now, "exp": now + 600,
                                          "jti": secrets.token_urlsafe(16)}) for _ in range(n)]


def _signatures(bodies: list[bytes]) -> list[str]:
    """The gateway's signature over each body (``Carbonlink-Signature``), as the sandbox requires."""
    from gateway.transfers import DetachedSigner
    from gateway.trust import development
    from gateway.trust.keys import SigningKeyRing

    signer = DetachedSigner(SigningKeyRing.from_document(development.keyring_document(), grace_seconds=330),
                            GATEWAY_ISSUER)
    return [signer.sign(body) for body in bodies]


async def _load(url: str, bodies: list[bytes], tokens: list[str], clients: int, tag: str) -> dict[str, Any]:
    signatures = _signatures(bodies)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(bodies)):
        queue.put_nowait(i)
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def worker() -> None:
        async with httpx.AsyncClient(timeout=60) as client:
            while True:
                try:
                    i = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                headers = {"Authorization": f"Bearer {tokens[i]}", "Carbonlink-Message-Id": f"{tag}-{i}",
                           "Carbonlink-Sender": "bench", "Content-Type": "application/json",
                           "Carbonlink-Signature": signatures[i]}
                t0 = time.perf_counter()
                resp = await client.post(url, content=bodies[i], headers=headers)
                latencies.append(time.perf_counter() - t0)
                statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {"requests": len(bodies), "seconds": round(elapsed, 3), "rps": round(len(bodies) / elapsed, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 2),
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2), "statuses": statuses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--format", default="aef", choices=["aef", "canonical"])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--serve-baseline", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_baseline:
        serve_baseline(args.serve_baseline)
        return

    total = args.warmup + args.requests
    bodies = _bodies(args.format, total)
    tmp = Path(tempfile.mkdtemp(prefix="bench-sandbox-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARBONLINK_")}
    base_port, sbx_port = _port(), _port()
    baseline = subprocess.Popen([sys.executable, __file__, "--serve-baseline", str(base_port)], env=env)
    sandbox = subprocess.Popen([str(BIN / "carbonlink"), "sandbox", "--format", args.format, "--port", str(sbx_port),
                                "--db", str(tmp / "bench.sqlite3"), "--registry-id", "bench-che", "--party", "CHE"],
                               env=env, stdout=subprocess.DEVNULL)
    try:
        _wait(f"http://127.0.0.1:{base_port}/health", baseline)
        _wait(f"http://127.0.0.1:{sbx_port}/health", sandbox)
        results: dict[str, Any] = {}
        for name, port in (("baseline", base_port), ("sandbox", sbx_port)):
            url = f"http://127.0.0.1:{port}/messages"
            tokens = _tokens(total, "bench-che")
            asyncio.run(_load(url, bodies[:args.warmup], tokens[:args.warmup], args.clients, "warm"))
            results[name] = asyncio.run(_load(url, bodies[args.warmup:], tokens[args.warmup:], args.clients, "run"))
        for name in ("baseline", "sandbox"):
            bad = {k: v for k, v in results[name]["statuses"].items() if k != 200}
            if bad:
                raise SystemExit(f"{name} answered something other than 200: {bad}")
        results["ratio"] = {"rps": round(results["sandbox"]["rps"] / results["baseline"]["rps"], 3),
                            "p99": round(results["sandbox"]["p99_ms"] / results["baseline"]["p99_ms"], 2)}
        results["setup"] = {"format": args.format, "clients": args.clients, "python": platform.python_version(),
                            "cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()],
                            "machine": platform.machine()}
        print(json.dumps(results, indent=1))
    finally:
        for proc in (baseline, sandbox):
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
