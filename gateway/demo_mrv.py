"""``carbonlink demo --mrv``: monitoring report -> verification -> issuance -> first transfer, end to end between real
processes (a gateway and two sandbox registries on loopback, :class:`gateway.demo.Network`), then the trail of the
issued block checked offline (docs/mrv.md, gateway section)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc.jwk import Key

from gateway.client import GatewayClient
from gateway.demo import Network, Registry, itmo_message, receipt_outcome
from gateway.mrv import Trail, build_trail, open_blobs, open_mrv_store
from gateway.trust.keys import generate_key, public_jwk
from standards.mrv import document_digest, example_chain

MRV_KINDS = ("monitoring-reports", "verifications", "issuance-requests")
REGISTRY_KINDS = ("transfers", "cancellations", "retirements", "actions", *MRV_KINDS)
EVIDENCE = b"date,net_export_MWh\n2023-01-31,1010\n2023-02-28,950\n...\n2023-12-31,1040\n"
MRV_SCOPE = "messages:send mrv:evidence"


@dataclass
class MrvParties:
    """The MRV system and the verifier of the demo network, with their keys."""

    keys: dict[str, Key] = field(default_factory=lambda: {pid: generate_key("ES256", f"{pid}-1")
                                                          for pid in ("solar-mrv", "verify-ag")})

    def entries(self) -> list[dict[str, Any]]:
        def entry(pid: str, name: str, role: dict[str, Any]) -> dict[str, Any]:
            return {"id": pid, "name": name, "party": "CHE", "party_registry_id": "CHE01", "status": "active",
                    "format": "aef", "jwks": {"keys": [public_jwk(self.keys[pid])]}, "roles": [role]}
        return [entry("solar-mrv", "Solar plant MRV system", {"role": "mrv-system"}),
                entry("verify-ag", "Verify AG", {"role": "verifier", "sectors": ["Energy generation"]})]

    def client(self, net: Network, pid: str) -> GatewayClient:
        return GatewayClient(net.gateway_url, pid, self.keys[pid], issuer=net.issuer, scope=MRV_SCOPE)


def documents(registry: str, mrv_system: str, verifier: str, quantity: int) -> dict[str, dict[str, Any]]:
    """The report, statement and request of the demo: the standard's example chain, addressed to this network."""
    chain = example_chain()
    report = chain.report.model_copy(update={"registry": registry, "mrv_system": mrv_system, "operator": None})
    report = report.model_copy(update={"evidence": [report.evidence[0].model_copy(update={
        "name": "meter-export.csv", "sha256": hashlib.sha256(EVIDENCE).hexdigest(), "size": len(EVIDENCE),
        "media_type": "text/csv"})]})
    statement = chain.statement.model_copy(update={
        "report_digest": document_digest(report), "project_id": report.project_id, "period": report.period,
        "verifier": chain.statement.verifier.model_copy(update={"participant": verifier,
                                                               "sectors": [report.sector]})})
    request = chain.request.model_copy(update={"registry": registry, "verification_digest": document_digest(statement),
                                               "project_id": report.project_id, "quantity": quantity})
    return {"report": report.model_dump(mode="json"), "statement": statement.model_dump(mode="json"),
            "request": request.model_dump(mode="json")}


def run_chain(net: Network, parties: MrvParties, registry: str, *, quantity: int = 1000,
              prefix: str = "demo") -> dict[str, Any]:
    """Upload the evidence, relay report, verification and request; return the receipts and the notice."""
    docs = documents(registry, "solar-mrv", "verify-ag", quantity)
    mrv, verifier = parties.client(net, "solar-mrv"), parties.client(net, "verify-ag")
    upload = mrv.request("PUT", f"/v1/mrv/evidence/{hashlib.sha256(EVIDENCE).hexdigest()}", content=EVIDENCE,
                         headers={"Content-Type": "text/csv"})
    out: dict[str, Any] = {"upload": upload.json(), "documents": docs}
    for name, client, kind, doc in (("report", mrv, "monitoring-reports", docs["report"]),
                                    ("verification", verifier, "verifications", docs["statement"]),
                                    ("request", mrv, "issuance-requests", docs["request"])):
        sent = client.send(json.dumps(doc).encode(), message_id=f"{prefix}-{name}", kind=kind)
        out[name] = sent.body
        if sent.status != 200 or sent.body.get("outcome") != "accepted":
            return out
    out["notice"] = out["request"]["receiver_answer"]["body"]["notice"]
    return out


def trail_of(net: Network, block: str) -> Trail:
    """The trail of ``block`` from the gateway's MRV store, checked with the gateway's published JWKS."""
    jwks = httpx.get(net.gateway_url + "/.well-known/jwks.json", timeout=10).json()
    store = open_mrv_store(f"sqlite:///{net.root / 'gateway' / 'mrv.sqlite3'}")
    blobs = open_blobs(str(net.root / "gateway" / "mrv-evidence"))
    try:
        return build_trail(store, block, jwks, blobs=blobs)
    finally:
        store.close()
        blobs.close()


def first_transfer(net: Network, registry: str, to_party: str, first: int, last: int, vintage: int) -> Any:
    """A first transfer of issued ITMOs ``first``..``last`` to ``to_party``, the way a registry sends one."""
    from gateway.sandbox.client import send_with_pending_debit

    party = net.registries[registry].party
    body = json.dumps(itmo_message(sender_party=party, receiver_party=to_party, first=first, last=last,
                                   vintage=vintage)).encode()
    client = net.client(registry)
    return send_with_pending_debit(net.sandbox(registry), message_id="demo-mrv-first-transfer", body=body,
                                   deliver=lambda: client.send(body, message_id="demo-mrv-first-transfer").body,
                                   verdict=receipt_outcome)


def network(parties: MrvParties) -> Network:
    return Network([Registry("che-sandbox", "CHE", "aef", message_kinds=REGISTRY_KINDS),
                    Registry("gha-sandbox", "GHA", "spreadsheet", message_kinds=REGISTRY_KINDS)],
                   extra_participants=parties.entries())


def run_mrv_demo(quantity: int = 1000, transfer: int = 100) -> int:
    """Start the network, run the chain, print the notice and the trail, first-transfer part of the block."""
    parties = MrvParties()
    with network(parties) as net:
        print(f"gateway {net.gateway_url}; registries che-sandbox (CHE, aef), gha-sandbox (GHA, spreadsheet); "
              "MRV system solar-mrv, verifier verify-ag (accredited: Energy generation)")
        result = run_chain(net, parties, "che-sandbox", quantity=quantity)
        print(f"\nevidence uploaded: {result['upload'].get('sha256')} attested for {result['upload'].get('role')}")
        for name in ("report", "verification", "request"):
            answer = result.get(name, {})
            print(f"{name}: {answer.get('outcome') or answer.get('code')} "
                  f"(receipt {answer.get('receipt_id', '-')}) {answer.get('detail', '')}")
        notice = result.get("notice")
        if notice is None:
            return 1
        block = notice["block"]
        print(f"\nissuance notice of {notice['registry']}: {notice['quantity']} units, block {block['serial']}")
        trail = trail_of(net, block["serial"])
        print(f"trail of the block: {'VERIFIED' if trail.ok else 'NOT VERIFIED'}")
        for link in trail.links:
            print(f"  {link.kind} {link.id} sha256:{link.digest} "
                  f"({', '.join(c['signature'] + (' ok' if c['ok'] else ' FAILED') for c in link.checks)})")
        for evidence in trail.evidence:
            print(f"  evidence {evidence['name']} sha256:{evidence['sha256']} content {evidence['bytes']}")
        moved = first_transfer(net, "che-sandbox", "GHA", block["first"], block["first"] + transfer - 1,
                               notice["vintage"])
        outcome = (moved.receipt or {}).get("outcome")
        print(f"\nfirst transfer of {transfer} issued ITMOs to GHA: {outcome}, sender settlement {moved.outcome}")
        for registry in ("che-sandbox", "gha-sandbox"):
            total = net.sandbox(registry).holdings()["total"]
            print(f"  {registry}: {total['held']} held, {total['pending']} pending")
        print("\nrun `carbonlink mrv trail BLOCK --store sqlite:///<data dir>/mrv.sqlite3 --jwks <gateway JWKS>` "
              "against a gateway's MRV store to check a chain offline")
        return 0 if trail.ok and outcome == "accepted" and moved.outcome == "debited" else 1
