"""The participant directory: signing, verification, refresh semantics, environments, CLI."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gateway.cli import app as cli_app
from gateway.settings import Settings
from gateway.trust import development
from gateway.trust.directory import DirectoryStore, verify_directory
from gateway.trust.errors import ConfigurationError, DirectoryError, DirectoryExpired, DirectoryUnavailable
from gateway.trust.keys import generate_key, public_jwk, public_key_set
from gateway.trust.setup import build_trust
from tests.support.apps import InProcessGateway
from tests.support.ports import free_port
from tests.trust.support import RegistryClient, TrustWorld, assert_refused


@pytest.fixture
def world(tmp_path: Path) -> TrustWorld:
    return TrustWorld(tmp_path)


def _anchors(world: TrustWorld) -> dict[str, Any]:
    return public_key_set(json.loads((world.root / "anchors.json").read_text()), what="anchors")


def test_a_signed_directory_verifies_and_lists_participants(world: TrustWorld) -> None:
    d = verify_directory(world.signed(), _anchors(world), environment="test")
    assert [p.id for p in d.participants][:2] == ["che-registry", "gha-registry"]
    assert d.get("che-registry") is not None and d.get("che-registry").party_registry_id == "CHE01"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda t: t[:-6] + ("AAAAAA" if not t.endswith("AAAAAA") else "BBBBBB"), "DIRECTORY.SIGNATURE"),
        (lambda t: "x." + t.split(".", 1)[1], "DIRECTORY.MALFORMED"),
        (lambda t: t + ".more", "DIRECTORY.MALFORMED"),
    ],
)
def test_tampered_directories_are_refused(world: TrustWorld, mutate: Any, code: str) -> None:
    with pytest.raises(DirectoryError) as info:
        verify_directory(mutate(world.signed()), _anchors(world), environment="test")
    assert info.value.code == code


def test_directory_signed_by_an_unknown_anchor_or_for_another_environment(world: TrustWorld) -> None:
    rogue = generate_key("ES256", "test-anchor-1")
    with pytest.raises(DirectoryError) as info:
        verify_directory(world.signed(anchor=rogue), _anchors(world), environment="test")
    assert info.value.code == "DIRECTORY.SIGNATURE"
    with pytest.raises(DirectoryError) as info:
        verify_directory(
            world.signed(anchor=generate_key("ES256", "other")), _anchors(world), environment="test"
        )
    assert info.value.code == "DIRECTORY.KID"
    with pytest.raises(DirectoryError) as info:
        verify_directory(world.signed(), _anchors(world), environment="production")
    assert info.value.code == "DIRECTORY.ENVIRONMENT"


def test_expired_and_future_directories_are_refused(world: TrustWorld) -> None:
    with pytest.raises(DirectoryExpired):
        verify_directory(world.signed(now=int(time.time()) - 7200), _anchors(world), environment="test")
    with pytest.raises(DirectoryError) as info:
        verify_directory(world.signed(now=int(time.time()) + 7200), _anchors(world), environment="test")
    assert info.value.code == "DIRECTORY.NOT_YET_VALID"


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"party": "XYZ"}, "alpha-3"),
        ({"party_registry_id": "CHE1"}, "AAA##"),
        ({"party_registry_id": "FRA01"}, "does not start with CHE"),
        ({"status": "paused"}, "status"),
        ({"scopes": ["bad scope"]}, "scope"),
        ({"message_kinds": ["gossip"]}, "message_kinds"),
        ({"jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "s"}]}}, "private"),
        ({"endpoints": {"messages": "ftp://x"}}, "URL"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_invalid_participant_entries_are_refused_at_signing(
    world: TrustWorld, change: dict[str, Any], fragment: str
) -> None:
    def mutate(content: dict[str, Any]) -> None:
        content["participants"][0].update(change)

    with pytest.raises(DirectoryError) as info:
        world.signed(mutate)
    assert fragment in info.value.message


def test_store_keeps_the_last_good_directory_until_it_expires(world: TrustWorld) -> None:
    tokens = iter([world.signed(valid_for=100), "garbage", world.signed(now=int(time.time()) - 7200)])
    store = DirectoryStore(lambda: next(tokens), _anchors(world), environment="test")
    assert store.refresh() is None
    good = store.current().sequence
    assert store.refresh() is not None and store.last_error is not None
    assert store.last_error.code == "DIRECTORY.MALFORMED"
    assert store.refresh() is not None and store.last_error.code == "DIRECTORY.EXPIRED"
    assert store.current().sequence == good
    with pytest.raises(DirectoryExpired):
        store.current(now=time.time() + 101)


def test_rollback_to_an_older_sequence_is_refused(world: TrustWorld) -> None:
    older, newer = world.signed(), world.signed()
    store = DirectoryStore(None, _anchors(world), environment="test", token=newer)
    with pytest.raises(DirectoryError) as info:
        store.accept(older)
    assert info.value.code == "DIRECTORY.ROLLBACK"


def test_no_directory_at_all_is_unavailable(world: TrustWorld) -> None:
    store = DirectoryStore(lambda: "", _anchors(world), environment="test")
    store.refresh()
    with pytest.raises(DirectoryUnavailable):
        store.current()


def test_production_refuses_the_development_anchor(tmp_path: Path) -> None:
    anchors = tmp_path / "anchors.json"
    anchors.write_text(json.dumps({"keys": [public_jwk(development.anchor())]}))
    keyring = tmp_path / "keyring.json"
    keyring.write_text(json.dumps(development.keyring_document()))
    settings = Settings(
        environment="production",
        issuer="https://gw.example",
        anchors=anchors,
        signing_keys=keyring,
        directory=str(tmp_path / "d.jws"),
    )
    with pytest.raises(ConfigurationError, match="development anchor"):
        build_trust(settings)


def test_production_settings_need_explicit_material_and_https() -> None:
    with pytest.raises(ValueError, match="production needs signing_keys, anchors, directory"):
        Settings(environment="production", issuer="https://gw.example")
    with pytest.raises(ValueError, match="https issuer"):
        Settings(
            environment="production",
            issuer="http://gw.example",
            signing_keys=Path("k"),
            anchors=Path("a"),
            directory="d",
        )


def test_test_environment_refuses_the_development_directory(world: TrustWorld) -> None:
    from gateway.trust.setup import embedded_directory

    with pytest.raises(DirectoryError) as info:
        verify_directory(
            embedded_directory(), {"carbonlink-development-anchor": development.anchor()}, environment="test"
        )
    assert info.value.code == "DIRECTORY.ENVIRONMENT"


# --- live refresh in the gateway -------------------------------------------------------------------------


@pytest.fixture
def live(world: TrustWorld) -> Iterator[tuple[TrustWorld, InProcessGateway]]:
    app = InProcessGateway(world.env(free_port()), world.root)  # the lifespan's refresh loop runs
    yield world, app
    app.stop()


def _wait(predicate: Any, timeout: float = 15, show: Any = None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"condition not reached: {show() if show else ''}")


def test_suspension_takes_effect_on_the_next_refresh(live: tuple[TrustWorld, InProcessGateway]) -> None:
    world, gw = live
    nor = RegistryClient(gw.base, "nor-registry", world.clients["nor-registry"], http=gw.client())
    token = nor.get_token()
    assert nor.get("/v1/whoami", token).status_code == 200

    def suspend(content: dict[str, Any]) -> None:
        for p in content["participants"]:
            if p["id"] == "nor-registry":
                p["status"] = "suspended"

    world.write_directory(suspend)
    _wait(lambda: nor.get("/v1/whoami", token).status_code == 401)
    assert_refused(nor.get("/v1/whoami", token), 401, "PARTICIPANT.SUSPENDED", oauth_error="invalid_token")
    resp = nor.token_request(
        {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": nor.assertion(),
        }
    )
    assert_refused(resp, 401, "PARTICIPANT.SUSPENDED", oauth_error="invalid_client")


def test_bad_directory_on_refresh_keeps_the_last_good_one(live: tuple[TrustWorld, InProcessGateway]) -> None:
    world, gw = live
    before = gw.http.get(gw.base + "/healthz").json()["checks"]["directory"]["sequence"]
    tampered = world.signed()
    tampered = tampered[:-8] + ("AAAAAAAA" if not tampered.endswith("AAAAAAAA") else "BBBBBBBB")
    tmp = world.directory_path.with_suffix(".tmp")
    tmp.write_text(tampered)
    tmp.replace(world.directory_path)
    _wait(
        lambda: (
            gw.http.get(gw.base + "/healthz").json()["checks"]["directory"].get("last_refresh_error")
            == "DIRECTORY.SIGNATURE"
        ),
        show=lambda: gw.http.get(gw.base + "/healthz").text,
    )
    health = gw.http.get(gw.base + "/healthz")
    assert health.status_code == 200 and health.json()["checks"]["directory"]["sequence"] == before
    world.write_directory(valid_for=5)
    _wait(
        lambda: (
            gw.http.get(gw.base + "/healthz").json()["checks"]["directory"].get("sequence") == world.sequence
        )
    )
    _wait(
        lambda: gw.http.get(gw.base + "/healthz").status_code == 503,
        show=lambda: gw.http.get(gw.base + "/healthz").text,
    )
    failing = gw.http.get(gw.base + "/healthz").json()
    assert failing["checks"]["directory"]["code"] == "DIRECTORY.EXPIRED"
    che = RegistryClient(gw.base, "che-registry", world.clients["che-registry"], http=gw.client())
    resp = che.token_request({"grant_type": "client_credentials"}, proof=che.proof("POST", "/oauth/token"))
    che.nonce = resp.headers.get("dpop-nonce")
    resp = che.token_request(
        {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": che.assertion(),
        }
    )
    assert_refused(resp, 401, "DIRECTORY.EXPIRED", oauth_error="invalid_client")
    world.write_directory()
    _wait(lambda: gw.http.get(gw.base + "/healthz").status_code == 200)
    assert che.get("/v1/whoami", che.get_token()).status_code == 200


# --- CLI ------------------------------------------------------------------------------------------------


def test_cli_sign_verify_show_round_trip(world: TrustWorld) -> None:
    runner = CliRunner()
    content = world.root / "content.json"
    content.write_text(json.dumps({**world.content, "sequence": 7}))
    anchor = world.root / "anchor.private.json"
    anchor.write_text(json.dumps(dict(world.anchor.as_dict(private=True))))
    out = world.root / "signed.jws"
    res = runner.invoke(
        cli_app,
        ["directory", "sign", str(content), "--anchor", str(anchor), "-o", str(out), "--valid-for", "600"],
    )
    assert res.exit_code == 0, res.output
    anchors = str(world.root / "anchors.json")
    res = runner.invoke(
        cli_app, ["directory", "verify", str(out), "--anchors", anchors, "--environment", "test", "--json"]
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["valid"] and summary["sequence"] == 7 and summary["participants"] == 4
    res = runner.invoke(
        cli_app, ["directory", "show", str(out), "--anchors", anchors, "--environment", "test"]
    )
    assert res.exit_code == 0 and "sequence 7" in res.stdout
    res = runner.invoke(
        cli_app, ["directory", "show", str(out), "--anchors", anchors, "--environment", "test", "--json"]
    )
    shown = json.loads(res.stdout)
    assert [p["party_registry_id"] for p in shown["participants"]] == ["CHE01", "GHA01", "SGP01", "NOR01"]


def test_cli_verify_refuses_bad_input_with_codes(world: TrustWorld) -> None:
    runner = CliRunner()
    anchors = str(world.root / "anchors.json")
    bad = world.root / "bad.jws"
    bad.write_text(world.signed()[:-4] + "AAAA")
    res = runner.invoke(
        cli_app, ["directory", "verify", str(bad), "--anchors", anchors, "--environment", "test", "--json"]
    )
    assert res.exit_code == 1 and json.loads(res.stdout)["code"] == "DIRECTORY.SIGNATURE"
    res = runner.invoke(
        cli_app,
        [
            "directory",
            "verify",
            str(world.root / "missing.jws"),
            "--anchors",
            anchors,
            "--environment",
            "test",
        ],
    )
    assert res.exit_code == 1 and "DIRECTORY.UNAVAILABLE" in res.output
    res = runner.invoke(cli_app, ["directory", "verify", str(bad), "--environment", "production"])
    assert res.exit_code == 2 and "TRUST.CONFIGURATION" in res.output
    res = runner.invoke(cli_app, ["directory", "sign", str(bad), "--anchor", anchors])
    assert res.exit_code == 2 and "INPUT.JSON" in res.output


def test_cli_keys_generate_then_sign_and_verify_a_directory(tmp_path: Path) -> None:
    runner = CliRunner()
    anchor = tmp_path / "anchor.private.json"
    res = runner.invoke(
        cli_app, ["keys", "generate", "--kid", "gov-1", "--alg", "Ed25519", "-o", str(anchor)]
    )
    assert res.exit_code == 0, res.output
    public = json.loads(res.stdout)
    assert public["keys"][0]["kid"] == "gov-1" and "d" not in public["keys"][0]
    assert anchor.stat().st_mode & 0o077 == 0
    anchors = tmp_path / "anchors.json"
    anchors.write_text(res.stdout)
    ring = tmp_path / "keyring.json"
    res = runner.invoke(cli_app, ["keys", "generate", "--kid", "gw-1", "--keyring", "-o", str(ring)])
    assert res.exit_code == 0 and json.loads(ring.read_text())["current"] == "gw-1"
    res = runner.invoke(cli_app, ["keys", "generate", "--kid", "gw-1", "-o", str(ring)])
    assert res.exit_code == 2 and "refusing to overwrite" in res.output
    (tmp_path / "w").mkdir()
    world = TrustWorld(tmp_path / "w")
    content = tmp_path / "content.json"
    content.write_text(json.dumps({**world.content, "sequence": 1}))
    signed = tmp_path / "d.jws"
    res = runner.invoke(
        cli_app, ["directory", "sign", str(content), "--anchor", str(anchor), "-o", str(signed)]
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        cli_app, ["directory", "verify", str(signed), "--anchors", str(anchors), "--environment", "test"]
    )
    assert res.exit_code == 0 and "valid test directory" in res.stdout
