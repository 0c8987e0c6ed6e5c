"""An MRV network in this process: the gateway app (TestClient), two sandbox registries served by uvicorn in threads
(the gateway delivers to them over loopback HTTP), an MRV system, two verifiers (one accredited for energy, one for
waste) and the documents of one chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from gateway.client import GatewayClient
from gateway.sandbox.service import SandboxConfig
from gateway.sandbox.units import Block
from gateway.trust.keys import generate_key, public_jwk
from standards.mrv import IssuanceRequest, MonitoringReport, VerificationStatement, document_digest
from tests.sandbox.support import SandboxServer
from tests.support.apps import InProcessGateway
from tests.support.ports import free_port
from tests.trust.support import TrustWorld

EVIDENCE = b"meter export 2023: 12,000 MWh net to the grid\n"
MRV_SCOPES = "messages:send mrv:evidence"
_ = Block  # the sandbox's holdings rows (type of what tests read back)


class MrvWorld:
    """See module docstring. ``client(pid)`` is a registry/MRV/verifier client of the in-process gateway."""

    def __init__(self, root: Path, **gateway_env: str) -> None:
        self.root = root
        self.world = TrustWorld(root)
        (root / "gateway-jwks.json").write_text(json.dumps(self.world.keyring.jwks()))
        self.keys = {pid: generate_key("ES256", f"{pid}-1") for pid in
                     ("mrv-sys", "verifier-energy", "verifier-waste", "verifier-mrv-co", "che-sandbox", "gha-sandbox")}
        self.port = free_port()
        issuer = f"http://127.0.0.1:{self.port}"
        self.servers = {pid: self._sandbox(pid, party, issuer) for pid, party in (("che-sandbox", "CHE"),
                                                                                  ("gha-sandbox", "GHA"))}
        self.world.content["participants"] += self._entries()
        self.world.write_directory()
        env = self.world.env(self.port, CARBONLINK_DATA_DIR=str(root / "data"), **gateway_env)
        self.gateway = InProcessGateway(env, root)

    def _sandbox(self, pid: str, party: str, issuer: str) -> SandboxServer:
        config = SandboxConfig(format="aef", registry_id=pid, party=party, db=self.root / f"{pid}.sqlite3",
                               port=free_port(), gateway_jwks=str(self.root / "gateway-jwks.json"),
                               gateway_issuer=issuer, operator_token=f"op-{pid}", default_account="issuance")
        (self.root / f"{pid}.key.json").write_text(json.dumps(self.keys[pid].as_dict(private=True)))
        return SandboxServer(replace(config, key=str(self.root / f"{pid}.key.json"))).start()

    def _entries(self) -> list[dict[str, Any]]:
        def entry(pid: str, party: str, roles: list[dict[str, Any]], name: str, **extra: Any) -> dict[str, Any]:
            return {"id": pid, "name": name, "party": party, "party_registry_id": f"{party}01", "status": "active",
                    "format": "aef", "jwks": {"keys": [public_jwk(self.keys[pid])]}, "roles": roles, **extra}
        registries = [entry(pid, party, [{"role": "registry-operator"}], f"{party} sandbox registry",
                            endpoints={"messages": server.base + "/messages"}, issuer=server.base)
                      for (pid, server), party in zip(self.servers.items(), ("CHE", "GHA"), strict=True)]
        return [*registries,
                entry("mrv-sys", "CHE", [{"role": "mrv-system"}], "Solar MRV Co"),
                entry("verifier-energy", "CHE", [{"role": "verifier", "sectors": ["Energy generation"]}], "Verify AG"),
                entry("verifier-waste", "CHE", [{"role": "verifier", "sectors": ["Waste management"]}], "Waste VVB"),
                entry("verifier-mrv-co", "CHE", [{"role": "verifier", "sectors": ["Energy generation"]}],
                      "Solar MRV Co")]

    def client(self, pid: str, scope: str = MRV_SCOPES) -> GatewayClient:
        key = self.keys.get(pid) or self.world.clients[pid]
        return GatewayClient(self.gateway.base, pid, key, scope=scope, http=self.gateway.client())

    def send(self, pid: str, kind: str, doc: dict[str, Any] | bytes, message_id: str, **kw: Any) -> Any:
        body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        return self.client(pid).send(body, message_id=message_id, kind=kind, **kw)

    def upload(self, pid: str, data: bytes, digest: str | None = None, **headers: str) -> Any:
        sha = digest or hashlib.sha256(data).hexdigest()
        return self.client(pid).request("PUT", f"/v1/mrv/evidence/{sha}", content=data,
                                        headers={"Content-Type": "text/plain", **headers})

    def stop(self) -> None:
        self.gateway.stop()
        for server in self.servers.values():
            server.stop()


def report(**overrides: Any) -> dict[str, Any]:
    """A monitoring report of a solar project listed at che-sandbox: 1,200 t reduced in 2023, 100 t buffer, one
    evidence file."""
    doc: dict[str, Any] = {
        "kind": "monitoring-report", "mrv_version": "1", "report_id": "MR-2023-1", "project_id": "CHE-SOLAR-7",
        "registry": "che-sandbox", "mrv_system": "mrv-sys", "sector": "Energy generation",
        "methodology": {"id": "AMS-I.D", "version": "18.0"},
        "period": {"start": "2023-01-01", "end": "2023-12-31"}, "prepared_on": "2024-01-20",
        "parameters": [{"name": "EG_y", "value": "12000", "unit": "MWh"},
                       {"name": "EF_grid", "value": "0.1", "unit": "t/MWh"}],
        "emission_reductions": "1200", "buffer": "100",
        "evidence": [{"name": "meter-2023.csv", "sha256": hashlib.sha256(EVIDENCE).hexdigest(),
                      "size": len(EVIDENCE), "media_type": "text/csv"}]}
    doc.update(overrides)
    return doc


def digest(doc: dict[str, Any], model: type[MonitoringReport | VerificationStatement | IssuanceRequest]) -> str:
    return document_digest(model.model_validate(doc))


def verification(report_doc: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "kind": "verification-statement", "mrv_version": "1", "statement_id": "VS-2023-1",
        "project_id": report_doc["project_id"], "report_digest": digest(report_doc, MonitoringReport),
        "period": report_doc["period"], "verified_quantity": "1150", "opinion": "positive",
        "verifier": {"participant": "verifier-energy", "accreditation_id": "ACC-77",
                     "sectors": ["Energy generation"]}, "verified_on": "2024-02-10"}
    doc.update(overrides)
    return doc


def request(verification_doc: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "kind": "issuance-request", "mrv_version": "1", "request_id": "IR-2023-1",
        "project_id": verification_doc["project_id"], "registry": "che-sandbox",
        "verification_digest": digest(verification_doc, VerificationStatement), "quantity": 1000, "vintage": 2023,
        "requested_on": "2024-02-15"}
    doc.update(overrides)
    return doc
