"""Test support for the console: a gateway in this process with a trust world whose directory gives console
scopes, evidence records shaped as the relay writes them, and the development sign-in a browser would do."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import httpx

from gateway.api.services import ServiceSlot
from gateway.evidence import EvidenceLog, EvidenceRecord, Exchange
from gateway.transfers.service import TransferService
from tests.support.apps import InProcessGateway
from tests.support.ports import free_port
from tests.trust.support import TrustWorld

#: Text a hostile sender or receiver could put where the console shows it (findings, answers, reasons).
HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">"\'&amp;'
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def console_world(root: Path) -> TrustWorld:
    world = TrustWorld(root)

    def scopes(content: dict[str, Any]) -> None:
        for entry in content["participants"]:
            extra = {"che-registry": ["console:registry"], "nor-registry": ["console:network"]}.get(entry["id"], [])
            entry["scopes"] = [*entry["scopes"], *extra]

    scopes(world.content)
    world.write_directory()
    return world


def console_gateway(root: Path, **env: str) -> tuple[InProcessGateway, TrustWorld]:
    world = console_world(root)
    settings = {"CARBONLINK_DATA_DIR": str(root / "data"), "CARBONLINK_CONSOLE_DEV_LOGIN": "1", **env}
    return InProcessGateway(world.env(free_port(), **settings), root), world


def evidence_of(gateway: InProcessGateway) -> EvidenceLog:
    slot: ServiceSlot[TransferService] = gateway.app.state.transfers
    return slot.get().recorder.evidence


def receipt(sender: str, receiver: str, message_id: str, outcome: str, *, warning: str = "a warning",
            reason: str = "the units are held already", received: str = "2026-12-01T10:00:00.000000Z",
            answered: str = "2026-12-01T10:00:00.250000Z") -> dict[str, Any]:
    """A receipt with the members the relay writes (gateway/transfers/_recorder.py)."""
    digest = "ab" * 32
    return {
        "type": "carbonlink-receipt", "version": 1, "receipt_id": str(uuid.uuid4()), "gateway": "http://gw",
        "message_id": message_id, "kind": "transfers", "outcome": outcome,
        "sender": {"id": sender, "party": "CHE", "registry": "CHE01"},
        "receiver": {"id": receiver, "party": "GHA", "registry": "GHA01"},
        "inbound": {"sha256": digest, "bytes": 100, "format": "aef", "medium": "json"},
        "outbound": {"sha256": digest, "bytes": 120, "format": "aef", "medium": "json"},
        "receiver_answer": {"status": 200, "sha256": digest, "signature": "x.y.z", "attempts": 1,
                            "body": {"verdict": outcome, "reasons": [] if outcome == "accepted" else [
                                {"rule": "SANDBOX.UNITS_HELD", "severity": "error", "location": "/Actions/0",
                                 "pointer": "/Actions/0", "message": reason, "reference": "sandbox ledger"}]}},
        "losses": [],
        "warnings": [{"rule": "AEF.T3.EXPLANATION", "severity": "warning", "location": "/Actions/0/Info",
                      "pointer": "/Actions/0/Info", "message": warning,
                      "reference": "decision 6/CMA.4 annex II"}],
        "warnings_total": 1, "received_at": received, "delivered_at": received, "answered_at": answered,
        "request_sha256_b64": "q83vq83vq83vq83vq83vq83vq83vq83vq83vq83vq80",
    }


def relay(log: EvidenceLog, sender: str, receiver: str, outcome: str, **kw: Any) -> EvidenceRecord:
    """What one relayed message leaves in the log: the intent, then the receipt (or the fault)."""
    message_id = kw.pop("message_id", f"m-{uuid.uuid4().hex[:10]}")
    digest = "cd" * 32
    log.append(Exchange(kind="transfers", sender=sender, receiver=receiver, message_id=message_id,
                        inbound_sha256=digest, outbound_sha256=digest, receipt=None,
                        verdicts={"outcome": "delivering"}))
    if outcome == "fault":
        return log.append(Exchange(kind="transfers", sender=sender, receiver=receiver, message_id=message_id,
                                   inbound_sha256=digest, outbound_sha256=None, receipt=None,
                                   verdicts={"outcome": "fault", "code": "TRANSFER.UPSTREAM_FAILED",
                                             "detail": kw.get("detail", "the registry answered HTTP 500")}))
    body = receipt(sender, receiver, message_id, outcome, **kw)
    return log.append_receipt(Exchange(kind="transfers", sender=sender, receiver=receiver, message_id=message_id,
                                       inbound_sha256=digest, outbound_sha256=digest, receipt=body,
                                       verdicts={"outcome": outcome, "receiver_status": 200,
                                                 "receiver_code": None if outcome == "accepted" else
                                                 "SANDBOX.UNITS_HELD"}))


def dev_sign_in(http: httpx.Client, base: str, role: str, registry: str = "") -> httpx.Response:
    page = http.get(base + "/console/login")
    match = CSRF.search(page.text)
    assert match, page.text
    return http.post(base + "/console/login/dev", data={"csrf": match.group(1), "role": role, "registry": registry},
                     follow_redirects=False)


def csrf_of(page: httpx.Response) -> str:
    match = CSRF.search(page.text)
    assert match, page.text
    return match.group(1)
