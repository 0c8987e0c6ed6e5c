"""The console's authorizations page in this process: what the store holds (version in force, quantity drawn,
revocation, every version), scoped to the operator's Party, with a national authority's text shown inert."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from gateway.console import SECURITY_HEADERS
from gateway.governance import Authorities
from gateway.trust.directory import Participant
from tests.console.support import HOSTILE, console_gateway, dev_sign_in
from tests.governance.support import authority, entry, statement
from tests.support.apps import InProcessGateway

TOMORROW = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()


def _authority(party: str) -> Participant:
    return Participant.model_validate(entry(f"{party.lower()}-authority", party, roles=authority(party)))


def _row(page: str, auth_id: str) -> str:
    start = page.index(f">{auth_id}</a>")
    return page[start:page.index("</tr>", start)]


@pytest.fixture
def governed(tmp_path: Path) -> Iterator[tuple[InProcessGateway, Authorities]]:
    """CHE: one authorization amended (v2 in force, 250 drawn), one revoked from yesterday with a hostile
    reason, one amended with a v2 dated tomorrow, one not yet in force; GHA: one with hostile free text."""
    gateway, _ = console_gateway(tmp_path)
    authorities: Authorities = gateway.app.state.authorizations.get()
    che, gha = _authority("CHE"), _authority("GHA")
    authorities.issue(che, statement("CHE-A-1"))
    authorities.amend(che, "CHE", "CHE-A-1", statement("CHE-A-1", date="2024-03-01", authorized_quantity="1500",
                                                        authorized_parties=["GHA", "SWE", "JPN"]))
    authorities.store.draw("che-registry", "m-1", {("CHE", "CHE-A-1"): (Decimal(250), Decimal(1500))})
    authorities.issue(che, statement("CHE-A-2", purposes="NDC and OIMP"))
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    authorities.revoke(che, "CHE", "CHE-A-2", yesterday, reason=f"misuse {HOSTILE}")
    authorities.issue(che, statement("CHE-A-3"))
    authorities.amend(che, "CHE", "CHE-A-3", statement("CHE-A-3", date=TOMORROW, authorized_quantity="5"))
    authorities.issue(che, statement("CHE-A-4", date=TOMORROW))
    authorities.issue(gha, statement("GHA-A-1", cooperative_approach="CA0002", terms=f"terms {HOSTILE}",
                                     additional_information=HOSTILE, authorized_parties=["CHE"]))
    yield gateway, authorities
    gateway.stop()


def test_the_network_operator_sees_every_authorization_as_it_stands_today(governed: Any) -> None:
    gateway, _ = governed
    dev_sign_in(gateway.http, gateway.base, "network")
    page = gateway.http.get(gateway.base + "/console/authorizations")
    assert page.status_code == 200, page.text
    assert page.headers["content-security-policy"] == SECURITY_HEADERS["Content-Security-Policy"]
    text = page.text
    assert 'href="/console/authorizations" aria-current="page"' in text
    assert "5 authorizations" in text
    amended = _row(text, "CHE-A-1")
    for fact in ("CA0001", "2 of 2", "2024-03-01", "1500", "250", "2021 - 2030", "GHA, SWE, JPN", "NDC", "in force"):
        assert f"<td>{fact}</td>" in amended or fact in amended, (fact, amended)
    assert "revoked" not in amended
    assert "revoked" in _row(text, "CHE-A-2") and "NDC and OIMP" in _row(text, "CHE-A-2")
    future = _row(text, "CHE-A-3")  # v2 is dated tomorrow: v1 (quantity 1000) is the one in force
    assert "1 of 2" in future and "<td>1000</td>" in future and "<td>5</td>" not in future
    assert "not yet in force" in _row(text, "CHE-A-4") and "none yet of 1" in _row(text, "CHE-A-4")
    assert "CA0002" in _row(text, "GHA-A-1") and "<td>0</td>" in _row(text, "GHA-A-1")


def test_a_registry_operator_sees_only_its_partys_authorizations(governed: Any) -> None:
    gateway, _ = governed
    dev_sign_in(gateway.http, gateway.base, "registry", "gha-registry")
    page = gateway.http.get(gateway.base + "/console/authorizations")
    assert page.status_code == 200 and "GHA-A-1" in page.text and "CHE-A-" not in page.text
    assert "for GHA, your registry" in page.text
    other = gateway.http.get(gateway.base + "/console/authorizations/CHE/CHE-A-1")
    assert other.status_code == 404 and "for you to see" in other.text
    assert "Drawn by relayed" not in other.text and "1500" not in other.text and "Version 2" not in other.text
    own = gateway.http.get(gateway.base + "/console/authorizations/GHA/GHA-A-1")
    assert own.status_code == 200 and "Version 1 (in force)" in own.text


def test_the_detail_page_lists_every_version_latest_first_and_the_revocation(governed: Any) -> None:
    gateway, _ = governed
    dev_sign_in(gateway.http, gateway.base, "network")
    text = gateway.http.get(gateway.base + "/console/authorizations/CHE/CHE-A-1").text
    assert text.index("Version 2 (in force)") < text.index("Version 1</h3>")
    v1 = text[text.index("Version 1</h3>"):]
    assert "2023-01-15" in v1 and "GHA, SWE</dd>" in v1 and "che-authority" in v1
    assert "250" in text.split("Drawn by relayed first transfers")[1][:40]
    revoked = gateway.http.get(gateway.base + "/console/authorizations/CHE/CHE-A-2").text
    effective = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    assert "Revocation" in revoked and effective in revoked and "<dd>revoked</dd>" in revoked
    assert HOSTILE not in revoked and "misuse &lt;script&gt;" in revoked
    missing = gateway.http.get(gateway.base + "/console/authorizations/CHE/" + quote("NO SUCH <b>"))
    assert missing.status_code == 404 and "<b>" not in missing.text and "GOVERNANCE.AUTHORIZATION_NOT_FOUND" in \
        missing.text


def test_a_national_authoritys_text_is_shown_inert(governed: Any) -> None:
    gateway, _ = governed
    dev_sign_in(gateway.http, gateway.base, "network")
    for path in ("/console/authorizations", "/console/authorizations/GHA/GHA-A-1"):
        page = gateway.http.get(gateway.base + path)
        assert page.status_code == 200 and HOSTILE not in page.text and "<img src=x" not in page.text
    detail = gateway.http.get(gateway.base + "/console/authorizations/GHA/GHA-A-1").text
    assert "terms &lt;script&gt;window.__pwned=1&lt;/script&gt;&lt;img src=x onerror=&#34;" in detail
    assert "additional information" in detail


def test_an_empty_store_says_so(tmp_path: Path) -> None:
    gateway, _ = console_gateway(tmp_path)
    try:
        dev_sign_in(gateway.http, gateway.base, "registry", "che-registry")
        page = gateway.http.get(gateway.base + "/console/authorizations")
        assert page.status_code == 200 and "No authorization of CHE at this gateway yet" in page.text
        assert "<table>" not in page.text
    finally:
        gateway.stop()


def test_the_page_needs_a_session(tmp_path: Path) -> None:
    gateway, _ = console_gateway(tmp_path)
    try:
        page = gateway.http.get(gateway.base + "/console/authorizations", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/console/login"
    finally:
        gateway.stop()


def test_overview_reads_the_version_in_force_on_a_day(governed: Any) -> None:
    _, authorities = governed
    on = {s["authorization_id"]: s for s in authorities.overview(date(2023, 6, 1), "CHE")}
    assert set(on) == {"CHE-A-1", "CHE-A-2", "CHE-A-3", "CHE-A-4"}
    assert on["CHE-A-1"]["in_force_version"] == 1 and on["CHE-A-1"]["statement"]["authorized_quantity"] == "1000"
    assert on["CHE-A-1"]["drawn"] == "250" and on["CHE-A-1"]["latest_version"] == 2
    assert on["CHE-A-4"]["in_force_version"] is None and on["CHE-A-2"]["revocation"]["reason"].startswith("misuse")
