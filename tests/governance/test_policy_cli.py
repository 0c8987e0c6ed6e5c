"""``carbonlink policy sign|verify|show``: signed by an anchor or a network operator of the directory, refused when
signed by anyone else, shown as a table or JSON; exit codes 0 valid, 1 refused, 2 unreadable."""

from __future__ import annotations

import json
from pathlib import Path

import orjson

from gateway.trust.directory import sign_directory
from gateway.trust.keys import generate_key, public_jwk
from tests.governance.policy_support import Network
from tests.support.cli import run_cli


def _files(tmp_path: Path) -> tuple[Network, dict[str, Path]]:
    net = Network()
    paths = {name: tmp_path / f"{name}.json" for name in ("content", "anchor", "operator", "registry", "anchors")}
    content = net.content()
    content["participants"]["swe-registry"] = {"kill_switch": True, "kill_reason": "audit"}
    paths["content"].write_bytes(orjson.dumps(content))
    paths["anchor"].write_text(json.dumps(net.anchor.as_dict(private=True)))
    paths["operator"].write_text(json.dumps(net.operator_key.as_dict(private=True)))
    paths["registry"].write_text(json.dumps(net.registry_key.as_dict(private=True)))
    paths["anchors"].write_text(json.dumps({"keys": [public_jwk(net.anchor)]}))
    directory = net.directory.model_dump(mode="json", by_alias=True, exclude_none=True)
    paths["directory"] = tmp_path / "directory.jws"
    paths["directory"].write_text(sign_directory({k: v for k, v in directory.items() if k not in ("iat", "exp")},
                                                 net.anchor))
    return net, paths


def test_sign_verify_and_show_a_policy(tmp_path: Path) -> None:
    _, p = _files(tmp_path)
    out = tmp_path / "policy.jws"
    signed = run_cli("policy", "sign", str(p["content"]), "--key", str(p["anchor"]), "-o", str(out))
    assert signed.returncode == 0, signed.stderr
    verified = run_cli("policy", "verify", str(out), "--anchors", str(p["anchors"]), "--environment", "test", "--json")
    assert verified.returncode == 0, verified.stderr
    summary = json.loads(verified.stdout)
    assert summary["valid"] and summary["version"] == 1 and summary["kinds"] == ["transfers"]
    shown = run_cli("policy", "show", str(out), "--anchors", str(p["anchors"]), "--environment", "test")
    assert shown.returncode == 0, shown.stderr
    assert "alice, bob" in shown.stdout and "Europe/Zurich" in shown.stdout and "ON audit" in shown.stdout
    as_json = run_cli("policy", "show", str(out), "--anchors", str(p["anchors"]), "--environment", "test", "--json")
    assert json.loads(as_json.stdout)["participants"]["che-registry"]["four_eyes_above"] == "1000"


def test_a_network_operator_signs_with_its_directory_key(tmp_path: Path) -> None:
    _, p = _files(tmp_path)
    out = tmp_path / "policy.jws"
    assert run_cli("policy", "sign", str(p["content"]), "--key", str(p["operator"]), "-o", str(out)).returncode == 0
    without = run_cli("policy", "verify", str(out), "--anchors", str(p["anchors"]), "--environment", "test")
    assert without.returncode == 1 and "GOVERNANCE.POLICY_KID" in without.stderr
    with_directory = run_cli("policy", "verify", str(out), "--anchors", str(p["anchors"]), "--directory",
                             str(p["directory"]), "--environment", "test")
    assert with_directory.returncode == 0, with_directory.stderr


def test_a_policy_signed_by_a_registry_is_refused_and_bad_input_is_a_usage_error(tmp_path: Path) -> None:
    _, p = _files(tmp_path)
    out = tmp_path / "policy.jws"
    assert run_cli("policy", "sign", str(p["content"]), "--key", str(p["registry"]), "-o", str(out)).returncode == 0
    refused = run_cli("policy", "verify", str(out), "--anchors", str(p["anchors"]), "--directory",
                      str(p["directory"]), "--environment", "test", "--json")
    assert refused.returncode == 1 and json.loads(refused.stdout)["code"] == "GOVERNANCE.POLICY_KID"
    missing = run_cli("policy", "verify", str(tmp_path / "nothing.jws"), "--anchors", str(p["anchors"]),
                      "--environment", "test")
    assert missing.returncode == 2 and "GOVERNANCE.POLICY_UNAVAILABLE" in missing.stderr
    (tmp_path / "bad.json").write_text('{"iss": "x", "environment": "test", "version": 0}')
    bad = run_cli("policy", "sign", str(tmp_path / "bad.json"), "--key", str(p["anchor"]))
    assert bad.returncode == 2 and "GOVERNANCE.POLICY_INVALID" in bad.stderr
    key = generate_key("ES256", "k")
    (tmp_path / "public.json").write_text(json.dumps(public_jwk(key)))
    public = run_cli("policy", "sign", str(p["content"]), "--key", str(tmp_path / "public.json"))
    assert public.returncode == 2
