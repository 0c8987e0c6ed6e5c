"""``carbonlink sandbox``: persistence across a restart of the process on the same SQLite file
(holdings, answers, token ids, signing key) and a start-up error from the process (the e2e tier);
seeding and the error matrices in-process through the entry point."""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.cli import main
from tests.sandbox.support import DevelopmentGateway, canonical_actions, itmo_action, itmo_label
from tests.support.cli import run_cli
from tests.support.ports import free_port, wait_http
from tests.support.processes import CARBONLINK, clean_env

OPERATOR = "operator-secret-for-tests"


class SandboxProcess:
    def __init__(self, args: list[str], port: int, log: Path) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self._log = log.open("ab")
        self.proc = subprocess.Popen([CARBONLINK, "sandbox", "--port", str(port), *args],
                                     env=clean_env(), stdout=self._log, stderr=subprocess.STDOUT)
        wait_http(self.base + "/health", self.proc)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self._log.close()


@pytest.fixture
def args(gateway: DevelopmentGateway, tmp_path: Path) -> Iterator[list[str]]:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"blocks": [
        {"itmo": itmo_label(1, 1000), "account": "treasury"},
        {"serial": "ACR-US-192-2010-203-1-5000"},
        {"registry": "CDM", "unit_type": "CER", "project_id": "1234", "first": 1, "last": 99}]}))
    yield ["--format", "canonical", "--db", str(tmp_path / "sbx.sqlite3"), "--registry-id", "sbx-che",
           "--party", "CHE", "--seed", str(seed), "--gateway-jwks", gateway.jwks_url,
           "--gateway-issuer", gateway.issuer, "--operator-token", OPERATOR]


def _token(gateway: DevelopmentGateway) -> str:
    now = int(time.time())
    return gateway.keyring.sign({"typ": "at+jwt"}, {
        "iss": gateway.issuer, "sub": gateway.issuer, "client_id": gateway.issuer, "aud": "sbx-che",
        "iat": now, "exp": now + 60, "jti": secrets.token_urlsafe(16)})


def _holdings(base: str) -> dict[str, Any]:
    doc = httpx.get(base + "/holdings", headers={"Authorization": f"Bearer {OPERATOR}"}).json()
    assert isinstance(doc, dict)
    return doc


@pytest.mark.e2e
def test_state_survives_a_restart_on_the_same_file(gateway: DevelopmentGateway, args: list[str],
                                                  tmp_path: Path) -> None:
    port = free_port()
    body = canonical_actions(itmo_action("Retirement", 1, 100, acquiring=None))
    token = _token(gateway)
    first = SandboxProcess(args, port, tmp_path / "sandbox.log")
    try:
        seeded = _holdings(first.base)
        assert seeded["total"] == {"held": 1000 + 5000 + 99, "pending": 0}
        answer = httpx.post(first.base + "/messages", content=body,
                            headers={"Authorization": f"Bearer {token}", "Carbonlink-Message-Id": "ret-1",
                                     **gateway.signature(body)})
        assert answer.status_code == 200, answer.text
        jwks = httpx.get(first.base + "/.well-known/jwks.json").json()
        after = _holdings(first.base)["holdings"]
    finally:
        first.stop()

    second = SandboxProcess(args, port, tmp_path / "sandbox.log")  # same --seed: not applied twice
    try:
        assert _holdings(second.base)["holdings"] == after
        assert _holdings(second.base)["total"]["held"] == 1000 - 100 + 5000 + 99
        assert httpx.get(second.base + "/.well-known/jwks.json").json() == jwks
        again = httpx.post(second.base + "/messages", content=body,
                           headers={"Authorization": f"Bearer {_token(gateway)}", "Carbonlink-Message-Id": "ret-1",
                                     **gateway.signature(body)})
        assert again.content == answer.content and again.headers["Carbonlink-Replayed"] == "true"
        replay = httpx.post(second.base + "/messages", content=body,
                            headers={"Authorization": f"Bearer {token}", "Carbonlink-Message-Id": "ret-2",
                                     **gateway.signature(body)})
        assert replay.status_code == 401 and replay.json()["code"] == "SANDBOX.AUTH_REPLAY"
    finally:
        second.stop()


def test_check_prints_the_start_up_facts(tmp_path: Path) -> None:
    done = run_cli("sandbox", "--format", "aef", "--db", str(tmp_path / "a.sqlite3"), "--registry-id", "sbx-x",
                   "--check", "--hold", f"{itmo_label(1, 10)}@a", "--hold", "ACR-US-192-2010-203-1-5000", clean=True)
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout)
    assert facts["units_held"] == 5010 and facts["seeded_blocks"] == 2 and facts["medium"] == "json"
    assert facts["messages"].endswith("/messages") and facts["operator_token"]


@pytest.mark.parametrize(("argv", "code"), [
    (["--format", "no-such-format"], "SANDBOX.CONFIG"),
    (["--format", "cadt-v1"], "SANDBOX.CONFIG"),  # reads no transfers
    (["--format", "aef", "--medium", "xml"], "SANDBOX.CONFIG"),
    (["--format", "aef", "--party", "XX"], "SANDBOX.CONFIG"),
    (["--format", "aef", "--hold", "not a serial"], "SANDBOX.SEED"),
    (["--format", "aef", "--hold", "CA0001-CHE01-CHE-9-2023..CA0001-CHE01-CHE-1-2023"], "SANDBOX.SEED"),
    (["--format", "aef", "--hold", itmo_label(1, 10), "--hold", itmo_label(5, 20)], "SANDBOX.SEED"),
    (["--format", "aef", "--gateway-jwks", "/nonexistent/jwks.json"], "SANDBOX.CONFIG"),
    (["--format", "aef", "--messages-path", "holdings"], "SANDBOX.CONFIG"),
])
def test_start_up_errors_are_one_coded_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                                            code: str) -> None:
    assert main(["sandbox", *argv, "--db", str(tmp_path / "e.sqlite3"), "--check"]) == 2
    stderr = capsys.readouterr().err
    assert stderr.startswith(f"carbonlink: {code}: ") and "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1


@pytest.mark.e2e
def test_a_start_up_error_from_the_process(tmp_path: Path) -> None:
    done = subprocess.run([CARBONLINK, "sandbox", "--format", "no-such-format", "--db", str(tmp_path / "e.sqlite3"),
                           "--check"], env=clean_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("carbonlink: SANDBOX.CONFIG: no format named 'no-such-format'"), done.stderr


@pytest.mark.parametrize("seed", [
    "[]", '{"blocks": {}}', '{"blocks": [{"itmo": "CA0001-CHE01-CHE-1-2023..nope"}]}',
    '{"blocks": [{"registry": "GS", "first": 10, "last": 1}]}', '{"blocks": [{"registry": "GS", "first": "1"}]}',
    '{"blocks": [{"serial": "ACR-US-192-2010-203-1-5000", "account": ""}]}', '{"blocks": [7]}', "{", '{"blocks": [{}]}',
])
def test_bad_seed_files_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], seed: str) -> None:
    path = tmp_path / "seed.json"
    path.write_text(seed)
    argv = ["sandbox", "--format", "aef", "--db", str(tmp_path / "s.sqlite3"), "--seed", str(path), "--check"]
    assert main(argv) == 2
    stderr = capsys.readouterr().err
    assert stderr.startswith("carbonlink: SANDBOX.SEED: ") and len(stderr.strip().splitlines()) == 1, stderr


def test_a_database_file_that_is_not_sqlite_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "not.sqlite3"
    db.write_bytes(b"this is not a database" * 100)
    assert main(["sandbox", "--format", "aef", "--db", str(db), "--check"]) == 2
    assert capsys.readouterr().err.startswith("carbonlink: SANDBOX.CONFIG: cannot open")
