"""``/v1/authorizations`` on a gateway in this process: a national authority issues, amends and revokes its
Party's authorizations; a registry cannot; readers see what their scope allows; bad input is a coded error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from gateway.client import GatewayClient, GatewayClientError
from gateway.trust.keys import generate_key, public_jwk
from tests.governance.support import AUTH_ID, statement
from tests.support.apps import InProcessGateway
from tests.support.ports import free_port
from tests.trust.support import TrustWorld

ISSUE = "authorizations:issue authorizations:read"


class Governed:
    """A trust world whose directory has a national authority of CHE and a network operator."""

    def __init__(self, root: Path) -> None:
        self.world = TrustWorld(root)
        self.keys = {"che-authority": generate_key("ES256", "che-na-1"), "gha-authority": generate_key("ES256", "g-1"),
                     "operator": generate_key("ES256", "op-1")}

        def add(content: dict[str, Any]) -> None:
            for pid, party, role in (("che-authority", "CHE", {"role": "national-authority", "party": "CHE"}),
                                     ("gha-authority", "GHA", {"role": "national-authority", "party": "GHA"}),
                                     ("operator", "NOR", {"role": "network-operator"})):
                content["participants"].append({
                    "id": pid, "party": party, "party_registry_id": f"{party}01", "status": "active",
                    "format": "aef", "jwks": {"keys": [public_jwk(self.keys[pid])]}, "roles": [role]})

        add(self.world.content)
        self.world.write_directory()
        self.gateway = InProcessGateway(self.world.env(free_port(), CARBONLINK_DATA_DIR=str(root / "data")), root)

    def client(self, pid: str, scope: str) -> GatewayClient:
        key = self.keys.get(pid) or self.world.clients[pid]
        return GatewayClient(self.gateway.base, pid, key, scope=scope, http=self.gateway.client())


@pytest.fixture
def net(tmp_path: Path) -> Iterator[Governed]:
    governed = Governed(tmp_path)
    yield governed
    governed.gateway.stop()


def post(client: GatewayClient, path: str, body: Any) -> Any:
    return client.request("POST", path, content=orjson.dumps(body), headers={"Content-Type": "application/json"})


def test_an_authority_issues_amends_and_revokes_and_readers_see_it(net: Governed) -> None:
    na = net.client("che-authority", ISSUE)
    issued = post(na, "/v1/authorizations", statement())
    assert issued.status_code == 201, issued.text
    assert issued.json()["version"] == 1 and issued.json()["versions"][0]["issued_by"] == "che-authority"
    amended = post(na, f"/v1/authorizations/CHE/{AUTH_ID}/versions", statement(authorized_quantity="2000",
                                                                              date="2024-01-01"))
    assert amended.status_code == 201, amended.text
    assert amended.json()["versions"][1]["statement"]["authorized_quantity"] == "2000"
    revoked = post(na, f"/v1/authorizations/CHE/{AUTH_ID}/revocation", {"effective": "2025-01-01"})
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked", revoked.text
    operator = net.client("operator", "authorizations:read")
    listed = operator.request("GET", "/v1/authorizations").json()["authorizations"]
    assert [(a["party"], a["authorization_id"], a["version"], a["status"]) for a in listed] == [
        ("CHE", AUTH_ID, 2, "revoked")]
    shown = operator.request("GET", f"/v1/authorizations/CHE/{AUTH_ID}")
    assert shown.status_code == 200 and len(shown.json()["versions"]) == 2


def test_a_registry_posing_as_its_national_authority_is_refused(net: Governed) -> None:
    registry = net.client("che-registry", "messages:send")
    refused = post(registry, "/v1/authorizations", statement())
    assert refused.status_code == 403 and refused.json()["code"] == "TOKEN.INSUFFICIENT_SCOPE"
    # nor can it ask for the scope: only the national-authority role grants it
    with pytest.raises(GatewayClientError, match="invalid_scope"):
        net.client("che-registry", "authorizations:issue").token()


def test_an_authority_acts_only_for_its_own_party(net: Governed) -> None:
    post(net.client("che-authority", ISSUE), "/v1/authorizations", statement())
    gha = net.client("gha-authority", ISSUE)
    for path, body in ((f"/v1/authorizations/CHE/{AUTH_ID}/versions", statement()),
                       (f"/v1/authorizations/CHE/{AUTH_ID}/revocation", {"effective": "2025-01-01"})):
        answer = post(gha, path, body)
        assert answer.status_code == 403 and answer.json()["code"] == "GOVERNANCE.NOT_NATIONAL_AUTHORITY"
    # with the read scope it reads every Party's (Article 6.2 authorizations are reported publicly); with only
    # the issuing scope, its own Party's
    assert gha.request("GET", f"/v1/authorizations/CHE/{AUTH_ID}").status_code == 200
    issuing_only = net.client("gha-authority", "authorizations:issue")
    assert issuing_only.request("GET", f"/v1/authorizations/CHE/{AUTH_ID}").status_code == 403
    assert issuing_only.request("GET", "/v1/authorizations").json() == {"authorizations": []}


@pytest.mark.parametrize(("body", "status", "code"), [
    (b"{not json", 400, "INPUT.JSON"),
    (orjson.dumps(statement(purposes="Everything")), 422, "GOVERNANCE.AUTHORIZATION_INVALID"),
    (orjson.dumps(statement(timeframe="soon")), 422, "GOVERNANCE.AUTHORIZATION_INVALID"),
    (orjson.dumps(statement(authorized_quantity="-5")), 422, "GOVERNANCE.AUTHORIZATION_INVALID"),
    (orjson.dumps({"authorization_id": AUTH_ID}), 422, "GOVERNANCE.AUTHORIZATION_INVALID"),
    (orjson.dumps([1, 2]), 422, "GOVERNANCE.AUTHORIZATION_INVALID"),
])
def test_bad_statements_are_coded_errors(net: Governed, body: bytes, status: int, code: str) -> None:
    answer = net.client("che-authority", ISSUE).request("POST", "/v1/authorizations", content=body,
                                                        headers={"Content-Type": "application/json"})
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code


def test_issuing_twice_or_an_unknown_authorization_is_a_coded_error(net: Governed) -> None:
    na = net.client("che-authority", ISSUE)
    assert post(na, "/v1/authorizations", statement()).status_code == 201
    again = post(na, "/v1/authorizations", statement())
    assert again.status_code == 409 and again.json()["code"] == "GOVERNANCE.AUTHORIZATION_CONFLICT"
    missing = post(na, "/v1/authorizations/CHE/NOPE/revocation", {"effective": "2025-01-01"})
    assert missing.status_code == 404 and missing.json()["code"] == "GOVERNANCE.AUTHORIZATION_NOT_FOUND"
    bad = post(na, f"/v1/authorizations/CHE/{AUTH_ID}/revocation", {"effective": "tomorrow"})
    assert bad.status_code == 422 and bad.json()["code"] == "GOVERNANCE.AUTHORIZATION_INVALID"
