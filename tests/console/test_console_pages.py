"""The console's later pages in this process: conformance runs and certificates, feeds (sources, conflicts,
subscriptions), rate-limit usage, and sign-in audited. The browser tier is tests/console/test_console_browser.py."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import Key

from conformance import Target, default_kits, run_kit
from conformance import certificate as cert
from gateway.api.routes.conformance import Run, runs_of
from gateway.console import SECURITY_HEADERS
from gateway.trust.keys import generate_key, public_jwk
from tests.console.support import HOSTILE, console_gateway, csrf_of, dev_sign_in, evidence_of, relay
from tests.support.apps import InProcessGateway
from tests.trust.support import TrustWorld

ROOT = Path(__file__).resolve().parents[2]
AEF_EXAMPLE = ROOT / "standards/examples/aef-v2-report.json"


@pytest.fixture(scope="module")
def operator_key() -> Key:
    return generate_key("ES256", "suite-operator-1")


def _run(tmp_path: Path, owner: str, *, hostile: bool) -> Run:
    """A real run of the aef-messages kit over a real file, kept the way the runs route keeps it."""
    report: dict[str, Any] = json.loads(AEF_EXAMPLE.read_text(encoding="utf-8"))
    if hostile:
        report["Actions"][0]["AcquiringPartyID"] = HOSTILE
    target = tmp_path / f"{owner}-{'bad' if hostile else 'good'}.json"
    target.write_text(json.dumps(report), encoding="utf-8")
    result = run_kit(default_kits().get("aef-messages"), Target(str(target)))
    run = Run(id=f"run-{owner}-{int(hostile)}", owner=owner, kit="aef-messages@2026.1", target=str(target),
              status="done", result=result.as_dict(), outcome=result)
    run.done.set()
    return run


@pytest.fixture
def certified(tmp_path: Path, operator_key: Key) -> Iterator[tuple[InProcessGateway, TrustWorld, Run, Run]]:
    """A gateway whose directory lists a valid, an expired and a foreign certificate, with two runs kept."""
    keys = tmp_path / "operator.jwks.json"
    keys.write_text(json.dumps({"keys": [public_jwk(operator_key)]}))
    good = run_kit(default_kits().get("aef-messages"), Target(str(AEF_EXAMPLE)))
    valid = cert.issue(good, operator_key, issuer="suite-operator", validity_days=30)
    expired = cert.issue(good, operator_key, issuer="suite-operator", validity_days=1,
                         now=int(time.time()) - 3 * 86_400)
    foreign = cert.issue(good, generate_key("ES256", "suite-operator-1"), issuer="suite-operator")
    gateway, world = console_gateway(tmp_path, CARBONLINK_CONFORMANCE_OPERATOR_KEYS=str(keys))

    def certificates(content: dict[str, Any]) -> None:
        for entry in content["participants"]:
            entry["conformance_certificates"] = {"che-registry": [valid], "gha-registry": [expired, foreign]}.get(
                entry["id"], [])

    world.write_directory(certificates)
    gateway.app.state.trust.directory.refresh()
    runs = runs_of(gateway.app)
    bad, other = _run(tmp_path, "che-registry", hostile=True), _run(tmp_path, "gha-registry", hostile=False)
    runs.add(other)
    runs.add(bad)
    yield gateway, world, bad, other
    gateway.stop()


def _section(page: str, participant: str) -> str:
    start = page.index(f">{participant}")
    return page[start:page.index("</section>", start)]


def test_participants_show_each_certificate_verified_against_the_operator_keys(certified: Any) -> None:
    gateway, _, _, _ = certified
    dev_sign_in(gateway.http, gateway.base, "network")
    page = gateway.http.get(gateway.base + "/console/participants").text
    che, gha = _section(page, "che-registry"), _section(page, "gha-registry")
    assert "c-valid" in che and "aef-messages@2026.1" in che and "suite-operator" in che
    assert "c-expired" in gha and "CONFORMANCE.CERTIFICATE_EXPIRED" in gha
    assert "c-invalid" in gha and "CONFORMANCE.CERTIFICATE_INVALID" in gha
    assert "none in the directory entry" in _section(page, "sgp-registry")
    assert "none recorded" not in page


def test_certificates_are_unchecked_without_operator_keys(tmp_path: Path, operator_key: Key) -> None:
    gateway, world = console_gateway(tmp_path)
    good = run_kit(default_kits().get("aef-messages"), Target(str(AEF_EXAMPLE)))
    token = cert.issue(good, operator_key, issuer="suite-operator")
    try:
        def certificates(content: dict[str, Any]) -> None:
            for entry in content["participants"]:
                if entry["id"] == "che-registry":
                    entry["conformance_certificates"] = [token]

        world.write_directory(certificates)
        gateway.app.state.trust.directory.refresh()
        dev_sign_in(gateway.http, gateway.base, "network")
        che = _section(gateway.http.get(gateway.base + "/console/participants").text, "che-registry")
        assert "c-unchecked" in che and "CARBONLINK_CONFORMANCE_OPERATOR_KEYS" in che
    finally:
        gateway.stop()


def test_conformance_runs_failures_first_escaped_and_scoped(certified: Any) -> None:
    gateway, _, bad, other = certified
    dev_sign_in(gateway.http, gateway.base, "network")
    listing = gateway.http.get(gateway.base + "/console/conformance")
    assert listing.status_code == 200 and bad.id in listing.text and other.id in listing.text
    assert listing.text.index(bad.id) < listing.text.index(other.id)  # newest first
    assert 'href="/console/conformance"' in listing.text  # in the navigation
    page = gateway.http.get(gateway.base + f"/console/conformance/runs/{bad.id}")
    assert page.status_code == 200 and "not passed" in page.text
    assert bad.result is not None and bad.result["counts"]["fail"] >= 1
    failures = [r for r in bad.result["results"] if r["verdict"] == "fail"]
    first = page.text.index("Failures first")
    assert failures[0]["test"] in page.text[first:]
    tests = {t["id"]: t for g in bad.result["suite"]["groups"] for t in g["tests"]}
    clause = tests[failures[0]["test"]]["clause"]["id"]
    observation = failures[0]["observations"][0]
    assert clause.replace("'", "&#39;") in page.text[first:]  # each failure with its clause,
    assert observation["rule"] in page.text[first:] and observation["location"] in page.text[first:]  # rule, where
    assert HOSTILE not in page.text and "&lt;script&gt;" in page.text
    results = gateway.http.get(gateway.base + f"/console/conformance/runs/{bad.id}/results.json")
    assert results.headers["content-type"].startswith("application/json")
    assert results.json()["digest"] == bad.result["digest"]
    report = gateway.http.get(gateway.base + f"/console/conformance/runs/{bad.id}/report.html")
    policy = report.headers["content-security-policy"]
    assert report.status_code == 200 and "NOT PASSED" in report.text
    assert re.search(r"style-src 'sha256-[A-Za-z0-9+/=]+'", policy) and "script-src 'none'" in policy
    assert "unsafe-inline" not in policy and HOSTILE not in report.text
    registry = gateway.client()
    dev_sign_in(registry, gateway.base, "registry", "gha-registry")
    own = registry.get(gateway.base + "/console/conformance").text
    assert other.id in own and bad.id not in own
    assert registry.get(gateway.base + f"/console/conformance/runs/{bad.id}").status_code == 404
    assert registry.get(gateway.base + f"/console/conformance/runs/{bad.id}/results.json").status_code == 404
    for path in ("/console/conformance", f"/console/conformance/runs/{other.id}"):
        answer = registry.get(gateway.base + path)
        assert answer.headers["content-security-policy"] == SECURITY_HEADERS["Content-Security-Policy"]


def _put(store: Any, source: str, records: dict[str, list[Any]]) -> None:
    """Records into the view as a pushed snapshot puts them (the store's own replacement of the source's rows)."""
    from gateway.feeds.keys import index
    from gateway.feeds.render import prerender

    with store.replacing(source, "CHE", "push") as replacement:
        for kind, items in records.items():
            indexed = [index(kind, r, f"{source}:{kind}:{i}") for i, r in enumerate(items)]
            shapes = prerender(kind, items, [i.key for i in indexed])
            replacement.add([(i, r.model_dump_json(exclude_defaults=True).encode(), s)
                             for i, r, s in zip(indexed, items, shapes, strict=True)])


@pytest.fixture
def fed(tmp_path: Path) -> Iterator[InProcessGateway]:
    """A gateway whose view holds two registries reporting the same project and overlapping units (hostile
    names), a registry whose pull failed (hostile detail), and a webhook that cannot be delivered."""
    from standards.model import Project, UnitBlock

    gateway, _ = console_gateway(tmp_path, CARBONLINK_FEEDS_WEBHOOK_BACKOFF="30")
    service = gateway.app.state.feeds.get()
    tail = "VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1"
    name = f"Adama wind farm {HOSTILE}"
    _put(service.store, "che-registry", {
        "projects": [Project(registry="Verra", project_id="1340", name=name, country="ETH")],
        "units": [UnitBlock(serial=f"19385-1-100-{tail}", first_id=1, last_id=100, quantity=100, vintage=2020,
                            status="held")]})
    _put(service.store, "gha-registry", {
        "projects": [Project(registry="Gold Standard", project_id="GS77", name=name, country="ETH")],
        "units": [UnitBlock(serial=f"19385-50-150-{tail}", first_id=50, last_id=150, quantity=101, vintage=2020,
                            status="retired")]})
    service.store.record_failure("sgp-registry", "SGP", "pull", "FEED.SOURCE_UNSIGNED", f"bad signature {HOSTILE}")
    service.webhooks.subscribe("gha-registry", "http://user:secret@127.0.0.1:9/hook?token=secret", None, None)
    deadline = time.time() + 10
    while not service.webhooks.subscriptions()[0].attempts and time.time() < deadline:
        time.sleep(0.1)
    yield gateway
    gateway.stop()


def test_feeds_page_shows_sources_conflicts_and_subscriptions(fed: InProcessGateway) -> None:
    dev_sign_in(fed.http, fed.base, "network")
    page = fed.http.get(fed.base + "/console/feeds")
    deadline = time.time() + 20
    while "under way" in page.text and time.time() < deadline:  # the first sweep runs in a worker thread
        time.sleep(0.2)
        page = fed.http.get(fed.base + "/console/feeds")
    text = page.text
    assert page.status_code == 200 and HOSTILE not in text and "&lt;script&gt;" in text
    assert "FEED.SOURCE_UNSIGNED" in text and "missing" in text and "FEED.SOURCE_NOT_CONNECTED" in text
    for code in ("FEED.DC.RETIRED_AND_ACTIVE", "FEED.DC.PROJECT_TWO_PROGRAMMES"):
        assert code in text, text[text.index("Double counting"):][:3000]
        row = text[text.index(code):]
        row = row[:row.index("</tr>")]
        assert "che-registry" in row and "gha-registry" in row, code
    subscription = fed.app.state.feeds.get().webhooks.subscriptions()[0]
    assert subscription.attempts >= 1 and subscription.last_error
    assert subscription.id in text and "http://127.0.0.1:9/hook?..." in text and "secret" not in text
    assert subscription.last_error.replace("'", "&#39;")[:40] in text
    registry = fed.client()
    dev_sign_in(registry, fed.base, "registry", "sgp-registry")
    own = registry.get(fed.base + "/console/feeds").text
    assert "FEED.SOURCE_UNSIGNED" in own and "che-registry" not in own and subscription.id not in own
    assert "FEED.DC." not in own.split("Double counting")[1].split("Change subscriptions")[0].replace(
        "<code>GET /v1/feeds/conflicts</code>", "")


def test_the_conflict_sweep_is_kept_until_a_source_changes(fed: InProcessGateway) -> None:
    from gateway.console._feeds import ConflictSweeps

    service = fed.app.state.feeds.get()
    sweeps = ConflictSweeps()
    first, _ = sweeps.current(service, service.view.coverage().included, wait=20)
    assert first is not None and first.total == 2, first
    again, running = sweeps.current(service, service.view.coverage().included, wait=0)
    assert again is first and not running  # no new sweep while nothing changed
    _put(service.store, "che-registry", {"units": []})  # che lists nothing now: no finding left
    changed, _ = sweeps.current(service, service.view.coverage().included, wait=20)
    assert changed is not None and changed is not first and changed.total == 0


def test_health_shows_each_registrys_rate_limit_usage(tmp_path: Path) -> None:
    gateway, _ = console_gateway(tmp_path, CARBONLINK_RATE_LIMIT_PER_MINUTE="6", CARBONLINK_RATE_LIMIT_BURST="3")
    try:
        limiter = gateway.app.state.rate_limiter  # the limiter the transfer route counts messages with
        for _ in range(3):
            limiter.take("che-registry")
        limiter.take("gha-registry")
        dev_sign_in(gateway.http, gateway.base, "network")
        page = gateway.http.get(gateway.base + "/console/health").text
        usage = page[page.index('id="usage-h"'):page.index('id="faults-h"')]
        che = usage[usage.index("<td>che-registry"):]
        che = che[:che.index("</tr>")]
        assert "at its limit" in che and "<td>0</td>" in che  # three of three in use: none may be sent now
        gha = usage[usage.index("<td>gha-registry"):]
        assert "at its limit" not in gha[:gha.index("</tr>")] and "<td>2</td>" in gha[:gha.index("</tr>")]
        registry = gateway.client()
        dev_sign_in(registry, gateway.base, "registry", "gha-registry")
        own = registry.get(gateway.base + "/console/health").text
        own_usage = own[own.index('id="usage-h"'):own.index('id="faults-h"')]
        assert "gha-registry" in own_usage and "che-registry" not in own_usage
    finally:
        gateway.stop()


def test_redis_rate_limit_usage_reads_the_shared_budget(redis_url: str) -> None:
    from gateway.transfers.ratelimit import RedisRateLimiter, make_limiter

    sender = f"usage-{time.time_ns()}"
    first = make_limiter(redis_url, per_minute=6, burst=4)  # two gateway processes sharing one budget
    second = make_limiter(redis_url, per_minute=6, burst=4)
    assert isinstance(first, RedisRateLimiter) and isinstance(second, RedisRateLimiter)
    try:
        assert second.usage([sender])[0].used == 0
        first.take(sender)
        first.take(sender)
        [seen] = second.usage([sender])
        assert 1.9 < seen.used <= 2.0 and seen.available == 2 and seen.retry_after == 0
        assert 19 < seen.idle_in <= 20  # a message back every 10 s
    finally:
        first.close()
        second.close()


def test_sign_in_and_sign_out_go_on_record(tmp_path: Path) -> None:
    gateway, _ = console_gateway(tmp_path)
    try:
        log = evidence_of(gateway)
        relay(log, "che-registry", "gha-registry", "accepted")
        before = log.head()[0]
        browser = gateway.client()
        assert dev_sign_in(browser, gateway.base, "registry", "che-registry").status_code == 303
        page = browser.get(gateway.base + "/console/evidence")
        out = browser.post(gateway.base + "/console/logout", data={"csrf": csrf_of(page)}, follow_redirects=False)
        assert out.status_code == 303 and browser.get(gateway.base + "/console/messages",
                                                      follow_redirects=False).status_code == 303
        records = [r for r in log.records() if r.seq > before]
        assert [r.kind for r in records] == ["console.signin", "console.signout"]
        signin, signout = records
        assert signin.sender == signout.sender == "dev:che-registry" and signin.receiver == "che-registry"
        assert signin.verdicts["role"] == "registry" and signin.verdicts["via"] == "development"
        assert signin.verdicts["session"] == signout.verdicts["session"]  # the same session, by a tag of it
        session = browser.cookies.get("carbonlink_console") or ""
        assert all(len(str(v)) < 40 or session not in str(v) for v in signin.verdicts.values())
        network = gateway.client()
        dev_sign_in(network, gateway.base, "network")
        evidence = network.get(gateway.base + "/console/evidence").text
        assert evidence.count("signin") >= 2 and "signout" in evidence and "development sign-in" in evidence
        refused = gateway.client()  # a sign-in without the form's token leaves nothing on record
        head = log.head()[0]
        assert refused.post(gateway.base + "/console/login/dev", data={"role": "network"}).status_code == 403
        assert log.head()[0] == head
    finally:
        gateway.stop()
