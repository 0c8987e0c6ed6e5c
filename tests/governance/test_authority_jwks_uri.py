"""A national authority whose directory entry publishes only a ``jwks_uri``: its statements are checked against
the keys served there by a real local HTTP server (fetched, cached, re-fetched when it rotates its key); an
unreachable or broken ``jwks_uri`` is a coded refusal (503 with Retry-After), never a 500."""

from __future__ import annotations

import functools
import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.client import GatewayClient
from gateway.errors import answer_for
from gateway.governance import Authorities, AuthorityKeysUnavailable, StatementRefused, open_authorization_store
from gateway.governance._statements import statement_for_route
from gateway.trust.client_auth import JwksCache
from gateway.trust.directory import Participant
from gateway.trust.keys import SigningKeyRing, generate_key, public_jwk
from tests.governance.support import AUTH_ID, statement
from tests.support.apps import InProcessGateway
from tests.support.ports import free_port
from tests.trust.support import TrustWorld

AUDIENCE = "https://gw.test"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    folder = tmp_path / "served"
    folder.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def publish(folder: Path, *keys: Any) -> None:
    (folder / "che-na.jwks").write_text(json.dumps({"keys": [public_jwk(k) for k in keys]}))


def authority(uri: str) -> Participant:
    return Participant.model_validate({"id": "che-authority", "party": "CHE", "party_registry_id": "CHE01",
                                       "status": "active", "format": "aef", "jwks_uri": uri,
                                       "roles": [{"role": "national-authority", "party": "CHE"}]})


@pytest.fixture
def authorities(tmp_path: Path) -> Iterator[Authorities]:
    made = Authorities(open_authorization_store(f"sqlite:///{tmp_path / 'auth.sqlite3'}"),
                       SigningKeyRing.generate("ES256", kid="gw-1"), jwks_cache=JwksCache(min_refetch=0, timeout=2))
    yield made
    made.close()


def issue(authorities: Authorities, caller: Participant, key: Any, auth_id: str = AUTH_ID) -> dict[str, Any]:
    token = statement_for_route(key, issuer=caller.id, audience=AUDIENCE, path="/v1/authorizations",
                                body=statement(auth_id), party="CHE")
    return authorities.submit(caller, token, audience=AUDIENCE, action="issue")


def test_statements_verify_against_the_published_keys_across_a_rotation(authorities: Authorities,
                                                                        served: tuple[Path, str]) -> None:
    folder, base = served
    first, second, stranger = (generate_key("ES256", k) for k in ("che-na-1", "che-na-2", "che-na-x"))
    publish(folder, first)
    caller = authority(base + "/che-na.jwks")
    assert issue(authorities, caller, first)["versions"][0]["issued_by"] == "che-authority"
    publish(folder, second)  # the authority rotates: the cached keys do not hold che-na-2, so they are fetched
    assert issue(authorities, caller, second, "CHE-A6-2023-002")["version"] == 1
    with pytest.raises(StatementRefused) as refused:  # the retired key is no longer published
        issue(authorities, caller, first, "CHE-A6-2023-003")
    assert refused.value.code == "GOVERNANCE.STATEMENT_SIGNATURE" and "che-na-1" in refused.value.message
    with pytest.raises(StatementRefused) as foreign:
        issue(authorities, caller, stranger, "CHE-A6-2023-004")
    assert foreign.value.code == "GOVERNANCE.STATEMENT_SIGNATURE"


def test_an_unreachable_jwks_uri_is_a_coded_503(authorities: Authorities, served: tuple[Path, str]) -> None:
    folder, base = served
    key = generate_key("ES256", "che-na-1")
    for uri, why in ((f"http://127.0.0.1:{free_port()}/jwks", "unusable"), (base + "/missing.jwks", "HTTP 404")):
        with pytest.raises(AuthorityKeysUnavailable) as caught:
            issue(authorities, authority(uri), key)
        assert caught.value.code == "GOVERNANCE.AUTHORITY_KEYS_UNAVAILABLE" and why in caught.value.message
        answer = answer_for(caught.value)
        assert answer.status == 503 and answer.retry_after
    (folder / "private.jwks").write_text(json.dumps({"keys": [dict(key.as_dict(private=True))]}))
    with pytest.raises(AuthorityKeysUnavailable):  # a private key published by mistake is refused
        issue(authorities, authority(base + "/private.jwks"), key)


def test_the_last_good_keys_serve_while_the_jwks_uri_is_down(served: tuple[Path, str]) -> None:
    folder, base = served
    key = generate_key("ES256", "che-na-1")
    publish(folder, key)
    cache = JwksCache(ttl=0.05, min_refetch=0, max_stale=60)
    assert set(cache.keys(base + "/che-na.jwks")) == {"che-na-1"}
    (folder / "che-na.jwks").unlink()  # the authority's server now answers 404
    time.sleep(0.1)  # the cached keys expired
    assert set(cache.keys(base + "/che-na.jwks")) == {"che-na-1"}
    gone = JwksCache(ttl=0.05, min_refetch=0, max_stale=0)
    publish(folder, key)
    gone.keys(base + "/che-na.jwks")
    (folder / "che-na.jwks").unlink()
    time.sleep(0.1)
    with pytest.raises(Exception, match="HTTP 404"):  # past max_stale: no keys
        gone.keys(base + "/che-na.jwks")


def test_an_authority_with_a_jwks_uri_issues_through_the_gateway(tmp_path: Path, served: tuple[Path, str]) -> None:
    folder, base = served
    key = generate_key("ES256", "che-na-1")
    publish(folder, key)
    world = TrustWorld(tmp_path)

    def add(content: dict[str, Any]) -> None:
        content["participants"].append({
            "id": "che-authority", "party": "CHE", "party_registry_id": "CHE01", "status": "active",
            "format": "aef", "jwks_uri": base + "/che-na.jwks",
            "roles": [{"role": "national-authority", "party": "CHE"}]})

    world.write_directory(add)
    gateway = InProcessGateway(world.env(free_port(), CARBONLINK_DATA_DIR=str(tmp_path / "data")), tmp_path)
    try:
        client = GatewayClient(gateway.base, "che-authority", key, scope="authorizations:issue authorizations:read",
                               http=gateway.client())
        issued = client.authorize("/v1/authorizations", statement(), party="CHE")
        assert issued.status_code == 201, issued.text
        assert issued.json()["versions"][0]["issued_by"] == "che-authority"
        stranger = generate_key("ES256", "che-na-x")  # a key the authority does not publish
        refused = client.authorize("/v1/authorizations", statement("CHE-A6-2023-009"), party="CHE", key=stranger)
        assert refused.status_code == 403 and refused.json()["code"] == "GOVERNANCE.STATEMENT_SIGNATURE"
    finally:
        gateway.stop()
