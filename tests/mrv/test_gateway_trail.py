"""``carbonlink mrv trail BLOCK``: the chain behind an issued block checked offline (text, JSON, HTML); a tampered
link - a document, a record, a receipt, the registry's answer, an evidence file - is a coded finding, exit 1."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.mrv.gateway_world import EVIDENCE, MrvWorld, report, request, verification
from tests.support.cli import run_cli

BLOCK = "CA0001-CHE01-CHE-1-2023..CA0001-CHE01-CHE-1000-2023"


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MrvWorld]:
    net = MrvWorld(tmp_path_factory.mktemp("trail"))
    assert net.upload("mrv-sys", EVIDENCE).status_code == 201
    rep = report()
    assert net.send("mrv-sys", "monitoring-reports", rep, "mr-1").body["outcome"] == "accepted"
    ver = verification(rep)
    assert net.send("verifier-energy", "verifications", ver, "vs-1").body["outcome"] == "accepted"
    sent = net.send("mrv-sys", "issuance-requests", request(ver), "ir-1")
    assert sent.body["receiver_answer"]["body"]["notice"]["block"]["serial"] == BLOCK
    yield net
    net.stop()


def _copy(net: MrvWorld, tmp_path: Path) -> Path:
    """A copy of the gateway's MRV store to tamper with."""
    source = sqlite3.connect(net.root / "data" / "mrv.sqlite3")
    target = tmp_path / "mrv.sqlite3"
    with sqlite3.connect(target) as copy:
        source.backup(copy)
    source.close()
    return target


def trail(net: MrvWorld, store: Path, *extra: str) -> Any:
    (net.root / "jwks.json").write_text(json.dumps(net.world.keyring.jwks()))
    return run_cli("mrv", "trail", BLOCK, "--store", f"sqlite:///{store}", "--jwks", str(net.root / "jwks.json"),
                   *extra)


def test_the_trail_verifies_as_text_json_and_html(issued: MrvWorld, tmp_path: Path) -> None:
    store = issued.root / "data" / "mrv.sqlite3"
    text = trail(issued, store, "--evidence-store", str(issued.root / "data" / "mrv-evidence"))
    assert text.returncode == 0, text.stderr
    assert f"MRV trail of block {BLOCK}: VERIFIED" in text.stdout
    for word in ("issuance-notices", "issuance-requests IR-2023-1", "verifications VS-2023-1",
                 "monitoring-reports MR-2023-1", "registry answer ok", "receipt ok", "content match",
                 hashlib.sha256(EVIDENCE).hexdigest()):
        assert word in text.stdout, word
    page = tmp_path / "trail.html"
    as_json = trail(issued, store, "--json", "--html", str(page))
    doc = json.loads(as_json.stdout)
    assert as_json.returncode == 0 and doc["verified"] is True and doc["findings"] == []
    assert [link["kind"] for link in doc["links"]] == ["issuance-notices", "issuance-requests", "verifications",
                                                       "monitoring-reports"]
    assert all(check["ok"] for link in doc["links"] for check in link["checks"])
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert not any(part in html.lower() for part in ("<script", "src=", "href=", "<link", "@import"))
    assert "Every signature and digest of the chain verifies" in html and doc["links"][0]["digest"] in html


def _tamper(store: Path, sql: str, *args: Any) -> None:
    with sqlite3.connect(store) as db:
        assert db.execute(sql, args).rowcount >= 1


@pytest.mark.parametrize(("sql", "rule"), [
    ("UPDATE mrv_messages SET body = replace(body, '\"12000\"', '\"12001\"') WHERE kind = 'monitoring-reports'",
     "MRV_TRAIL.DIGEST"),
    ("UPDATE mrv_messages SET record = substr(record, 1, length(record) - 4) || 'AAAA' WHERE kind = 'verifications'",
     "MRV_TRAIL.SIGNATURE"),
    ("UPDATE mrv_messages SET receipt = replace(receipt, '\"accepted\"', '\"rejected\"') "
     "WHERE kind = 'issuance-requests'", "MRV_TRAIL.SIGNATURE"),
    ("UPDATE mrv_notices SET answer = replace(answer, '\"registry\"', '\"registry\" ')", "MRV_TRAIL.SIGNATURE"),
    ("UPDATE mrv_evidence SET attestation = substr(attestation, 1, length(attestation) - 4) || 'AAAA'",
     "MRV_TRAIL.SIGNATURE"),
    ("DELETE FROM mrv_evidence", "MRV_TRAIL.EVIDENCE"),
    ("UPDATE mrv_notices SET body = replace(body, '\"quantity\":1000', '\"quantity\":1001')", "MRV_TRAIL.DIGEST"),
    ("DELETE FROM mrv_messages WHERE kind = 'verifications'", "MRV_TRAIL.NOT_FOUND"),
])
def test_a_tampered_link_is_a_coded_finding(issued: MrvWorld, tmp_path: Path, sql: str, rule: str) -> None:
    store = _copy(issued, tmp_path)
    _tamper(store, sql)
    result = trail(issued, store, "--json")
    assert result.returncode == 1, result.stderr
    doc = json.loads(result.stdout)
    assert doc["verified"] is False and rule in {f["rule"] for f in doc["findings"]}, doc["findings"]


def test_a_changed_evidence_file_and_an_unknown_block(issued: MrvWorld, tmp_path: Path) -> None:
    folder = tmp_path / "evidence"
    sha = hashlib.sha256(EVIDENCE).hexdigest()
    (folder / sha[:2]).mkdir(parents=True)
    (folder / sha[:2] / sha).write_bytes(EVIDENCE + b"edited")
    result = trail(issued, issued.root / "data" / "mrv.sqlite3", "--json", "--evidence-store", str(folder))
    doc = json.loads(result.stdout)
    assert result.returncode == 1 and [f["rule"] for f in doc["findings"]] == ["MRV_TRAIL.EVIDENCE"]
    assert doc["evidence"][0]["bytes"] == "MRV_GATEWAY.EVIDENCE_DIGEST"
    unknown = run_cli("mrv", "trail", "CHE:1-2", "--store", f"sqlite:///{issued.root / 'data' / 'mrv.sqlite3'}",
                      "--jwks", str(issued.root / "jwks.json"), "--json")
    assert unknown.returncode == 1 and json.loads(unknown.stdout)["findings"][0]["rule"] == "MRV_TRAIL.NOT_FOUND"


def test_other_keys_do_not_verify_and_a_missing_store_is_a_usage_error(issued: MrvWorld, tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    from gateway.trust.keys import SigningKeyRing

    other.write_text(json.dumps(SigningKeyRing.generate("ES256", kid="gw-test-1").jwks()))
    result = run_cli("mrv", "trail", BLOCK, "--store", f"sqlite:///{issued.root / 'data' / 'mrv.sqlite3'}",
                     "--jwks", str(other), "--json")
    rules = {f["rule"] for f in json.loads(result.stdout)["findings"]}
    assert result.returncode == 1 and "MRV_TRAIL.SIGNATURE" in rules
    missing = run_cli("mrv", "trail", BLOCK, "--store", f"sqlite:///{tmp_path / 'none.sqlite3'}")
    assert missing.returncode == 2 and "MRV_GATEWAY.STORE_UNAVAILABLE" in missing.stderr
