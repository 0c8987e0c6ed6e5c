"""``carbonlink evidence verify | export | show`` driven in-process: exit codes, output, coded errors."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from joserfc.jwk import OKPKey

from gateway.evidence import JwkSigner, open_log
from tests.evidence.conftest import exchange
from tests.support.cli import CliResult, run_cli


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> CliResult:
    return run_cli("evidence", *args, cwd=cwd, env=env, clean=True)


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, str, Path, Path]:
    """A log with five records signed by a keyring on disk, and the matching public JWKS."""
    key = OKPKey.generate_key("Ed25519", parameters={"kid": "gw-cli-1"})
    signer = JwkSigner(key)
    keyring = tmp_path / "keyring.json"
    keyring.write_text(json.dumps({"current": "gw-cli-1", "keys": [key.as_dict(private=True)]}))
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [signer.public_jwk()]}))
    url = f"sqlite:///{tmp_path / 'evidence.db'}"
    with open_log(url, signer=signer) as log:
        for n in range(1, 6):
            log.append(exchange(n))
    return tmp_path, url, keyring, jwks


def test_verify_export_and_offline_verify(world: tuple[Path, str, Path, Path]) -> None:
    root, url, keyring, jwks = world
    ok = run("verify", "--log", url, "--jwks", str(jwks), cwd=root)
    assert ok.returncode == 0, ok.stderr
    assert "evidence chain OK: 5 records" in ok.stdout and "gw-cli-1" in ok.stdout
    exported = run("export", "--log", url, "--keys", str(keyring), "-o", "audit.jsonl", cwd=root)
    assert exported.returncode == 0, exported.stderr
    assert "exported 5 records" in exported.stdout
    offline = run("verify", "--file", "audit.jsonl", "--jwks", str(jwks), "--json", cwd=root)
    assert offline.returncode == 0, offline.stderr
    result = json.loads(offline.stdout)
    assert result["ok"] and result["records"] == 5 and result["manifest"]["records"] == 5
    embedded = run("verify", "--file", "audit.jsonl", cwd=root)
    assert embedded.returncode == 0 and "embedded" in embedded.stderr
    fast = run("verify", "--log", url, "--jwks", str(jwks), "--signatures", "head", cwd=root)
    assert fast.returncode == 0 and "evidence chain OK: 5 records" in fast.stdout


def test_verify_reports_the_first_broken_record_with_exit_1(world: tuple[Path, str, Path, Path]) -> None:
    root, url, _, jwks = world
    with sqlite3.connect(root / "evidence.db") as conn:
        conn.execute("DROP TRIGGER evidence_no_update")
        conn.execute("UPDATE evidence SET receiver = 'EVIL' WHERE seq = 3")
    broken = run("verify", "--log", url, "--jwks", str(jwks), cwd=root)
    assert broken.returncode == 1
    assert "BROKEN: EVIDENCE.HASH_MISMATCH at /records/3/hash" in broken.stdout
    assert "2 records verified before the break" in broken.stdout
    as_json = json.loads(run("verify", "--log", url, "--jwks", str(jwks), "--json", cwd=root).stdout)
    assert as_json["code"] == "EVIDENCE.HASH_MISMATCH"
    assert as_json["findings"][0]["pointer"] == "/records/3/hash"


def test_show_by_seq_message_and_last(world: tuple[Path, str, Path, Path]) -> None:
    root, url, _, _ = world
    env = {"CARBONLINK_EVIDENCE_LOG": url}
    one = run("show", "--seq", "2", "--json", cwd=root, env=env)
    assert one.returncode == 0 and json.loads(one.stdout)["message_id"] == "msg-2"
    message = run("show", "--sender", "CHE-registry", "--message-id", "msg-4", cwd=root, env=env)
    assert message.stdout.startswith("#4 ") and "answer ACCEPTED" in message.stdout
    last = run("show", "--last", "2", cwd=root, env=env)
    assert [line.split()[0] for line in last.stdout.splitlines()] == ["#4", "#5"]


@pytest.mark.parametrize(("args", "code"), [
    (["verify", "--log", "sqlite:///absent.db"], "EVIDENCE.NOT_FOUND"),
    (["verify", "--log", "ftp://x"], "EVIDENCE.CONFIGURATION"),
    (["verify", "--file", "absent.jsonl"], "INPUT.NOT_FOUND"),
    (["show", "--seq", "99"], "EVIDENCE.NOT_FOUND"),
    (["show", "--sender", "CHE"], "EVIDENCE.CONFIGURATION"),
    (["export", "-o", "x.jsonl"], "EVIDENCE.CONFIGURATION"),
    (["verify", "--jwks", "keyring.json"], "EVIDENCE.CONFIGURATION"),
    (["verify", "--signatures", "some"], "EVIDENCE.CONFIGURATION"),
    (["verify", "--log", "sqlite:///jwks.json"], "EVIDENCE.STORE_UNAVAILABLE"),  # not a database
    (["verify", "--file", "jwks.json"], "EVIDENCE.EXPORT_UNREADABLE"),
])
def test_bad_invocations_are_one_coded_line_with_exit_2(world: tuple[Path, str, Path, Path], args: list[str],
                                                        code: str) -> None:
    root, url, _, _ = world
    env = {"CARBONLINK_EVIDENCE_LOG": url, "CARBONLINK_ENVIRONMENT": "production"}
    result = run(*args, cwd=root, env=env)
    assert result.returncode == 2, result.stdout
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(f"carbonlink: {code}:") and "Traceback" not in result.stderr
