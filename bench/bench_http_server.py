"""CPU an HTTP server spends per request of the relay's size: the gateway's uvicorn against granian.

    .venv/bin/python bench/bench_http_server.py --requests 3000 --rounds 2

Issue 20 asks to weigh another ASGI server only by what the gateway itself spends per transfer. This
measures the server alone: a bare ASGI application (it reads the body and answers 1.5 KB of JSON, about a
receipt's size) behind

* ``uvicorn``: the gateway's own server set-up, :func:`gateway.server.uvicorn_config` (the bounded httptools
  protocol, uvloop, no proxy headers, uvicorn's access line at ``info`` as ``carbonlink serve`` logs it;
  ``--no-access-log`` turns that line off, as ``CARBONLINK_ACCESS_LOG=false`` does);
* ``granian``: granian (``pip install granian``; not a dependency of the project) *embedded* in one process,
  the application on the process's uvloop event loop, granian's Rust HTTP/1.1 on its own threads, no access
  line. granian's usual entry point runs the application in child processes; embedding keeps one process,
  so its CPU is counted whole as the gateway's would be.

Each server runs in its own process on a free port; ``--clients`` keep-alive clients (httpx, one process)
POST 2 KB bodies with headers of the relay's size (a DPoP-bound token and a proof). The figure is the
server process's CPU (user + system, all threads, from ``/proc``) per request over ``--requests`` requests
after a warm-up, the servers alternating ``--rounds`` times.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
ANSWER = b'{"receipt":"' + b"r" * 1500 + b'"}'
BODY = b'{"message":"' + b"m" * 2000 + b'"}'
HEADERS = {"content-type": "application/json", "authorization": "DPoP " + "t" * 600, "dpop": "p" * 500,
           "carbonlink-message-id": "m-1"}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Read the whole body, answer 200 with :data:`ANSWER` (and take part in the lifespan protocol)."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(ANSWER)).encode())]})
    await send({"type": "http.response.body", "body": ANSWER})


def serve(server: str, port: int, access_log: bool) -> None:
    """Run ``server`` with :func:`app` on 127.0.0.1:``port`` until terminated (in the child process)."""
    from gateway.settings import Settings

    settings = Settings(host="127.0.0.1", port=port)
    if server == "uvicorn":
        import uvicorn

        from gateway.server import uvicorn_config

        uvicorn.Server(uvicorn_config(app, settings.model_copy(update={"access_log": access_log}),
                                      log_level="info")).run()
        return
    import signal

    import uvloop
    from granian.constants import HTTPModes, Interfaces
    from granian.server.embed import Server

    embedded = Server(app, address=settings.host, port=port, interface=Interfaces.ASGI, http=HTTPModes.http1,
                      websockets=False, log_access=False)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, embedded.stop)
        await embedded.serve()

    uvloop.run(main())


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def drive(port: int, clients: int, requests: int, pid: int) -> dict[str, float]:
    """Warm up, then ``requests`` POSTs spread over ``clients``; the server's CPU per request."""
    url = f"http://127.0.0.1:{port}/v1/transfers"
    pool = [httpx.AsyncClient() for _ in range(clients)]

    async def worker(client: httpx.AsyncClient, n: int) -> None:
        for _ in range(n):
            answer = await client.post(url, content=BODY, headers=HEADERS)
            if answer.status_code != 200 or answer.content != ANSWER:
                raise RuntimeError(f"unexpected answer {answer.status_code}")

    try:
        await asyncio.gather(*(worker(c, 20) for c in pool))
        per_client = max(1, requests // clients)
        cpu0, t0 = cpu_seconds(pid), time.perf_counter()
        await asyncio.gather(*(worker(c, per_client) for c in pool))
        cpu1, t1 = cpu_seconds(pid), time.perf_counter()
    finally:
        for client in pool:
            await client.aclose()
    done = per_client * clients
    return {"server_cpu_us_per_request": round((cpu1 - cpu0) / done * 1e6, 1), "requests_per_second":
            round(done / (t1 - t0), 1), "requests": done}


def measure(server: str, args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    with tempfile.TemporaryFile() as log:
        child = subprocess.Popen(
            [sys.executable, __file__, "--serve", server, "--port", str(port),
             *([] if args.access_log else ["--no-access-log"])],
            cwd=ROOT, stdout=log, stderr=log)
        try:
            for _ in range(200):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if child.poll() is not None:
                        log.seek(0)
                        raise RuntimeError(f"{server} exited: {log.read()[-2000:]!r}") from None
                    time.sleep(0.05)
            figures = asyncio.run(drive(port, args.clients, args.requests, child.pid))
        finally:
            child.terminate()
            child.wait(10)
    return {"server": server, "load_average_1m": round(os.getloadavg()[0], 2), **figures}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="timed requests per server and round")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2, help="rounds; the servers alternate in each")
    parser.add_argument("--servers", default="uvicorn,granian", help="comma-separated: uvicorn, granian")
    parser.add_argument("--no-access-log", dest="access_log", action="store_false",
                        help="uvicorn without its access line")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.port, args.access_log)
        return 0
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = set(servers) - {"uvicorn", "granian"}
    if unknown:
        parser.error(f"--servers: unknown {sorted(unknown)}")
    results = [measure(server, args) for _ in range(args.rounds) for server in servers]
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            print(f"{r['server']:8} {r['server_cpu_us_per_request']:7.1f} us CPU/request  "
                  f"{r['requests_per_second']:7.1f} req/s  load {r['load_average_1m']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
