"""The console in this process: sessions, roles, CSRF, escaping, the security headers, and operator actions on
record (suspension, export, verification). The browser tier is tests/console/test_console_browser.py."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.client import GatewayClient
from gateway.console import SECURITY_HEADERS
from gateway.evidence import KeySetVerifier, verify_export
from gateway.settings import Settings
from gateway.trust.errors import ParticipantUnknown
from tests.console.support import HOSTILE, console_gateway, csrf_of, dev_sign_in, evidence_of, relay
from tests.support.apps import InProcessGateway
from tests.trust.support import TrustWorld


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[tuple[InProcessGateway, TrustWorld]]:
    gateway, world = console_gateway(tmp_path)
    log = evidence_of(gateway)
    relay(log, "che-registry", "gha-registry", "accepted")
    relay(log, "gha-registry", "che-registry", "rejected", reason=HOSTILE, warning=HOSTILE)
    relay(log, "sgp-registry", "nor-registry", "fault", detail=HOSTILE)
    relay(log, "sgp-registry", "gha-registry", "accepted")
    yield gateway, world
    gateway.stop()


PAGES = ("/console/messages", "/console/evidence", "/console/participants", "/console/health", "/console/conformance",
         "/console/feeds")


def test_pages_need_a_session_and_send_the_sign_in_page(gw: tuple[InProcessGateway, TrustWorld]) -> None:
    gateway, _ = gw
    for page in PAGES:
        answer = gateway.http.get(gateway.base + page, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/console/login", page
    forged = gateway.client()
    forged.cookies.set("carbonlink_console", "eyJzdWIiOiJ4In0.forged", path="/console")
    assert forged.get(gateway.base + "/console/messages", follow_redirects=False).status_code == 303


def test_every_page_has_the_security_headers_and_no_inline_script(gw: tuple[InProcessGateway, TrustWorld]) -> None:
    gateway, _ = gw
    assert dev_sign_in(gateway.http, gateway.base, "network").status_code == 303
    for page in (*PAGES, "/console/login", "/console/messages/2", "/console/messages/999999"):
        answer = gateway.http.get(gateway.base + page)
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers[name] == value, (page, name)
        assert "unsafe-inline" not in answer.headers["content-security-policy"]
        assert answer.headers["cache-control"] == "no-store"
        html = answer.text
        assert "<script>" not in html.replace(HOSTILE, "")  # only <script src=...> of the console's own files
        assert " style=" not in html and "onerror=" not in html.replace("onerror=&#34;", "")


def test_hostile_sender_text_is_escaped(gw: tuple[InProcessGateway, TrustWorld]) -> None:
    gateway, _ = gw
    dev_sign_in(gateway.http, gateway.base, "network")
    listing = gateway.http.get(gateway.base + "/console/messages?outcome=rejected")
    seq = int(listing.text.split('href="/console/messages/')[1].split('"')[0])
    page = gateway.http.get(f"{gateway.base}/console/messages/{seq}").text
    assert HOSTILE not in page and "<script>window.__pwned" not in page
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;&lt;img src=x onerror=" in page
    assert "SANDBOX.UNITS_HELD" in page and "decision 6/CMA.4 annex II" in page and "/Actions/0/Info" in page
    fault = gateway.http.get(gateway.base + "/console/messages?outcome=fault")
    fault_seq = int(fault.text.split('href="/console/messages/')[1].split('"')[0])
    fault_page = gateway.http.get(f"{gateway.base}/console/messages/{fault_seq}").text
    assert "TRANSFER.UPSTREAM_FAILED" in fault_page and HOSTILE not in fault_page


def test_an_operator_of_one_registry_sees_its_own_traffic_only(gw: tuple[InProcessGateway, TrustWorld]) -> None:
    gateway, _ = gw
    dev_sign_in(gateway.http, gateway.base, "registry", "che-registry")
    listing = gateway.http.get(gateway.base + "/console/messages").text.split("<tbody>")[1]
    assert "che-registry" in listing and "sgp-registry" not in listing and "nor-registry" not in listing
    own = gateway.http.get(gateway.base + "/console/messages?counterpart=che-registry").text.split("<tbody>")[1]
    assert own == listing  # its own registry as counterpart is everything it sees
    network = gateway.client()
    dev_sign_in(network, gateway.base, "network")
    everything = network.get(gateway.base + "/console/messages").text
    assert "sgp-registry" in everything and "nor-registry" in everything
    fault_seq = int(network.get(gateway.base + "/console/messages?outcome=fault").text
                    .split('href="/console/messages/')[1].split('"')[0])
    assert gateway.http.get(f"{gateway.base}/console/messages/{fault_seq}").status_code == 404
    assert network.get(f"{gateway.base}/console/messages/{fault_seq}").status_code == 200


def test_filters_narrow_the_list_and_bad_filters_are_coded(gw: tuple[InProcessGateway, TrustWorld]) -> None:
    gateway, _ = gw
    dev_sign_in(gateway.http, gateway.base, "network")
    accepted = gateway.http.get(gateway.base + "/console/messages?outcome=accepted").text
    assert accepted.count('class="badge o-accepted"') == 2 and "o-rejected" not in accepted.split("<tbody>")[1]
    with_gha = gateway.http.get(gateway.base + "/console/messages?counterpart=gha-registry&outcome=accepted").text
    assert with_gha.count('class="badge o-accepted"') == 2
    with_nor = gateway.http.get(gateway.base + "/console/messages?counterpart=nor-registry").text
    assert "o-fault" in with_nor and "o-accepted" not in with_nor.split("<tbody>")[1]
    rejected = gateway.http.get(gateway.base + "/console/messages?outcome=rejected").text
    assert '<td class="mono">SANDBOX.UNITS_HELD</td>' in rejected  # the receiver's code, in the list
    future = gateway.http.get(gateway.base + "/console/messages?day_from=2999-01-01").text
    assert "No message matches." in future
    for bad in ("outcome=maybe", "kind=nonsense", "day_from=yesterday"):
        answer = gateway.http.get(gateway.base + "/console/messages?" + bad)
        assert answer.status_code == 400 and "CONSOLE.INPUT" in answer.text, bad


def test_forms_without_the_csrf_token_or_from_another_site_are_refused(
        gw: tuple[InProcessGateway, TrustWorld]) -> None:
    gateway, _ = gw
    dev_sign_in(gateway.http, gateway.base, "network")
    url = gateway.base + "/console/participants/gha-registry/suspend"
    assert gateway.http.post(url, data={"reason": "x"}).status_code == 403
    assert gateway.http.post(url, data={"reason": "x", "csrf": "A" * 43}).status_code == 403
    token = csrf_of(gateway.http.get(gateway.base + "/console/participants"))
    cross = gateway.http.post(url, data={"reason": "x", "csrf": token}, headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403 and "CONSOLE.CSRF" in cross.text
    site = gateway.http.post(url, data={"reason": "x", "csrf": token}, headers={"Sec-Fetch-Site": "cross-site"})
    assert site.status_code == 403
    other = gateway.client()
    dev_sign_in(other, gateway.base, "network")
    assert other.post(url, data={"reason": "x", "csrf": token}).status_code == 403  # another session's token
    login = gateway.client().post(gateway.base + "/console/login/dev", data={"role": "network"})
    assert login.status_code == 403
    assert gateway.app.state.trust.directory.held == frozenset()
    # on record: the two sign-ins only; no refused form left a record
    assert [r.kind for r in evidence_of(gateway).records() if r.kind.startswith("console.")] == ["console.signin"] * 2


def test_suspending_a_registry_goes_on_record_and_stops_its_traffic(
        gw: tuple[InProcessGateway, TrustWorld]) -> None:
    gateway, _ = gw
    trust = gateway.app.state.trust
    dev_sign_in(gateway.http, gateway.base, "registry", "che-registry")
    token = csrf_of(gateway.http.get(gateway.base + "/console/participants"))
    refused = gateway.http.post(gateway.base + "/console/participants/gha-registry/suspend",
                                data={"reason": "keys leaked", "csrf": token})
    assert refused.status_code == 403 and "CONSOLE.FORBIDDEN" in refused.text
    dev_sign_in(gateway.http, gateway.base, "network")
    token = csrf_of(gateway.http.get(gateway.base + "/console/participants"))
    done = gateway.http.post(gateway.base + "/console/participants/gha-registry/suspend",
                             data={"reason": "keys leaked <b>now</b>", "csrf": token}, follow_redirects=False)
    assert done.status_code == 303
    assert trust.directory.held == frozenset({"gha-registry"})
    with pytest.raises(ParticipantUnknown) as refused_peer:
        trust.directory.participant("gha-registry")
    assert refused_peer.value.code == "PARTICIPANT.SUSPENDED" and "at this gateway" in refused_peer.value.message
    assert trust.directory.current().get("gha-registry").status == "suspended"
    assert trust.directory.signed().get("gha-registry").status == "active"
    audit = [r for r in evidence_of(gateway).records() if r.kind == "console.suspend"]
    assert len(audit) == 1 and audit[0].sender == "dev:network-operator" and audit[0].receiver == "gha-registry"
    assert audit[0].verdicts["reason"] == "keys leaked <b>now</b>"
    page = gateway.http.get(gateway.base + "/console/evidence").text
    assert "keys leaked &lt;b&gt;now&lt;/b&gt;" in page and "suspended at this gateway" in \
        gateway.http.get(gateway.base + "/console/participants").text
    token = csrf_of(gateway.http.get(gateway.base + "/console/participants"))
    gateway.http.post(gateway.base + "/console/participants/gha-registry/reinstate", data={"csrf": token})
    assert trust.directory.held == frozenset()
    assert trust.directory.participant("gha-registry").active
    kinds = [r.kind for r in evidence_of(gateway).records() if r.kind.startswith("console.")]
    assert kinds == ["console.signin", "console.signin", "console.suspend", "console.reinstate"]


def test_a_suspension_on_record_is_applied_by_a_gateway_started_later(tmp_path: Path) -> None:
    first, _ = console_gateway(tmp_path)
    try:
        dev_sign_in(first.http, first.base, "network")
        token = csrf_of(first.http.get(first.base + "/console/participants"))
        first.http.post(first.base + "/console/participants/sgp-registry/suspend", data={"reason": "audit",
                                                                                          "csrf": token})
    finally:
        first.stop()
    second, _ = console_gateway(tmp_path)
    try:
        assert second.app.state.trust.directory.held == frozenset({"sgp-registry"})
    finally:
        second.stop()


def test_export_and_verify_go_on_record_and_the_export_verifies(gw: tuple[InProcessGateway, TrustWorld],
                                                                tmp_path: Path) -> None:
    gateway, _ = gw
    dev_sign_in(gateway.http, gateway.base, "network")
    token = csrf_of(gateway.http.get(gateway.base + "/console/evidence"))
    verified = gateway.http.post(gateway.base + "/console/evidence/verify", data={"csrf": token})
    assert verified.status_code == 200 and "Whole: every record" in verified.text
    exported = gateway.http.post(gateway.base + "/console/evidence/export", data={"csrf": token})
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    path = tmp_path / "export.jsonl"
    path.write_bytes(exported.content)
    keys = KeySetVerifier.from_jwks(gateway.app.state.trust.keyring.jwks())
    report, manifest = verify_export(path, keys=keys)
    assert report.ok, report.as_dict()
    kinds = [r.kind for r in evidence_of(gateway).records() if r.kind.startswith("console.")]
    assert kinds == ["console.signin", "console.verify", "console.export"]
    assert manifest["head_seq"] == report.head_seq
    registry = gateway.client()
    dev_sign_in(registry, gateway.base, "registry", "che-registry")
    refused = registry.post(gateway.base + "/console/evidence/export",
                            data={"csrf": csrf_of(registry.get(gateway.base + "/console/evidence"))})
    assert refused.status_code == 403


def test_health_page_shows_stores_limits_faults_and_plots(gw: tuple[InProcessGateway, TrustWorld]) -> None:
    gateway, _ = gw
    dev_sign_in(gateway.http, gateway.base, "network")
    page = gateway.http.get(gateway.base + "/console/health").text
    assert "evidence log" in page and "idempotency store" in page and "failing" not in page
    assert "Retry-After" in page and "TRANSFER.UPSTREAM_FAILED" in page and "5 s" in page  # the default policy
    assert page.count('<svg class="plot"') == 3 and 'role="img"' in page
    assert "nor-registry 1" in page  # faults by counterpart
    assert "p95 250.0 ms" in page  # the receipts above answered in 250 ms


def test_oauth_ticket_signs_in_with_the_scope_of_the_directory(gw: tuple[InProcessGateway, TrustWorld]) -> None:
    gateway, world = gw
    che = GatewayClient(gateway.base, "che-registry", world.clients["che-registry"], scope="console:registry",
                        http=gateway.client())
    answer = che.request("POST", "/console/tickets")
    assert answer.status_code == 200, answer.text
    url = answer.json()["login_url"]
    assert answer.json()["role"] == "registry" and url.startswith(gateway.base + "/console/login/ticket?ticket=")
    browser = gateway.client()
    confirm = browser.get(url)
    assert confirm.status_code == 200 and "operator of the registry che-registry" in confirm.text
    ticket = url.split("ticket=")[1]
    signed_in = browser.post(gateway.base + "/console/login/ticket", data={"csrf": csrf_of(confirm), "ticket": ticket},
                             follow_redirects=False)
    assert signed_in.status_code == 303
    listing = browser.get(gateway.base + "/console/messages").text
    assert "Signed in as che-registry (operator of che-registry)" in listing
    again = gateway.client()
    page = again.get(url)
    assert again.post(gateway.base + "/console/login/ticket",
                      data={"csrf": csrf_of(page), "ticket": ticket}).status_code == 401  # used once only
    nor = GatewayClient(gateway.base, "nor-registry", world.clients["nor-registry"], scope="console:network",
                        http=gateway.client())
    assert nor.request("POST", "/console/tickets").json()["role"] == "network"
    gha = GatewayClient(gateway.base, "gha-registry", world.clients["gha-registry"], scope="peers:read",
                        http=gateway.client())
    refused = gha.request("POST", "/console/tickets")
    assert refused.status_code == 403 and refused.json()["code"] == "TOKEN.INSUFFICIENT_SCOPE"


def test_development_login_is_off_unless_asked_for_and_refused_in_production(tmp_path: Path) -> None:
    gateway, _ = console_gateway(tmp_path, CARBONLINK_CONSOLE_DEV_LOGIN="")
    try:
        page = gateway.http.get(gateway.base + "/console/login")  # a "test" environment: off by default
        assert page.status_code == 200 and "Development login" not in page.text and 'name="csrf"' not in page.text
        refused = gateway.http.post(gateway.base + "/console/login/dev", data={"role": "network"})
        assert refused.status_code == 404 and "CONSOLE.DEV_LOGIN_DISABLED" in refused.text
    finally:
        gateway.stop()
    with pytest.raises(ValueError, match="development login"):
        Settings(environment="production", issuer="https://gw.example", signing_keys=Path("k"), anchors=Path("a"),
                 directory="d", console={"console_dev_login": True})


def test_the_console_can_be_switched_off(tmp_path: Path) -> None:
    gateway, _ = console_gateway(tmp_path, CARBONLINK_CONSOLE_ENABLED="0")
    try:
        assert gateway.http.get(gateway.base + "/console/login").status_code == 404
    finally:
        gateway.stop()


def test_older_messages_are_paged_by_record_number(tmp_path: Path) -> None:
    gateway, _ = console_gateway(tmp_path, CARBONLINK_CONSOLE_PAGE_SIZE="5")
    try:
        log = evidence_of(gateway)
        sent = [relay(log, "che-registry", "gha-registry", "accepted").seq for _ in range(7)]
        dev_sign_in(gateway.http, gateway.base, "network")
        first = gateway.http.get(gateway.base + "/console/messages?kind=transfers").text
        seen = [int(s) for s in re.findall(r'href="/console/messages/(\d+)"', first)]
        assert seen == sorted(sent, reverse=True)[:5]
        older = re.search(r'href="(/console/messages\?[^"]+)">Older messages', first)
        assert older and "kind=transfers" in older.group(1)
        second = gateway.http.get(gateway.base + older.group(1).replace("&amp;", "&")).text
        assert [int(s) for s in re.findall(r'href="/console/messages/(\d+)"', second)] == sorted(sent, reverse=True)[5:]
        assert "Older messages" not in second
    finally:
        gateway.stop()


def test_every_page_reads_an_evidence_log_on_postgresql(tmp_path: Path, postgres_dsn: str) -> None:
    import psycopg

    from tests.support.services import unique_prefix

    table = unique_prefix("console").replace("-", "_")
    gateway, _ = console_gateway(tmp_path, CARBONLINK_EVIDENCE_LOG=f"{postgres_dsn}?table={table}")
    try:
        log = evidence_of(gateway)
        relay(log, "che-registry", "gha-registry", "accepted")
        relay(log, "gha-registry", "che-registry", "rejected", reason=HOSTILE)
        relay(log, "sgp-registry", "nor-registry", "fault")
        dev_sign_in(gateway.http, gateway.base, "network")
        rejected = gateway.http.get(gateway.base + "/console/messages?outcome=rejected&counterpart=gha-registry")
        assert rejected.status_code == 200 and rejected.text.count('class="badge o-rejected"') == 1
        seq = int(re.findall(r'href="/console/messages/(\d+)"', rejected.text)[0])
        detail = gateway.http.get(f"{gateway.base}/console/messages/{seq}").text
        assert "SANDBOX.UNITS_HELD" in detail and HOSTILE not in detail
        health = gateway.http.get(gateway.base + "/console/health").text
        assert "p50 250.0 ms" in health and "nor-registry 1" in health and "accepted 1, rejected 1, fault 1" in health
        token = csrf_of(gateway.http.get(gateway.base + "/console/evidence"))
        verified = gateway.http.post(gateway.base + "/console/evidence/verify", data={"csrf": token})
        assert "Whole: every record" in verified.text and "postgresql://" in verified.text
        assert "postgres@" not in verified.text  # the store's URL without its user
        wanted = {f"{table}_kind_seq", f"{table}_sender_seq", f"{table}_receiver_seq"}
        deadline = time.monotonic() + 30  # built in the background at start-up
        while True:
            with psycopg.connect(postgres_dsn) as conn:
                indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s",
                                                      (table,))}
            if wanted <= indexes or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert wanted <= indexes
    finally:
        gateway.stop()
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {table}, {table}_keys")
            conn.execute(f"DROP FUNCTION IF EXISTS {table}_refuse()")
