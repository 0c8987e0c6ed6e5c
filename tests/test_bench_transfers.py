"""bench/bench_transfers.py: its helpers, and one short real run (gateway + sandboxes on loopback)."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from adapters import default_catalog
from bench import bench_transfers as bt
from gateway.sandbox.auth import GatewayVerifier, key_source
from gateway.sandbox.errors import GatewayAuthError
from gateway.sandbox.store import SandboxStore


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert bt.percentile(values, 50) == 50.0
    assert bt.percentile(values, 99) == 99.0
    assert bt.percentile(values, 100) == 100.0
    assert bt.percentile([7.0], 99) == 7.0
    assert bt.percentile([1.0, 2.0, 3.0], 99) == 3.0


def test_blocks_never_overlap() -> None:
    counter = bt.BlockCounter(10)
    first, second = counter.take(3), counter.take(2)
    ranges = [counter.ids(b) for b in [*first, *second]]
    assert ranges[0] == (1, 10) and ranges[-1] == (41, 50)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(ranges))


@pytest.mark.parametrize(
    ("fmt", "media_type"), [("canonical", "application/json"), ("spreadsheet", "text/csv")]
)
def test_direct_bodies_are_the_same_transfer_in_the_receivers_format(fmt: str, media_type: str) -> None:
    body, got_type = bt.receiver_body(bt.aef_body(101, 110), fmt)
    assert got_type == media_type
    adapter = default_catalog().get(fmt)
    parsed = adapter.parse(body, medium=adapter.media[0])
    assert not [f for f in parsed.findings if f.is_error]
    [action] = parsed.document.actions
    assert (action.first_id, action.last_id, action.acquiring_party) == (101, 110, "CHE")


def test_direct_tokens_pass_the_sandbox_verifier_once(tmp_path: Path) -> None:
    issuer, audience = "http://127.0.0.1:18080", "http://127.0.0.1:19101"
    store = SandboxStore(tmp_path / "s.sqlite3")
    try:
        verifier = GatewayVerifier(
            key_source("development"), issuer=issuer, audiences=(audience,), store=store
        )
        first, second = bt.gateway_tokens(2, issuer=issuer, audience=audience, lifetime=60)
        assert verifier.verify(f"Bearer {first}")["aud"] == audience
        assert verifier.verify(f"Bearer {second}")["iss"] == issuer
        with pytest.raises(GatewayAuthError) as replay:
            verifier.verify(f"Bearer {first}")
        assert replay.value.code == "SANDBOX.AUTH_REPLAY"
        [other] = bt.gateway_tokens(1, issuer=issuer, audience="http://elsewhere", lifetime=60)
        with pytest.raises(GatewayAuthError) as wrong:
            verifier.verify(f"Bearer {other}")
        assert wrong.value.code == "SANDBOX.AUTH_AUDIENCE"
    finally:
        store.close()


def test_status_problems_are_named() -> None:
    assert bt._status_problem(bt.Reply(0, 0, b"", None, 0.1)) == "transport error"
    assert bt._status_problem(bt.Reply(0, 200, b"{}", "sig", 0.1)) is None
    problem = bt.Reply(0, 401, b'{"code": "DPOP.NONCE_STALE"}', None, 0.1)
    assert bt._status_problem(problem) == "HTTP 401 DPOP.NONCE_STALE"
    assert bt._status_problem(bt.Reply(0, 502, b"<html>", None, 0.1)) == "HTTP 502"


def test_profile_breakdown_splits_submit_time_by_step(tmp_path: Path) -> None:
    submit = "TransferService.submit (gateway/transfers/service.py:120)"
    raw = tmp_path / "gateway.txt"
    raw.write_text(
        "\n".join(
            [
                f"thread (1): w;run (anyio/x.py:1);{submit};EvidenceLog.append (gateway/evidence/log.py:9) 6",
                f"thread (1): worker;run (anyio/x.py:1);{submit};deliver (gateway/transfers/delivery.py:106);"
                "SyncStream.read (httpcore/_backends/sync.py:126) 2",
                "thread (2): MainThread;run (asyncio/x.py:1);EpollSelector.select (selectors.py:468) 9",
                "thread (2): MainThread;run (asyncio/x.py:1);_run_once (asyncio/base_events.py:1922) 1",
                "garbage line without a count",
            ]
        )
    )
    out = bt.profile_breakdown(raw)
    assert out["submit_samples"] == 8
    assert out["steps"][0] == ("EvidenceLog.append (gateway/evidence/log.py)", 75.0)
    assert ("deliver (gateway/transfers/delivery.py)", 25.0) in out["steps"]
    assert ("SyncStream.read (httpcore/_backends/sync.py)", 25.0) in out["leaves"]
    assert out["event_loop_busy"] == 0.1


def test_arguments_are_bounded() -> None:
    with pytest.raises(SystemExit):
        bt.parse_args(["--clients", "0"])
    with pytest.raises(SystemExit):
        bt.parse_args(["--seconds", "1000"])
    with pytest.raises(SystemExit):
        bt.parse_env(["PATH=/tmp"])
    with pytest.raises(SystemExit):  # several gateways share their stores
        bt.parse_args(["--gateways", "2"])
    with pytest.raises(SystemExit):
        bt.parse_args(["--gateways", "9", "--stores", "redis-postgres"])
    assert bt.parse_args(["--gateways", "2", "--stores", "redis-postgres"]).gateways == 2
    assert bt.parse_env(["CARBONLINK_X=a=b"]) == {"CARBONLINK_X": "a=b"}
    url = "CARBONLINK_IDEMPOTENCY_STORE=sqlite:///{data}/i.sqlite3"
    assert bt.parse_env([url], Path("/run")) == {"CARBONLINK_IDEMPOTENCY_STORE": "sqlite:////run/i.sqlite3"}


@pytest.mark.e2e  # gateway and sandbox processes
def test_a_short_real_run_checks_every_answer(capsys: pytest.CaptureFixture[str]) -> None:
    code = bt.main(["--seconds", "1", "--warmup", "0", "--clients", "4", "--max-requests", "12", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report
    for phase in ("direct", "gateway"):
        assert report[phase]["requests"] > 0
        assert report[phase]["errors"] == {}
        assert report[phase]["accepted"] == report[phase]["requests"]
        assert report[phase]["p50_ms"] <= report[phase]["p99_ms"]
        assert report[phase]["cpu_ms_per_request"]["receiver_sandbox"] > 0
    assert report["gateway"]["cpu_ms_per_request"]["gateway"] > 0
    ledger = report["ledger"]
    accepted = report["direct"]["accepted"] + report["gateway"]["accepted"]
    assert ledger["consistent"] and ledger["receiver_held"] == accepted * report["setup"]["block_itmos"]
    assert report["machine"]["cpus"] >= 1 and report["ratio"]["rps"] is not None
    relay_cpu = report["gateway"]["cpu_ms_per_request"]
    assert report["ratio"]["cpu_gateway_to_receiver"] == round(relay_cpu["gateway"] / relay_cpu["receiver_sandbox"], 2)


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="CPU layouts need at least 2 CPUs")
def test_cpu_layouts_pin_the_gateway_phase_and_free_the_direct_phase() -> None:
    everything = set(bt.ALL_CPUS)
    gateway = subprocess.Popen(["sleep", "30"])
    registry = subprocess.Popen(["sleep", "30"])
    net = SimpleNamespace(gateways=[gateway], registries={"r": SimpleNamespace(process=registry)})
    try:
        bt.arrange_cpus(net, "pinned-gateway-phase", "gateway")  # type: ignore[arg-type]
        assert os.sched_getaffinity(gateway.pid) == {bt.ALL_CPUS[-1]}
        assert os.sched_getaffinity(registry.pid) == os.sched_getaffinity(0) == everything - {bt.ALL_CPUS[-1]}
        bt.arrange_cpus(net, "pinned-gateway-phase", "direct")  # type: ignore[arg-type]
        assert os.sched_getaffinity(gateway.pid) == os.sched_getaffinity(registry.pid) == everything
        bt.arrange_cpus(net, "pinned-gateway-only", "gateway")  # type: ignore[arg-type]
        assert os.sched_getaffinity(gateway.pid) == {bt.ALL_CPUS[-1]}
        assert os.sched_getaffinity(registry.pid) == os.sched_getaffinity(0) == everything
        bt.arrange_cpus(net, "own-gateway-cpu", "direct")  # type: ignore[arg-type]
        assert os.sched_getaffinity(gateway.pid) == {bt.ALL_CPUS[-1]}
    finally:
        os.sched_setaffinity(0, everything)
        for process in (gateway, registry):
            process.kill()
            process.wait()


def test_the_controls_policy_turns_every_control_on_without_refusing_the_run(tmp_path: Path) -> None:
    from gateway.demo_policy import approvals
    from gateway.governance import verify_policy
    from gateway.governance._approvals import check_approvals
    from gateway.trust import development

    path, officers = bt.controls_policy(tmp_path)
    anchor = development.anchor()
    policy = verify_policy(path.read_text(encoding="ascii"), {anchor.kid or "": anchor}, environment="development")
    mine = policy.controls(bt.SENDER)
    assert mine.four_eyes_above == 5 and mine.approvals == 2 and len(mine.officers) == 2
    assert mine.business_hours is not None and len(mine.business_hours.days) == 7
    assert mine.holding_seconds > 0 and bt.RECEIVER in mine.trusted and not mine.kill_switch
    assert mine.daily_limit is not None and mine.counterparty_limit(bt.RECEIVER) is not None
    body = bt.aef_body(1, 10)
    signed = approvals(officers, sender=bt.SENDER, message_id="gw-x-0", body=body)
    from gateway.digests import sha256_hex

    assert set(check_approvals(signed, mine, sender=bt.SENDER, kind="transfers", message_id="gw-x-0",
                               body_sha256=sha256_hex(body), now=policy.iat + 1)) == set(officers)
    assert bt.parse_args(["--controls", "on"]).controls == "on" and bt.parse_args([]).controls == "off"


@pytest.mark.e2e  # gateway and sandbox processes
def test_a_short_run_with_the_controls_on_is_relayed_and_needs_its_approvals(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    argv = ["--seconds", "1", "--warmup", "0", "--clients", "2", "--max-requests", "10", "--controls", "on", "--json"]
    assert bt.main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["setup"]["controls"] == "on" and report["gateway"]["errors"] == {}
    assert report["gateway"]["accepted"] == report["gateway"]["requests"] > 0
    assert "CARBONLINK_POLICY" in report["setup"]["gateway_env"]
    original = bt.approvals  # one officer only: the gateway applies four eyes, so each transfer is refused
    monkeypatch.setattr(bt, "approvals", lambda officers, **kw: original(dict(list(officers.items())[:1]), **kw))
    assert bt.main(argv) == 1
    report = json.loads(capsys.readouterr().out)
    refused = {"HTTP 403 GOVERNANCE.POLICY_APPROVAL_REQUIRED": report["gateway"]["requests"]}
    assert report["gateway"]["errors"] == refused
