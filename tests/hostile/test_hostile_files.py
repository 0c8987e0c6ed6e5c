"""The hostile file corpus (tests/hostile/corpus.py: XLSX, CSV, DES XML, carbon semantics) through the two
doors a file comes in by: ``carbonlink translate`` and ``POST /v1/transfers``.

Every case: a coded refusal (exit 1 with findings or exit 2 with ``carbonlink: CODE: ...``; a 4xx
problem+json with a code at the gateway), never a traceback, never a 5xx, in bounded time and memory,
nothing written, nothing delivered, nothing in the evidence log."""

from __future__ import annotations

import csv
import io
import json
import re
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.demo import itmo_message
from gateway.evidence import open_log
from standards.codec import Medium
from tests.hostile import corpus
from tests.hostile.corpus import HostileFile
from tests.support.apps import InProcessGateway
from tests.support.cli import run_cli
from tests.support.ports import free_port
from tests.trust.support import RegistryClient, TrustWorld

CASES = corpus.all_cases()
CODED_EXIT = re.compile(r"^carbonlink: ([A-Z][A-Z0-9_]*(\.[A-Z0-9_]+)+: .+|the [\w-]+ input has errors; nothing was "
                        r"translated)$")
CODE = re.compile(r"^[A-Z][A-Z0-9_]*(\.[A-Z0-9_]+)+$")
MAX_SECONDS = 5.0
MAX_PEAK_BYTES = 96 * 1024 * 1024
#: The CLI reads files up to this size here (the gateway's transfer body limit, 4 MiB by default).
INPUT_LIMIT = str(4 * 1024 * 1024)
SENDERS = {"aef": "che-registry", "des-xml": "nor-registry"}


def test_the_corpus_covers_every_medium_and_attack() -> None:
    names = [case.name for case in CASES]
    assert len(names) == len(set(names)) and len(names) >= 60
    assert {case.medium for case in CASES} == {Medium.XLSX, Medium.CSV, Medium.XML, Medium.JSON}
    for attack in ("zip-bomb", "billion-laughs", "xxe", "external-dtd", "huge", "formula", "utf16", "latin1",
                   "negative-quantity", "zero-quantity", "reversed-range", "vintage-in-the-future"):
        assert any(attack in name for name in names), attack


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_translate_refuses_with_a_code(case: HostileFile, tmp_path: Path) -> None:
    source = tmp_path / f"input{case.suffix}"
    source.write_bytes(case.body)
    output = tmp_path / "out.json"
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = run_cli("translate", str(source), "--from", case.format, "--to", "canonical", "--medium", "json",
                         "-o", str(output), env={"CARBONLINK_MAX_INPUT_BYTES": INPUT_LIMIT})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - started
    assert result.returncode in (1, 2), (result.returncode, result.stdout[-500:], result.stderr[-500:])
    assert "Traceback" not in result.stderr + result.stdout
    assert CODED_EXIT.match(result.stderr.strip().splitlines()[-1]), result.stderr[-500:]
    assert not output.exists()
    assert elapsed < MAX_SECONDS and peak < MAX_PEAK_BYTES, (elapsed, peak)


@pytest.mark.parametrize("label", sorted(corpus.FORMULAS))
def test_a_formula_in_free_text_is_data_and_written_back_escaped(label: str, tmp_path: Path) -> None:
    source = tmp_path / "input.csv"
    source.write_bytes(corpus.formula_in_free_text(label))
    output = tmp_path / "out.csv"
    result = run_cli("translate", str(source), "--from", "aef", "--to", "aef", "--medium", "csv", "-o", str(output))
    assert result.returncode == 0, result.stderr
    payload = corpus.FORMULAS[label]
    header, row = list(csv.reader(io.StringIO(output.read_text(encoding="utf-8-sig"))))[:2]
    assert row[header.index("Additional explanatory information")] == "'" + payload  # escaped, not a formula
    assert not any(cell.startswith(("=", "+", "-", "@")) and not cell.lstrip("-+").replace(".", "").isdigit()
                   for cell in row), row


@pytest.mark.parametrize("label", sorted(corpus.SEMANTIC_RULES))
def test_lone_action_semantics_are_refused_by_their_rule(label: str, tmp_path: Path) -> None:
    source = tmp_path / "input.json"
    source.write_text(json.dumps(corpus.valid_message(**corpus.SEMANTIC_CHANGES[label])))
    result = run_cli("validate", "--format", "aef", "--json", str(source))
    assert result.returncode == 1, result.stderr
    assert corpus.SEMANTIC_RULES[label] in result.stdout


# --- the gateway ----------------------------------------------------------------------------------------------


class Door:
    """The gateway in process and a DPoP client per sender format."""

    def __init__(self, root: Path) -> None:
        world = TrustWorld(root)

        def senders(content: dict[str, Any]) -> None:
            for entry in content["participants"]:
                if entry["id"] in SENDERS.values():
                    entry["scopes"] = ["messages:send"]
                    entry["message_kinds"] = ["transfers"]
                if entry["id"] == SENDERS["des-xml"]:
                    entry["format"] = "des-xml"
        world.write_directory(senders)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("CARBONLINK_RATE_LIMIT_PER_MINUTE", "100000")
            patch.setenv("CARBONLINK_RATE_LIMIT_BURST", "100000")
            patch.setenv("CARBONLINK_DATA_DIR", str(root / "data"))
            patch.setenv("CARBONLINK_DELIVERY", json.dumps({"timeout": 0.5, "connect_timeout": 0.2, "retries": 0,
                                                            "backoff": 0.01, "retry_after": 5}))
            self.gateway = InProcessGateway(world.env(free_port()), root)
        self.clients = {fmt: RegistryClient(self.gateway.base, pid, world.clients[pid], http=self.gateway.client())
                        for fmt, pid in SENDERS.items()}
        self.tokens = {fmt: client.get_token("messages:send") for fmt, client in self.clients.items()}
        self.message_ids: list[tuple[str, str]] = []
        self.data = root / "data"

    def send(self, case: HostileFile) -> httpx.Response:
        client, token = self.clients[case.format], self.tokens[case.format]
        message_id = f"hostile-{case.name}"
        self.message_ids.append((client.client_id, message_id))
        response: httpx.Response | None = None
        for _ in range(2):
            headers = {"Authorization": f"DPoP {token}", "DPoP": client.proof("POST", "/v1/transfers",
                                                                                access_token=token),
                       "Content-Type": case.media_type, "Carbonlink-Message-Id": message_id}
            response = self.gateway.http.post("/v1/transfers", content=case.body, headers=headers)
            nonce = response.headers.get("dpop-nonce")
            if response.status_code == 401 and nonce:
                client.nonce = nonce
                continue
            break
        assert response is not None
        return response


@pytest.fixture(scope="module")
def door(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Door]:
    door = Door(tmp_path_factory.mktemp("hostile-files"))
    yield door
    door.gateway.stop()


def test_the_door_takes_a_valid_message(door: Door) -> None:
    """The control: the same sender, token and route take the unbroken message (read, validated, planned; the
    receiver of this world is not served, so it ends in the documented 502)."""
    body = json.dumps(itmo_message(sender_party="CHE", receiver_party="GHA", first=1, last=10)).encode()
    response = door.send(HostileFile("control-valid", Medium.JSON, body))
    assert (response.status_code, response.json()["code"]) == (502, "UPSTREAM.UNAVAILABLE"), response.text


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_the_transfer_route_refuses_with_a_code(case: HostileFile, door: Door) -> None:
    started = time.perf_counter()
    response = door.send(case)
    elapsed = time.perf_counter() - started
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert CODE.match(body["code"]) and body["status"] == response.status_code, body
    assert elapsed < MAX_SECONDS, elapsed


def test_nothing_refused_was_recorded_and_nothing_was_logged_as_a_failure(door: Door) -> None:
    log = open_log(f"sqlite:///{door.data / 'evidence.sqlite3'}")
    try:
        refused = [(sender, mid) for sender, mid in door.message_ids if mid != "hostile-control-valid"]
        assert len(refused) == len(CASES)
        recorded = {(r.sender, r.message_id) for r in log.records()}
        assert not recorded & set(refused), sorted(recorded & set(refused))[:5]
    finally:
        log.close()
    text = door.gateway.log.read_text(encoding="utf-8") if door.gateway.log.exists() else ""
    assert "Traceback" not in text and "unexpected error" not in text
