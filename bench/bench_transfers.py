"""End-to-end transfers through the gateway against the same transfers posted straight to the registry.

One run, one machine, everything on 127.0.0.1 (see docs/benchmarks-transfers.md):

* a :class:`gateway.demo.Network`: ``carbonlink serve`` (the gateway) and two ``carbonlink sandbox``
  registries, the sender ``gha-sandbox`` (format ``aef``, seeded with every ITMO the run moves) and
  the receiver ``che-sandbox`` (``--receiver-format``, default ``canonical``);
* phase ``direct``: ``--clients`` concurrent keep-alive clients POST first transfers, already in
  the receiver's format, to the receiving sandbox's ``/messages`` with a gateway-signed bearer
  token (minted with the gateway's development keyring before the phase, untimed), exactly as the
  gateway delivers them;
* phase ``gateway``: the same clients POST the AEF JSON transfers to ``/v1/transfers`` with the
  sender's DPoP-bound token (one token per client, obtained with private_key_jwt before the phase)
  and a fresh DPoP proof per request, made inside the timed request. The gateway authenticates,
  validates, translates, signs, delivers to the receiving sandbox, verifies its signed answer,
  records evidence and answers with a signed receipt.

Every request moves a different block of ``--block`` ITMOs under a new message id, so each one is
accepted. After the timed phases (so it costs the timing nothing) the run checks every answer:
HTTP 200, verdict/outcome ``accepted``, the receipt's gateway signature and the sandbox answer's
signature; and that the receiver now holds exactly the units of all accepted transfers.

Each phase runs for ``--seconds`` (or until ``--max-requests``), after ``--warmup`` seconds of
the same load that are not counted. Prints a summary, or one JSON object with ``--json``:
requests/s, p50/p95/p99 latency, errors, CPU seconds each process spent per request, the
gateway/direct ratios, the targets (throughput >= 0.5x direct with the gateway on CPUs of its
own, >= 0.45x in the shared layout; p99 <= 2x direct) and the machine.
``--profile DIR`` samples the gateway (and receiving sandbox) with py-spy during the gateway phase.

Usage: ``python bench/bench_transfers.py [--seconds 10] [--clients 16] [--receiver-format canonical]
[--rounds 1] [--json] [--profile DIR]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from joserfc.jwk import ECKey, Key

from adapters import default_catalog
from gateway.client import GatewayClient
from gateway.demo import Authority, Network, Registry, demo_authorization, itmo_message
from gateway.demo_policy import approvals
from gateway.governance import APPROVAL_HEADER, sign_policy
from gateway.transfers import DetachedSigner
from gateway.trust import development, jose
from gateway.trust.keys import SigningKeyRing, generate_key, public_jwk
from gateway.trust.outbound import RESPONSE_TYP, SIGNATURE_HEADER
from standards.codec import Medium

SENDER, SENDER_PARTY = "gha-sandbox", "GHA"
RECEIVER, RECEIVER_PARTY = "che-sandbox", "CHE"
TRANSFERS_PATH = "/v1/transfers"
MEDIA_TYPES = {Medium.JSON: "application/json", Medium.CSV: "text/csv"}
#: Issue 20: throughput >= 0.5 of direct with the gateway on CPUs of its own, >= 0.45 where every
#: process shares the CPUs; p99 <= 2x direct in both.
TARGET_RPS_RATIO = {"shared": 0.45}
TARGET_RPS_RATIO_OWN_CPU = 0.5
TARGET_P99_RATIO = 2.0
#: Gateway CPU per relayed transfer against the receiving sandbox's, in the gateway phase (issue 20).
TARGET_CPU_RATIO = 1.1
WARMUP_REQUESTS = 400  # at most, per warm-up
BODIES_PER_SECOND = 400  # default --max-requests per second of phase (above what one machine reaches)
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- requests -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class Reply:
    index: int
    status: int  # 0: no HTTP answer (transport error)
    body: bytes
    signature: str | None
    latency: float
    retries: int = 0


@dataclass(slots=True)
class PhaseResult:
    name: str
    seconds: float
    replies: list[Reply]
    capped: bool
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    load_average: float = 0.0  # 1-minute load average when the phase ended


class BlockCounter:
    """Hands out distinct blocks of ``size`` ITMOs: block ``k`` is ITMOs ``k*size+1 .. (k+1)*size``."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.next = 0

    def take(self, n: int) -> range:
        blocks = range(self.next, self.next + n)
        self.next += n
        return blocks

    def ids(self, block: int) -> tuple[int, int]:
        return block * self.size + 1, (block + 1) * self.size


def aef_body(first: int, last: int) -> bytes:
    return orjson.dumps(
        itmo_message(sender_party=SENDER_PARTY, receiver_party=RECEIVER_PARTY, first=first, last=last)
    )


def receiver_body(aef: bytes, receiver_format: str) -> tuple[bytes, str]:
    """The body the gateway delivers for ``aef``: parsed by the aef adapter, written by the receiver's."""
    adapters = default_catalog()
    document = adapters.get("aef").parse(aef, medium=Medium.JSON).document
    target = adapters.get(receiver_format)
    medium = target.media[0]
    out = target.serialize(document, medium=medium)
    if out.files or medium not in MEDIA_TYPES:
        raise SystemExit(
            f"--receiver-format {receiver_format}: the gateway would not deliver it as one "
            f"{'/'.join(m.value for m in MEDIA_TYPES)} body"
        )
    return out.data, MEDIA_TYPES[medium]


def gateway_tokens(n: int, *, issuer: str, audience: str, lifetime: int) -> list[str]:
    """Bearer tokens as :meth:`OutboundClient.gateway_token` mints them (development keyring)."""
    ring = SigningKeyRing.from_document(development.keyring_document(), grace_seconds=330)
    now = int(time.time())
    return [
        ring.sign(
            {"typ": "at+jwt"},
            {
                "iss": issuer,
                "sub": issuer,
                "client_id": issuer,
                "aud": audience,
                "iat": now,
                "exp": now + lifetime,
                "jti": secrets.token_urlsafe(16),
                "scope": "messages:deliver",
            },
        )
        for _ in range(n)
    ]


def controls_policy(root: Path) -> tuple[Path, dict[str, Key]]:
    """A development policy (signed by the development anchor) that turns every transaction control on for the
    sender and refuses none of the run's transfers: four eyes above 5 units (every transfer of ``--block`` 10
    carries approvals by two officers), business hours every day 00:00-23:59 in its time zone, a holding period
    for new counterparts with the receiver on its trusted list, daily limits in total and per counterpart far
    above what a run sends (each transfer reserves its units in the controls store), no kill switch."""
    officers = {"officer-a": generate_key("ES256", "officer-a-1"), "officer-b": generate_key("ES256", "officer-b-1")}
    controls = {"timezone": "Africa/Accra", "four_eyes_above": "5", "daily_limit": "1000000000000",
                "counterparty_daily_limit": "1000000000000", "trusted": [RECEIVER], "holding_seconds": 86400,
                "business_hours": {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00",
                                   "end": "23:59"},
                "officers": [{"id": name, "keys": [public_jwk(key)]} for name, key in officers.items()]}
    content = {"iss": "bench-network-operator", "environment": "development", "version": 1,
               "participants": {SENDER: controls}}
    path = root / "policy.jws"
    path.write_text(sign_policy(content, development.anchor(), valid_for=86400) + "\n", encoding="ascii")
    return path, officers


# -- the load generator --------------------------------------------------------------------------


Prepare = Callable[[int, int], Request]  # (worker, index) -> request


async def load(
    prepare: Prepare,
    *,
    count: int,
    clients: int,
    seconds: float,
    on_reply: Callable[[int, httpx.Response], bool] | None = None,
) -> tuple[list[Reply], float, bool]:
    """``clients`` workers send requests ``0..count-1`` until done or ``seconds`` have passed.

    A request's latency runs from building it (a DPoP proof is made there) to the last byte of
    the answer. ``on_reply(worker, response)`` returning True resends the request once (a new
    DPoP nonce). Returns the replies, the elapsed seconds and whether ``count`` ran out first.
    """
    next_index = 0
    replies: list[Reply] = []
    start = time.perf_counter()
    deadline = start + seconds
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)

    async def worker(wid: int) -> None:
        nonlocal next_index
        async with httpx.AsyncClient(timeout=30, limits=limits) as http:
            while next_index < count and time.perf_counter() < deadline:
                index = next_index
                next_index += 1
                t0 = time.perf_counter()
                retries = 0
                while True:
                    request = prepare(wid, index)
                    try:
                        response = await http.post(request.url, content=request.body, headers=request.headers)
                    except httpx.HTTPError:
                        replies.append(Reply(index, 0, b"", None, time.perf_counter() - t0, retries))
                        break
                    if on_reply is not None and retries == 0 and on_reply(wid, response):
                        retries += 1
                        continue
                    replies.append(
                        Reply(
                            index,
                            response.status_code,
                            response.content,
                            response.headers.get(SIGNATURE_HEADER),
                            time.perf_counter() - t0,
                            retries,
                        )
                    )
                    break

    await asyncio.gather(*(worker(w) for w in range(clients)))
    return replies, time.perf_counter() - start, next_index >= count


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a process (all its threads) from /proc."""
    stat = Path(f"/proc/{pid if pid is not None else 'self'}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


# -- the two targets -------------------------------------------------------------------------------


class Bench:
    def __init__(self, net: Network, args: argparse.Namespace, officers: dict[str, Key] | None = None) -> None:
        self.net = net
        self.args = args
        self.officers = officers  # --controls on: every transfer carries these officers' approvals
        self.blocks = BlockCounter(args.block)
        self.receiver = net.registries[RECEIVER]
        self.accepted_units = 0
        self.clients: list[GatewayClient] = []
        self._direct_media = ""

    def processes(self) -> dict[str, int | None]:
        gateway = self.net.gateway
        receiver = self.receiver.process
        assert gateway is not None and receiver is not None
        return {"gateway": gateway.pid, "receiver_sandbox": receiver.pid, "load_generator": None}

    def cpu_used(self) -> dict[str, float]:
        """CPU seconds so far of each role; ``gateway`` sums every gateway process (``--gateways``)."""
        used = {p: cpu_seconds(pid) for p, pid in self.processes().items()}
        used["gateway"] = sum(cpu_seconds(process.pid) for process in self.net.gateways)
        return used

    def run_phase(
        self,
        name: str,
        prepare: Prepare,
        count: int,
        seconds: float,
        on_reply: Callable[[int, httpx.Response], bool] | None = None,
    ) -> PhaseResult:
        before = self.cpu_used()
        replies, elapsed, capped = asyncio.run(
            load(prepare, count=count, clients=self.args.clients, seconds=seconds, on_reply=on_reply)
        )
        after = self.cpu_used()
        used = {p: round(after[p] - before[p], 3) for p in before}
        return PhaseResult(name, elapsed, replies, capped, used, round(os.getloadavg()[0], 2))

    # direct: the receiver's format, a pre-minted gateway token, straight to the sandbox

    def direct(self, count: int, seconds: float) -> tuple[PhaseResult, list[bytes]]:
        bodies = []
        for block in self.blocks.take(count):
            data, self._direct_media = receiver_body(aef_body(*self.blocks.ids(block)), self.receiver.format)
            bodies.append(data)
        tokens = gateway_tokens(
            count, issuer=self.net.issuer, audience=self.receiver.base_url, lifetime=int(seconds) + 120
        )
        url = self.receiver.base_url + "/messages"
        tag = secrets.token_hex(4)
        signer = DetachedSigner(SigningKeyRing.from_document(development.keyring_document(), grace_seconds=330),
                                self.net.issuer)
        signatures = [signer.sign(body) for body in bodies]  # the gateway's signature, as the sandbox requires

        def prepare(worker: int, index: int) -> Request:
            return Request(
                url,
                {
                    "Authorization": f"Bearer {tokens[index]}",
                    "Content-Type": self._direct_media,
                    "Carbonlink-Message-Id": f"direct-{tag}-{index}",
                    "Carbonlink-Sender": SENDER,
                    "Carbonlink-Message-Kind": "transfers",
                    SIGNATURE_HEADER: signatures[index],
                },
                bodies[index],
            )

        return self.run_phase("direct", prepare, count, seconds), bodies

    # gateway: AEF JSON, the sender's DPoP-bound token and a fresh proof per request

    def connect(self) -> None:
        """One GatewayClient per load-generator client, each with its own DPoP key and token."""
        sender = self.net.registries[SENDER]
        assert sender.key is not None
        for i in range(self.args.clients):
            dpop_key: Key = ECKey.generate_key("P-256", parameters={"use": "sig", "alg": "ES256"})  # no kid
            # client i talks to gateway i mod --gateways (one issuer: they act as one gateway)
            client = GatewayClient(self.net.gateway_urls[i % len(self.net.gateway_urls)], SENDER, sender.key,
                                   dpop_key=dpop_key, issuer=self.net.issuer)
            client.token()
            self.clients.append(client)
            if i == 0:
                client.gateway_keys()

    def gateway(self, count: int, seconds: float) -> tuple[PhaseResult, list[bytes]]:
        bodies = [aef_body(*self.blocks.ids(block)) for block in self.blocks.take(count)]
        tag = secrets.token_hex(4)
        signed = ([", ".join(approvals(self.officers, sender=SENDER, message_id=f"gw-{tag}-{i}", body=body))
                   for i, body in enumerate(bodies)] if self.officers else [])  # untimed, as the sender would

        def prepare(worker: int, index: int) -> Request:
            client = self.clients[worker]
            url = client.base_url + TRANSFERS_PATH
            token = client.token()
            proof = client.proof("POST", TRANSFERS_PATH, access_token=token)  # the client's DPoP proof, as it sends it
            headers = {
                "Authorization": f"DPoP {token}",
                "DPoP": proof,
                "Content-Type": "application/json",
                "Carbonlink-Message-Id": f"gw-{tag}-{index}",
            }
            if signed:
                headers[APPROVAL_HEADER] = signed[index]
            return Request(url, headers, bodies[index])

        def on_reply(worker: int, response: httpx.Response) -> bool:
            client = self.clients[worker]
            nonce = response.headers.get("dpop-nonce")
            fresh = nonce is not None and nonce != client.nonce
            if nonce is not None:
                client.nonce = nonce
            return fresh and response.status_code == 401

        return self.run_phase("gateway", prepare, count, seconds, on_reply), bodies

    # checks, after the clock has stopped

    def check_direct(self, result: PhaseResult) -> Counter[str]:
        errors: Counter[str] = Counter()
        key = self.receiver.key
        assert key is not None
        for reply in result.replies:
            problem = _status_problem(reply)
            if problem is None:
                try:
                    jose.verify(
                        reply.signature or "",
                        typ=[RESPONSE_TYP],
                        key_for=lambda header: key,
                        payload=reply.body,
                        registry=jose.make_registry(max_payload=len(reply.body) * 2),
                    )
                    verdict = orjson.loads(reply.body).get("verdict")
                    problem = None if verdict == "accepted" else f"verdict {verdict}"
                except (jose.JwsRejected, orjson.JSONDecodeError) as exc:
                    problem = f"unverifiable answer: {exc}"
            self._count(errors, problem)
        return errors

    def check_gateway(self, result: PhaseResult) -> Counter[str]:
        errors: Counter[str] = Counter()
        verifier = self.clients[0]
        for reply in result.replies:
            problem = _status_problem(reply)
            if problem is None:
                try:
                    verifier.verify_receipt(reply.body, reply.signature)
                    receipt = orjson.loads(reply.body)
                    answer = receipt.get("receiver_answer", {}).get("body", {})
                    if receipt.get("outcome") != "accepted" or answer.get("verdict") != "accepted":
                        problem = f"outcome {receipt.get('outcome')}"
                    elif receipt.get("receiver", {}).get("id") != RECEIVER:
                        problem = "receipt names another receiver"
                except Exception as exc:  # any failure to read a receipt is an error of the run, counted
                    problem = f"unverifiable receipt: {type(exc).__name__}"
            self._count(errors, problem)
        return errors

    def _count(self, errors: Counter[str], problem: str | None) -> None:
        if problem is None:
            self.accepted_units += self.args.block
        else:
            errors[problem[:120]] += 1

    def receiver_held(self) -> int:
        return int(self.net.sandbox(RECEIVER).holdings()["total"]["held"])


def _status_problem(reply: Reply) -> str | None:
    if reply.status == 0:
        return "transport error"
    if reply.status != 200:
        try:
            code = orjson.loads(reply.body).get("code")
        except (orjson.JSONDecodeError, AttributeError):
            code = None
        return f"HTTP {reply.status} {code or ''}".strip()
    return None


# -- figures ---------------------------------------------------------------------------------------


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * q // 100))
    return sorted_values[int(rank) - 1]


def figures(results: list[PhaseResult], errors: Counter[str]) -> dict[str, Any]:
    replies = [r for result in results for r in result.replies]
    seconds = sum(r.seconds for r in results)
    latencies = sorted(r.latency for r in replies)
    ok = len(replies) - sum(errors.values())
    cpu: Counter[str] = Counter()
    for result in results:
        cpu.update(result.cpu_seconds)
    return {
        "requests": len(replies),
        "accepted": ok,
        "errors": dict(errors),
        "seconds": round(seconds, 3),
        "rps": round(len(replies) / seconds, 1) if seconds else 0.0,
        "accepted_rps": round(ok / seconds, 1) if seconds else 0.0,
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
        "nonce_retries": sum(r.retries for r in replies),
        "capped_by_max_requests": any(r.capped for r in results),
        "cpu_ms_per_request": {p: round(s / len(replies) * 1000, 2) for p, s in sorted(cpu.items())}
        if replies
        else {},
    }


def _round_figures(direct: PhaseResult, gateway: PhaseResult) -> dict[str, Any]:
    """Requests/s of one direct+gateway round (all answers, checked or not) and their ratio."""
    d_rps, g_rps = len(direct.replies) / direct.seconds, len(gateway.replies) / gateway.seconds
    return {
        "direct_rps": round(d_rps, 1),
        "gateway_rps": round(g_rps, 1),
        "ratio": round(g_rps / d_rps, 3) if d_rps else None,
        "load_average_1m": [direct.load_average, gateway.load_average],
    }


def _pin(pid: int, cpus: set[int]) -> None:
    """Pin every thread of ``pid`` (threads it starts later inherit the main thread's mask)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        os.sched_setaffinity(int(task.name), cpus)


#: Every CPU this run may use, read before any pinning.
ALL_CPUS = sorted(os.sched_getaffinity(0))
#: ``--cpu-layout`` choices and what each says about where the processes run.
CPU_LAYOUTS = {
    "shared": "gateway, both sandboxes and the load generator share these CPUs",
    "own-gateway-cpu": "both phases: the gateway pinned to its own CPU, sandboxes and load generator on the others",
    "pinned-gateway-phase": "direct phase unpinned on every CPU; gateway phase: the gateway on its own CPU, "
                            "sandboxes and load generator on the others",
    "pinned-gateway-only": "direct phase unpinned on every CPU; gateway phase: the gateway pinned to one CPU, "
                           "the sandboxes and load generator unpinned",
}


def arrange_cpus(net: Network, layout: str, phase: str) -> None:
    """Apply ``layout`` before ``phase``. ``own-gateway-cpu``: the gateway on the last CPU, the
    sandboxes and this load generator on the others, in both phases (the registries and the client
    have the same CPUs with and without the gateway). ``pinned-gateway-phase``: the same in the
    gateway phase only; the direct phase runs unpinned on every CPU (the direct baseline keeps the
    whole machine, as a deployment would set CPU affinity for its gateway). ``pinned-gateway-only``:
    in the gateway phase only the gateway is pinned; the others run anywhere."""
    if layout == "shared":
        return
    cpus = ALL_CPUS
    if len(cpus) < 2:
        raise SystemExit(f"--cpu-layout {layout} needs at least 2 CPUs")
    pinned = layout == "own-gateway-cpu" or phase == "gateway"
    gateway_cpus, rest = ({cpus[-1]}, set(cpus[:-1])) if pinned else (set(cpus), set(cpus))
    if layout == "pinned-gateway-only":
        rest = set(cpus)
    for process in net.gateways:
        _pin(process.pid, gateway_cpus)
    for registry in net.registries.values():
        assert registry.process is not None
        _pin(registry.process.pid, rest)
    _pin(os.getpid(), rest)


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "system": platform.system(),
        "release": platform.release(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "shared": "gateway, both sandboxes and the load generator share these CPUs",
    }


def rps_target(layout: str) -> float:
    """The throughput ratio issue 20 asks of ``layout``."""
    return TARGET_RPS_RATIO.get(layout, TARGET_RPS_RATIO_OWN_CPU)


def cpu_layout(args: argparse.Namespace) -> str:
    return CPU_LAYOUTS[args.cpu_layout]


# -- profiling -------------------------------------------------------------------------------------


def start_profilers(
    directory: Path, pids: dict[str, int], seconds: float, *, idle: bool = True
) -> list[subprocess.Popen[bytes]]:
    """py-spy on each pid (all threads, raw collapsed stacks): with ``idle`` every thread's stack
    (wall time), else only the thread holding the GIL (the process's Python CPU time)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        raise SystemExit("--profile needs py-spy: pip install py-spy")
    directory.mkdir(parents=True, exist_ok=True)
    for name in pids:
        (directory / f"{name}.txt").unlink(missing_ok=True)
    return [
        subprocess.Popen(
            [
                spy,
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(max(1, int(seconds))),
                "--rate",
                "200",
                *(["--idle"] if idle else ["--gil"]),
                "--threads",
                "--format",
                "raw",
                "--nonblocking",
                "--output",
                str(directory / f"{name}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, pid in pids.items()
    ]


def _frame_name(frame: str) -> str:
    """``func (path:line)`` -> ``func (path)``."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.split(':')[0].rstrip(')')})" if where else name


OWN_CODE = ("gateway/", "adapters/", "standards/")


def profile_breakdown(path: Path, limit: int = 15) -> dict[str, Any]:
    """Where the gateway's request time goes, from py-spy raw stacks.

    ``steps``: share of each step directly under ``TransferService.submit`` in the samples inside
    it; ``leaves``: the innermost frames of those samples; ``event_loop_busy``: share of
    main-thread samples not parked in the selector; ``inclusive``: share of all samples in which
    a function of the project (gateway/, adapters/, standards/) is on the stack. Sampled with
    ``--idle`` (the default) the shares are of wall time, waiting included; with ``--profile-cpu``
    (``--gil``) they are of the time a thread held the GIL, i.e. the Python CPU time.
    """
    steps: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    loop_busy = loop_total = in_submit = total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        if "MainThread" in frames[0]:
            loop_total += count
            if not any("select (selectors.py" in f or "EpollSelector" in f for f in frames[-3:]):
                loop_busy += count
        names = [_frame_name(f) for f in frames[1:]]
        total += count
        for name in {n for n in names if n.rpartition(" (")[2].startswith(OWN_CODE)}:
            inclusive[name] += count
        marker = "TransferService.submit (gateway/transfers/service.py)"
        if marker in names:
            in_submit += count
            below = names[names.index(marker) + 1 :]
            steps[below[0] if below else "TransferService.submit (own code)"] += count
            leaves[names[-1]] += count

    def shares(counter: Counter[str]) -> list[tuple[str, float]]:
        return (
            [(name, round(100 * n / in_submit, 1)) for name, n in counter.most_common(limit)]
            if in_submit
            else []
        )

    return {
        "submit_samples": in_submit,
        "steps": shares(steps),
        "leaves": shares(leaves),
        "event_loop_busy": round(loop_busy / loop_total, 3) if loop_total else None,
        "samples": total,
        "inclusive": [(name, round(100 * n / total, 1)) for name, n in inclusive.most_common(limit)]
        if total
        else [],
    }


# -- gateway stores ----------------------------------------------------------------------------------

REDIS_URL = "redis://127.0.0.1:6379/9"  # not 15: the test suite flushes that one
POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/test"


class Stores:
    """Where the gateway keeps idempotency claims and evidence during the run.

    ``embedded``: the gateway's defaults (SQLite files in its data folder, ``synchronous=FULL``);
    ``redis-postgres``: claims and DPoP replay in the local Redis (db 9, a prefix of this run),
    evidence in the local PostgreSQL (a table of this run, dropped afterwards).
    """

    def __init__(self, kind: str, controls: bool = False, governance: bool = False) -> None:
        self.kind = kind
        self.controls = controls
        self.governance = governance  # an authorization store of the run (tables of its own in PostgreSQL)
        self.tag = secrets.token_hex(4)
        #: a folder of the run for store files named in --gateway-env as ``{data}/...``
        self.data = Path(tempfile.mkdtemp(prefix="bench-transfers-"))

    def env(self) -> dict[str, str]:
        if self.kind == "embedded":
            return {}
        controls = {"CARBONLINK_POLICY_STORE": f"{POSTGRES_DSN}?table={self.controls_table}"} if self.controls else {}
        if self.governance:  # the evidence log's database (the drawing joins its transaction), tables of this run
            controls["CARBONLINK_AUTHORIZATION_STORE"] = f"{POSTGRES_DSN}?table={self.authorization_table}"
        return {
            "CARBONLINK_IDEMPOTENCY_STORE": f"{REDIS_URL}?prefix=bench-{self.tag}",
            "CARBONLINK_REPLAY_STORE": REDIS_URL,
            "CARBONLINK_EVIDENCE_LOG": f"{POSTGRES_DSN}?table={self.table}",
            **controls,
        }

    @property
    def controls_table(self) -> str:
        return f"bench_controls_{self.tag}"

    @property
    def authorization_table(self) -> str:
        return f"bench_authz_{self.tag}"

    @property
    def table(self) -> str:
        return f"bench_evidence_{self.tag}"

    def clean(self) -> None:
        shutil.rmtree(self.data, ignore_errors=True)
        if self.kind == "embedded":
            return
        import psycopg
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"bench-{self.tag}*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {self.table}, {self.table}_keys CASCADE")
            conn.execute(f"DROP FUNCTION IF EXISTS {self.table}_refuse() CASCADE")
            if self.controls:
                table = self.controls_table
                conn.execute(f"DROP TABLE IF EXISTS {table}_usage, {table}_totals, {table}_counterparts")
            if self.governance:
                table = self.authorization_table
                conn.execute(f"DROP TABLE IF EXISTS {table}_versions, {table}_revocations, {table}_drawings, "
                             f"{table}_totals")


def parse_env(pairs: list[str], data: Path | None = None) -> dict[str, str]:
    """``--gateway-env NAME=VALUE`` pairs; only CARBONLINK_* settings of the gateway. ``{data}``
    in a value is replaced by ``data`` (a folder of the run, for store files)."""
    env = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.startswith("CARBONLINK_"):
            raise SystemExit(f"--gateway-env {pair!r}: give CARBONLINK_NAME=VALUE")
        env[name] = value.replace("{data}", str(data)) if data is not None else value
    return env


# -- main ------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="timed seconds per phase (1-120)")
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="untimed seconds of load before each phase (0-30)"
    )
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (1-64)")
    parser.add_argument(
        "--max-requests",
        type=int,
        default=None,
        help=f"per phase (bounds the prepared bodies; default {BODIES_PER_SECOND} per second, at least 1000)",
    )
    parser.add_argument("--block", type=int, default=10, help="ITMOs per transfer")
    parser.add_argument("--rounds", type=int, default=1, help="direct+gateway rounds, alternating (1-5)")
    parser.add_argument("--receiver-format", default="canonical", choices=["canonical", "spreadsheet", "aef"])
    parser.add_argument(
        "--stores",
        default="embedded",
        choices=["embedded", "redis-postgres"],
        help="the gateway's idempotency/evidence stores (see Stores)",
    )
    parser.add_argument(
        "--gateway-env",
        action="append",
        default=[],
        metavar="CARBONLINK_NAME=VALUE",
        help="extra gateway setting (repeatable), e.g. a store URL; {data} is a folder of the run",
    )
    parser.add_argument(
        "--cpu-layout",
        default="shared",
        choices=sorted(CPU_LAYOUTS),
        help="where the processes run (docs/benchmarks-transfers.md); default: all share every CPU",
    )
    parser.add_argument(
        "--gateways",
        type=int,
        default=1,
        help="gateway processes acting as one (clients spread over them; needs --stores redis-postgres above 1)",
    )
    parser.add_argument(
        "--governance",
        default="none",
        choices=["none", "off", "on"],
        help="'on': the sender's national authority issues the authorization every transfer cites and the gateway "
             "gates them (CARBONLINK_GOVERNANCE_ENFORCE=always); 'off': the same network with the gate off; "
             "'none': no authority (as before roles)",
    )
    parser.add_argument(
        "--controls",
        default="off",
        choices=["off", "on"],
        help="'on': the gateway applies a signed transaction-controls policy (CARBONLINK_POLICY) that turns every "
             "control on for the sender without refusing the run's transfers, each of which carries two officers' "
             "approvals (four eyes; see controls_policy); 'off': no policy",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--profile", type=Path, help="py-spy the gateway during the first gateway phase (raw stacks here)"
    )
    parser.add_argument(
        "--profile-cpu", action="store_true", help="sample the GIL holder only (default: wall time, idle too)"
    )
    args = parser.parse_args(argv)
    if args.max_requests is None:
        args.max_requests = min(50_000, max(1000, int(args.seconds * BODIES_PER_SECOND)))
    bounds = {
        "seconds": (1, 120),
        "warmup": (0, 30),
        "clients": (1, 64),
        "max_requests": (10, 50_000),
        "block": (1, 1000),
        "rounds": (1, 5),
        "gateways": (1, 4),
    }
    for name, (low, high) in bounds.items():
        if not low <= getattr(args, name) <= high:
            parser.error(f"--{name.replace('_', '-')} must be between {low} and {high}")
    if args.gateways > 1 and args.stores != "redis-postgres":
        parser.error("--gateways above 1 needs --stores redis-postgres (the gateways share their stores)")
    return args


def _measure(
    net: Network,
    args: argparse.Namespace,
    results: dict[str, list[PhaseResult]],
    errors: dict[str, Counter[str]],
    officers: dict[str, Key] | None = None,
) -> tuple[int, int, dict[str, Any]]:
    """The warm-ups, phases and checks on a started network; returns (held, accepted units, profile)."""
    warm = min(args.max_requests, WARMUP_REQUESTS) if args.warmup else 0
    bench = Bench(net, args, officers)
    bench.connect()
    for round_no in range(args.rounds):
        for name in ("direct", "gateway"):
            arrange_cpus(net, args.cpu_layout, name)
            step = bench.direct if name == "direct" else bench.gateway
            check = bench.check_direct if name == "direct" else bench.check_gateway
            if warm:
                warm_result, _ = step(warm, args.warmup)
                errors[f"{name}_warmup"].update(check(warm_result))  # not in the figures; reported
            spies: list[subprocess.Popen[bytes]] = []
            if args.profile and name == "gateway" and round_no == 0:
                gateway_pid = bench.processes()["gateway"]
                assert gateway_pid is not None
                spies = start_profilers(
                    args.profile, {"gateway": gateway_pid}, args.seconds, idle=not args.profile_cpu
                )
            result, _ = step(args.max_requests, args.seconds)
            for spy in spies:
                try:
                    spy.wait(timeout=args.seconds + 30)
                except subprocess.TimeoutExpired:
                    spy.send_signal(signal.SIGINT)
                    spy.wait(timeout=10)
            results[name].append(result)
            errors[name].update(check(result))
    held = bench.receiver_held()
    profile: dict[str, Any] = {}
    if args.profile:
        sampled = args.profile / "gateway.txt"
        profile = (
            {"gateway": {**profile_breakdown(sampled), "cpu": args.profile_cpu}} if sampled.exists() else {}
        )
    return held, bench.accepted_units, profile


def run(args: argparse.Namespace) -> dict[str, Any]:
    phases = 2 * args.rounds
    warm = min(args.max_requests, WARMUP_REQUESTS) if args.warmup else 0
    total_blocks = phases * (args.max_requests + warm)
    sender = Registry(
        SENDER,
        SENDER_PARTY,
        "aef",
        holds=[f"CA0001-GHA01-GHA-1-2023..CA0001-GHA01-GHA-{total_blocks * args.block}-2023@treasury"],
    )
    receiver = Registry(RECEIVER, RECEIVER_PARTY, args.receiver_format)
    stores = Stores(args.stores, controls=args.controls == "on", governance=args.governance != "none")
    authority = Authority(SENDER_PARTY) if args.governance != "none" else None
    policy, officers = controls_policy(stores.data) if args.controls == "on" else (None, None)
    gateway_env = {
        "CARBONLINK_RATE_LIMIT_PER_MINUTE": "100000000",
        "CARBONLINK_RATE_LIMIT_BURST": "1000000",
        **({"CARBONLINK_GOVERNANCE_ENFORCE": "always" if args.governance == "on" else "off"} if authority else {}),
        **({"CARBONLINK_POLICY": str(policy)} if policy else {}),
        **stores.env(),
        **parse_env(args.gateway_env, stores.data),
    }
    results: dict[str, list[PhaseResult]] = {"direct": [], "gateway": []}
    errors: dict[str, Counter[str]] = {
        n: Counter() for n in ("direct", "gateway", "direct_warmup", "gateway_warmup")
    }
    try:
        with Network([sender, receiver], gateway_env=gateway_env, gateways=args.gateways,
                     extra_participants=[authority.entry()] if authority else None) as net:
            if authority is not None:  # untimed: the authorization every transfer of the run cites
                authority.issue(net, demo_authorization(SENDER_PARTY, RECEIVER_PARTY, 10**12))
            held, accepted_units, profile = _measure(net, args, results, errors, officers)
    finally:
        stores.clean()
    direct, gateway = (
        figures(results["direct"], errors["direct"]),
        figures(results["gateway"], errors["gateway"]),
    )
    ratio_rps = round(gateway["accepted_rps"] / direct["accepted_rps"], 3) if direct["accepted_rps"] else None
    ratio_p99 = round(gateway["p99_ms"] / direct["p99_ms"], 2) if direct["p99_ms"] else None
    relay_cpu = gateway["cpu_ms_per_request"]
    ratio_cpu = (round(relay_cpu["gateway"] / relay_cpu["receiver_sandbox"], 2)
                 if relay_cpu.get("receiver_sandbox") else None)
    report: dict[str, Any] = {
        "direct": direct,
        "gateway": gateway,
        "ratio": {"rps": ratio_rps, "p99": ratio_p99, "cpu_gateway_to_receiver": ratio_cpu},
        "per_round": [
            _round_figures(d, g) for d, g in zip(results["direct"], results["gateway"], strict=True)
        ],
        "warmup_errors": {n: dict(errors[f"{n}_warmup"]) for n in ("direct", "gateway")},
        "targets": {
            "rps_ratio_min": rps_target(args.cpu_layout),
            "p99_ratio_max": TARGET_P99_RATIO,
            "rps_met": ratio_rps is not None and ratio_rps >= rps_target(args.cpu_layout),
            "p99_met": ratio_p99 is not None and ratio_p99 <= TARGET_P99_RATIO,
        },
        "ledger": {
            "receiver_held": held,
            "accepted_units": accepted_units,
            "consistent": held == accepted_units,
        },
        "setup": {
            "clients": args.clients,
            "gateways": args.gateways,
            "seconds_per_phase": args.seconds,
            "warmup_seconds": args.warmup,
            "rounds": args.rounds,
            "block_itmos": args.block,
            "sender_format": "aef (JSON)",
            "receiver_format": args.receiver_format,
            "stores": args.stores,
            "governance": args.governance,
            "controls": args.controls,
            "cpu_layout": args.cpu_layout,
            "gateway_env": gateway_env,
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        },
        "machine": {**machine(), "shared": cpu_layout(args)},
    }
    if profile:
        report["profile"] = profile
    return report


def summary(report: dict[str, Any]) -> str:
    lines = [
        f"{'':8} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'requests':>9} {'errors':>7}  "
        "CPU ms/request"
    ]
    for name in ("direct", "gateway"):
        f = report[name]
        cpu = ", ".join(f"{k} {v}" for k, v in f["cpu_ms_per_request"].items())
        lines.append(
            f"{name:8} {f['accepted_rps']:8.1f} {f['p50_ms']:8.1f} {f['p95_ms']:8.1f} {f['p99_ms']:8.1f} "
            f"{f['requests']:9d} {sum(f['errors'].values()):7d}  {cpu}"
        )
        for problem, n in f["errors"].items():
            lines.append(f"    {n} x {problem}")
    ratio, targets = report["ratio"], report["targets"]
    lines.append(
        f"gateway/direct: throughput {ratio['rps']} (target >= {targets['rps_ratio_min']}: "
        f"{'met' if targets['rps_met'] else 'MISSED'}), p99 {ratio['p99']}x (target <= "
        f"{targets['p99_ratio_max']}x: {'met' if targets['p99_met'] else 'MISSED'}), "
        f"CPU layout {report['setup']['cpu_layout']}"
    )
    if ratio.get("cpu_gateway_to_receiver") is not None:
        cpu_ratio = ratio["cpu_gateway_to_receiver"]
        lines.append(f"gateway phase CPU per transfer: gateway / receiving sandbox = {cpu_ratio}x "
                     f"(issue 20 target <= {TARGET_CPU_RATIO}x: "
                     f"{'met' if cpu_ratio <= TARGET_CPU_RATIO else 'MISSED'})")
    if report["setup"]["cpu_layout"] == "own-gateway-cpu":
        lines.append("  (own-gateway-cpu holds the direct phase to fewer CPUs: a view of the gateway's overhead, "
                     "not the target's measure)")
    if len(report["per_round"]) > 1:
        lines.append(
            "rounds (req/s direct, gateway, ratio): "
            + "; ".join(f"{r['direct_rps']}, {r['gateway_rps']}, {r['ratio']}" for r in report["per_round"])
        )
    for name, problems in report["warmup_errors"].items():
        lines += [f"    warm-up {name}: {n} x {problem}" for problem, n in problems.items()]
    ledger = report["ledger"]
    lines.append(
        f"receiver holds {ledger['receiver_held']} ITMOs; accepted transfers moved {ledger['accepted_units']}"
        f" ({'consistent' if ledger['consistent'] else 'INCONSISTENT'})"
    )
    m = report["machine"]
    lines.append(
        f"machine: {m['cpus']} CPUs ({m['machine']}, {m['system']} {m['release']}), Python {m['python']}, "
        f"load average {m['load_average']}; {m['shared']}"
    )
    for process, breakdown in report.get("profile", {}).items():
        lines.append(
            f"profile {process}: {breakdown['submit_samples']} samples inside TransferService.submit; "
            f"event loop busy {breakdown['event_loop_busy']}"
        )
        for title in ("steps", "leaves", "inclusive"):
            of = "all samples" if title == "inclusive" else "samples inside submit"
            lines.append(f"  {title} (share of {of}; {'CPU' if breakdown.get('cpu') else 'wall'} time):")
            lines += [f"    {share:5.1f}%  {name}" for name, share in breakdown[title]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = run(args)
    print(json.dumps(report, indent=1) if args.json else summary(report))
    clean = report["ledger"]["consistent"] and not any(
        [report["direct"]["errors"], report["gateway"]["errors"], *report["warmup_errors"].values()]
    )
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
