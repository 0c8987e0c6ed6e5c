"""Verra CSV export -> canonical UnitBlock -> CAD Trust v2 ``unit`` JSON lines, streaming.

Generates a Verra-style ``transactions.csv`` (real column names, 13-token serials whose range
matches ``Quantity Issued``), then measures in one run:

* the baseline: bare ``csv.reader`` over the same file (decode + split, nothing else);
* the pipeline: ``adapters.verra.adapter.iter_records`` (safe decoding, header detection, serial
  parse and quantity check, pydantic ``UnitBlock``) -> a CAD Trust v2 ``unit`` dict -> one
  orjson line per record written to a file;
* peak RSS of the pipeline over ``--rss-rows`` rows, in a fresh subprocess (``ru_maxrss``).

Usage: ``python bench/bench_verra.py [--rows 200000] [--rss-rows 1000000] [--repeat 3]``.
The CAD Trust codec exposes no per-record function, so the unit mapping is a small one here.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from adapters.verra import TRANSACTIONS, adapter
from standards.codec import Medium
from standards.findings import Finding
from standards.model import UnitBlock, UnitStatus

_PROJECTS = [
    (1340, "Bale Mountains Eco-region REDD+ project", "Ethiopia", "ET", 14, "VM0015"),
    (4821, "Rimba Lestari Peat Forest Conservation", "Indonesia", "ID", 14, "VM0007"),
    (3352, "Prairie Soil Carbon Aggregation", "United States", "US", 14, "VM0042"),
    (4711, "Volta Basin Improved Cookstoves", "Ghana", "GH", 3, "VMR0006"),
    (2250, "Chiquitano Dry Forest Restoration", "Bolivia", "BO", 14, "VM0047"),
    (1785, "Andhra Pradesh Wind Power Bundle", "India", "IN", 1, "ACM0002"),
    (2877, "Lake Kivu Methane Capture", "Rwanda", "RW", 13, "AMS-III.D."),
]
_RETIRED, _CANCELLED = UnitStatus.RETIRED, UnitStatus.CANCELLED


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """Write a Verra-style transactions export of ``rows`` blocks."""
    rnd = random.Random(seed)
    unit = 900_000_000
    batch = 15_000
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(TRANSACTIONS.columns)
        for i in range(rows):
            pid, name, country, cc, scope, method = _PROJECTS[i % len(_PROJECTS)]
            vintage = 2015 + (i // 7) % 10
            if i % 5 == 0:
                batch += 1
            qty = rnd.randint(1, 50_000)
            first, last = unit, unit + qty - 1
            unit = last + 1
            retired = rnd.random() < 0.6
            certs = "CCB-No Distinction" if i % 3 == 0 else ""
            serial = (f"{batch}-{first}-{last}-VCS-VCU-1507-VER-{cc}-{scope}-{pid}-0101{vintage}-3112{vintage}-"
                      f"{1 if certs else 0}")
            writer.writerow([
                f"{vintage + 1}-03-15", "", f"{vintage}-01-01", f"{vintage}-12-31", pid, name, country,
                "Agriculture Forestry and Other Land Use", method, f"{qty * 40:,}", f"{qty:,}", serial, certs,
                f"{vintage + 2}-06-30" if retired else "", "Example Buyer Ltd" if retired else "",
                "Environmental Benefit" if retired else "", "",
            ])


def cadt_v2_unit(block: UnitBlock) -> dict[str, Any]:
    """The CAD Trust v2 ``unit`` record for one canonical block (CAD Trust v2 data dictionary names).

    Written for speed (it is part of the measured pipeline): each attribute read once, the status
    compared rather than looked up; ``tests/test_bench_verra.py`` checks it against the plain mapping."""
    quantity, status, status_date = block.quantity, block.status, block.status_date
    record: dict[str, Any] = {
        "unitSerialId": block.serial,
        "unitStartBlock": str(block.first_id),
        "unitEndBlock": str(block.last_id),
        "unitCount": None if quantity is None else int(quantity),
        "unitType": "Reduction - nature",
        "unitVintageYear": block.vintage,
        "unitStatus": "Retired" if status == _RETIRED else "Cancelled" if status == _CANCELLED else "Held",
        "unitMetric": "tCO2e",
        "unitLink": block.link,
    }
    if status_date is not None:
        record["unitStatusDate"] = status_date.isoformat()
    reason, beneficiary = block.status_reason, block.beneficiary
    if reason:
        record["unitStatusReason"] = reason
    if beneficiary:
        record["unitRetirementBeneficiary"] = beneficiary
    return record


def baseline(path: Path) -> int:
    count = 0
    with path.open(newline="", encoding="utf-8") as handle:
        for _row in csv.reader(handle):
            count += 1
    return count - 1


def pipeline(path: Path, out: Path) -> tuple[int, list[Finding]]:
    findings: list[Finding] = []
    count = 0
    dumps, newline = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    # 64 KiB write buffer, as the reader's 64 KiB chunks: one write system call per ~200 lines
    with path.open("rb") as source, out.open("wb", buffering=64 * 1024) as sink:
        records: Iterator[Any] = adapter.iter_records(source, medium=Medium.CSV, findings=findings)
        write = sink.write
        for block in records:
            write(dumps(cadt_v2_unit(block), option=newline))
            count += 1
    return count, findings


def _timed(func: Any, *args: Any) -> tuple[float, Any]:
    """CPU time of this process (steadier than wall time on a shared machine) and the result."""
    start = time.process_time()
    result = func(*args)
    return time.process_time() - start, result


def peak_rss(path: Path, out: Path) -> tuple[int, float]:
    """Run the pipeline in a fresh interpreter; its (records, peak RSS in MiB)."""
    here = str(Path(__file__).parent)
    code = (
        f"import resource, sys; from pathlib import Path; sys.path.insert(0, {here!r});"
        f"from bench_verra import pipeline; n, f = pipeline(Path({str(path)!r}), Path({str(out)!r}));"
        "print(n, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the RSS run failed:\n{done.stderr}")
    count, kib = done.stdout.split()
    return int(count), int(kib) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rss-rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        src, out = folder / "transactions.csv", folder / "units.jsonl"
        generate(src, args.rows)
        size = src.stat().st_size
        base = min(_timed(baseline, src)[0] for _ in range(args.repeat))
        runs = []
        for _ in range(args.repeat):
            elapsed, (count, findings) = _timed(pipeline, src, out)
            errors = [f for f in findings if f.is_error]
            if count != args.rows or errors:
                raise SystemExit(f"pipeline produced {count} records and {len(errors)} errors")
            runs.append(elapsed)
        best = min(runs)
        print(f"file: {args.rows:,} rows, {size / 1e6:.1f} MB; python {sys.version.split()[0]}, "
              f"pid {os.getpid()}")
        print(f"baseline csv.reader:   {args.rows / base:>12,.0f} rows/s  ({base:.3f} s CPU)")
        print(f"verra -> CADT v2 unit: {args.rows / best:>12,.0f} rows/s  ({best:.3f} s CPU, best of {args.repeat})")
        print(f"ratio pipeline/baseline time: {best / base:.1f}x")
        if args.rss_rows:
            big = folder / "big.csv"
            generate(big, args.rss_rows)
            src.unlink()
            count, mib = peak_rss(big, out)
            print(f"peak RSS over {count:,} rows (fresh process): {mib:.0f} MiB; "
                  f"this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
