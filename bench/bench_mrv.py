"""Benchmark: validating MRV monitoring reports with the product's own function, against bare pydantic-core.

``--reports`` monitoring reports (default 10,000) of ``--parameters`` measured parameters each (default
100; ten units cycled, all different values), each one JSON document as an MRV system sends it. The
product path is :func:`standards.mrv.validate_report` on the bytes, the function the gateway's MRV
message handler and the ``mrv`` adapter call: bounded read, exact-decimal JSON parse, pydantic-core
structure validation, then the report's own checks (period, date order, sector, buffer, evidence,
every unit through pint). The baseline is a bare ``pydantic_core.SchemaValidator`` of the same shape
(the model's core schema) on the same bytes, measured in the same run, the two alternated ``--repeat``
times (best of each) so that load from other processes falls on both alike. Run::

    python bench/bench_mrv.py [--reports 10000] [--parameters 100] [--repeat 3] [--clock cpu|wall] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from datetime import date

import orjson
from pydantic_core import SchemaValidator

from standards.mrv import MonitoringReport, document_json, example_report, validate_report

TARGET_REPORTS_PER_S = 2000


def make_reports(n: int, parameters: int) -> list[bytes]:
    """``n`` valid monitoring reports as JSON bytes: one project each, ``parameters`` parameters each."""
    template = document_json(example_report(parameters=parameters))
    out = []
    for i in range(n):
        doc = dict(template, report_id=f"MR-{i:06d}", project_id=f"PRJ-{i:06d}",
                   prepared_on=date(2025, 1, 1 + i % 28).isoformat())
        doc["parameters"] = [dict(p, value=f"{j}.{i % 1000:03d}") for j, p in enumerate(template["parameters"])]
        out.append(orjson.dumps(doc))
    return out


def product(reports: list[bytes]) -> int:
    """The product's validation of every report; the number found valid."""
    return sum(1 for body in reports if validate_report(body).valid)


def baseline_validator() -> SchemaValidator:
    """Bare pydantic-core: a SchemaValidator of the report's shape (no bounds on the read, no checks)."""
    return SchemaValidator(MonitoringReport.__pydantic_core_schema__)


def bare(validator: SchemaValidator, reports: list[bytes]) -> int:
    for body in reports:
        validator.validate_json(body)
    return len(reports)


def timed(func: Callable[[], int], clock: Callable[[], float]) -> tuple[float, int]:
    t0 = clock()
    count = func()
    return clock() - t0, count


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--parameters", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                        help="this process's CPU time (steadier on a shared machine), or wall time")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    reports = make_reports(args.reports, args.parameters)
    validator = baseline_validator()
    assert product(reports[:50]) == min(50, len(reports))  # warm up: the unit registry, the caches
    bare(validator, reports[:50])
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    ours, base = [], []
    for _ in range(args.repeat):
        seconds, valid = timed(lambda: bare(validator, reports), clock)
        base.append(seconds)
        seconds, valid = timed(lambda: product(reports), clock)
        assert valid == len(reports), f"only {valid} of {len(reports)} reports valid"
        ours.append(seconds)
    per_s, base_per_s = args.reports / min(ours), args.reports / min(base)
    result: dict[str, object] = {
        "reports": args.reports, "parameters": args.parameters, "bytes_per_report": len(reports[0]),
        "repeat": args.repeat, "clock": args.clock, "python": platform.python_version(),
        "load_1min": round(os.getloadavg()[0], 2), "cpus": os.cpu_count(),
        "carbonlink_reports_per_s": round(per_s), "pydantic_core_reports_per_s": round(base_per_s),
        "ratio_to_pydantic_core": round(min(ours) / min(base), 2),
        "target": f">= {TARGET_REPORTS_PER_S} reports/s", "met": per_s >= TARGET_REPORTS_PER_S,
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:28} {value}")
    return result


if __name__ == "__main__":
    main()
