"""Benchmark: an ``aef-messages`` conformance run over 10,000 AEF action rows with full findings, against
validating the same rows with the generic ``jsonschema`` library alone, in the same run.

The message is one AEF JSON report: a Table 1, two authorizations, ``--rows`` T3 actions (first
transfers, uses and acquisitions, as bench_aef_validate.py makes them) and their T4 holdings; every
``--defect-every``-th action carries a defect (an alpha-2 acquiring Party), so findings are reported.
The product path is what ``carbonlink conformance run`` calls (:func:`conformance.run_kit`: read the
file, every layer, the ITMO ledger replay and cross-table rules, one verdict per rule, every finding
kept); ``aef_validate_seconds`` is the adapter's validation alone, to show what the kit adds. The
baseline validates the same document with ``jsonschema`` (Draft 2020-12, the committed
``standards/aef/schema/aef-v2.schema.json``) collecting every error: the structure layer only. Run::

    python bench/bench_conformance.py [--rows 10000] [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_aef_validate import EXAMPLE_AUTH, PARTNER_AUTH, SUBMISSION, make_holdings, make_rows

from conformance import Target, Verdict, default_kits, run_kit

ROOT = Path(__file__).resolve().parents[1]


def make_report(rows: int, defect_every: int) -> dict[str, Any]:
    actions = make_rows(rows)
    for index in range(0, rows, defect_every):
        if actions[index]["AcquiringPartyID"] == "CHE":
            actions[index]["AcquiringPartyID"] = "CH"
    report = {"format": "carbonlink/aef-json", "aefVersion": "2", "Submission": SUBMISSION,
              "Authorizations": [EXAMPLE_AUTH, PARTNER_AUTH], "Actions": actions,
              "Holdings": make_holdings(actions), "AuthorizedEntities": []}
    return json.loads(json.dumps(report, default=int))  # quantities as JSON numbers, as a file holds them


def best_of(repeat: int, func: Any) -> tuple[float, Any]:
    best, value = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        value = func()
        best = min(best, time.perf_counter() - started)
    return best, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--defect-every", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = make_report(args.rows, args.defect_every)
    kit = default_kits().get("aef-messages@2026.1")
    schema = json.loads((ROOT / "standards/aef/schema/aef-v2.schema.json").read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.json"
        path.write_text(json.dumps(report), encoding="utf-8")
        suite_s, run = best_of(args.repeat, lambda: run_kit(kit, Target(str(path))))

        def baseline() -> int:
            document = json.loads(path.read_text(encoding="utf-8"))
            return sum(1 for _ in validator.iter_errors(document))

        schema_s, schema_errors = best_of(args.repeat, baseline)
        from standards.aef.codec import AEF
        from standards.codec import Medium

        validate_s, _ = best_of(args.repeat, lambda: AEF.validate(path.read_bytes(), medium=Medium.JSON))
    findings = sum(len(r.observations) for r in run.results)
    failed = sorted({r.test for r in run.results if r.verdict is Verdict.FAIL})
    result = {
        "rows": args.rows, "findings": findings, "failed_tests": failed, "jsonschema_errors": schema_errors,
        "suite_seconds": round(suite_s, 4), "jsonschema_seconds": round(schema_s, 4),
        "aef_validate_seconds": round(validate_s, 4), "kit_overhead": round(suite_s / validate_s, 3),
        "suite_rows_per_s": round(args.rows / suite_s), "jsonschema_rows_per_s": round(args.rows / schema_s),
        "speedup": round(schema_s / suite_s, 2), "python": platform.python_version(),
    }
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:24} {value}")


if __name__ == "__main__":
    main()
