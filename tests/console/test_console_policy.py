"""The console's policy page in this process: the signed policy in force (version, signer, validity, each
participant's controls and officers) and today's counters from the controls store, for the network operator and,
scoped to its registry, a registry operator; no policy, and hostile policy text shown inert."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gateway.console import SECURITY_HEADERS
from gateway.governance import sign_policy
from gateway.governance._controls_store import ALL
from gateway.trust.keys import generate_key, public_jwk
from tests.console.support import HOSTILE, console_gateway, console_world, dev_sign_in
from tests.support.apps import InProcessGateway
from tests.support.ports import free_port

DAY = 86400


def _row(page: str, pid: str) -> str:
    start = page.index(f'id="controls-{pid}"')
    return page[start:page.index("</tr>", start)]


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[InProcessGateway]:
    """A policy v3 signed by the network operator ``operator``: CHE with four eyes (officers alice and bob),
    daily limits and a trusted counterpart; GHA stopped with a hostile reason; defaults for everyone else. CHE
    has sent 300 units to GHA and 50 to NOR today."""
    world = console_world(tmp_path)
    operator_key = generate_key("ES256", "operator-7")
    world.content["participants"].append({
        "id": "operator", "party": "NOR", "party_registry_id": "NOR01", "status": "active", "format": "aef",
        "jwks": {"keys": [public_jwk(operator_key)]}, "roles": [{"role": "network-operator"}]})
    world.write_directory()
    officers = [{"id": name, "keys": [public_jwk(generate_key("ES256", f"{name}-1"))]} for name in ("alice", "bob")]
    now = int(time.time())
    token = sign_policy({"iss": "operator", "environment": "test", "version": 3, "kinds": ["transfers"],
                         "defaults": {"daily_limit": "1000000"},
                         "participants": {
                             "che-registry": {"timezone": "Europe/Zurich", "four_eyes_above": "1000",
                                              "officers": officers, "daily_limit": "5000",
                                              "counterparty_limits": {"gha-registry": "2000"},
                                              "trusted": ["gha-registry"], "holding_seconds": 3600,
                                              "business_hours": {"days": ["mon", "tue", "wed", "thu", "fri"],
                                                                 "start": "08:00", "end": "18:00"}},
                             "gha-registry": {"kill_switch": True, "kill_reason": f"audit {HOSTILE}"}}},
                        operator_key, now=now - 60, valid_for=10 * DAY)
    (tmp_path / "policy.jws").write_text(token)
    settings = {"CARBONLINK_DATA_DIR": str(tmp_path / "data"), "CARBONLINK_CONSOLE_DEV_LOGIN": "1",
                "CARBONLINK_POLICY": str(tmp_path / "policy.jws")}
    started = InProcessGateway(world.env(free_port(), **settings), tmp_path)
    store = started.app.state.transfers.get().controls.store
    day = datetime.now(ZoneInfo("Europe/Zurich")).date().isoformat()
    store.reserve("che-registry", "m-1", day, "gha-registry", Decimal(300), {ALL: None})
    store.reserve("che-registry", "m-2", day, "nor-registry", Decimal(50), {ALL: None})
    yield started
    started.stop()


def test_the_network_operator_sees_the_policy_and_every_participant_s_counters(gateway: InProcessGateway) -> None:
    dev_sign_in(gateway.http, gateway.base, "network")
    page = gateway.http.get(gateway.base + "/console/policy")
    assert page.status_code == 200, page.text
    assert page.headers["content-security-policy"] == SECURITY_HEADERS["Content-Security-Policy"]
    text = page.text
    assert 'href="/console/policy" aria-current="page"' in text
    assert "<dd>3 (test)</dd>" in text and "operator-7</span>, a key of operator (network operator)" in text
    assert "(9 days left)" in text and "transfers (the kill switch" in text
    che = _row(text, "che-registry")
    for fact in ("mon, tue, wed, thu, fri 08:00-18:00", "Europe/Zurich", "<td>5000</td>", "350",
                 "4650 left", "gha-registry</span>: 300 of 2000", "above 1000 units: 2 officers", "alice",
                 "alice-1", "bob-1", "gha-registry; 3600 s"):
        assert fact in che, (fact, che)
    gha = _row(text, "gha-registry")
    assert "stopped" in gha and HOSTILE not in text and "audit &lt;script&gt;" in gha
    nor = _row(text, "nor-registry")  # no entry of its own: the defaults, nothing sent
    assert "(defaults)" in nor and "<td>1000000</td>" in nor and "any time" in nor and "off" in nor


def test_a_registry_operator_sees_the_terms_and_only_its_own_controls(gateway: InProcessGateway) -> None:
    dev_sign_in(gateway.http, gateway.base, "registry", "che-registry")
    text = gateway.http.get(gateway.base + "/console/policy").text
    assert "<dd>3 (test)</dd>" in text and "your registry's controls" in text
    assert "350" in _row(text, "che-registry")
    assert 'id="controls-gha-registry"' not in text and "audit" not in text and "1 participant;" in text


def test_without_a_policy_the_page_says_so(tmp_path: Path) -> None:
    gateway, _ = console_gateway(tmp_path)
    try:
        assert gateway.http.get(gateway.base + "/console/policy", follow_redirects=False).status_code == 303
        dev_sign_in(gateway.http, gateway.base, "network")
        page = gateway.http.get(gateway.base + "/console/policy")
        assert page.status_code == 200 and "applies no transaction-controls policy" in page.text
        assert "<table>" not in page.text
    finally:
        gateway.stop()


def test_an_expired_policy_is_a_coded_notice(tmp_path: Path) -> Any:
    world = console_world(tmp_path)
    key = generate_key("ES256", "operator-1")
    world.content["participants"].append({
        "id": "operator", "party": "NOR", "party_registry_id": "NOR01", "status": "active", "format": "aef",
        "jwks": {"keys": [public_jwk(key)]}, "roles": [{"role": "network-operator"}]})
    world.write_directory()
    # valid now, for two seconds: it expires while the gateway runs (the page never shows an expired one)
    (tmp_path / "policy.jws").write_text(sign_policy({"iss": "operator", "environment": "test", "version": 1},
                                                     key, valid_for=2))
    gateway = InProcessGateway(world.env(free_port(), CARBONLINK_DATA_DIR=str(tmp_path / "data"),
                                         CARBONLINK_CONSOLE_DEV_LOGIN="1",
                                         CARBONLINK_POLICY=str(tmp_path / "policy.jws")), tmp_path)
    try:
        dev_sign_in(gateway.http, gateway.base, "network")
        time.sleep(2.5)
        page = gateway.http.get(gateway.base + "/console/policy")
        assert page.status_code == 200 and "GOVERNANCE.POLICY_UNAVAILABLE" in page.text and "<table>" not in page.text
    finally:
        gateway.stop()
