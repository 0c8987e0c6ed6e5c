"""bench/bench_verra.py times what ``carbonlink translate`` does: its measured call writes, byte for byte, the
document the command writes for the same generated export (cadt-v2 and cadt-v1, both streamed); its
streaming-reader line reads every row; its RSS run translates every row in a fresh process."""

from __future__ import annotations

import json
from pathlib import Path

from adapters.stream_translate import StreamedTranslation
from adapters.translate import translate
from bench import bench_verra as bv
from gateway.cli.translation import configured_catalog
from standards import Medium
from tests.support.cli import run_cli


def test_the_measured_call_writes_what_the_command_writes(tmp_path: Path) -> None:
    source, out, measured_out = tmp_path / "transactions.csv", tmp_path / "cadt.json", tmp_path / "measured.json"
    bv.generate(source, 120, per_issuance=10)
    measured = bv.product_path(source, "cadt-v2", measured_out)
    assert isinstance(measured, StreamedTranslation), "the bench times the streaming path"
    done = run_cli("translate", str(source), "--from", "verra", "--to", "cadt-v2", "--profile",
                   str(bv.PROFILE_V2), "-o", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert measured_out.read_bytes() == out.read_bytes()
    written = json.loads(out.read_bytes())
    assert measured.records_read == 120 == len(written["unit"]) == measured.records_written
    assert len(written["issuance"]) == 12
    assert "(120 of 120 records written" in done.stderr


def test_the_v1_call_writes_what_the_command_writes(tmp_path: Path) -> None:
    source, out, measured_out = tmp_path / "transactions.csv", tmp_path / "cadt.json", tmp_path / "measured.json"
    bv.generate(source, 120)
    measured = bv.product_path(source, "cadt-v1", measured_out)
    assert isinstance(measured, StreamedTranslation), "the bench times the streaming path"
    done = run_cli("translate", str(source), "--from", "verra", "--to", "cadt-v1", "--profile", str(bv.PROFILE),
                   "--accept-losses", "-o", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert measured_out.read_bytes() == out.read_bytes()
    assert measured.records_read == 120 and 0 < len(json.loads(out.read_bytes())["units"]) == measured.records_written
    catalog = configured_catalog("verra", "cadt-v1", bv.PROFILE, True, None, False)
    whole = translate(source.read_bytes(), source="verra", target="cadt-v1", source_medium=Medium.CSV,
                      target_medium=Medium.JSON, catalog=catalog, accept_losses=True)
    assert whole.output.data == out.read_bytes()  # the streamed document is the whole-file path's


def test_the_streaming_reader_reads_every_generated_row(tmp_path: Path) -> None:
    source = tmp_path / "transactions.csv"
    bv.generate(source, 300)
    count, findings = bv.streaming_reader(source)
    assert count == 300 and not [f for f in findings if f.is_error]
    assert bv.baseline(source) == 300


def test_the_rss_run_translates_every_row_in_a_fresh_process(tmp_path: Path) -> None:
    source = tmp_path / "big.csv"
    bv.generate(source, 60)
    for target in ("cadt-v2", "cadt-v1"):
        count, mib = bv.peak_rss(source, target)
        assert count == 60 and mib > 0
