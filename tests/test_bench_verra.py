"""bench/bench_verra.py times what ``carbonlink translate`` does: its measured call writes, byte for byte, the
document the command writes for the same generated export; its streaming-reader line reads every row."""

from __future__ import annotations

import json
from pathlib import Path

from bench import bench_verra as bv
from tests.support.cli import run_cli


def test_the_measured_call_writes_what_the_command_writes(tmp_path: Path) -> None:
    source, out = tmp_path / "transactions.csv", tmp_path / "cadt.json"
    bv.generate(source, 120)
    measured = bv.product_path(source)
    done = run_cli("translate", str(source), "--from", "verra", "--to", "cadt-v1", "--profile", str(bv.PROFILE),
                   "--accept-losses", "-o", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert measured.output.data == out.read_bytes()
    written = json.loads(out.read_bytes())
    assert measured.records_read == 120 and 0 < len(written["units"]) == measured.records_written
    assert f"({measured.records_written} of 120 records written" in done.stderr


def test_the_streaming_reader_reads_every_generated_row(tmp_path: Path) -> None:
    source = tmp_path / "transactions.csv"
    bv.generate(source, 300)
    count, findings = bv.streaming_reader(source)
    assert count == 300 and not [f for f in findings if f.is_error]
    assert bv.baseline(source) == 300


def test_the_rss_run_translates_every_row_in_a_fresh_process(tmp_path: Path) -> None:
    source = tmp_path / "big.csv"
    bv.generate(source, 60)
    count, mib = bv.peak_rss(source, "cadt-v1")
    assert count == 60 and mib > 0
