"""Fault injection around real processes, with counts of what went wrong.

A gateway (``carbonlink serve``) relays messages from a sandbox registry to another one through a
:class:`FaultProxy` that counts every delivery reaching the receiver and can garble, slow, drop or hold
it. The idempotency store is a private ``redis-server`` without persistence (:class:`PrivateRedis`),
which a scenario kills and starts again. A sender (:func:`FaultRun.send`) retries each message, under
its message id, until it has a receipt. Each scenario of :data:`SCENARIOS` injects one fault while it
sends its messages; :meth:`FaultRun.counts` then compares what the senders were told with what the
receiving registry applied and what the evidence log holds:

* ``lost``: a message without a receipt, or receipted ``accepted`` but not applied by the receiver;
* ``duplicated``: a message applied twice, or answered with two different receipts;
* ``falsely_receipted``: a receipt the evidence log does not hold, or more than one receipted record
  for one message id;
* ``redelivered`` (reported, not a failure): deliveries beyond the first (a receiver dedupes them).

Used by ``tests/transfers/test_faults.py`` (a fast sample) and ``bench/faults.py`` (the long run).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.client import GatewayClient
from gateway.demo import Network, Registry, free_port, itmo_message
from gateway.evidence import open_log
from tests.support.processes import ThreadedServer

#: Statuses after which a sender retries the same message id (after Retry-After, capped here).
RETRYABLE = {409, 429, 502, 503, 504}
SENDER_HOLDS = "CA0001-GHA01-GHA-1-2023..CA0001-GHA01-GHA-10000000-2023@treasury"
#: The gateway's delivery timeout in these runs; a "slow" receiver answers after it.
DELIVERY_TIMEOUT = 1.5
LEASE_SECONDS = 3.0


class FaultProxy(ThreadedServer):
    """Forwards the gateway's deliveries to the receiving sandbox, counting them per message id.

    ``mode(message_id, attempt)`` picks what happens to a delivery: ``pass``; ``garble`` (a byte of
    the body changed on the way, so the receiver refuses it); ``drop`` (forwarded, the answer replaced
    by a 503); ``slow`` (forwarded, answered after the gateway's timeout); ``hold`` (forwarded, the
    answer kept until :meth:`release`; :attr:`held` is set meanwhile).
    """

    def __init__(self, target: str) -> None:
        self.target = target
        self.mode: Callable[[str, int], str] = lambda message_id, attempt: "pass"
        self.attempts: Counter[str] = Counter()
        self.delivered: Counter[str] = Counter()
        self.held = threading.Event()
        self._release = threading.Event()
        self._lock = threading.Lock()

        async def messages(request: Request) -> Response:
            body = await request.body()
            message_id = request.headers.get("carbonlink-message-id", "")
            with self._lock:
                self.attempts[message_id] += 1
                mode = self.mode(message_id, self.attempts[message_id])
            if mode == "garble":
                body = body.replace(b"GHA", b"GHB", 1) if b"GHA" in body else body + b" "
            headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
            try:
                async with httpx.AsyncClient(timeout=10) as client:
                    upstream = await client.post(self.target, content=body, headers=headers)
            except httpx.TransportError:
                return JSONResponse({"error": "receiver unreachable"}, status_code=503)
            if mode != "garble":
                with self._lock:
                    self.delivered[message_id] += 1
            if mode == "drop":
                return JSONResponse({"error": "the answer was lost"}, status_code=503)
            if mode == "slow":
                await asyncio.sleep(DELIVERY_TIMEOUT + 0.5)
            if mode == "hold":
                self.held.set()
                await asyncio.to_thread(self._release.wait, 30)
                self._release.clear()
            keep = {k: v for k, v in upstream.headers.items()
                    if k.lower() not in ("content-length", "transfer-encoding", "content-encoding")}
            return Response(upstream.content, status_code=upstream.status_code, headers=keep)

        super().__init__(Starlette(routes=[Route("/messages", messages, methods=["POST"])]), log_level="error")

    def release(self) -> None:
        self.held.clear()
        self._release.set()


class PrivateRedis:
    """A ``redis-server`` of this run only, on a free port: without persistence, or with an append-only
    file fsynced on every write (``persistent``)."""

    def __init__(self, root: Path, *, persistent: bool = False) -> None:
        self.port = free_port()
        self.root = root
        self.persistent = persistent
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else ["--appendonly", "no"]
        self.process = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         *persistence, "--dir", str(self.root)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return self
            time.sleep(0.02)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


@dataclass
class Tally:
    """What one scenario's senders were told."""

    receipts: dict[str, set[bytes]] = field(default_factory=dict)
    outcomes: dict[str, str] = field(default_factory=dict)
    bodies: dict[str, bytes] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)


class FaultRun:
    """A network (sender ``gha``, receiver ``che`` behind a :class:`FaultProxy`), a private Redis, and
    the messages sent so far."""

    def __init__(self, root: Path, *, evidence_url: str | None = None, persistent_redis: bool = False) -> None:
        self.root = root
        self.redis = PrivateRedis(root, persistent=persistent_redis).start()
        receiver_port = free_port()
        self.proxy = FaultProxy(f"http://127.0.0.1:{receiver_port}/messages")
        self.proxy.start_serving(timeout=10)
        registries = [Registry("gha", "GHA", "aef", holds=[SENDER_HOLDS]),
                      Registry("che", "CHE", "canonical", port=receiver_port,
                               messages_url=self.proxy.url + "/messages")]
        self.env = {
            "CARBONLINK_IDEMPOTENCY_STORE": self.redis.url,
            "CARBONLINK_IDEMPOTENCY_LEASE": str(LEASE_SECONDS),
            "CARBONLINK_DELIVERY": json.dumps({"timeout": DELIVERY_TIMEOUT, "connect_timeout": 1, "retries": 0,
                                               "backoff": 0.05, "retry_after": 1}),
            "CARBONLINK_RATE_LIMIT_PER_MINUTE": "1000000", "CARBONLINK_RATE_LIMIT_BURST": "100000",
        }
        if evidence_url is not None:
            self.env["CARBONLINK_EVIDENCE_LOG"] = evidence_url
        self.evidence_url = evidence_url or f"sqlite:///{root / 'net' / 'gateway' / 'evidence.sqlite3'}"
        (root / "net").mkdir(exist_ok=True)
        self.net = Network(registries, root=root / "net", gateway_env=self.env)
        try:
            self.net.start()
        except BaseException:
            self.close()
            raise
        self.client = self.net.client("gha")
        self.tally = Tally()
        #: ``/healthz`` as seen during and after a store failure (evidence scenario).
        self.health_seen: dict[str, Any] = {}
        #: Answers to retries sent while the same message's delivery was under way.
        self.concurrent_retries: list[str] = []
        self._next_unit = 1

    def close(self) -> None:
        self.net.stop()
        self.proxy.stop_serving(timeout=5)
        self.redis.kill()

    # -- sending ------------------------------------------------------------------------------

    def message(self, quantity: int = 10) -> bytes:
        first = self._next_unit
        self._next_unit += quantity
        return json.dumps(itmo_message(sender_party="GHA", receiver_party="CHE", first=first,
                                       last=first + quantity - 1)).encode()

    def send(self, body: bytes, message_id: str, *, deadline: float = 30.0, client: GatewayClient | None = None
             ) -> int:
        """Send until a receipt (retrying retryable answers and cut connections); the last status."""
        client = client or self.client
        self.tally.bodies[message_id] = body
        stop = time.monotonic() + deadline
        status = 0
        while time.monotonic() < stop:
            try:
                sent = client.send(body, message_id=message_id)
            except (httpx.TransportError, OSError):
                self.tally.statuses["connection-error"] += 1
                time.sleep(0.2)
                continue
            status = sent.status
            self.tally.statuses[str(status) if status == 200 else f"{status} {sent.body.get('code')}"] += 1
            if status == 200:
                self.tally.receipts.setdefault(message_id, set()).add(sent.raw)
                self.tally.outcomes[message_id] = str(sent.body["outcome"])
                return status
            if status not in RETRYABLE:
                break
            time.sleep(min(float(sent.retry_after or 1), 0.5))
        return status

    def send_many(self, prefix: str, count: int, between: Callable[[int], None] | None = None) -> list[str]:
        ids = []
        for index in range(count):
            if between is not None:
                between(index)
            message_id = f"{prefix}-{index}"
            self.send(self.message(), message_id)
            ids.append(message_id)
        return ids

    # -- faults -------------------------------------------------------------------------------

    def restart_gateway(self) -> None:
        """SIGKILL the gateway and start it again on the same port and data."""
        net = self.net
        assert net.gateway is not None
        net.gateway.send_signal(signal.SIGKILL)
        net.gateway.wait(timeout=10)
        env = {"CARBONLINK_PORT": str(net.gateway_port), "CARBONLINK_HOST": "127.0.0.1",
               "CARBONLINK_DIRECTORY": str(net.root / "directory.jws"),
               "CARBONLINK_DIRECTORY_REFRESH_SECONDS": "0.5", "CARBONLINK_DATA_DIR": str(net.root / "gateway"),
               **self.env}
        net.gateway = net._spawn(["serve", "--log-level", "info"], "gateway", env)
        net.gateways[0] = net.gateway
        net._wait(net.gateway_url + "/healthz", net.gateway, "gateway")

    def kill_receiver(self) -> None:
        process = self.net.registries["che"].process
        assert process is not None
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def start_receiver(self) -> None:
        net, r = self.net, self.net.registries["che"]
        args = ["sandbox", "--format", r.format, "--port", str(r.port), "--registry-id", r.id, "--party", r.party,
                "--db", str(net.root / f"{r.id}.sqlite3"), "--key", str(net.root / f"{r.id}.key.json"),
                "--gateway-issuer", net.issuer, "--gateway-jwks", net.gateway_url + "/.well-known/jwks.json",
                "--operator-token", r.operator_token]
        r.process = net._spawn(args, r.id)
        net._wait(r.base_url + "/health", r.process, r.id)

    @property
    def evidence_files(self) -> list[Path]:
        database = self.net.root / "gateway" / "evidence.sqlite3"
        return [database, database.with_name(database.name + "-wal")]

    def evidence_read_only(self, on: bool) -> None:
        """Make the evidence log's files immutable (``chattr +i``: even root cannot write them), or not."""
        for path in self.evidence_files:
            subprocess.run(["chattr", "+i" if on else "-i", str(path)], check=True)

    def health(self) -> dict[str, Any]:
        answer: dict[str, Any] = httpx.get(self.net.gateway_url + "/healthz", timeout=10).json()
        return answer

    # -- counting -----------------------------------------------------------------------------

    def counts(self, message_ids: list[str]) -> dict[str, int]:
        """Lost, duplicated and falsely receipted messages among ``message_ids`` (see the module doc)."""
        journal = self.net.sandbox("che").journal()
        applied = Counter(line["message_id"] for line in journal if line.get("direction") == "credit")
        with open_log(self.evidence_url, create=False) as log:
            on_record = {m: [r for r in log.find("gha", m) if r.receipt is not None] for m in message_ids}
        lost = duplicated = false = redelivered = 0
        for m in message_ids:
            receipts = self.tally.receipts.get(m, set())
            accepted = self.tally.outcomes.get(m) == "accepted"
            if not receipts or (accepted and applied[m] == 0):
                lost += 1
            if applied[m] > 1 or len(receipts) > 1:
                duplicated += 1
            if _falsely_receipted(receipts, on_record[m], accepted, applied[m]):
                false += 1
            redelivered += max(0, self.proxy.delivered[m] - 1)
        return {"messages": len(message_ids), "lost": lost, "duplicated": duplicated, "falsely_receipted": false,
                "redelivered": redelivered}


def _falsely_receipted(receipts: set[bytes], recorded: list[Any], accepted: bool, applied: int) -> bool:
    """A receipt the evidence log does not hold (or two on record), or an accepted receipt for a message
    the receiver did not apply (and a rejected one for a message it did)."""
    if len(recorded) > 1 or (receipts and not recorded) or (receipts and not accepted and applied > 0):
        return True
    on_record = json.dumps(recorded[0].receipt, sort_keys=True) if recorded else None
    return any(json.dumps(json.loads(raw), sort_keys=True) != on_record for raw in receipts)


# -- scenarios ------------------------------------------------------------------------------------


def receiver_faults(run: FaultRun, count: int) -> list[str]:
    """Every third delivery garbled, every fourth answer lost, every seventh too slow (first attempts)."""
    def mode(message_id: str, attempt: int) -> str:
        if attempt > 1:
            return "pass"
        index = int(message_id.rsplit("-", 1)[1])
        return "slow" if index % 7 == 3 else "drop" if index % 4 == 1 else "garble" if index % 3 == 2 else "pass"

    run.proxy.mode = mode
    try:
        return run.send_many("receiver-faults", count)
    finally:
        run.proxy.mode = lambda message_id, attempt: "pass"


def receiver_down(run: FaultRun, count: int) -> list[str]:
    """The receiving registry's process is killed a third of the way in, and started again a second later."""
    def between(index: int) -> None:
        if index == count // 3:
            run.kill_receiver()
            threading.Timer(1.0, run.start_receiver).start()

    return run.send_many("receiver-down", count, between)


def _mid_flight(run: FaultRun, message_id: str, body: bytes, fault: Callable[[], None]) -> None:
    """Send ``body`` once in a thread; while the receiver's answer is held, run ``fault``; then let the
    answer go and wait for the sender."""
    client = run.net.client("gha")
    client.token()
    run.proxy.mode = lambda m, attempt: "hold" if m == message_id and attempt == 1 else "pass"
    first = threading.Thread(target=lambda: run.send(body, message_id, deadline=0.1, client=client))
    first.start()
    if not run.proxy.held.wait(15):
        raise RuntimeError("the delivery never reached the receiver")
    try:
        fault()
    finally:
        run.proxy.release()
        first.join(30)
        run.proxy.mode = lambda m, attempt: "pass"


def redis_restart(run: FaultRun, count: int) -> list[str]:
    """Redis is killed while a receiver's answer is in flight, and started again empty (no persistence)
    after a second; later Redis is restarted empty while another answer is in flight and the message is
    retried meanwhile (the retry must wait, 409, not deliver again). Every message is sent until it has
    a receipt, and then once more (its receipt must not change)."""
    ids: list[str] = []

    def restart_and_retry(message_id: str, body: bytes) -> None:
        run.redis.kill()
        run.redis.start()
        retry = run.net.client("gha").send(body, message_id=message_id)
        run.concurrent_retries.append(f"{retry.status} {retry.body.get('code')}")

    def between(index: int) -> None:
        if index == count // 3:
            message_id = "redis-restart-inflight"
            body = run.message()
            _mid_flight(run, message_id, body, run.redis.kill)
            threading.Timer(1.0, run.redis.start).start()
            run.send(body, message_id)
            ids.append(message_id)
        if index == 2 * count // 3:
            message_id = "redis-restart-retried"
            body = run.message()
            _mid_flight(run, message_id, body, lambda: restart_and_retry(message_id, body))
            run.send(body, message_id)
            ids.append(message_id)

    ids += run.send_many("redis-restart", count, between)
    return _resend_receipted(run, ids)


def gateway_sigkill(run: FaultRun, count: int) -> list[str]:
    """The gateway is SIGKILLed while a receiver's answer is in flight and started again; the message is
    retried through the new process (409 until the claim's lease ends, then delivered again: the
    receiver answers as before)."""
    ids: list[str] = []

    def between(index: int) -> None:
        if index != count // 2:
            return
        message_id = "gateway-sigkill-inflight"
        body = run.message()
        _mid_flight(run, message_id, body, run.restart_gateway)
        run.client = run.net.client("gha")
        run.send(body, message_id)
        ids.append(message_id)

    ids += run.send_many("gateway-sigkill", count, between)
    return _resend_receipted(run, ids)


def evidence_failing(run: FaultRun, count: int) -> list[str]:
    """The evidence log's files become read-only a third of the way in, and writable again a second
    later: messages are refused with 503 before anything is delivered, then relayed."""
    def between(index: int) -> None:
        if index == count // 3:
            run.evidence_read_only(True)
            run.health_seen["during"] = run.health()

            def back() -> None:
                run.evidence_read_only(False)

            threading.Timer(1.0, back).start()

    try:
        ids = run.send_many("evidence-failing", count, between)
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            run.evidence_read_only(False)
    run.health_seen["after"] = run.health()
    return ids


def _resend_receipted(run: FaultRun, ids: list[str]) -> list[str]:
    """Send every message once more with its body: its receipt must come back byte for byte (a second,
    different receipt counts as a duplicate)."""
    for message_id in ids:
        run.send(run.tally.bodies[message_id], message_id)
    return ids


SCENARIOS: dict[str, Callable[[FaultRun, int], list[str]]] = {
    "receiver slow, garbling, answers lost": receiver_faults,
    "receiver killed and restarted": receiver_down,
    "Redis killed mid-flight, restarted empty": redis_restart,
    "gateway SIGKILL mid-flight, restarted": gateway_sigkill,
    "evidence log read-only, then writable": evidence_failing,
}


@contextlib.contextmanager
def fault_run(root: Path) -> Iterator[FaultRun]:
    run = FaultRun(root)
    try:
        yield run
    finally:
        run.close()
