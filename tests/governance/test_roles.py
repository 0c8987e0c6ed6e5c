"""Roles in the signed directory: scopes and message kinds follow from them, entries without roles keep theirs,
reserved scopes come only with a role, and the anchor's signature covers every role (the CLI signs, verifies
and shows them)."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest

from gateway.governance import AuthorizationGate
from gateway.governance._store import SqliteAuthorizationStore
from gateway.protocol import MessageKind
from gateway.trust.directory import Directory, Participant, sign_directory, verify_directory
from gateway.trust.errors import DirectoryError
from gateway.trust.keys import generate_key, public_jwk
from tests.governance.support import authority, entry
from tests.support.cli import run_cli


def test_scopes_and_kinds_follow_from_roles() -> None:
    na = Participant.model_validate(entry("che-na", "CHE", roles=authority("CHE")))
    assert na.scopes == ["authorizations:issue", "authorizations:read", "peers:read", "title:read"]
    assert na.message_kinds == []
    roles = [{"role": "registry-operator"}, {"role": "verifier", "sectors": ["Energy generation"]}]
    both = Participant.model_validate(entry("che", "CHE", roles=roles, scopes=["metrics:read"]))
    assert {"messages:send", "feeds:read", "metrics:read"} <= set(both.scopes)
    assert MessageKind.TRANSFERS in both.message_kinds and both.holds("verifier") and not both.holds("mrv-system")
    narrowed = Participant.model_validate(entry("che", "CHE", roles=[{"role": "registry-operator"}],
                                                message_kinds=["transfers"]))
    assert narrowed.message_kinds == [MessageKind.TRANSFERS]


def test_an_entry_without_roles_keeps_its_scopes_and_kinds() -> None:
    legacy = Participant.model_validate(entry("che", "CHE", scopes=["messages:send"], message_kinds=["holdings"]))
    assert legacy.roles == [] and legacy.scopes == ["messages:send"]
    assert legacy.message_kinds == [MessageKind.HOLDINGS]


@pytest.mark.parametrize(("body", "problem"), [
    (entry("che", "CHE", scopes=["authorizations:issue"]), "come only with a role"),
    (entry("che", "CHE", roles=[{"role": "registry-operator"}], scopes=["authorizations:issue"]),
     "come only with a role"),
    (entry("che", "CHE", roles=authority("GHA")), "must be a participant of GHA"),
    (entry("che", "CHE", roles=[{"role": "national-authority"}]), "names its Party"),
    (entry("che", "CHE", roles=[{"role": "verifier"}]), "sectors it is accredited for"),
    (entry("che", "CHE", roles=[{"role": "verifier", "sectors": ["Knitting"]}]), "unknown sector"),
    (entry("che", "CHE", roles=[{"role": "mrv-system", "party": "CHE"}]), "names no Party"),
    (entry("che", "CHE", roles=[{"role": "regulator"}]), "role"),
    (entry("che", "CHE", roles=authority("CHE"), message_kinds=["transfers"]), "not allowed by the participant's"),
])
def test_entries_that_misuse_roles_are_refused(body: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Participant.model_validate(body)


def content(participants: list[dict[str, Any]]) -> dict[str, Any]:
    return {"iss": "test", "environment": "test", "sequence": 3, "participants": participants}


def test_the_anchor_signs_role_changes_and_a_tampered_role_is_refused() -> None:
    anchor = generate_key("ES256", "anchor-1")
    token = sign_directory(content([entry("che-na", "CHE", roles=authority("CHE"))]), anchor)
    directory = verify_directory(token, {"anchor-1": anchor}, environment="test")
    assert directory.participants[0].holds("national-authority", "CHE")
    head, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["participants"][0]["roles"] = [{"role": "network-operator"}]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    with pytest.raises(DirectoryError) as caught:
        verify_directory(f"{head}.{forged}.{signature}", {"anchor-1": anchor}, environment="test")
    assert caught.value.code == "DIRECTORY.SIGNATURE"
    with pytest.raises(DirectoryError, match="come only with a role"):  # the signer refuses a reserved scope
        sign_directory(content([entry("che", "CHE", scopes=["authorizations:issue"])]), anchor)


def test_the_gate_governs_the_parties_with_an_active_authority(tmp_path: Path) -> None:
    now = int(time.time())
    participants = [entry("che-na", "CHE", roles=authority("CHE")),
                    entry("gha-na", "GHA", roles=authority("GHA"), status="suspended")]
    directory = Directory.model_validate({**content(participants), "iat": now, "exp": now + 60})
    store = SqliteAuthorizationStore(tmp_path / "a.sqlite3")
    assert AuthorizationGate(store, lambda: directory).governs("CHE")
    assert not AuthorizationGate(store, lambda: directory).governs("GHA")  # its authority is suspended
    assert AuthorizationGate(store, lambda: directory, "always").governs("GHA")
    assert not AuthorizationGate(store, lambda: directory, "off").governs("CHE")


def test_directory_sign_and_show_carry_roles(tmp_path: Path) -> None:
    anchor = generate_key("ES256", "anchor-1")
    (tmp_path / "anchor.json").write_text(json.dumps(dict(anchor.as_dict(private=True))))
    (tmp_path / "anchors.json").write_text(json.dumps({"keys": [public_jwk(anchor)]}))
    source = content([entry("che-na", "CHE", roles=authority("CHE")),
                      entry("che-verifier", "CHE", roles=[{"role": "verifier", "sectors": ["Waste management"]}])])
    (tmp_path / "content.json").write_text(json.dumps(source))
    signed = run_cli("directory", "sign", str(tmp_path / "content.json"), "--anchor", str(tmp_path / "anchor.json"),
                     "-o", str(tmp_path / "d.jws"))
    assert signed.returncode == 0, signed.stderr
    shown = run_cli("directory", "show", str(tmp_path / "d.jws"), "--anchors", str(tmp_path / "anchors.json"),
                    "--environment", "test", env={"COLUMNS": "250"})
    assert shown.returncode == 0, shown.stderr
    assert "national-authority (CHE)" in shown.stdout and "verifier (Waste management)" in shown.stdout
    (tmp_path / "bad.json").write_text(json.dumps(content([entry("che", "CHE", scopes=["authorizations:issue"])])))
    refused = run_cli("directory", "sign", str(tmp_path / "bad.json"), "--anchor", str(tmp_path / "anchor.json"),
                      "-o", str(tmp_path / "bad.jws"))
    assert refused.returncode != 0 and "come only with a role" in refused.stderr
