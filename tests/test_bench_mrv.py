"""bench/bench_mrv.py measures the product's validation (every generated report valid, every check run) and
bare pydantic-core on the same bytes."""

from __future__ import annotations

import json

from bench import bench_mrv as bm
from standards.mrv import MonitoringReport, validate_report


def test_generated_reports_are_distinct_valid_reports_of_the_asked_size() -> None:
    reports = bm.make_reports(30, 100)
    docs = [validate_report(body) for body in reports]
    assert all(d.valid for d in docs)
    assert len({d.digest for d in docs}) == 30
    assert all(isinstance(d.document, MonitoringReport) and len(d.document.parameters) == 100 for d in docs)
    assert bm.product(reports) == 30 and bm.bare(bm.baseline_validator(), reports) == 30


def test_the_product_path_runs_the_checks_the_baseline_does_not() -> None:
    body = json.loads(bm.make_reports(1, 10)[0])
    body["parameters"][3]["unit"] = "zorkmid"
    broken = json.dumps(body).encode()
    assert bm.product([broken]) == 0
    assert bm.bare(bm.baseline_validator(), [broken]) == 1  # bare pydantic-core has no unit check


def test_the_run_reports_throughput_ratio_and_load(capsys: object) -> None:
    result = bm.main(["--reports", "40", "--parameters", "20", "--repeat", "1", "--json"])
    assert result["reports"] == 40 and isinstance(result["ratio_to_pydantic_core"], float)
    assert {"carbonlink_reports_per_s", "pydantic_core_reports_per_s", "load_1min"} <= set(result)
