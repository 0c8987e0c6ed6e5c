"""A gateway and sandbox registries on loopback: the demo, the end-to-end tests and the benchmark.

:class:`Network` writes the trust material into a folder (registry keys, a directory signed by the
development anchor), starts ``carbonlink serve`` and one ``carbonlink sandbox`` per registry as real
processes on 127.0.0.1, and hands out clients. :func:`run_demo` sends one transfer through and prints
the receipt and both registries' holdings before and after.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from joserfc.jwk import Key

from gateway.client import GatewayClient
from gateway.sandbox.client import SandboxClient
from gateway.trust import development
from gateway.trust.directory import sign_directory
from gateway.trust.keys import generate_key, public_jwk

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def itmo_message(*, sender_party: str, receiver_party: str, first: int, last: int,
                 ca: str = "CA0001", vintage: int = 2023, when: str = "2024-06-03T10:00:00Z") -> dict[str, Any]:
    """A first transfer of ITMOs ``first``..``last`` as an AEF V2 JSON document (one T3 row)."""
    registry = f"{sender_party}01"
    return {
        "format": "carbonlink/aef-json", "aefVersion": "2",
        "Actions": [{
            "ActionDateTime": when, "ActionType": "First transfer", "ActionSubtype": "First transfer to another Party",
            "CooperativeApproachID": ca, "AuthorizationID": f"{sender_party}-A6-2023-001",
            "FirstTransferringPartyID": sender_party, "PartyITMORegistryID": registry, "FirstID": first,
            "LastID": last, "UnderlyingUnitRegistryID": "NA", "UnderlyingUnitFirstUnitID": "NA",
            "UnderlyingUnitLastUnitID": "NA", "Metric": "GHG", "GWPValues": None, "Non-GHGMetric": "NA",
            "QuantityCO2": last - first + 1, "QuantityNon-GHG": "NA", "MitigationType": "Emission reductions",
            "Vintage": vintage, "TransferringPartyID": "NA", "AcquiringPartyID": receiver_party,
            "PurposeITMOUsedForOIMP": "NA", "Using/cancellingPartyID": "NA", "Using/cancellingEntityID": "NA",
            "YearITMOUsedTowardsNDC": "NA", "ResultOfConsistencyChecks": None,
            "AdditionalExplanatoryInformation": None,
        }],
    }


@dataclass
class Registry:
    """One sandbox registry in the network."""

    id: str
    party: str
    format: str
    holds: list[str] = field(default_factory=list)
    port: int = 0
    key: Key | None = None
    operator_token: str = ""
    messages_url: str | None = None  # where the directory sends its messages (default the sandbox itself)
    message_kinds: tuple[str, ...] = ("transfers", "cancellations", "retirements", "actions")
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Network:
    """Gateway + sandbox registries as processes on loopback (use as a context manager)."""

    def __init__(self, registries: list[Registry], *, root: Path | None = None,
                 gateway_env: dict[str, str] | None = None,
                 extra_participants: list[dict[str, Any]] | None = None, gateways: int = 1,
                 issuer: str | None = None) -> None:
        self.registries = {r.id: r for r in registries}
        self.extra_participants = extra_participants or []
        self._own_root = root is None
        self.root = root or Path(tempfile.mkdtemp(prefix="carbonlink-demo-"))
        self.gateway_ports = [free_port() for _ in range(gateways)]
        self.gateway_port = self.gateway_ports[0]
        self.gateway_urls = [f"http://127.0.0.1:{port}" for port in self.gateway_ports]
        self.gateway_url = self.gateway_urls[0]
        #: The OAuth issuer: the gateway's own URL, or one shared name when several act as one.
        self.issuer = issuer or self.gateway_url
        self.gateway_env = gateway_env or {}
        self.gateways: list[subprocess.Popen[bytes]] = []
        self.gateway: subprocess.Popen[bytes] | None = None
        self._logs: list[Any] = []

    # -- set-up -------------------------------------------------------------------------------

    def _participants(self) -> list[dict[str, Any]]:
        entries = []
        for r in self.registries.values():
            assert r.key is not None
            entries.append({
                "id": r.id, "name": f"Sandbox registry {r.id}", "party": r.party,
                "party_registry_id": f"{r.party}01", "status": "active", "format": r.format,
                "endpoints": {"messages": r.messages_url or r.base_url + "/messages"}, "issuer": r.base_url,
                "jwks": {"keys": [public_jwk(r.key)]},
                # the registry-operator role gives messages:send, peers:read and the registry's message kinds
                # (docs/governance.md); the kinds listed narrow them, metrics:read is listed by hand
                "roles": [{"role": "registry-operator"}],
                "message_kinds": list(r.message_kinds),
                "scopes": ["metrics:read"],
            })
        return entries + self.extra_participants

    def write_directory(self, mutate: Any = None) -> Path:
        content = {"iss": "carbonlink-development-governing-body", "environment": "development",
                   "sequence": int(time.time()), "participants": self._participants()}
        if mutate is not None:
            mutate(content)
        path = self.root / "directory.jws"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(sign_directory(content, development.anchor(), valid_for=86400))
        tmp.replace(path)
        return path

    def _spawn(self, args: list[str], name: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = (self.root / f"{name}.log").open("wb")
        self._logs.append(log)
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("CARBONLINK_")}
        full_env.update(env or {})
        return subprocess.Popen([str(BIN / "carbonlink"), *args], stdout=log, stderr=subprocess.STDOUT,
                                env=full_env, cwd=self.root)

    def _wait(self, url: str, process: subprocess.Popen[bytes], name: str) -> None:
        deadline = time.time() + 120
        while time.time() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited: {(self.root / f'{name}.log').read_text()[-2000:]}")
            try:
                httpx.get(url, timeout=0.5)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"{name} did not start: {(self.root / f'{name}.log').read_text()[-2000:]}")

    def start(self) -> Network:
        """Start every process and wait until each answers; on any failure stop what was started and re-raise."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> Network:
        for r in self.registries.values():
            r.port = r.port or free_port()
            r.key = r.key or generate_key("ES256", f"{r.id}-1")
            r.operator_token = r.operator_token or f"operator-{r.id}"
            (self.root / f"{r.id}.key.json").write_text(json.dumps(r.key.as_dict(private=True)))
        self.write_directory()
        for index, port in enumerate(self.gateway_ports):
            name = "gateway" if index == 0 else f"gateway-{index}"
            env = {"CARBONLINK_PORT": str(port), "CARBONLINK_HOST": "127.0.0.1",
                   "CARBONLINK_DIRECTORY": str(self.root / "directory.jws"),
                   "CARBONLINK_DIRECTORY_REFRESH_SECONDS": "0.5",
                   "CARBONLINK_DATA_DIR": str(self.root / name), **self.gateway_env}
            if self.issuer != self.gateway_url or len(self.gateway_ports) > 1:
                env["CARBONLINK_ISSUER"] = self.issuer
            self.gateways.append(self._spawn(["serve", "--log-level", "info"], name, env))
        self.gateway = self.gateways[0]
        for r in self.registries.values():
            args = ["sandbox", "--format", r.format, "--port", str(r.port), "--registry-id", r.id,
                    "--party", r.party, "--db", str(self.root / f"{r.id}.sqlite3"),
                    "--key", str(self.root / f"{r.id}.key.json"), "--gateway-issuer", self.issuer,
                    "--gateway-jwks", self.gateway_url + "/.well-known/jwks.json",
                    "--operator-token", r.operator_token]
            for hold in r.holds:
                args += ["--hold", hold]
            r.process = self._spawn(args, r.id)
        for index, (url, process) in enumerate(zip(self.gateway_urls, self.gateways, strict=True)):
            self._wait(url + "/healthz", process, "gateway" if index == 0 else f"gateway-{index}")
        for r in self.registries.values():
            assert r.process is not None
            self._wait(r.base_url + "/health", r.process, r.id)
        return self

    def stop(self) -> None:
        for process in [*self.gateways, *(r.process for r in self.registries.values())]:
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
        for log in self._logs:
            log.close()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Network:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- clients ------------------------------------------------------------------------------

    def client(self, registry_id: str, gateway: int = 0) -> GatewayClient:
        r = self.registries[registry_id]
        assert r.key is not None
        return GatewayClient(self.gateway_urls[gateway], r.id, r.key, issuer=self.issuer)

    def sandbox(self, registry_id: str) -> SandboxClient:
        r = self.registries[registry_id]
        return SandboxClient(r.base_url, r.operator_token)


@dataclass
class Authority:
    """A Party's national authority in the network: it issues Article 6.2 authorizations, signed with its
    own key (docs/governance.md)."""

    party: str
    key: Key = field(default_factory=lambda: generate_key("ES256", "authority-1"))

    @property
    def id(self) -> str:
        return f"{self.party.lower()}-authority"

    def entry(self) -> dict[str, Any]:
        return {"id": self.id, "name": f"National authority ({self.party})", "party": self.party,
                "party_registry_id": f"{self.party}01", "status": "active", "format": "aef",
                "jwks": {"keys": [public_jwk(self.key)]},
                "roles": [{"role": "national-authority", "party": self.party}]}

    def issue(self, net: Network, statement: dict[str, Any]) -> dict[str, Any]:
        """Issue ``statement`` (AEF T2 fields) through the network's gateway; the gateway's answer."""
        client = GatewayClient(net.gateway_url, self.id, self.key, issuer=net.issuer,
                               scope="authorizations:issue authorizations:read")
        answer = client.authorize("/v1/authorizations", statement, party=self.party)
        if answer.status_code != 201:
            raise RuntimeError(f"the authorization was not issued: HTTP {answer.status_code} {answer.text[:500]}")
        shown: dict[str, Any] = answer.json()
        return shown


def demo_authorization(party: str, acquirer: str, quantity: int) -> dict[str, Any]:
    """The authorization :func:`itmo_message`'s first transfers cite (``{party}-A6-2023-001``)."""
    return {"authorization_id": f"{party}-A6-2023-001", "date": "2023-01-15", "cooperative_approach": "CA0001",
            "authorized_quantity": str(quantity), "metric": "GHG", "sectors": "Energy generation",
            "purposes": "NDC", "authorized_parties": [acquirer], "timeframe": "2021 - 2030"}


def _holdings_lines(name: str, doc: dict[str, Any]) -> list[str]:
    lines = [f"  {name}: {doc['total']['held']} held, {doc['total']['pending']} pending"]
    for block in doc["holdings"]:
        series = block.get("series", block.get("registry", ""))
        if isinstance(series, list):  # e.g. ["itmo", "CA0001", "GHA01", "GHA", 2023]
            series = "-".join(str(part) for part in series[1:])
        lines.append(f"    {series} serials {block.get('first')}-{block.get('last')} ({block.get('quantity')} units) "
                     f"{block.get('status')}, account {block.get('account', '')}")
    return lines


def receipt_outcome(answer: Mapping[str, Any]) -> bool | None:
    """From the gateway's answer: True accepted, False rejected or refused (no delivery), None unknown."""
    if answer.get("type") == "carbonlink-receipt":
        return {"accepted": True, "rejected": False}.get(str(answer.get("outcome")))
    status = answer.get("status")
    if isinstance(status, int) and 400 <= status < 500:
        return False  # refused by the gateway before delivery: nothing reached the receiver
    return None  # 502/504: the receiver may or may not have it; keep the debit pending and retry


def _keep_console(net: Network, client: GatewayClient, body: bytes, officers: dict[str, Key]) -> None:
    """Send the same units again (the receiver rejects them: a rejection with findings for the console), print
    the console's address and development login, and keep everything running until interrupted."""
    from gateway.demo_policy import approvals

    again = client.send(body, message_id="demo-0002",
                        approvals=approvals(officers, sender=client.client_id, message_id="demo-0002", body=body))
    print(f"\nthe same units sent again as demo-0002: {again.body.get('outcome', again.status)}")
    print(f"\noperator console: {net.gateway_url}/console/login")
    print("  development login: choose 'Network operator' (every registry's traffic) or the operator of "
          "gha-sandbox or che-sandbox, then 'Sign in'")
    print("  press Ctrl-C to stop the demo", flush=True)
    try:
        while all(p.poll() is None for p in net.gateways):
            time.sleep(0.5)
        print("the gateway stopped", flush=True)
    except KeyboardInterrupt:
        print("\nstopping", flush=True)


def run_demo(*, sender_format: str = "aef", receiver_format: str = "spreadsheet", quantity: int = 20_000,
             console: bool = False) -> int:
    """Start a gateway and two sandbox registries, send one transfer (above the sender's four-eyes threshold:
    refused without its officers' approvals, relayed with them), print what happened; with ``console``, leave the
    operator console running on that traffic until interrupted."""
    from gateway.demo_policy import approvals, four_eyes_policy
    from gateway.sandbox.client import send_with_pending_debit

    sender = Registry("gha-sandbox", "GHA", sender_format,
                      holds=["CA0001-GHA01-GHA-1-2023..CA0001-GHA01-GHA-50000-2023@treasury"])
    receiver = Registry("che-sandbox", "CHE", receiver_format)
    authority = Authority("GHA")
    network = Network([sender, receiver], extra_participants=[authority.entry()])
    policy, officers = four_eyes_policy(network.root, sender.id, threshold=quantity // 2)
    network.gateway_env["CARBONLINK_POLICY"] = str(policy)
    with network as net:
        print(f"gateway {net.gateway_url}; registries: {sender.id} ({sender.format}) at {sender.base_url}, "
              f"{receiver.id} ({receiver.format}) at {receiver.base_url}; national authority {authority.id}")
        issued = authority.issue(net, demo_authorization("GHA", "CHE", 50_000))
        print(f"{authority.id} issued authorization {issued['authorization_id']} version {issued['version']} "
              f"(signed with its own key), which the first transfer cites")
        before = {r: net.sandbox(r).holdings() for r in (sender.id, receiver.id)}
        body = json.dumps(itmo_message(sender_party="GHA", receiver_party="CHE", first=1, last=quantity)).encode()
        client = net.client(sender.id)
        alone = client.send(body, message_id="demo-0001")
        print(f"four eyes: {quantity} units is above {sender.id}'s threshold of {quantity // 2}; sent without its "
              f"officers' approvals: {alone.status} {alone.body.get('code')}; sent again with approvals by "
              f"{' and '.join(officers)}:")
        signed = approvals(officers, sender=sender.id, message_id="demo-0001", body=body)
        result = send_with_pending_debit(net.sandbox(sender.id), message_id="demo-0001", body=body,
                                         deliver=lambda: client.send(body, message_id="demo-0001",
                                                                     approvals=signed).body,
                                         verdict=receipt_outcome)
        after = {r: net.sandbox(r).holdings() for r in (sender.id, receiver.id)}
        print("\nanswer of the gateway (a receipt is signed by the gateway; its signature was verified):")
        print(json.dumps(result.receipt, indent=1)[:4000])
        print(f"\nsender settlement: {result.outcome}")
        print("\nholdings before:")
        for r, doc in before.items():
            print("\n".join(_holdings_lines(r, doc)))
        print("holdings after:")
        for r, doc in after.items():
            print("\n".join(_holdings_lines(r, doc)))
        accepted = bool(result.receipt and result.receipt.get("outcome") == "accepted")
        if console:
            _keep_console(net, client, body, officers)
        return 0 if accepted and result.outcome == "debited" else 1
