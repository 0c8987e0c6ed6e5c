"""The streaming translation to CAD Trust v2 (adapters/stream_translate.py) gives what the whole-file path gives.

Both paths run on the same exports (the bundled Verra fixture, the public Verra sample from
``bench.verra_sample``, the benchmark's generated export): the same document byte for byte, the same
counts, losses and findings; or, when the whole-file path refuses, the same refusal. Then what differs by
design: the input cap, the bounded loss ids, overlaps found as blocks arrive, nothing written on refusal.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.stream_translate import StreamedTranslation, stream_translation
from adapters.translate import Translation, translate
from bench import bench_verra as bv
from bench.verra_sample import write as write_sample
from gateway.cli.translation import configured_catalog
from standards import CarbonlinkError, Medium, ValidationFailed
from standards.cadt import stream_v2
from tests.support.cli import run_cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "verra"
PROFILE = bv.PROFILE_V2


def _catalog(profile: Path | None = PROFILE) -> object:
    return configured_catalog("verra", "cadt-v2", profile, False, None, False)


def _whole(path: Path, profile: Path | None) -> Translation | CarbonlinkError:
    try:
        return translate(path.read_bytes(), source="verra", target="cadt-v2", source_medium=Medium.CSV,
                         target_medium=Medium.JSON, catalog=_catalog(profile))  # type: ignore[arg-type]
    except CarbonlinkError as exc:
        return exc


def _streamed(path: Path, out: Path, profile: Path | None) -> StreamedTranslation | CarbonlinkError | None:
    try:
        streamed = stream_translation([path], out, source="verra", target="cadt-v2", source_medium=Medium.CSV,
                                      target_medium=Medium.JSON, catalog=_catalog(profile))  # type: ignore[arg-type]
    except CarbonlinkError as exc:
        return exc
    if streamed is not None:
        streamed.write(out)
    return streamed


def _sample(tmp_path: Path) -> Path:
    transactions, _projects = write_sample(tmp_path / "sample")
    return transactions


def _generated(tmp_path: Path) -> Path:
    path = tmp_path / "generated.csv"
    bv.generate(path, 450, per_issuance=7)
    return path


@pytest.mark.parametrize("profile", [PROFILE, None], ids=["profile", "no-profile"])
@pytest.mark.parametrize("make", [lambda _tmp: FIXTURES / "transactions.csv", _sample, _generated],
                         ids=["fixture", "public-sample", "generated"])
def test_streaming_and_whole_file_paths_agree(tmp_path: Path, make: object, profile: Path | None) -> None:
    source = make(tmp_path)  # type: ignore[operator]
    out = tmp_path / "streamed.json"
    whole, streamed = _whole(source, profile), _streamed(source, out, profile)
    assert streamed is not None, "a Verra transactions export takes the streaming path"
    if isinstance(whole, CarbonlinkError):
        assert isinstance(streamed, CarbonlinkError) and type(streamed) is type(whole)
        assert streamed.code == whole.code and streamed.message == whole.message
        assert sorted(map(repr, streamed.findings or [])) == sorted(map(repr, whole.findings or []))
        assert not out.exists(), "a refused translation writes nothing"
        return
    assert isinstance(streamed, StreamedTranslation)
    assert out.read_bytes() == whole.output.data
    assert (streamed.records_read, streamed.records_written, streamed.records_lost) == \
        (whole.records_read, whole.records_written, whole.records_lost)
    assert streamed.source_findings == whole.source_findings
    assert streamed.target_findings == whole.target_findings
    assert streamed.losses == whole.losses
    assert json.loads(out.read_bytes())["unit"], "the document holds units"


def test_the_generated_export_translates_and_links(tmp_path: Path) -> None:
    source, out = _generated(tmp_path), tmp_path / "out.json"
    streamed = _streamed(source, out, PROFILE)
    assert isinstance(streamed, StreamedTranslation) and streamed.records_written == 450
    document = json.loads(out.read_bytes())
    issuances = {i["cadTrustIssuanceId"] for i in document["issuance"]}
    assert len(document["unit"]) == 450 and len(issuances) == 65  # 450 blocks, 7 to an issuance
    assert {u["cadTrustIssuanceId"] for u in document["unit"]} == issuances
    assert len({u["cadTrustUnitId"] for u in document["unit"]}) == 450


def test_the_command_streams_an_export_over_the_whole_file_limit(tmp_path: Path) -> None:
    source, out = _generated(tmp_path), tmp_path / "out.json"
    whole_limit = str(source.stat().st_size // 4)
    done = run_cli("translate", str(source), "--from", "verra", "--to", "cadt-v2", "--profile", str(PROFILE),
                   "-o", str(out), env={"CARBONLINK_MAX_INPUT_BYTES": whole_limit})
    assert done.returncode == 0, done.stderr
    assert "(450 of 450 records written" in done.stderr
    reference = translate(source.read_bytes(), source="verra", target="cadt-v2", source_medium=Medium.CSV,
                          target_medium=Medium.JSON, catalog=_catalog())  # type: ignore[arg-type]
    assert out.read_bytes() == reference.output.data
    # cadt-v1 streams too, leaving out what the whole-file path leaves out (--accept-losses)
    done = run_cli("translate", str(source), "--from", "verra", "--to", "cadt-v1", "--profile",
                   str(bv.PROFILE), "--accept-losses", "-o", str(tmp_path / "v1.json"),
                   env={"CARBONLINK_MAX_INPUT_BYTES": whole_limit})
    assert done.returncode == 0, done.stderr
    v1 = configured_catalog("verra", "cadt-v1", bv.PROFILE, True, None, False)
    reference = translate(source.read_bytes(), source="verra", target="cadt-v1", source_medium=Medium.CSV,
                          target_medium=Medium.JSON, catalog=v1, accept_losses=True)  # type: ignore[arg-type]
    assert (tmp_path / "v1.json").read_bytes() == reference.output.data
    # a target that does not stream is held to the whole-file limit
    done = run_cli("translate", str(source), "--from", "verra", "--to", "canonical", "-o",
                   str(tmp_path / "c.json"), env={"CARBONLINK_MAX_INPUT_BYTES": whole_limit})
    assert done.returncode != 0 and "INPUT.TOO_LARGE" in done.stdout + done.stderr


def test_an_export_over_the_whole_file_limit_streams_without_from(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Format detection reads only the first lines of a large CSV export, so the export still streams."""
    from gateway.cli import _inputs

    monkeypatch.setattr(_inputs, "DETECTION_SAMPLE_BYTES", 4096)
    source, out = _generated(tmp_path), tmp_path / "out.json"
    assert source.stat().st_size > 4 * 4096
    done = run_cli("translate", str(source), "--to", "cadt-v2", "--profile", str(PROFILE), "-o", str(out),
                   env={"CARBONLINK_MAX_INPUT_BYTES": str(source.stat().st_size // 4)})
    assert done.returncode == 0, done.stderr
    assert "detected format verra" in done.stderr and "(450 of 450 records written" in done.stderr
    reference = translate(source.read_bytes(), source="verra", target="cadt-v2", source_medium=Medium.CSV,
                          target_medium=Medium.JSON, catalog=_catalog())  # type: ignore[arg-type]
    assert out.read_bytes() == reference.output.data


def test_an_export_over_the_streamed_cap_is_refused_with_a_code(tmp_path: Path) -> None:
    source, out = _generated(tmp_path), tmp_path / "out.json"
    done = run_cli("translate", str(source), "--from", "verra", "--to", "cadt-v2", "--profile", str(PROFILE),
                   "-o", str(out), env={"CARBONLINK_MAX_STREAM_BYTES": str(source.stat().st_size // 2)})
    assert done.returncode != 0
    assert "INPUT.TOO_LARGE" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert not out.exists()


def test_losses_name_a_bounded_number_of_records_and_count_them_all(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream_v2, "LOSS_IDS_KEPT", 5)
    source = _generated(tmp_path)
    streamed = _streamed(source, tmp_path / "out.json", PROFILE)
    assert isinstance(streamed, StreamedTranslation)
    whole = _whole(source, PROFILE)
    assert isinstance(whole, Translation)
    assert [loss.field for loss in streamed.losses] == [loss.field for loss in whole.losses]
    for mine, theirs in zip(streamed.losses, whole.losses, strict=True):
        assert mine.records == theirs.records[:5]
        if len(theirs.records) > 5:
            assert mine.reason == f"{theirs.reason} ({len(theirs.records)} records; the first 5 named)"


def test_overlapping_blocks_are_refused_as_they_arrive(tmp_path: Path) -> None:
    source = _generated(tmp_path)
    lines = source.read_bytes().split(b"\r\n")
    source.write_bytes(b"\r\n".join([*lines[:-1], lines[3], b""]))  # the third block again, at the end
    out = tmp_path / "out.json"
    streamed = _streamed(source, out, PROFILE)
    assert isinstance(streamed, ValidationFailed)
    overlaps = [f for f in streamed.findings or [] if f.rule == "VERRA.SERIAL_OVERLAP"]
    assert [f.location.pointer for f in overlaps] == ["/units/450/serial"]
    whole = _whole(source, PROFILE)
    assert isinstance(whole, ValidationFailed)
    assert [f.rule for f in whole.findings or [] if f.is_error] == ["VERRA.SERIAL_OVERLAP"]
    assert not out.exists()


def test_what_cannot_stream_takes_the_whole_file_path(tmp_path: Path) -> None:
    projects = FIXTURES / "projects.csv"
    assert _streamed(projects, tmp_path / "p.json", PROFILE) is None  # projects come before their units
    source = _generated(tmp_path)
    assert stream_translation([source], tmp_path / "out.zip", source="verra", target="cadt-v2",
                              source_medium=Medium.CSV, target_medium=Medium.JSON) is None
    assert stream_translation([source], None, source="verra", target="aef", source_medium=Medium.CSV,
                              target_medium=Medium.JSON) is None
    dropping = configured_catalog("verra", "cadt-v2", PROFILE, True, None, False)  # --accept-losses
    assert stream_translation([source], None, source="verra", target="cadt-v2", source_medium=Medium.CSV,
                              target_medium=Medium.JSON, catalog=dropping, accept_losses=True) is None


def test_a_repeated_unit_id_is_found_as_the_whole_document_check_finds_it(tmp_path: Path) -> None:
    from adapters.verra import adapter
    from standards import CanonicalDocument

    source = _generated(tmp_path)
    with source.open("rb") as handle:
        units = list(adapter.iter_records(handle, medium=Medium.CSV, findings=[]))[:20]
    units.append(units[3])  # the same block twice: the source check refuses this; the output check must too
    codec = _catalog().get("cadt-v2")  # type: ignore[attr-defined]
    stream = stream_v2.V2UnitStream(codec)
    for unit in units:
        stream.add(unit)
    stream.finish()
    whole = codec.serialize(CanonicalDocument(units=units), medium=Medium.JSON)
    checked = codec.validate(whole.data, medium=Medium.JSON).findings
    duplicates = [(f.rule, f.location.pointer, f.message) for f in stream.findings if f.rule.endswith("DUPLICATE_ID")]
    assert duplicates == [(f.rule, f.location.pointer, f.message) for f in checked if f.rule.endswith("DUPLICATE_ID")]
    assert [pointer for _rule, pointer, _message in duplicates] == ["/unit/20/cadTrustUnitId"]
    assert not stream.valid
    stream.close()


@pytest.mark.e2e
def test_a_process_streams_an_export_to_a_file_and_to_stdout(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    source, out = _generated(tmp_path), tmp_path / "out.json"
    env = {**os.environ, "CARBONLINK_MAX_INPUT_BYTES": str(source.stat().st_size // 4)}
    command = [sys.executable, "-c", "import sys; from gateway.cli import main; sys.exit(main())", "translate",
               str(source), "--from", "verra", "--to", "cadt-v2", "--profile", str(PROFILE)]
    root = Path(__file__).resolve().parents[2]
    to_file = subprocess.run([*command, "-o", str(out)], capture_output=True, env=env, cwd=root, timeout=300,
                             check=False)
    assert to_file.returncode == 0, to_file.stderr.decode()
    to_stdout = subprocess.run(command, capture_output=True, env=env, cwd=root, timeout=300, check=False)
    assert to_stdout.returncode == 0, to_stdout.stderr.decode()
    assert to_stdout.stdout == out.read_bytes()
    assert len(json.loads(out.read_bytes())["unit"]) == 450
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.json")], "no temporary file left"


def test_issuance_report_rows_stream_and_the_findings_name_the_output_units(tmp_path: Path) -> None:
    """Issuance-report rows (no serial block) are their project's issuance, left out of the units; the
    stream numbers the units' findings as the output's units, as the whole-file path does (v1 and more
    registries: tests/adapters/test_stream_translate_v1.py)."""
    from adapters import default_catalog
    from standards.cadt._issuance_rows import is_issuance_row

    carb = Path(__file__).resolve().parents[1] / "fixtures" / "carb" / "issuance-table.csv"
    catalog = configured_catalog("carb", "cadt-v2", PROFILE, False, None, False)
    with pytest.raises(CarbonlinkError) as streamed:  # streamed (None would be the whole-file path), and refused
        stream_translation([carb], tmp_path / "carb.json", source="carb", target="cadt-v2",
                           source_medium=Medium.CSV, target_medium=Medium.JSON, catalog=catalog)
    blocks = default_catalog().get("carb").parse(carb.read_bytes(), medium=Medium.CSV).document.units
    rows = sum(map(is_issuance_row, blocks))
    assert rows and len(blocks) > rows
    done = run_cli("translate", str(carb), "--from", "carb", "--to", "cadt-v2", "--profile", str(PROFILE),
                   "-o", str(tmp_path / "carb.json"), "--json",
                   env={"CARBONLINK_MAX_INPUT_BYTES": str(carb.stat().st_size // 2)})  # only the stream reads it
    assert done.returncode == 1
    pointers = [f["pointer"] for f in json.loads(done.stdout)["findings"]]
    units = {int(p.split("/")[2]) for p in pointers if p.startswith("/unit/")}
    assert units and max(units) == len(blocks) - rows - 1  # every output unit named, none beyond them
    with pytest.raises(CarbonlinkError) as refused:  # the command's findings are the whole-file path's
        translate(carb.read_bytes(), source="carb", target="cadt-v2", source_medium=Medium.CSV,
                  target_medium=Medium.JSON, catalog=catalog)  # type: ignore[arg-type]
    assert sorted(pointers) == sorted(f.location.pointer for f in refused.value.findings)
    assert sorted(map(repr, streamed.value.findings or [])) == sorted(map(repr, refused.value.findings or []))



@pytest.mark.parametrize("make", [lambda _tmp: FIXTURES / "transactions.csv", _sample],
                         ids=["fixture", "public-sample"])
def test_the_profile_s_own_project_types_stream_as_the_whole_file_path_writes_them(tmp_path: Path,
                                                                                  make: object) -> None:
    """``project.projectTypeV2``: the operator's type for methodologies the vocabulary gives none (``ACM0002``,
    ``AMS-I.D.``: each credits several technologies) is written, and noted, alike by both paths."""
    profile = tmp_path / "operator.yaml"
    profile.write_text(PROFILE.read_text(encoding="utf-8").replace(
        "  projectTypeV2:\n", "  projectTypeV2:\n    ACM0002: Wind\n    AMS-I.D.: Solar\n"), encoding="utf-8")
    assert "ACM0002: Wind" in profile.read_text(encoding="utf-8")
    source = make(tmp_path)  # type: ignore[operator]
    out = tmp_path / "streamed.json"
    whole, streamed = _whole(source, profile), _streamed(source, out, profile)
    assert isinstance(whole, Translation), whole
    assert isinstance(streamed, StreamedTranslation)
    assert out.read_bytes() == whole.output.data
    assert streamed.target_findings == whole.target_findings and streamed.losses == whole.losses
    typed = [p for p in json.loads(whole.output.data)["project"] if p.get("projectType") == ["Wind"]]
    assert typed
    noted = [f for f in whole.target_findings if f.rule == "CADT.V2.PROFILE_VALUE" and "'ACM0002'" in f.message]
    assert len(noted) == 1 and f"{len(typed)} record(s) took project.projectTypeV2 = 'Wind'" in noted[0].message
    assert not [f for f in whole.target_findings if f.rule == "CADT.V2.VOCAB" and "/projectType" in f.location.pointer]
