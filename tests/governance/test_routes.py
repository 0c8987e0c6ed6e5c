"""``/v1/authorizations`` on a gateway in this process: a national authority issues, amends and revokes its
Party's authorizations; a registry cannot; readers see what their scope allows; bad input is a coded error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from gateway.client import GatewayClient, GatewayClientError
from gateway.governance import sign_statement
from gateway.trust.keys import generate_key, public_jwk
from tests.governance.support import AUTH_ID, statement
from tests.support.apps import InProcessGateway
from tests.support.cli import run_cli
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
    """The authority's statement, signed with its own key (the client's: a key of its directory entry)."""
    return client.authorize(path, body, party=client.client_id.split("-")[0].upper())


def raw(client: GatewayClient, path: str, token: str) -> Any:
    return client.request("POST", path, content=token.encode(), headers={"Content-Type": "application/jose"})


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
    (statement(purposes="Everything"), 422, "GOVERNANCE.AUTHORIZATION_INVALID"),
    (statement(timeframe="soon"), 422, "GOVERNANCE.AUTHORIZATION_INVALID"),
    (statement(authorized_quantity="-5"), 422, "GOVERNANCE.AUTHORIZATION_INVALID"),
    ({"authorization_id": AUTH_ID}, 422, "GOVERNANCE.AUTHORIZATION_INVALID"),
])
def test_bad_statements_are_coded_errors(net: Governed, body: dict[str, Any], status: int, code: str) -> None:
    answer = post(net.client("che-authority", ISSUE), "/v1/authorizations", body)
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code


@pytest.mark.parametrize(("content", "media", "status", "code"), [
    (orjson.dumps(statement()), "application/json", 422, "GOVERNANCE.STATEMENT_UNSIGNED"),
    (b"{not json", "application/json", 422, "GOVERNANCE.STATEMENT_UNSIGNED"),
    (b"not.a.jws", "application/jose", 403, "GOVERNANCE.STATEMENT_SIGNATURE"),
    ("\u00e9".encode(), "application/jose", 422, "GOVERNANCE.STATEMENT_INVALID"),
])
def test_an_unsigned_statement_is_refused(net: Governed, content: bytes, media: str, status: int, code: str) -> None:
    answer = net.client("che-authority", ISSUE).request("POST", "/v1/authorizations", content=content,
                                                        headers={"Content-Type": media})
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code


def test_issuing_twice_or_an_unknown_authorization_is_a_coded_error(net: Governed) -> None:
    na = net.client("che-authority", ISSUE)
    assert post(na, "/v1/authorizations", statement()).status_code == 201
    again = post(na, "/v1/authorizations", statement())
    assert again.status_code == 409 and again.json()["code"] == "GOVERNANCE.AUTHORIZATION_CONFLICT"
    missing = post(na, "/v1/authorizations/CHE/NOPE/revocation", {"effective": "2025-01-01"})
    assert missing.status_code == 404 and missing.json()["code"] == "GOVERNANCE.AUTHORIZATION_NOT_FOUND"
    bad = post(na, f"/v1/authorizations/CHE/{AUTH_ID}/revocation", {"effective": None})
    assert bad.status_code == 422 and bad.json()["code"] == "GOVERNANCE.STATEMENT_INVALID"


def sign(net: Governed, key: Any, *, signer: str = "che-authority", audience: str | None = None,
         **fields: Any) -> str:
    base: dict[str, Any] = {"party": "CHE", "action": "issue", "authorization_id": AUTH_ID, "statement": statement()}
    base.update(fields)
    return sign_statement(key, issuer=signer, audience=audience or net.gateway.base, **base)


def test_a_statement_must_carry_the_authority_own_signature(net: Governed) -> None:
    na = net.client("che-authority", ISSUE)
    for key in (net.world.clients["che-registry"], net.keys["gha-authority"]):  # a registry's, another Party's
        refused = raw(na, "/v1/authorizations", sign(net, key))
        assert refused.status_code == 403 and refused.json()["code"] == "GOVERNANCE.STATEMENT_SIGNATURE", refused.text
        assert "not a key of 'che-authority'" in refused.json()["detail"]
    # another Party's authority signing a statement for CHE with its own key acts for a Party not its own
    gha = net.client("gha-authority", ISSUE)
    refused = raw(gha, "/v1/authorizations", sign(net, net.keys["gha-authority"], signer="gha-authority"))
    assert refused.status_code == 403 and refused.json()["code"] == "GOVERNANCE.STATEMENT_MISMATCH"
    refused = raw(gha, f"/v1/authorizations/CHE/{AUTH_ID}/revocation",
                  sign(net, net.keys["gha-authority"], signer="gha-authority", action="revoke", statement=None,
                       effective="2025-01-01"))
    assert refused.status_code == 403 and refused.json()["code"] == "GOVERNANCE.NOT_NATIONAL_AUTHORITY"
    # signed by the authority's key but naming someone else as its issuer
    forged = raw(na, "/v1/authorizations", sign(net, net.keys["che-authority"], signer="gha-authority"))
    assert forged.status_code == 403 and forged.json()["code"] == "GOVERNANCE.STATEMENT_SIGNATURE"
    assert net.client("operator", "authorizations:read").request("GET", "/v1/authorizations").json() == {
        "authorizations": []}


def test_a_replayed_or_misdirected_statement_is_refused(net: Governed) -> None:
    na, key = net.client("che-authority", ISSUE), net.keys["che-authority"]
    issued = sign(net, key)
    assert raw(na, "/v1/authorizations", issued).status_code == 201
    assert raw(na, "/v1/authorizations", issued).json()["code"] == "GOVERNANCE.AUTHORIZATION_CONFLICT"
    amend = f"/v1/authorizations/CHE/{AUTH_ID}/versions"
    second = sign(net, key, action="amend", version=2, statement=statement(authorized_quantity="2000"))
    assert raw(na, amend, second).status_code == 201
    assert raw(na, amend, second).json()["code"] == "GOVERNANCE.AUTHORIZATION_CONFLICT"  # version 2 is made
    revoke = f"/v1/authorizations/CHE/{AUTH_ID}/revocation"
    for token, code in (
            (sign(net, key, action="revoke", statement=None, effective="2025-01-01", audience="https://other.gw"),
             "GOVERNANCE.STATEMENT_AUDIENCE"),
            (sign(net, key, action="revoke", statement=None, effective="2025-01-01", issued_at=1_700_000_000),
             "GOVERNANCE.STATEMENT_STALE"),
            (issued, "GOVERNANCE.STATEMENT_MISMATCH")):  # the issue statement sent to the revocation route
        refused = raw(na, revoke, token)
        assert refused.status_code == 403 and refused.json()["code"] == code, refused.text
    revocation = sign(net, key, action="revoke", statement=None, effective="2025-01-01")
    assert raw(na, revoke, revocation).status_code == 200
    assert raw(na, revoke, revocation).json()["code"] == "GOVERNANCE.AUTHORIZATION_CONFLICT"
    shown = na.request("GET", f"/v1/authorizations/CHE/{AUTH_ID}").json()
    assert [v["authority_statement"] for v in shown["versions"]] == [issued, second]
    assert shown["revocation"]["authority_statement"] == revocation


def test_the_records_verify_offline_and_a_tampered_one_does_not(net: Governed, tmp_path: Path) -> None:
    na = net.client("che-authority", ISSUE)
    assert post(na, "/v1/authorizations", statement()).status_code == 201
    amended = post(na, f"/v1/authorizations/CHE/{AUTH_ID}/versions", statement(authorized_quantity="2000"))
    assert amended.status_code == 201
    assert post(na, f"/v1/authorizations/CHE/{AUTH_ID}/revocation", {"effective": "2025-01-01"}).status_code == 200
    answer = na.request("GET", f"/v1/authorizations/CHE/{AUTH_ID}").json()
    jwks = tmp_path / "gateway-jwks.json"
    jwks.write_bytes(net.gateway.client().get(net.gateway.base + "/.well-known/jwks.json").content)
    saved = tmp_path / "answer.json"
    saved.write_bytes(orjson.dumps(answer))
    args = ("authorizations", "show", "CHE", AUTH_ID, "--verify", "--file", str(saved), "--gateway-jwks", str(jwks),
            "--directory", str(net.world.directory_path), "--anchors", str(net.world.root / "anchors.json"))
    env = {"CARBONLINK_ENVIRONMENT": "test"}
    ok = run_cli(*args, "--json", env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert orjson.loads(ok.stdout)["verification"] == {"ok": True, "findings": []}
    assert "verified" in run_cli(*args, env=env).stdout
    answer["versions"][1]["statement"]["authorized_quantity"] = "20000"  # the record shown is not the one signed
    saved.write_bytes(orjson.dumps(answer))
    bad = run_cli(*args, "--json", env=env)
    assert bad.returncode == 1
    assert orjson.loads(bad.stdout)["verification"]["findings"] == [
        {"code": "GOVERNANCE.RECORD_ALTERED", "path": "/versions/1", "message": "what is shown is not what the "
                                                                              "gateway signed"}]


def test_the_title_route_is_behind_its_scope(net: Governed) -> None:
    operator = net.client("operator", "title:read")
    answer = operator.request("GET", "/v1/title?block=CA0001:GHA:1-100")
    assert answer.status_code == 200, answer.text
    assert [(p["first"], p["last"], p["status"]) for p in answer.json()["parts"]] == [
        (1, 100, "no history at this gateway")]
    bad = operator.request("GET", "/v1/title?block=GHA:100-1")
    assert bad.status_code == 422 and bad.json()["code"] == "TITLE.BLOCK_INVALID"
    registry = net.client("che-registry", "messages:send")
    refused = registry.request("GET", "/v1/title?block=CA0001:GHA:1-100")
    assert refused.status_code == 403 and refused.json()["code"] == "TOKEN.INSUFFICIENT_SCOPE"
