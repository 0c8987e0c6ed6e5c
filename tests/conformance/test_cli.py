"""``carbonlink conformance``: list, trace, run (exit 0/1/2, reports, deviations, certificate), verify."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.trust.keys import generate_key, public_jwk
from tests.support.cli import run_cli


def test_list_names_every_built_in_kit() -> None:
    result = run_cli("conformance", "list", "--json")
    assert result.returncode == 0
    names = {(k["name"], k["version"]) for k in json.loads(result.stdout)["kits"]}
    assert ("aef-messages", "2026.1") in names and ("registry-exports", "2026.1") in names


def test_trace_reports_uncovered_clauses() -> None:
    result = run_cli("conformance", "trace", "aef-messages", "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["notCovered"]


def test_run_exit_codes_and_reports(aef_folder: Path, good_folder: Path, tmp_path: Path) -> None:
    failing = run_cli("conformance", "run", "--kit", "aef-messages", "--target", str(aef_folder),
                      "--report", str(tmp_path / "r1"), "--format", "json,junit")
    assert failing.returncode == 1
    assert sorted(p.name for p in (tmp_path / "r1").iterdir()) == ["junit.xml", "results.json"]
    assert "AEF.FORMAT.PARTY" in failing.stdout
    passing = run_cli("conformance", "run", "--kit", "aef-messages@2026.1", "--target", str(good_folder),
                      "--report", str(tmp_path / "r2"))
    assert passing.returncode == 0, passing.stdout + passing.stderr
    unknown = run_cli("conformance", "run", "--kit", "nope", "--target", str(good_folder),
                      "--report", str(tmp_path / "r3"))
    assert unknown.returncode == 2 and "CONFORMANCE.UNKNOWN_KIT" in unknown.stderr
    absent = run_cli("conformance", "run", "--kit", "aef-messages", "--target", str(tmp_path / "none"),
                     "--report", str(tmp_path / "r4"))
    assert absent.returncode == 2 and "CONFORMANCE.TARGET" in absent.stderr
    bad_format = run_cli("conformance", "run", "--kit", "aef-messages", "--target", str(good_folder),
                         "--report", str(tmp_path / "r5"), "--format", "pdf")
    assert bad_format.returncode == 2


def test_deviations_expected_and_no_longer_failing(aef_folder: Path, good_folder: Path, tmp_path: Path) -> None:
    devs = tmp_path / "deviations.yaml"
    devs.write_text("kit: aef-messages\ndeviations:\n"
                    "  - {test: AEF.FORMAT.PARTY, subject: party.json, reason: alpha-2 until REG-1}\n"
                    "  - {test: READABLE, subject: broken.json, reason: known}\n")
    skipped_only = run_cli("conformance", "run", "--kit", "aef-messages", "--target", str(aef_folder),
                           "--report", str(tmp_path / "r1"), "--deviations", str(devs))
    # broken.json's skipped tests are not covered by the file: still a failure
    assert skipped_only.returncode == 1
    (aef_folder / "broken.json").unlink()
    expected = run_cli("conformance", "run", "--kit", "aef-messages", "--target", str(aef_folder),
                       "--report", str(tmp_path / "r2"), "--deviations", str(devs))
    assert expected.returncode == 1  # the READABLE deviation no longer fails: flagged
    assert "deviation no longer fails: READABLE" in expected.stdout
    devs.write_text("kit: aef-messages\ndeviations:\n  - {test: AEF.FORMAT.PARTY, reason: alpha-2 until REG-1}\n")
    known = run_cli("conformance", "run", "--kit", "aef-messages", "--target", str(aef_folder),
                    "--report", str(tmp_path / "r3"), "--deviations", str(devs))
    assert known.returncode == 0, known.stdout
    statuses = [d["status"] for d in json.loads((tmp_path / "r3/results.json").read_text())["deviations"]]
    assert statuses == ["expected"]
    stale = run_cli("conformance", "run", "--kit", "aef-messages", "--target", str(good_folder),
                    "--report", str(tmp_path / "r4"), "--deviations", str(devs))
    assert stale.returncode == 1 and "no longer fails" in stale.stdout


def test_certificate_issued_and_verified(good_folder: Path, tmp_path: Path) -> None:
    key = generate_key("ES256", "op-key")
    (tmp_path / "op.private.json").write_text(json.dumps(key.as_dict(private=True)))
    (tmp_path / "op.jwks.json").write_text(json.dumps({"keys": [public_jwk(key)]}))
    run = run_cli("conformance", "run", "--kit", "aef-messages", "--target", str(good_folder), "--report",
                  str(tmp_path / "r"), "--sign-key", str(tmp_path / "op.private.json"), "--issuer", "op")
    assert run.returncode == 0
    cert = tmp_path / "r/certificate.jws"
    ok = run_cli("conformance", "verify", str(cert), "--keys", str(tmp_path / "op.jwks.json"),
                 "--results", str(tmp_path / "r/results.json"))
    assert ok.returncode == 0 and "valid: aef-messages 2026.1" in ok.stdout
    results = json.loads((tmp_path / "r/results.json").read_text())
    results["results"][0]["verdict"] = "fail"
    (tmp_path / "tampered.json").write_text(json.dumps(results))
    tampered = run_cli("conformance", "verify", str(cert), "--keys", str(tmp_path / "op.jwks.json"),
                       "--results", str(tmp_path / "tampered.json"))
    assert tampered.returncode == 1 and "CONFORMANCE.DIGEST_MISMATCH" in tampered.stderr
    garbled = tmp_path / "garbled.jws"
    garbled.write_text("not.a.jws")
    assert run_cli("conformance", "verify", str(garbled), "--keys", str(tmp_path / "op.jwks.json")).returncode == 1


def test_operator_keys_and_issuer_from_the_settings(good_folder: Path, tmp_path: Path) -> None:
    key = generate_key("ES256", "op-settings")
    (tmp_path / "op.private.json").write_text(json.dumps(key.as_dict(private=True)))
    (tmp_path / "op.jwks.json").write_text(json.dumps({"keys": [public_jwk(key)]}))
    env = {"CARBONLINK_CONFORMANCE_SIGNING_KEY": str(tmp_path / "op.private.json"),
           "CARBONLINK_CONFORMANCE_CERTIFICATE_ISSUER": "network-suite-operator"}
    run = run_cli("conformance", "run", "--kit", "aef-messages", "--target", str(good_folder), "--report",
                  str(tmp_path / "r"), "--format", "json", env=env, clean=True)
    assert run.returncode == 0, run.stdout + run.stderr
    cert = str(tmp_path / "r/certificate.jws")
    verified = run_cli("conformance", "verify", cert, "--json", clean=True,
                       env={"CARBONLINK_CONFORMANCE_OPERATOR_KEYS": str(tmp_path / "op.jwks.json")})
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["claims"]["iss"] == "network-suite-operator"
    # an option still wins over the setting: another operator's keys refuse the certificate
    other = generate_key("ES256", "op-settings")
    (tmp_path / "other.jwks.json").write_text(json.dumps({"keys": [public_jwk(other)]}))
    refused = run_cli("conformance", "verify", cert, "--keys", str(tmp_path / "other.jwks.json"), clean=True,
                      env={"CARBONLINK_CONFORMANCE_OPERATOR_KEYS": str(tmp_path / "op.jwks.json")})
    assert refused.returncode == 1 and "CONFORMANCE.CERTIFICATE_INVALID" in refused.stderr
    no_keys = run_cli("conformance", "verify", cert, clean=True)
    assert no_keys.returncode == 2 and "CARBONLINK_CONFORMANCE_OPERATOR_KEYS" in no_keys.stderr
    missing_key = run_cli("conformance", "run", "--kit", "aef-messages", "--target", str(good_folder), "--report",
                          str(tmp_path / "r2"), clean=True,
                          env={"CARBONLINK_CONFORMANCE_SIGNING_KEY": str(tmp_path / "absent.json")})
    assert missing_key.returncode == 2 and "Traceback" not in missing_key.stderr
