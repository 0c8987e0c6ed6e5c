"""Benchmark: validating AEF T3 action rows (structure + every rule) vs bare pydantic-core.

The baseline is pydantic-core validating the same rows against the same typed schema (the
structure layer alone, via a ``TypeAdapter``), measured in the same run. Run::

    python bench/bench_aef_validate.py [--rows 50000] [--repeat 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from standards.aef.structure import row_adapter
from standards.aef.tables import AefTables
from standards.aef.validate import validate_tables

EXAMPLE_AUTH = {
    "AuthorizationID": "GHA-A6-2023-001", "DateOfAuthorization": "2023-11-15", "CooperativeApproachID": "CA0001",
    "AuthorizationVersion": 1, "AuthorizedQuantity": None, "Metric": "GHG", "GWPValues": None,
    "Non-GHGMetric": "NA", "Sectors": "Energy generation", "ActivityType": "Solar", "PurposeForAuthorization": "NDC",
    "AuthorizedPartyIDs": "CHE", "AuthorizedEntityIDs": None, "OIMPAuthorized": "NA", "AuthorizedTimeframe": None,
    "AuthorizationT&Cs": None, "AuthorizationDocumentation": None, "FirstTransferDefnForOIMP": "NA",
    "AdditionalExplanatoryInformation": None,
}


def make_rows(n: int) -> list[dict[str, Any]]:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(n):
        first = i * 1000 + 1
        rows.append({
            "ActionDateTime": (start + timedelta(minutes=i % 500_000)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "ActionType": "First transfer", "ActionSubtype": "First transfer to another Party",
            "CooperativeApproachID": "CA0001", "AuthorizationID": "GHA-A6-2023-001",
            "FirstTransferringPartyID": "GHA", "PartyITMORegistryID": "GHA01", "FirstID": first,
            "LastID": first + 999, "UnderlyingUnitRegistryID": "GS", "UnderlyingUnitFirstUnitID": first,
            "UnderlyingUnitLastUnitID": first + 999, "Metric": "GHG", "GWPValues": None, "Non-GHGMetric": "NA",
            "QuantityCO2": Decimal(1000), "QuantityNon-GHG": "NA", "MitigationType": "Emission reductions",
            "Vintage": 2023, "TransferringPartyID": "NA", "AcquiringPartyID": "CHE", "PurposeITMOUsedForOIMP": "NA",
            "Using/cancellingPartyID": "NA", "Using/cancellingEntityID": "NA", "YearITMOUsedTowardsNDC": "NA",
            "ResultOfConsistencyChecks": None, "AdditionalExplanatoryInformation": None,
        })
    return rows


def best_of(repeat: int, func: Any) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = make_rows(args.rows)
    submission = {"ParticipatingParty": "GHA", "SubmissionVersion": "1.0", "ReportedYear": 2024,
                  "DateOfSubmission": "2025-04-10", "FirstYearOfNDCPeriod": 2021, "LastYearOfNDCPeriod": 2030}

    def full() -> None:
        tables = AefTables(submission=dict(submission))
        tables.rows["T2"] = [dict(EXAMPLE_AUTH)]
        tables.rows["T3"] = rows
        findings, _ = validate_tables(tables)
        assert not findings, findings[:3]

    adapter = row_adapter("T3")
    full()  # warm up (schema build, caches)
    adapter.validate_python(rows)
    baseline = best_of(args.repeat, lambda: adapter.validate_python(rows))
    ours = best_of(args.repeat, full)
    result = {
        "rows": args.rows, "repeat": args.repeat, "python": platform.python_version(),
        "machine": platform.machine(),
        "pydantic_core_rows_per_s": round(args.rows / baseline),
        "carbonlink_rows_per_s": round(args.rows / ours),
        "ratio_to_pydantic_core": round(ours / baseline, 2),
        "target": ">= 25,000 rows/s and ratio <= 3.0",
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:28} {value}")


if __name__ == "__main__":
    main()
