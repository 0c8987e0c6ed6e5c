"""Exports: offline verification round trip on both backends, and tampering with the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.evidence import (
    EvidenceConfigError,
    EvidenceLog,
    ExportUnreadable,
    JwkSigner,
    KeySetVerifier,
    export_log,
    verify_export,
)
from tests.evidence.conftest import Backend, exchange

Filled = tuple[Backend, EvidenceLog]


def _export(filled: Filled, signer: JwkSigner, tmp_path: Path) -> Path:
    _, log = filled
    path = tmp_path / "export.jsonl"
    summary = export_log(log, path, signer=signer)
    assert (summary.records, summary.head_seq) == (6, 6)
    return path


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").rstrip("\n").split("\n")  # not splitlines(): U+2028 is data


def _write(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_an_export_verifies_offline_with_the_published_keys(filled: Filled, signer: JwkSigner,
                                                            keys: KeySetVerifier, tmp_path: Path) -> None:
    _, log = filled
    path = _export(filled, signer, tmp_path)
    lines = _lines(path)
    manifest = json.loads(lines[0])
    assert manifest["format"] == "carbonlink-evidence-export" and manifest["records"] == 6
    assert manifest["head_hash"] == log.head()[1]
    assert [k["kid"] for k in manifest["jwks"]["keys"]] == ["gw-evidence-1"]
    assert all("d" not in k for k in manifest["jwks"]["keys"])
    assert [json.loads(line)["seq"] for line in lines[1:]] == [1, 2, 3, 4, 5, 6]
    for report in (verify_export(path, keys=keys)[0], verify_export(path)[0]):
        assert report.ok and report.records == 6 and report.head_hash == log.head()[1]
    assert not list(tmp_path.glob("*.partial"))


def test_an_empty_log_exports_and_verifies(backend: Backend, signer: JwkSigner, keys: KeySetVerifier,
                                           tmp_path: Path) -> None:
    with backend.open(signer) as log:
        export_log(log, tmp_path / "empty.jsonl", signer=signer)
    report, manifest = verify_export(tmp_path / "empty.jsonl", keys=keys)
    assert report.ok and report.records == 0 and manifest["head_seq"] == 0


def _tamper_field(lines: list[str]) -> list[str]:
    record = json.loads(lines[3])
    record["receipt"]["status"] = "REJECTED"
    return [*lines[:3], json.dumps(record), *lines[4:]]


@pytest.mark.parametrize(("tamper", "code", "line"), [
    (_tamper_field, "EVIDENCE.HASH_MISMATCH", 4),
    (lambda ls: ls[:3] + ls[4:], "EVIDENCE.SEQUENCE_GAP", 4),
    (lambda ls: [*ls[:3], ls[4], ls[3], *ls[5:]], "EVIDENCE.SEQUENCE_GAP", 4),
    (lambda ls: ls[:-2], "EVIDENCE.HEAD_MISMATCH", None),
    (lambda ls: [*ls, ls[-1]], "EVIDENCE.SEQUENCE_GAP", 8),
    (lambda ls: [*ls[:2], "{not json", *ls[3:]], "EVIDENCE.RECORD_MALFORMED", 3),
    (lambda ls: [*ls[:2], '{"seq": 2}', *ls[3:]], "EVIDENCE.RECORD_MALFORMED", 3),
])
def test_tampered_exports_are_caught(filled: Filled, signer: JwkSigner, keys: KeySetVerifier, tmp_path: Path,
                                     tamper: object, code: str, line: int | None) -> None:
    path = _export(filled, signer, tmp_path)
    _write(path, tamper(_lines(path)))  # type: ignore[operator]
    report, _ = verify_export(path, keys=keys)
    assert report.code == code
    assert report.findings[0].location.line == line


def test_an_edited_manifest_fails_its_signature(filled: Filled, signer: JwkSigner, keys: KeySetVerifier,
                                               tmp_path: Path) -> None:
    path = _export(filled, signer, tmp_path)
    lines = _lines(path)
    manifest = json.loads(lines[0])
    manifest.update(records=4, head_seq=4, head_hash=json.loads(lines[4])["hash"])
    _write(path, [json.dumps(manifest), *lines[1:5]])  # a truncated export with a matching manifest
    report, _ = verify_export(path, keys=keys)
    assert report.code == "EVIDENCE.MANIFEST_SIGNATURE"


def test_keys_swapped_into_the_file_do_not_fool_an_auditor_with_the_real_jwks(
        filled: Filled, keys: KeySetVerifier, tmp_path: Path) -> None:
    attacker = JwkSigner.generate("ES256", kid="gw-evidence-1")
    path = tmp_path / "forged.jsonl"
    _, log = filled
    export_log(log, path, signer=attacker, jwks={"keys": [attacker.public_jwk()]})
    assert verify_export(path, keys=keys)[0].code == "EVIDENCE.MANIFEST_SIGNATURE"
    # the records inside still carry the real signatures, so the embedded (attacker's) key fails on them
    assert verify_export(path)[0].code == "EVIDENCE.SIGNATURE_INVALID"


@pytest.mark.parametrize(("content", "fragment"), [
    (b"", "empty"), (b"not json\n", "not JSON"), (b'{"format": "other"}\n', "manifest"),
    (b'{"format": "carbonlink-evidence-export", "version": 9}\n', "version"),
    (b'{"format": "carbonlink-evidence-export", "version": 1}\n', "lacks"),
    (b"x" * (4 * 1024 * 1024 + 10), "longer than"),
])
def test_unreadable_exports_are_coded_errors(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(ExportUnreadable, match=fragment) as info:
        verify_export(path)
    assert info.value.code.startswith("EVIDENCE.EXPORT")


def test_a_missing_export_is_a_coded_error(tmp_path: Path) -> None:
    with pytest.raises(ExportUnreadable) as info:
        verify_export(tmp_path / "nope.jsonl")
    assert info.value.code == "INPUT.NOT_FOUND"


def test_incremental_exports_link_up(filled: Filled, signer: JwkSigner, keys: KeySetVerifier,
                                     tmp_path: Path) -> None:
    _, log = filled
    first, second = tmp_path / "part1.jsonl", tmp_path / "part2.jsonl"
    export_log(log, first, signer=signer)
    for n in range(7, 10):
        log.append(exchange(n))
    summary = export_log(log, second, signer=signer, from_seq=7)
    assert (summary.records, summary.head_seq) == (3, 9)
    report_one, manifest_one = verify_export(first, keys=keys)
    report_two, manifest_two = verify_export(second, keys=keys)
    assert report_one.ok and report_two.ok and report_two.first_seq == 7 and report_two.records == 3
    assert manifest_two["prev_hash"] == manifest_one["head_hash"]  # the two exports chain together
    lines = _lines(second)
    _write(second, [lines[0], *lines[2:]])
    assert verify_export(second, keys=keys)[0].code == "EVIDENCE.SEQUENCE_GAP"
    with pytest.raises(EvidenceConfigError):
        export_log(log, tmp_path / "x.jsonl", signer=signer, from_seq=11)


def test_an_export_taken_while_appends_continue_is_consistent(filled: Filled, signer: JwkSigner,
                                                              keys: KeySetVerifier, tmp_path: Path) -> None:
    import threading

    backend, _ = filled
    stop = threading.Event()

    def keep_appending() -> None:
        with backend.open(signer) as writer:
            n = 100
            while not stop.is_set():
                writer.append(exchange(n))
                n += 1

    thread = threading.Thread(target=keep_appending)
    thread.start()
    try:
        with backend.open() as reader:
            summaries = [export_log(reader, tmp_path / f"live-{i}.jsonl", signer=signer) for i in range(3)]
    finally:
        stop.set()
        thread.join()
    for i, summary in enumerate(summaries):
        report, manifest = verify_export(tmp_path / f"live-{i}.jsonl", keys=keys)
        assert report.ok and report.records == summary.records == manifest["records"]
    assert summaries[-1].head_seq >= summaries[0].head_seq >= 6


def test_head_mode_on_an_export(filled: Filled, signer: JwkSigner, keys: KeySetVerifier,
                                tmp_path: Path) -> None:
    path = _export(filled, signer, tmp_path)
    assert verify_export(path, keys=keys, signatures="head")[0].ok
    _write(path, _tamper_field(_lines(path)))
    assert verify_export(path, keys=keys, signatures="head")[0].code == "EVIDENCE.HASH_MISMATCH"


def test_an_export_embedding_private_key_material_is_refused(filled: Filled, signer: JwkSigner,
                                                             tmp_path: Path) -> None:
    from joserfc.jwk import ECKey

    path = _export(filled, signer, tmp_path)
    lines = _lines(path)
    manifest = json.loads(lines[0])
    leaked = ECKey.generate_key("P-256", parameters={"kid": "leak"}).as_dict(private=True)
    manifest["jwks"] = {"keys": [leaked]}
    _write(path, [json.dumps(manifest), *lines[1:]])
    with pytest.raises(EvidenceConfigError, match="private key material"):
        verify_export(path)
