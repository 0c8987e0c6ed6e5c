"""Production message kinds only from certified senders: the gate alone, then a gateway process that
refuses a sender until the directory lists its certificate."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from conformance import Target, default_kits, run_kit
from conformance import certificate as cert
from conformance.errors import CertificateRequired
from gateway.conformance_gate import CertificateGate
from gateway.settings import CarbonlinkSettings
from gateway.trust.directory import Participant
from gateway.trust.errors import ConfigurationError
from gateway.trust.keys import generate_key, public_jwk
from tests.conformance.conftest import AEF_EXAMPLE


@pytest.fixture(scope="module")
def operator():  # type: ignore[no-untyped-def]
    return generate_key("ES256", "operator-1")


def _certificate(operator, days: int = 30, now: int | None = None) -> str:  # type: ignore[no-untyped-def]
    run = run_kit(default_kits().get("aef-messages"), Target(str(AEF_EXAMPLE)))
    return cert.issue(run, operator, issuer="suite-operator", validity_days=days, now=now)


def _participant(certificates: list[str]) -> Participant:
    return Participant(id="gha", party="GHA", party_registry_id="GHA01", status="active", format="aef",
                       message_kinds=["transfers"], jwks_uri="https://gha.example/jwks.json",
                       conformance_certificates=certificates)


def _gate(tmp_path: Path, operator) -> CertificateGate:  # type: ignore[no-untyped-def]
    keys = tmp_path / "operator.jwks.json"
    keys.write_text(json.dumps({"keys": [public_jwk(operator)]}))
    return CertificateGate({"transfers": ["aef-messages"]}, keys)


def test_the_gate_needs_a_valid_certificate_for_each_kit(tmp_path: Path, operator) -> None:  # type: ignore[no-untyped-def]
    gate = _gate(tmp_path, operator)
    with pytest.raises(CertificateRequired, match="aef-messages"):
        gate.check(_participant([]), "transfers")
    gate.check(_participant([_certificate(operator)]), "transfers")
    gate.check(_participant([]), "cancellations")  # a kind the settings do not name
    expired = _certificate(operator, days=1, now=int(time.time()) - 3 * 86_400)
    with pytest.raises(CertificateRequired):
        gate.check(_participant([expired]), "transfers")
    foreign = _certificate(generate_key("ES256", "operator-1"))
    with pytest.raises(CertificateRequired):
        gate.check(_participant([foreign, "not-a-jws"]), "transfers")


def test_required_kits_without_operator_keys_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        CertificateGate({"transfers": ["aef-messages"]}, None)


def test_settings_read_the_conformance_section_from_flat_variables(tmp_path: Path) -> None:
    settings = CarbonlinkSettings.from_environ({
        "CARBONLINK_CONFORMANCE_REQUIRED_KITS": '{"transfers": ["aef-messages"]}',
        "CARBONLINK_CONFORMANCE_OPERATOR_KEYS": str(tmp_path / "k.json")})
    assert settings.conformance.conformance_required_kits == {"transfers": ["aef-messages"]}
    assert settings.conformance.conformance_operator_keys == tmp_path / "k.json"


@pytest.mark.e2e
def test_a_gateway_refuses_transfers_until_the_directory_lists_a_certificate(tmp_path: Path, operator) -> None:  # type: ignore[no-untyped-def]
    from gateway.demo import Network, Registry, itmo_message

    keys = tmp_path / "operator.jwks.json"
    keys.write_text(json.dumps({"keys": [public_jwk(operator)]}))
    env = {"CARBONLINK_CONFORMANCE_REQUIRED_KITS": '{"transfers": ["aef-messages"]}',
           "CARBONLINK_CONFORMANCE_OPERATOR_KEYS": str(keys)}
    registries = [Registry("gha", "GHA", "aef", holds=["CA0001-GHA01-GHA-1-2023..CA0001-GHA01-GHA-1000-2023"]),
                  Registry("che", "CHE", "aef")]
    with Network(registries, gateway_env=env) as net:
        gha = net.client("gha")
        body = json.dumps(itmo_message(sender_party="GHA", receiver_party="CHE", first=1, last=10)).encode()
        refused = gha.send(body, message_id="cert-1")
        assert refused.status == 403 and refused.body["code"] == "CONFORMANCE.CERTIFICATE_REQUIRED"
        token = _certificate(operator)

        def list_certificate(directory: dict[str, Any]) -> None:
            for participant in directory["participants"]:
                if participant["id"] == "gha":
                    participant["conformance_certificates"] = [token]
        net.write_directory(list_certificate)
        deadline = time.time() + 10
        sent = gha.send(body, message_id="cert-2")
        while sent.status == 403 and time.time() < deadline:
            time.sleep(0.3)
            sent = gha.send(body, message_id="cert-2")
        assert sent.status == 200 and sent.body["outcome"] == "accepted", sent.body
