"""Verra CSV export -> CAD Trust, through the function ``carbonlink translate`` calls, against bare ``csv.reader``.

Generates a Verra-style ``transactions.csv`` (real column names, 13-token serials whose range
matches ``Quantity Issued``), then measures in one run, on the same file:

* the baseline: bare ``csv.reader`` over the file (decode + split, nothing else);
* the product's path: :func:`adapters.translate.translate` with the catalogue
  :func:`gateway.cli.translation.configured_catalog` builds for ``carbonlink translate FILE --from verra
  --to cadt-v1 --profile bench/cadt_operator_profile.yaml --accept-losses`` (``--to cadt-v2``: the same
  call with the default catalogue): parse and validate the export, complete and link the CAD Trust document,
  validate the output, exactly as the command does, minus writing the file;
* the adapter's streaming reader alone (``adapters.verra.adapter.iter_records``: decoding, header
  detection, serial parse and quantity check, canonical ``UnitBlock``), which bounds what a streaming
  translation could reach;
* peak RSS of the product's path over ``--rss-rows`` rows in a fresh process (``ru_maxrss``).

``translate`` reads the whole export into one document (CAD Trust links need every project and issuance
before the first unit can be written), so its memory grows with the export; the streaming reader's does not.

Usage: ``python bench/bench_verra.py [--rows 50000] [--rss-rows 200000] [--repeat 3] [--to cadt-v1]``.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from adapters.translate import Translation, translate
from adapters.verra import TRANSACTIONS, adapter
from gateway.cli.translation import configured_catalog
from standards.codec import Medium
from standards.errors import CarbonlinkError
from standards.findings import Finding
from standards.safeio import max_input_bytes

PROFILE = Path(__file__).resolve().parent / "cadt_operator_profile.yaml"


_PROJECTS = [  # methodologies the bundled Verra vocabulary maps into both CAD Trust versions' picklists
    (1340, "Bale Mountains Eco-region REDD+ project", "Ethiopia", "ET", 14, "VM0015"),
    (4821, "Rimba Lestari Peat Forest Conservation", "Indonesia", "ID", 14, "VM0007"),
    (3352, "Mai Ndombe Forest Protection", "Peru", "PE", 14, "VM0009"),
    (4711, "Volta Basin Mosaic Restoration", "Ghana", "GH", 14, "VM0047"),
    (2250, "Chiquitano Dry Forest Conservation", "Bolivia", "BO", 14, "VM0048"),
    (1785, "Western Ghats Frontier Deforestation Avoidance", "India", "IN", 14, "VM0006"),
    (2877, "Nyungwe Buffer Zone Reforestation", "Rwanda", "RW", 14, "VM0047"),
]


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


def baseline(path: Path) -> int:
    count = 0
    with path.open(newline="", encoding="utf-8") as handle:
        for _row in csv.reader(handle):
            count += 1
    return count - 1


def product_path(path: Path, target: str = "cadt-v1") -> Translation:
    """What ``carbonlink translate`` does with the export, without writing the output file."""
    catalog = configured_catalog("verra", target, PROFILE if target == "cadt-v1" else None,
                                 target == "cadt-v1", None, False)
    return translate(path.read_bytes(), source="verra", target=target, source_medium=Medium.CSV,
                     target_medium=Medium.JSON, catalog=catalog, accept_losses=True)


def streaming_reader(path: Path) -> tuple[int, list[Finding]]:
    findings: list[Finding] = []
    with path.open("rb") as source:
        count = sum(1 for _ in adapter.iter_records(source, medium=Medium.CSV, findings=findings))
    return count, findings


def _timed(func: Any, *args: Any) -> tuple[float, Any]:
    """CPU time of this process (steadier than wall time on a shared machine) and the result."""
    start = time.process_time()
    result = func(*args)
    return time.process_time() - start, result


def peak_rss(path: Path, target: str) -> tuple[int, float]:
    """Run the product's path in a fresh interpreter; its (records read, peak RSS in MiB)."""
    root = str(Path(__file__).resolve().parents[1])
    # an export over the input limit (64 MiB by default: about 250,000 rows) is refused whole; the run raises
    # the limit to the file's size, as CARBONLINK_MAX_INPUT_BYTES does for `carbonlink translate`
    limit = max(max_input_bytes(), path.stat().st_size)
    code = "\n".join((
        "import resource, sys",
        "from pathlib import Path",
        f"sys.path.insert(0, {root!r})",
        "from standards._options import current_options, use_options",
        "from bench.bench_verra import product_path",
        f"with use_options(current_options().model_copy(update={{'max_input_bytes': {limit}}})):",
        f"    t = product_path(Path({str(path)!r}), {target!r})",
        "print(t.records_read, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)",
    ))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the RSS run failed:\n{done.stderr}")
    count, kib = done.stdout.split()
    return int(count), int(kib) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--rss-rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--to", dest="target", default="cadt-v1", choices=("cadt-v1", "cadt-v2"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        src = folder / "transactions.csv"
        generate(src, args.rows)
        size = src.stat().st_size
        base = min(_timed(baseline, src)[0] for _ in range(args.repeat))
        runs, written = [], 0
        for _ in range(args.repeat):
            try:
                elapsed, result = _timed(product_path, src, args.target)
            except CarbonlinkError as exc:  # e.g. a target that refuses what the export lacks: say so, no traceback
                raise SystemExit(f"translate refused the export: {exc.code}: {exc.message}") from exc
            if result.records_read != args.rows:
                raise SystemExit(f"translate read {result.records_read} of {args.rows} records")
            runs.append(elapsed)
            written = result.records_written
        reading = []
        for _ in range(args.repeat):
            elapsed, (count, findings) = _timed(streaming_reader, src)
            if count != args.rows or any(f.is_error for f in findings):
                raise SystemExit(f"the streaming reader gave {count} records")
            reading.append(elapsed)
        best, read_best = min(runs), min(reading)
        print(f"file: {args.rows:,} rows, {size / 1e6:.1f} MB; python {sys.version.split()[0]}, pid {os.getpid()}, "
              f"load {os.getloadavg()[0]:.1f}")
        print(f"baseline csv.reader:            {args.rows / base:>10,.0f} rows/s  ({base:.3f} s CPU)")
        print(f"translate verra -> {args.target}:     {args.rows / best:>10,.0f} rows/s  ({best:.3f} s CPU, best of "
              f"{args.repeat}; {written:,} of {args.rows:,} records written)  ratio {best / base:.1f}x")
        print(f"streaming reader (no mapping):  {args.rows / read_best:>10,.0f} rows/s  ratio {read_best / base:.1f}x")
        if args.rss_rows:
            big = folder / "big.csv"
            generate(big, args.rss_rows)
            src.unlink()
            over = big.stat().st_size > max_input_bytes()
            count, mib = peak_rss(big, args.target)
            print(f"peak RSS of translate over {count:,} rows (fresh process): {mib:.0f} MiB"
                  + (f" (the {big.stat().st_size / 2**20:.0f} MiB export is over the default input limit of "
                     f"{max_input_bytes() / 2**20:.0f} MiB, which refuses it; measured with the limit raised)"
                     if over else ""))


if __name__ == "__main__":
    main()
