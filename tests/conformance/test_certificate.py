"""The certificate: a JWS by the suite operator's key, verified against its keys, validity and digest."""

from __future__ import annotations

import json
import time
from pathlib import Path

import orjson
import pytest

from conformance import Target, default_kits, run_kit
from conformance import certificate as cert
from conformance.errors import CertificateInvalid, ConformanceError
from gateway.trust.keys import generate_key, public_jwk


@pytest.fixture(scope="module")
def operator_key():  # type: ignore[no-untyped-def]
    return generate_key("ES256", "suite-operator-1")


def test_issue_and_verify(good_folder: Path, operator_key) -> None:  # type: ignore[no-untyped-def]
    run = run_kit(default_kits().get("aef-messages"), Target(str(good_folder)))
    token = cert.issue(run, operator_key, issuer="suite-operator", validity_days=30)
    verified = cert.verify(token, {"suite-operator-1": operator_key}, results=run.as_dict())
    assert (verified.kit, verified.kit_version, verified.target) == ("aef-messages", "2026.1", str(good_folder))
    assert verified.digest == run.digest()
    assert verified.expires_at - verified.issued_at == 30 * 86_400


def test_tampered_results_expired_or_foreign_key_do_not_verify(good_folder: Path, operator_key) -> None:  # type: ignore[no-untyped-def]
    run = run_kit(default_kits().get("aef-messages"), Target(str(good_folder)))
    token = cert.issue(run, operator_key, issuer="suite-operator", validity_days=1)
    document = run.as_dict()
    document["results"][1]["verdict"] = "omit"  # the digest field itself left as it was
    with pytest.raises(CertificateInvalid) as caught:
        cert.verify(token, {"suite-operator-1": operator_key}, results=document)
    assert caught.value.code == "CONFORMANCE.DIGEST_MISMATCH"
    with pytest.raises(CertificateInvalid) as expired:
        cert.verify(token, {"suite-operator-1": operator_key}, now=int(time.time()) + 2 * 86_400)
    assert expired.value.code == "CONFORMANCE.CERTIFICATE_EXPIRED"
    other = generate_key("ES256", "suite-operator-1")
    with pytest.raises(CertificateInvalid, match="SIGNATURE"):
        cert.verify(token, {"suite-operator-1": other})
    with pytest.raises(CertificateInvalid, match="not the operator's"):
        cert.verify(token, {"someone-else": operator_key})
    head, payload, signature = token.split(".")
    claims = json.loads(_b64d(payload))
    claims["kit"]["version"] = "2099.1"
    forged = ".".join((head, _b64e(orjson.dumps(claims)), signature))
    with pytest.raises(CertificateInvalid):
        cert.verify(forged, {"suite-operator-1": operator_key})


def test_no_certificate_for_a_run_with_failures(aef_folder: Path, operator_key) -> None:  # type: ignore[no-untyped-def]
    run = run_kit(default_kits().get("aef-messages"), Target(str(aef_folder)))
    with pytest.raises(ConformanceError) as caught:
        cert.issue(run, operator_key, issuer="suite-operator")
    assert caught.value.code == "CONFORMANCE.NOT_CERTIFIABLE"


def test_public_keys_load_from_a_jwks_or_a_single_jwk(tmp_path: Path, operator_key) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [public_jwk(operator_key)]}))
    (tmp_path / "private.json").write_text(json.dumps(operator_key.as_dict(private=True)))
    assert set(cert.load_public_keys(tmp_path / "jwks.json")) == {"suite-operator-1"}
    assert set(cert.load_public_keys(tmp_path / "private.json")) == {"suite-operator-1"}


def _b64d(segment: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _b64e(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
