"""The console in a real browser (headless Chromium through Playwright) against a gateway with real traffic:
a gateway and two sandbox registries as processes on loopback, transfers accepted, rejected (the same units
twice) and failed (a registry that is down), the console's pages loaded, checked and photographed,
accessibility checked (axe-core, contrast, labels, keyboard), hostile text shown inert, and a suspension made
in the browser stopping the registry's traffic at the gateway process.

The hostile record is appended to the gateway's evidence log by the test, signed with the gateway's own
development key as the relay signs: a receipt whose findings and receiver's answer hold markup, as a
hostile sender or receiver could make them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.demo import Network, Registry, itmo_message
from gateway.evidence import JwkSigner, open_log
from gateway.trust import development
from tests.console.browser import browser_context, contrast, require_browser
from tests.console.support import HOSTILE, relay

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed").expect

PORTS = {"gateway": 18510, "gha": 18511, "che": 18512}
PAGES = ("messages", "evidence", "participants", "health")


def _down_registry() -> dict[str, Any]:
    from gateway.trust.keys import generate_key, public_jwk

    return {"id": "per-down", "party": "PER", "party_registry_id": "PER01", "status": "active", "format": "aef",
            "endpoints": {"messages": "http://127.0.0.1:9/messages"}, "issuer": "http://127.0.0.1:9",
            "jwks": {"keys": [public_jwk(generate_key("ES256", "per-1"))]}, "message_kinds": ["transfers"],
            "scopes": []}


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    require_browser()
    registries = [Registry("gha", "GHA", "aef", port=PORTS["gha"],
                           holds=["CA0001-GHA01-GHA-1-2023..CA0001-GHA01-GHA-100000-2023@treasury"]),
                  Registry("che", "CHE", "canonical", port=PORTS["che"])]
    delivery = json.dumps({"timeout": 1.0, "connect_timeout": 0.5, "retries": 0, "backoff": 0.05, "retry_after": 9})
    network = Network(registries, root=tmp_path_factory.mktemp("console-net"), extra_participants=[_down_registry()],
                      gateway_env={"CARBONLINK_DELIVERY": delivery})
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
        yield network


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
        page.get_by_label("Registry").select_option(registry)
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
        page.get_by_role("link", name="Messages").click()
        page.get_by_role("link", name=re.compile(r"^#\d+$")).first.click()
        assert page.get_by_role("heading", name="Place in the evidence chain").count() == 1
        page.screenshot(path=str(screenshots / "message.png"), full_page=True)
    for name in (*PAGES, "message"):
        assert (screenshots / f"{name}.png").stat().st_size > 10_000, name
    assert not problems, problems  # no CSP violation, no script error (htmx runs without eval)


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
