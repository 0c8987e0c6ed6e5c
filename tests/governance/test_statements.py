"""Records whose authority statement is missing or not the authority's own fail offline verification with a
coded finding, even though the gateway signed the record (what an auditor holding the directory catches)."""

from __future__ import annotations

import time
from pathlib import Path

from gateway.governance import Authorities, check_authorization, sign_statement
from gateway.governance._store import SqliteAuthorizationStore
from gateway.trust.directory import Directory, Participant
from gateway.trust.keys import SigningKeyRing, generate_key, public_key_set
from tests.governance.support import AUTH_ID, authority, entry, statement


def test_offline_findings_name_what_is_wrong_with_each_record(tmp_path: Path) -> None:
    che_key, registry_key = generate_key("ES256", "che-na-1"), generate_key("ES256", "che-reg-1")
    entries = [entry("che-authority", "CHE", roles=authority("CHE"), key=che_key),
               entry("che-registry", "CHE", roles=[{"role": "registry-operator"}], key=registry_key)]
    now = int(time.time())
    directory = Directory.model_validate({"iss": "t", "environment": "test", "sequence": 1, "iat": now,
                                          "exp": now + 3600, "participants": entries})
    keyring = SigningKeyRing.generate("ES256", kid="gw-1")
    authorities = Authorities(SqliteAuthorizationStore(tmp_path / "a.sqlite3"), keyring)
    caller = Participant.model_validate(entries[0])
    own = sign_statement(che_key, issuer="che-authority", audience="gw", party="CHE", action="issue",
                         authorization_id=AUTH_ID, statement=statement())
    authorities.issue(caller, statement(), signed=own)
    forged = sign_statement(registry_key, issuer="che-authority", audience="gw", party="CHE", action="amend",
                            authorization_id=AUTH_ID, version=2, statement=statement())
    authorities.amend(caller, "CHE", AUTH_ID, statement(), signed=forged)  # the Python API does not check
    authorities.amend(caller, "CHE", AUTH_ID, statement())  # nor ask for one
    other = sign_statement(che_key, issuer="che-authority", audience="gw", party="CHE", action="amend",
                           authorization_id=AUTH_ID, version=4, statement=statement(authorized_quantity="5"))
    authorities.amend(caller, "CHE", AUTH_ID, statement(), signed=other)  # signed, but other terms
    gateway_keys = public_key_set(keyring.jwks(), what="gateway")
    findings = check_authorization(authorities.show("CHE", AUTH_ID), gateway_keys, directory)
    assert [(f["path"], f["code"]) for f in findings] == [
        ("/versions/1", "GOVERNANCE.STATEMENT_SIGNATURE"), ("/versions/2", "GOVERNANCE.STATEMENT_UNSIGNED"),
        ("/versions/3", "GOVERNANCE.STATEMENT_MISMATCH")]
    # against another gateway's keys, nothing verifies
    stranger = public_key_set(SigningKeyRing.generate("ES256", kid="gw-x").jwks(), what="other")
    assert {f["code"] for f in check_authorization(authorities.show("CHE", AUTH_ID), stranger, directory)} == {
        "GOVERNANCE.RECORD_SIGNATURE"}
    authorities.close()
