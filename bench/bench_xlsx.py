"""Benchmark: a 50,000-row AEF T3 workbook written and read back by carbonlink, against bare openpyxl.

Each step runs in its own subprocess so its peak RSS (``ru_maxrss``) is its own; ``inputs-only``
shows what merely holding the 50,000 input rows costs (both writers start from them). The baseline
is openpyxl's write-only / read-only mode on the same cells (same values, no AEF layout, no
type handling, no safety checks), measured in the same run; ratios are carbonlink / baseline.

    .venv/bin/python bench/bench_xlsx.py            # 50,000 rows
    .venv/bin/python bench/bench_xlsx.py --rows 10000 --repeat 3 --json-only
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any


def make_rows(rows: int) -> Iterator[dict[str, Any]]:
    """The T3 rows of the benchmark, generated one at a time."""
    from standards.aef.tables import TABLES

    fields = [f.cn for f in TABLES["T3"].fields]
    start = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)
    for i in range(rows):
        row: dict[str, Any] = dict.fromkeys(fields)
        row.update({
            "ActionDateTime": start + timedelta(minutes=i), "ActionType": "Transfer",
            "CooperativeApproachID": "CA0001", "AuthorizationID": f"AUTH-{i % 97}",
            "FirstTransferringPartyID": "GHA", "PartyITMORegistryID": "GHA01", "FirstID": 1 + i * 100,
            "LastID": 100 + i * 100, "UnderlyingUnitRegistryID": "NA", "UnderlyingUnitFirstUnitID": "NA",
            "UnderlyingUnitLastUnitID": "NA", "Metric": "GHG", "Non-GHGMetric": "NA",
            "QuantityCO2": Decimal(100) + Decimal(i % 100) / 100, "QuantityNon-GHG": "NA",
            "MitigationType": "Emission reductions", "Vintage": 2023, "TransferringPartyID": "GHA",
            "AcquiringPartyID": "CHE", "PurposeITMOUsedForOIMP": "NA", "Using/cancellingPartyID": "NA",
            "Using/cancellingEntityID": "NA", "YearITMOUsedTowardsNDC": "NA",
            "AdditionalExplanatoryInformation": f"block {i}",
        })
        yield row


def make_tables(rows: int) -> Any:
    from standards.aef.tables import AefTables

    tables = AefTables()
    tables.rows["T3"] = list(make_rows(rows))
    return tables


def _plain_rows(rows: int) -> tuple[list[str], list[list[Any]]]:
    """The same cells as plain lists (naive UTC datetimes), built without an AefTables copy."""
    from standards.aef.tables import TABLES

    fields = TABLES["T3"].fields
    body = []
    for row in make_rows(rows):
        values = []
        for f in fields:
            value = row[f.cn]
            if isinstance(value, datetime):
                value = value.replace(tzinfo=None)
            values.append(value)
        body.append(values)
    return [f.label for f in fields], body


def worker(mode: str, rows: int, path: Path) -> dict[str, Any]:
    """One measured step: seconds (input preparation excluded), file size and this process's peak RSS."""
    import openpyxl

    result: dict[str, Any] = {"mode": mode, "rows": rows}
    if mode == "inputs-only":  # what holding the 50,000 input rows costs, for reading the RSS figures
        began = time.perf_counter()
        tables = make_tables(rows)
        seconds = time.perf_counter() - began
        path.touch()
    elif mode == "baseline-write":
        header, body = _plain_rows(rows)
        began = time.perf_counter()
        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet("Table 3 Actions")
        sheet.append(header)
        for values in body:
            sheet.append(values)
        out = io.BytesIO()
        book.save(out)
        path.write_bytes(out.getvalue())
        seconds = time.perf_counter() - began
    elif mode == "carbonlink-write":
        from standards.aef.xlsxio import write_xlsx

        tables = make_tables(rows)
        began = time.perf_counter()
        path.write_bytes(write_xlsx(tables))
        seconds = time.perf_counter() - began
    elif mode == "baseline-read":
        data = path.read_bytes()
        began = time.perf_counter()
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        kept = list(book["Table 3 Actions"].iter_rows(values_only=True))
        book.close()
        seconds = time.perf_counter() - began
        result["rows_read"] = len(kept) - 1
    elif mode == "carbonlink-read":
        from standards.aef.xlsxio import read_xlsx

        data = path.read_bytes()
        began = time.perf_counter()
        tables = read_xlsx(data)
        seconds = time.perf_counter() - began
        result["rows_read"] = len(tables.rows["T3"])
    else:
        raise SystemExit(f"unknown mode {mode}")
    result["seconds"] = round(seconds, 3)
    result["bytes"] = path.stat().st_size
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if mode == "carbonlink-read":  # checked after the RSS reading: the expected rows are not part of the read
        result["round_trip_equal"] = tables.rows["T3"] == make_tables(rows).rows["T3"]
    return result


def _run(mode: str, rows: int, path: Path) -> dict[str, Any]:
    completed = subprocess.run([sys.executable, __file__, "--worker", mode, "--rows", str(rows),
                                "--file", str(path)], capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{completed.stderr}")
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=1, help="run each step N times, keep the fastest")
    parser.add_argument("--json-only", action="store_true")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.rows, Path(args.file))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        base, ours = Path(tmp) / "baseline.xlsx", Path(tmp) / "carbonlink.xlsx"
        plan = [("inputs-only", Path(tmp) / "none"), ("baseline-write", base), ("carbonlink-write", ours),
                ("baseline-read", base), ("carbonlink-read", ours)]
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in plan}
        for _ in range(max(1, args.repeat)):  # interleaved, so machine load hits both sides alike
            for name, path in plan:
                runs[name].append(_run(name, args.rows, path))
        steps = {name: min(results, key=lambda r: r["seconds"]) for name, results in runs.items()}
    report = {
        "rows": args.rows,
        "repeat": max(1, args.repeat),
        "load_average": os.getloadavg(),
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
        "steps": steps,
        "ratios": {
            "write_seconds": round(steps["carbonlink-write"]["seconds"] / steps["baseline-write"]["seconds"], 2),
            "read_seconds": round(steps["carbonlink-read"]["seconds"] / steps["baseline-read"]["seconds"], 2),
            "write_peak_rss": round(steps["carbonlink-write"]["peak_rss_mb"] / steps["baseline-write"]["peak_rss_mb"],
                                    2),
            "read_peak_rss": round(steps["carbonlink-read"]["peak_rss_mb"] / steps["baseline-read"]["peak_rss_mb"], 2),
        },
    }
    if not args.json_only:
        print(f"{'step':18} {'seconds':>8} {'rows/s':>9} {'peak RSS MB':>12} {'file bytes':>11}")
        for name, step in steps.items():
            rate = args.rows / step["seconds"] if step["seconds"] else float("inf")
            print(f"{name:18} {step['seconds']:8.2f} {rate:9.0f} {step['peak_rss_mb']:12.1f} {step['bytes']:11d}")
        print("ratios (carbonlink / baseline):", json.dumps(report["ratios"]))
        print("round trip equal:", steps["carbonlink-read"].get("round_trip_equal"))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
