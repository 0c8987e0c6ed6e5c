"""Directories and registry keys fetched over HTTP: a directory URL (refused when missing or
oversized), and a registry that publishes a jwks_uri and rotates its key."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.trust.directory import MAX_DIRECTORY_BYTES, DirectoryStore, fetch_directory
from gateway.trust.errors import DirectoryUnavailable
from gateway.trust.keys import generate_key, public_jwk, public_key_set
from tests.support.apps import InProcessGateway
from tests.support.ports import free_port
from tests.trust.support import RegistryClient, TrustWorld


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def files(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(_Quiet, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_directory_from_a_url_and_its_failures(tmp_path: Path, files: tuple[Path, str]) -> None:
    served, base = files
    world = TrustWorld(tmp_path)
    (served / "directory.jws").write_text(world.signed())
    anchors = public_key_set(json.loads((tmp_path / "anchors.json").read_text()), what="anchors")
    store = DirectoryStore(lambda: fetch_directory(base + "/directory.jws"), anchors, environment="test")
    assert store.refresh() is None and len(store.current().participants) == 4
    with pytest.raises(DirectoryUnavailable, match="HTTP 404"):
        fetch_directory(base + "/missing.jws")
    (served / "huge.jws").write_bytes(b"a" * (MAX_DIRECTORY_BYTES + 10))
    with pytest.raises(DirectoryUnavailable, match="size limit"):
        fetch_directory(base + "/huge.jws")
    with pytest.raises(DirectoryUnavailable):
        fetch_directory(f"http://127.0.0.1:{free_port()}/directory.jws")


def test_registry_with_jwks_uri_authenticates_and_rotates(tmp_path: Path, files: tuple[Path, str]) -> None:
    served, base = files
    world = TrustWorld(tmp_path)
    first = world.clients["che-registry"]
    (served / "che.jwks").write_text(json.dumps({"keys": [public_jwk(first)]}))

    def use_uri(content: dict[str, Any]) -> None:
        entry = content["participants"][0]
        entry.pop("jwks")
        entry["jwks_uri"] = base + "/che.jwks"

    world.write_directory(use_uri)
    gw = InProcessGateway(world.env(free_port()), tmp_path)  # fetches the jwks_uri over real HTTP
    try:
        client = RegistryClient(gw.base, "che-registry", first, http=gw.client())
        assert client.get("/v1/whoami", client.get_token()).status_code == 200
        rotated = generate_key("Ed25519", "che-2")
        (served / "che.jwks").write_text(json.dumps({"keys": [public_jwk(rotated), public_jwk(first)]}))
        client.key = rotated
        resp = client.token_request(
            {
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": client.assertion(),
            }
        )
        # within 30 s of the last fetch an unknown kid does not trigger another fetch
        assert resp.status_code == 401 and resp.json()["code"] == "CLIENT.ASSERTION_KID"
        client.key = first
        assert client.get("/v1/whoami", client.get_token()).status_code == 200
    finally:
        gw.stop()


def test_jwks_cache_refetches_on_an_unknown_kid(files: tuple[Path, str]) -> None:
    from gateway.trust.client_auth import JwksCache
    from gateway.trust.errors import InvalidClient

    served, base = files
    one, two = generate_key("ES256", "k1"), generate_key("ES256", "k2")
    (served / "keys.jwks").write_text(json.dumps({"keys": [public_jwk(one)]}))
    cache = JwksCache(min_refetch=0)
    assert set(cache.keys(base + "/keys.jwks")) == {"k1"}
    (served / "keys.jwks").write_text(json.dumps({"keys": [public_jwk(one), public_jwk(two)]}))
    assert set(cache.keys(base + "/keys.jwks")) == {"k1"}
    assert set(cache.keys(base + "/keys.jwks", refresh=True)) == {"k1", "k2"}
    (served / "bad.jwks").write_text(json.dumps({"keys": [dict(one.as_dict(private=True))]}))
    with pytest.raises(InvalidClient) as info:
        cache.keys(base + "/bad.jwks")
    assert info.value.code == "CLIENT.JWKS_UNAVAILABLE"
