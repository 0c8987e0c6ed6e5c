"""The console in a real browser (headless Chromium through Playwright) against a gateway with real traffic:
a gateway and two sandbox registries as processes on loopback, transfers accepted, rejected (the same units
twice) and failed (a registry that is down), the console's pages loaded, checked and photographed,
accessibility checked (axe-core, contrast, labels, keyboard), hostile text shown inert, and a suspension made
in the browser stopping the registry's traffic at the gateway process. The later pages too: a conformance run
made through the gateway (``POST /v1/conformance/runs`` by a registry), the feeds (a registry pulled, one pushing
a snapshot whose project id holds markup, one down, a webhook subscription that cannot be delivered), the
rate-limit budget in use after the traffic, and the sign-ins on record.

The hostile record is appended to the gateway's evidence log by the test, signed with the gateway's own
development key as the relay signs: a receipt whose findings and receiver's answer hold markup, as a
hostile sender or receiver could make them."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.client import GatewayClient
from gateway.demo import Network, Registry, itmo_message
from gateway.evidence import JwkSigner, open_log
from gateway.trust import development
from tests.console.browser import browser_context, contrast, require_browser
from tests.console.support import HOSTILE, relay
from tests.feeds.support import pushing_participant, seed_registry
from tests.governance.support import authority, statement
from tests.governance.support import entry as directory_entry

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed").expect

PORTS = {"gateway": 19110, "gha": 19111, "che": 19112}
PAGES = ("messages", "evidence", "participants", "health", "conformance", "feeds", "authorizations")
VCU_TAIL = "VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1"


class ConsoleNetwork(Network):
    """The demo network with gha pulled by the feeds (its read side) and allowed to run conformance kits."""

    def _participants(self) -> list[dict[str, Any]]:
        entries = super()._participants()
        for entry in entries:
            if entry["id"] == "gha":
                entry["endpoints"]["read"] = self.registries["gha"].base_url + "/read"
                entry["scopes"] = [*entry["scopes"], "conformance:run", "feeds:read:own"]
        return entries


def _snapshot() -> bytes:
    """What the pushing registry sends: a block gha still holds, retired here, and gha's project under another
    programme with markup in its id (registry text the console shows)."""
    return json.dumps({
        "units": [{"registry": "ncr", "serial": f"19385-1500-1599-{VCU_TAIL}", "first_id": 1500, "last_id": 1599,
                   "quantity": "100", "vintage": 2020, "status": "retired"}],
        "projects": [{"registry": "Gold Standard", "project_id": f"GS4410{HOSTILE}", "name": "Adama Wind Farm",
                      "country": "ETH"}]}).encode()


def _down_registry() -> dict[str, Any]:
    from gateway.trust.keys import generate_key, public_jwk

    return {"id": "per-down", "party": "PER", "party_registry_id": "PER01", "status": "active", "format": "aef",
            "endpoints": {"messages": "http://127.0.0.1:9/messages", "read": "http://127.0.0.1:9/read"},
            "issuer": "http://127.0.0.1:9",
            "jwks": {"keys": [public_jwk(generate_key("ES256", "per-1"))]}, "message_kinds": ["transfers"],
            "scopes": []}


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    from gateway.trust.keys import generate_key

    require_browser()
    root = tmp_path_factory.mktemp("console-net")
    seed_registry(root, "gha", holds=[f"19385-1000-1999-{VCU_TAIL}@treasury"], projects=[
        {"registry": "Verra", "project_id": "1340", "name": "Adama Wind Farm", "country": "ETH"}])
    registries = [Registry("gha", "GHA", "aef", port=PORTS["gha"],
                           holds=["CA0001-GHA01-GHA-1-2023..CA0001-GHA01-GHA-100000-2023@treasury"]),
                  Registry("che", "CHE", "canonical", port=PORTS["che"])]
    delivery = json.dumps({"timeout": 1.0, "connect_timeout": 0.5, "retries": 0, "backoff": 0.05, "retry_after": 9})
    ncr_key, authority_key = generate_key("ES256", "ncr-1"), generate_key("ES256", "nor-authority-1")
    network = ConsoleNetwork(registries, root=root, extra_participants=[
        _down_registry(), pushing_participant("ncr", "SEN", ncr_key),
        directory_entry("nor-authority", "NOR", roles=authority("NOR"), key=authority_key)],
                             gateway_env={"CARBONLINK_DELIVERY": delivery, "CARBONLINK_FEEDS_MAX_AGE_SECONDS": "2",
                                          "CARBONLINK_FEEDS_WEBHOOK_BACKOFF": "30",
                                          "CARBONLINK_RATE_LIMIT_PER_MINUTE": "6", "CARBONLINK_RATE_LIMIT_BURST": "60"})
    url = f"http://127.0.0.1:{PORTS['gateway']}"
    network.gateway_ports, network.gateway_port = [PORTS["gateway"]], PORTS["gateway"]
    network.gateway_urls, network.gateway_url, network.issuer = [url], url, url
    with network:
        gha = network.client("gha")
        for index in range(3):
            first = 1 + index * 100
            body = json.dumps(itmo_message(sender_party="GHA", receiver_party="CHE", first=first, last=first + 99))
            assert gha.send(body.encode(), message_id=f"console-ok-{index}").body["outcome"] == "accepted"
        again = json.dumps(itmo_message(sender_party="GHA", receiver_party="CHE", first=1, last=100)).encode()
        assert gha.send(again, message_id="console-twice").body["outcome"] == "rejected"
        down = json.dumps(itmo_message(sender_party="GHA", receiver_party="PER", first=901, last=950)).encode()
        assert gha.send(down, message_id="console-down").status == 502
        signer = JwkSigner.from_keyring(development.keyring_document())
        with open_log(f"sqlite:///{network.root / 'gateway' / 'evidence.sqlite3'}", signer=signer) as log:
            relay(log, "gha", "che", "rejected", message_id="console-hostile", reason=HOSTILE, warning=HOSTILE)
        _later_capabilities(network, ncr_key)
        # a Party outside the traffic above: with a national authority, the gate checks its first transfers
        issuer = GatewayClient(network.gateway_url, "nor-authority", authority_key, scope="authorizations:issue",
                               issuer=network.issuer)
        issued = issuer.authorize("/v1/authorizations", statement("NOR-A6-0001", terms=HOSTILE), party="NOR")
        assert issued.status_code == 201, issued.text
        yield network


def _later_capabilities(network: Network, ncr_key: Any) -> None:
    """Real use of the conformance and feeds routes, which the console's later pages show."""
    gha_key = network.registries["gha"].key
    runner = GatewayClient(network.gateway_url, "gha", gha_key, scope="conformance:run", issuer=network.issuer)
    started = runner.request("POST", "/v1/conformance/runs", content=b'{"kit": "registry-endpoint"}',
                             headers={"Content-Type": "application/json"})
    assert started.status_code == 202, started.text
    pusher = GatewayClient(network.gateway_url, "ncr", ncr_key, scope="feeds:push", issuer=network.issuer)
    pushed = pusher.request("PUT", "/v1/feeds/snapshot", content=_snapshot(),
                            headers={"Content-Type": "application/json"})
    assert pushed.status_code == 200, pushed.text
    reader = GatewayClient(network.gateway_url, "gha", gha_key, scope="feeds:read:own", issuer=network.issuer)
    subscribed = reader.request("POST", "/v1/feeds/subscriptions", content=b'{"url": "http://127.0.0.1:9/hook"}',
                                headers={"Content-Type": "application/json"})
    assert subscribed.status_code == 201, subscribed.text
    network.run_id = started.json()["id"]  # type: ignore[attr-defined]
    network.subscription = subscribed.json()["id"]  # type: ignore[attr-defined]
    deadline = time.time() + 60
    run = runner.request("GET", f"/v1/conformance/runs/{started.json()['id']}").json()
    while run["status"] == "running" and time.time() < deadline:
        time.sleep(0.5)
        run = runner.request("GET", f"/v1/conformance/runs/{started.json()['id']}").json()
    assert run["status"] == "done", run
    network.run = run  # type: ignore[attr-defined]
    state = reader.request("GET", f"/v1/feeds/subscriptions/{subscribed.json()['id']}").json()
    while not state["attempts"] and time.time() < deadline:
        time.sleep(0.3)
        state = reader.request("GET", f"/v1/feeds/subscriptions/{subscribed.json()['id']}").json()
    assert state["attempts"] >= 1, state


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("console-screenshots")


def _sign_in(page: Any, base: str, role: str = "network", registry: str = "gha") -> None:
    page.goto(base + "/console/messages")
    assert page.url.endswith("/console/login")
    if role == "network":
        page.get_by_label("Network operator (sees every registry's traffic)").check()
    else:
        page.get_by_label("Operator of one registry").check()
        page.get_by_label("Registry", exact=True).select_option(registry)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/console/messages$"))


def _watch(page: Any) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return problems


def test_each_page_shows_the_traffic_and_is_photographed(net: Network, screenshots: Path) -> None:
    with browser_context() as context:
        page = context.new_page()
        problems = _watch(page)
        _sign_in(page, net.gateway_url)
        table = page.locator("table.messages tbody")
        for message_id in ("console-ok-0", "console-ok-2", "console-twice", "console-down", "console-hostile"):
            assert table.get_by_text(message_id, exact=True).count() == 1, message_id
        assert table.locator(".o-fault").count() == 1 and table.locator(".o-rejected").count() == 2
        code = table.locator("tr", has_text="console-twice").locator("td").nth(7).inner_text().strip()
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*\.[A-Z0-9_.]+", code), code  # the receiving registry's code
        for name in PAGES:
            page.goto(f"{net.gateway_url}/console/{name}")
            assert page.locator("h1").count() == 1
            page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)
        page.goto(net.gateway_url + "/console/health")
        assert page.locator("svg.plot").count() == 3
        assert "UPSTREAM.UNAVAILABLE" in page.locator("#faults-h + table").inner_text()
        assert "9 s" in page.locator("#faults-h + table").inner_text()  # the Retry-After of the policy
        page.goto(net.gateway_url + "/console/participants")
        assert page.get_by_role("heading", name="per-down").count() == 1
        page.goto(net.gateway_url + "/console/authorizations")
        page.get_by_role("link", name="NOR-A6-0001").click()
        assert page.get_by_role("heading", name="Version 1 (in force)").count() == 1
        assert page.evaluate("window.__pwned === undefined") and "<script>" in page.locator("main").inner_text()
        page.get_by_role("link", name="Messages").click()
        page.get_by_role("link", name=re.compile(r"^#\d+$")).first.click()
        assert page.get_by_role("heading", name="Place in the evidence chain").count() == 1
        page.screenshot(path=str(screenshots / "message.png"), full_page=True)
    for name in (*PAGES, "message"):
        assert (screenshots / f"{name}.png").stat().st_size > 10_000, name
    assert not problems, problems  # no CSP violation, no script error (htmx runs without eval)


def _reload_until(page: Any, absent: str, seconds: float = 30) -> None:
    deadline = time.time() + seconds
    while absent in page.content() and time.time() < deadline:
        time.sleep(0.3)
        page.reload()


def test_later_pages_conformance_feeds_limits_and_sign_ins(net: Network, screenshots: Path) -> None:
    run_id: str = net.run_id  # type: ignore[attr-defined]
    with browser_context() as context:
        page = context.new_page()
        problems = _watch(page)
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        _sign_in(page, net.gateway_url)
        page.get_by_role("link", name="Conformance").click()
        row = page.locator("tr", has_text=run_id)
        assert "registry-endpoint@" in row.inner_text() and "gha" in row.inner_text()
        result = net.run["result"]  # type: ignore[attr-defined]
        assert row.locator(".badge").inner_text() == ("passed" if result["passed"] else "not passed")
        for verdict, count in result["counts"].items():  # the counts as the runs route gives them
            assert row.locator("td").nth(6 + list(result["counts"]).index(verdict)).inner_text() == str(count)
        row.get_by_role("link", name=run_id, exact=True).click()
        assert page.get_by_role("heading", name="Failures first").count() == 1
        failed = [r for r in result["results"] if r["verdict"] in ("fail", "error")]
        if failed:
            items = page.locator("ol.findings > li")
            assert failed[0]["test"] in items.first.inner_text()  # failures first
        page.screenshot(path=str(screenshots / "conformance-run.png"), full_page=True)
        assert not problems, problems
        page.get_by_role("link", name="report (HTML)").click()
        banner = page.locator("#summary")
        assert "PASSED" in banner.inner_text()
        assert page.evaluate("getComputedStyle(document.getElementById('summary')).backgroundColor") != \
            "rgba(0, 0, 0, 0)"  # the report's own style applies under its hash-only policy
        page.screenshot(path=str(screenshots / "conformance-report.png"), full_page=True)
        # the suite's report links no icon, so Chromium asks the server's /favicon.ico (outside the console): its
        # 404 is the browser's own request, not the page's; anything else is a problem
        problems[:] = [p for p in problems if "404" not in p]

        page.goto(net.gateway_url + "/console/feeds")
        _reload_until(page, "under way")
        _reload_until(page, "FEED.SOURCE_NOT_CONNECTED</span> the registry has no read endpoint")  # gha pulled
        sources = page.locator("#sources-h + table").inner_text()
        assert "FEED.SOURCE_UNREACHABLE" in sources and "per-down" in sources
        assert re.search(r"ncr\s+SEN\s+push\s+included", sources), sources
        _reload_until(page, "FEED.DC.PROJECT_TWO_PROGRAMMES", seconds=0)
        findings = page.locator("#conflicts-h ~ table").first
        text = findings.inner_text()
        for code in ("FEED.DC.RETIRED_AND_ACTIVE", "FEED.DC.PROJECT_TWO_PROGRAMMES"):
            row = findings.locator("tr", has_text=code).inner_text()
            assert "gha" in row and "ncr" in row, row  # both records, with their sources
        assert "<script>window.__pwned=1</script>" in text  # the registry's markup, as text
        assert findings.locator("img, script").count() == 0 and page.evaluate("window.__pwned === undefined")
        subscriptions = page.locator("#subs-h + table").inner_text()
        assert net.subscription in subscriptions and "ConnectError" in subscriptions  # type: ignore[attr-defined]
        page.screenshot(path=str(screenshots / "feeds-loaded.png"), full_page=True)

        gha = net.client("gha")
        for index in range(3):  # traffic just now: 3 messages of a budget that gives one back every 10 s
            first = 20_001 + index * 10
            body = json.dumps(itmo_message(sender_party="GHA", receiver_party="CHE", first=first, last=first + 9))
            assert gha.send(body.encode(), message_id=f"console-usage-{index}").status == 200
        page.goto(net.gateway_url + "/console/health")
        usage = page.locator("table[aria-labelledby=usage-h]").inner_text()
        used = float(re.search(r"gha\s+6, 60\s+([0-9.]+) of 60", usage).group(1))  # type: ignore[union-attr]
        assert used >= 2.0, usage  # gha's messages just now draw on its budget
        page.goto(net.gateway_url + "/console/evidence")
        audit = page.locator("#audit-h + table").inner_text()
        assert "signin" in audit and "dev:network-operator" in audit
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(re.compile(r".*/console/login$"))
        _sign_in(page, net.gateway_url, role="registry", registry="che")
        page.goto(net.gateway_url + "/console/evidence")
        own = page.locator("#audit-h + table").inner_text()
        assert "dev:che" in own and "dev:network-operator" not in own  # an operator sees its own sign-ins
        page.goto(net.gateway_url + "/console/conformance")
        assert page.get_by_text(run_id).count() == 0  # gha's run is not che's to see
    for name in ("conformance-run", "conformance-report", "feeds-loaded"):
        assert (screenshots / f"{name}.png").stat().st_size > 10_000, name
    assert not problems, problems
    assert not dialogs


def test_filtering_with_htmx_swaps_the_results_and_keeps_the_address(net: Network) -> None:
    with browser_context() as context:
        page = context.new_page()
        problems = _watch(page)
        _sign_in(page, net.gateway_url)
        page.evaluate("window.__same_document = true")  # gone if the browser loaded a new page
        page.get_by_label("Outcome").select_option("rejected")
        page.wait_for_url(re.compile(r".*outcome=rejected.*"))
        expect(page.locator("#results tbody .o-accepted")).to_have_count(0)
        badges = page.locator("#results tbody .badge")
        expect(badges).to_have_count(2)
        assert set(badges.all_inner_texts()) == {"rejected"}
        page.get_by_label("Counterpart").fill("per-down")
        page.get_by_role("button", name="Filter").click()
        expect(page.get_by_text("No message matches.")).to_be_visible()
        assert page.evaluate("window.__same_document === true")  # htmx swapped the results in place
    assert not problems, problems


def test_hostile_text_is_shown_as_text_and_never_runs(net: Network) -> None:
    with browser_context() as context:
        page = context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        _sign_in(page, net.gateway_url)
        page.get_by_role("link", name="Messages").click()
        row = page.locator("tr", has_text="console-hostile")
        row.get_by_role("link").click()
        findings = page.locator("ol.findings")
        assert HOSTILE.replace("&amp;", "&amp;") in findings.inner_text()
        assert findings.locator("img, script").count() == 0
        assert page.evaluate("window.__pwned === undefined")
        assert page.locator("pre.json").inner_text().count("<script>") == 1  # the answer, as JSON text
        assert not dialogs


def test_accessibility_axe_contrast_labels_and_keyboard(net: Network) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    with browser_context(bypass_csp=True) as context:  # axe-core is injected by the test, not by the console
        page = context.new_page()
        page.goto(net.gateway_url + "/console/login")
        found = {"login": axe.run(page).response["violations"]}
        _sign_in(page, net.gateway_url)
        for name in PAGES:
            page.goto(f"{net.gateway_url}/console/{name}")
            found[name] = axe.run(page).response["violations"]
        page.goto(net.gateway_url + "/console/authorizations/NOR/NOR-A6-0001")
        found["authorization"] = axe.run(page).response["violations"]
        serious = {name: [(v["id"], v["impact"], len(v["nodes"])) for v in violations]
                   for name, violations in found.items() if violations}
        assert not serious, serious
        page.goto(net.gateway_url + "/console/messages")
        unlabeled = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select, button')]
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.textContent.trim())
            .map(el => el.outerHTML)""")
        assert not unlabeled, unlabeled
        colours = page.evaluate("""() => { const b = document.querySelector('.badge.o-rejected');
            const s = getComputedStyle(b); return [s.color, s.backgroundColor]; }""")
        rgb = [tuple(int(v) for v in re.findall(r"\d+", c)[:3]) for c in colours]
        assert contrast(rgb[0], rgb[1]) >= 4.5, colours
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to the content"
        page.keyboard.press("Enter")
        assert page.evaluate("location.hash") == "#main"
        reached = []
        for _ in range(14):
            page.keyboard.press("Tab")
            reached.append(page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()"))
        for control in ("f-kind", "f-counterpart", "f-outcome", "f-from", "f-to", "Filter"):
            assert control in reached, reached


def test_suspending_in_the_browser_stops_the_registry_at_the_gateway(net: Network) -> None:
    gha = net.client("gha")
    assert gha.request("GET", "/v1/whoami").status_code == 200  # a token from before the suspension
    with browser_context() as context:
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        _sign_in(page, net.gateway_url)
        page.goto(net.gateway_url + "/console/participants")
        page.get_by_label("Reason for suspending gha").fill("test: <keys> leaked")
        page.get_by_role("button", name="Suspend at this gateway").first.click()
        page.wait_for_url(re.compile(r".*/console/participants$"))
        assert page.locator("section", has_text="gha").get_by_text("suspended at this gateway").count() >= 1
        body = json.dumps(itmo_message(sender_party="GHA", receiver_party="CHE", first=5001, last=5010)).encode()
        refused = gha.send(body, message_id="console-after-suspension")
        assert refused.status == 401 and refused.body["code"] == "PARTICIPANT.SUSPENDED", refused.body
        page.goto(net.gateway_url + "/console/evidence")
        audit = page.locator("#audit-h + table").inner_text()
        assert "suspend" in audit and "test: <keys> leaked" in audit and "dev:network-operator" in audit
        page.goto(net.gateway_url + "/console/participants")
        page.get_by_role("button", name="Reinstate gha").click()
        page.wait_for_url(re.compile(r".*/console/participants$"))
    sent = gha.send(body, message_id="console-after-reinstatement")
    assert sent.status == 200 and sent.body["outcome"] == "accepted", sent.body
