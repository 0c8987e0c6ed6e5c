"""The legal-title trail from real evidence: receipts signed as the relay signs them, appended to a real
evidence log, exported and verified offline. Multi-hop (A->B then B->C), a block split into parts, a range
spanning two transfers, a rejected hop, no history, a break in the chain and tampered evidence."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest

from gateway.evidence import Exchange, JwkSigner, export_log, open_log
from gateway.evidence.log import EvidenceLog
from gateway.title import TitleError, parse_block, title_from_export, title_from_log
from gateway.transfers import DetachedSigner
from gateway.transfers._recorder import RECEIPT_SIGNATURE, receipt_bytes
from gateway.transfers._signer import RECEIPT_TYP
from gateway.trust.keys import SigningKeyRing
from tests.support.cli import run_cli

SERIES = "CA0001:GHA"
PARTIES = {"gha": ("GHA", "GHA01"), "che": ("CHE", "CHE01"), "swe": ("SWE", "SWE01"), "nor": ("NOR", "NOR01")}


class World:
    """A gateway keyring, its evidence log and what it has relayed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.keyring = SigningKeyRing.generate("ES256", kid="gw-title-1")
        self.signer = DetachedSigner(self.keyring, "https://gw.test")
        self.log: EvidenceLog = open_log(f"sqlite:///{root / 'evidence.sqlite3'}",
                                         signer=JwkSigner(self.keyring.current))

    def party(self, pid: str) -> dict[str, str]:
        return {"id": pid, "party": PARTIES[pid][0], "registry": PARTIES[pid][1]}

    def relay(self, sender: str, receiver: str, units: list[tuple[int, int]], *, outcome: str = "accepted",
              series: str = SERIES, action: str = "first transfer") -> str:
        message_id = f"m-{uuid.uuid4().hex[:8]}"
        receipt: dict[str, Any] = {
            "type": "carbonlink-receipt", "version": 1, "receipt_id": str(uuid.uuid4()), "gateway": "https://gw.test",
            "message_id": message_id, "kind": "transfers", "outcome": outcome, "sender": self.party(sender),
            "receiver": self.party(receiver),
            "units": [{"series": series, "first": a, "last": b, "vintage": 2023, "action": action} for a, b in units]}
        signature = self.signer.sign(receipt_bytes(receipt), typ=RECEIPT_TYP)
        self.log.append(Exchange(kind="transfers", sender=sender, receiver=receiver, message_id=message_id,
                                 inbound_sha256="00" * 32, outbound_sha256="11" * 32, receipt=None,
                                 verdicts={"outcome": "delivering"}))
        self.log.append_receipt(Exchange(kind="transfers", sender=sender, receiver=receiver, message_id=message_id,
                                         inbound_sha256="00" * 32, outbound_sha256="11" * 32, receipt=receipt,
                                         verdicts={"outcome": outcome, RECEIPT_SIGNATURE: signature}))
        return message_id

    def export(self) -> tuple[Path, Path]:
        path, jwks = self.root / "export.jsonl", self.root / "jwks.json"
        export_log(self.log, path, signer=JwkSigner(self.keyring.current))
        jwks.write_text(json.dumps(self.keyring.jwks()))
        return path, jwks


@pytest.fixture
def world(tmp_path: Path) -> World:
    w = World(tmp_path)
    yield w  # type: ignore[misc]
    w.log.close()


def holders(result: dict[str, Any]) -> list[tuple[int, int, str | None, list[str]]]:
    return [(p["first"], p["last"], (p["holder"] or {}).get("id"),
             [f"{h['sender']['id']}>{h['receiver']['id']}" for h in p["hops"]]) for p in result["parts"]]


def test_a_block_moved_across_registries_and_split_into_parts(world: World) -> None:
    world.relay("gha", "che", [(1, 100)])  # A -> B, the first transfer
    world.relay("che", "swe", [(1, 40)], action="transfer")  # B -> C, part of it
    world.relay("che", "nor", [(41, 60)], action="transfer")  # B -> D, another part
    world.relay("swe", "che", [(10, 20)], outcome="rejected", action="transfer")  # rejected: moves nothing
    world.relay("gha", "che", [(1, 100)], series="CA0002:GHA")  # another series: not this block
    export, jwks = world.export()
    result = title_from_export(export, parse_block("CA0001:GHA:1-100"), jwks=json.loads(jwks.read_text()))
    assert result["verified"] and result["findings"] == []
    assert holders(result) == [
        (1, 9, "swe", ["gha>che", "che>swe"]),
        (10, 20, "swe", ["gha>che", "che>swe", "swe>che"]),  # the rejected hop is listed, the title stays
        (21, 40, "swe", ["gha>che", "che>swe"]),
        (41, 60, "nor", ["gha>che", "che>nor"]),
        (61, 100, "che", ["gha>che"])]
    assert all(h["receipt_verified"] for p in result["parts"] for h in p["hops"])
    assert result["messages"] == 4


def test_a_range_overlapping_two_transfers_and_units_without_history(world: World) -> None:
    world.relay("gha", "che", [(1, 100)])
    world.relay("gha", "swe", [(101, 200)])
    export, jwks = world.export()
    result = title_from_export(export, parse_block("CA0001:GHA:90-250"), jwks=json.loads(jwks.read_text()))
    assert holders(result) == [(90, 100, "che", ["gha>che"]), (101, 200, "swe", ["gha>swe"]),
                               (201, 250, None, [])]
    assert result["parts"][2]["status"] == "no history at this gateway" and result["verified"]
    nothing = title_from_export(export, parse_block("CA0001:GHA:5000-6000"), jwks=json.loads(jwks.read_text()))
    assert holders(nothing) == [(5000, 6000, None, [])] and nothing["messages"] == 0
    out = run_cli("title", "CA0001:GHA:5000-6000", "--export", str(export), "--jwks", str(jwks))
    assert out.returncode == 0 and "no history at this gateway" in out.stdout


def test_a_hop_from_a_registry_that_never_received_the_units_breaks_the_chain(world: World) -> None:
    world.relay("gha", "che", [(1, 100)])
    world.relay("swe", "nor", [(1, 10)], action="transfer")  # SWE never got them through the gateway
    result = title_from_log(world.log, parse_block("CA0001:GHA:1-100"), jwks=world.keyring.jwks())
    assert [f["code"] for f in result["findings"]] == ["TITLE.CHAIN_BROKEN"] and not result["verified"]
    assert result["evidence"]["chain"]["ok"]


def test_tampered_evidence_fails_with_a_coded_finding(world: World) -> None:
    world.relay("gha", "che", [(1, 100)])
    world.relay("che", "swe", [(1, 40)], action="transfer")
    export, jwks = world.export()
    lines = export.read_bytes().splitlines()
    record = orjson.loads(lines[4])  # the second message's receipted record
    assert record["receipt"]["receiver"]["id"] == "swe"
    record["receipt"]["receiver"] = world.party("nor")  # who received the units, rewritten
    lines[4] = orjson.dumps(record)
    export.write_bytes(b"\n".join(lines) + b"\n")
    result = title_from_export(export, parse_block("CA0001:GHA:1-100"), jwks=json.loads(jwks.read_text()))
    assert not result["verified"]
    codes = [f["code"] for f in result["findings"]]
    assert codes[0].startswith("EVIDENCE.") and "TITLE.RECEIPT_SIGNATURE" in codes
    cli = run_cli("title", "CA0001:GHA:1-100", "--export", str(export), "--jwks", str(jwks), "--json")
    assert cli.returncode == 1 and json.loads(cli.stdout)["findings"][0]["code"] == codes[0]
    # against another gateway's keys, the untouched evidence does not verify either
    other = world.root / "other.json"
    other.write_text(json.dumps(SigningKeyRing.generate("ES256", kid="gw-x").jwks()))
    export2 = world.root / "export2.jsonl"
    export_log(world.log, export2, signer=JwkSigner(world.keyring.current))
    assert run_cli("title", "CA0001:GHA:1-100", "--export", str(export2), "--jwks", str(other)).returncode == 1
    assert run_cli("title", "CA0001:GHA:1-100", "--export", str(export2), "--jwks", str(jwks)).returncode == 0


@pytest.mark.parametrize("text", ["CA0001:GHA", "1-100", "CA0001:GHA:100-1", "CA0001 GHA:1-2", "CA0001:GHA:x-y"])
def test_a_block_that_cannot_be_read_is_a_coded_error(text: str) -> None:
    with pytest.raises(TitleError) as caught:
        parse_block(text)
    assert caught.value.code == "TITLE.BLOCK_INVALID"
    out = run_cli("title", text, "--export", "/nonexistent")
    assert out.returncode == 2 and "TITLE.BLOCK_INVALID" in out.stdout + out.stderr
