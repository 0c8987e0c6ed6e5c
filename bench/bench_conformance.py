"""Benchmark: an ``aef-messages`` conformance run over 10,000 AEF action rows with full findings, against
validating the same rows with the generic ``jsonschema`` library alone, in the same run.

The message is one AEF JSON report: a Table 1, two authorizations, ``--rows`` T3 actions (first
transfers, uses and acquisitions, as bench_aef_validate.py makes them) and their T4 holdings; every
``--defect-every``-th action carries a defect (an alpha-2 acquiring Party), so findings are reported.
The product path is what ``carbonlink conformance run`` calls (:func:`conformance.run_kit`: read the
file, every layer, the ITMO ledger replay and cross-table rules, one verdict per rule, every finding
kept); ``aef_validate_seconds`` is the adapter's validation alone, to show what the kit adds. The
baseline validates the same document with ``jsonschema`` (Draft 2020-12, the committed
``standards/aef/schema/aef-v2.schema.json``) collecting every error: the structure layer only.

The three are timed in interleaved rounds (the suite, then jsonschema, then the validation), so on a
shared machine both sides of the ratio see the same load; the best of each side gives ``speedup``, each
round's own ratio ``speedup_per_round``, and the 1-minute load average before and after is reported.
``--clock cpu`` times the process's CPU time instead of the wall clock (steadier on a loaded machine;
every side is single-threaded Python). Run::

    python bench/bench_conformance.py [--rows 10000] [--repeat 3] [--clock wall|cpu] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from operator import itemgetter
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


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def timed(func: Any, clock: Any = time.perf_counter) -> tuple[float, Any]:
    started = clock()
    value = func()
    return clock() - started, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--defect-every", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = make_report(args.rows, args.defect_every)
    kit = default_kits().get("aef-messages@2026.1")
    schema = json.loads((ROOT / "standards/aef/schema/aef-v2.schema.json").read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema)
    from standards.aef.codec import AEF
    from standards.codec import Medium

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.json"
        path.write_text(json.dumps(report), encoding="utf-8")

        def baseline() -> int:
            document = json.loads(path.read_text(encoding="utf-8"))
            return sum(1 for _ in validator.iter_errors(document))

        # interleaved rounds: on a shared machine both sides see the same load, round by round
        clock = CLOCKS[args.clock]
        rounds = [(timed(lambda: run_kit(kit, Target(str(path))), clock), timed(baseline, clock),
                   timed(lambda: AEF.validate(path.read_bytes(), medium=Medium.JSON), clock))
                  for _ in range(args.repeat)]
    sides = zip(*rounds, strict=True)
    (suite_s, run), (schema_s, schema_errors), (validate_s, _) = (min(side, key=itemgetter(0)) for side in sides)
    per_round = sorted(schema[0] / suite[0] for suite, schema, _ in rounds)
    findings = sum(len(r.observations) for r in run.results)
    failed = sorted({r.test for r in run.results if r.verdict is Verdict.FAIL})
    result = {
        "rows": args.rows, "findings": findings, "failed_tests": failed, "jsonschema_errors": schema_errors,
        "suite_seconds": round(suite_s, 4), "jsonschema_seconds": round(schema_s, 4),
        "aef_validate_seconds": round(validate_s, 4), "kit_overhead": round(suite_s / validate_s, 3),
        "suite_rows_per_s": round(args.rows / suite_s), "jsonschema_rows_per_s": round(args.rows / schema_s),
        "speedup": round(schema_s / suite_s, 2), "speedup_per_round": [round(r, 2) for r in per_round],
        "load_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)], "cpus": os.cpu_count(),
        "clock": args.clock,
        "python": platform.python_version(),
    }
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:24} {value}")


if __name__ == "__main__":
    main()
