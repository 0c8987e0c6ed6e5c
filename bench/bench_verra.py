"""Verra CSV export -> CAD Trust v2, through the function ``carbonlink translate`` calls, against bare ``csv.reader``.

Generates a Verra-style ``transactions.csv`` (real column names, 13-token serials whose range matches
``Quantity Issued``; issuances of about 100 blocks each, as retirements split a Verra issuance), then
measures in one run, on the same file:

* the baseline: bare ``csv.reader`` over the file (decode + split, nothing else);
* the product's path: :func:`adapters.stream_translate.stream_translation` with the catalogue
  :func:`gateway.cli.translation.configured_catalog` builds for ``carbonlink translate FILE --from verra
  --to cadt-v2 --profile bench/cadt_operator_profile_registries.yaml -o OUT.json``, then
  :meth:`~adapters.stream_translate.StreamedTranslation.write` into ``OUT.json``: read the export row by row,
  complete, link and validate each CAD Trust record, write the document, exactly as the command does;
* the adapter's streaming reader alone (``adapters.verra.adapter.iter_records``: decoding, header
  detection, serial parse and quantity check, canonical ``UnitBlock``);
* peak RSS of the product's path over ``--rss-rows`` rows in a fresh process (``ru_maxrss``).

The v2 line says how many units the stream wrote from their group's template
(:mod:`standards.cadt._unit_templates`; the others went the whole way).

``--to cadt-v1`` times the same function for ``carbonlink translate FILE --from verra --to cadt-v1 --profile
bench/cadt_operator_profile.yaml --accept-losses -o OUT.json``: v1 streams too
(:class:`standards.cadt.stream_v1.V1UnitStream`, every unit the whole way); the export names no project developer,
which v1 requires, so its projects are left out and its units written without their issuance link (the losses).

Usage: ``python bench/bench_verra.py [--rows 50000] [--rss-rows 1000000] [--repeat 3] [--to cadt-v2]``.
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

from adapters.registry_exports import max_stream_bytes
from adapters.stream_translate import StreamedTranslation, stream_translation
from adapters.verra import TRANSACTIONS, adapter
from gateway.cli.translation import configured_catalog
from standards.codec import Medium
from standards.errors import CarbonlinkError
from standards.findings import Finding
from standards.safeio import max_input_bytes

PROFILE = Path(__file__).resolve().parent / "cadt_operator_profile.yaml"
#: The v2 run needs issuance.verificationBody and unit.unitStatusReason, which this profile gives.
PROFILE_V2 = Path(__file__).resolve().parent / "cadt_operator_profile_registries.yaml"


_PROJECTS = [  # methodologies the bundled Verra vocabulary maps into both CAD Trust versions' picklists
    (1340, "Bale Mountains Eco-region REDD+ project", "Ethiopia", "ET", 14, "VM0015"),
    (4821, "Rimba Lestari Peat Forest Conservation", "Indonesia", "ID", 14, "VM0007"),
    (3352, "Mai Ndombe Forest Protection", "Peru", "PE", 14, "VM0009"),
    (4711, "Volta Basin Mosaic Restoration", "Ghana", "GH", 14, "VM0047"),
    (2250, "Chiquitano Dry Forest Conservation", "Bolivia", "BO", 14, "VM0048"),
    (1785, "Western Ghats Frontier Deforestation Avoidance", "India", "IN", 14, "VM0006"),
    (2877, "Nyungwe Buffer Zone Reforestation", "Rwanda", "RW", 14, "VM0047"),
]


def generate(path: Path, rows: int, seed: int = 7, per_issuance: int = 100) -> None:
    """Write a Verra-style transactions export of ``rows`` blocks, ``per_issuance`` contiguous blocks (one
    batch number, one project and vintage) to an issuance."""
    rnd = random.Random(seed)
    unit = 900_000_000
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(TRANSACTIONS.columns)
        for i in range(rows):
            k = i // per_issuance  # the issuance
            pid, name, country, cc, scope, method = _PROJECTS[k % len(_PROJECTS)]
            vintage = 2015 + (k // 7) % 10
            issued = f"{vintage + 1}-{1 + k % 12:02d}-{1 + (k // 12) % 28:02d}"
            qty = rnd.randint(1, 50_000)
            first, last = unit, unit + qty - 1
            unit = last + 1
            retired = rnd.random() < 0.6
            certs = "CCB-No Distinction" if k % 3 == 0 else ""
            serial = (f"{15000 + k}-{first}-{last}-VCS-VCU-1507-VER-{cc}-{scope}-{pid}-0101{vintage}-3112{vintage}-"
                      f"{1 if certs else 0}")
            writer.writerow([
                issued, "", f"{vintage}-01-01", f"{vintage}-12-31", pid, name, country,
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


def product_path(path: Path, target: str = "cadt-v2", out: Path | None = None) -> StreamedTranslation:
    """What ``carbonlink translate EXPORT --from verra --to TARGET --profile ... -o OUT`` does with the export:
    it streams and writes ``out`` (a file next to the export unless given); cadt-v1 with ``--accept-losses``."""
    out = out or path.with_suffix(".cadt.json")
    v1 = target == "cadt-v1"
    catalog = configured_catalog("verra", target, PROFILE if v1 else PROFILE_V2, v1, None, False)
    streamed = stream_translation([path], out, source="verra", target=target, source_medium=Medium.CSV,
                                  target_medium=Medium.JSON, catalog=catalog, accept_losses=v1)
    if streamed is None:
        raise SystemExit("the export did not take the streaming path")
    streamed.write(out)
    return streamed


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
    code = "\n".join((
        "import resource, sys",
        "from pathlib import Path",
        f"sys.path.insert(0, {root!r})",
        "from bench.bench_verra import product_path",
        f"t = product_path(Path({str(path)!r}), {target!r})",  # streamed: the whole-file input limit holds
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
    parser.add_argument("--rss-rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--to", dest="target", default="cadt-v2", choices=("cadt-v1", "cadt-v2"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        src = folder / "transactions.csv"
        generate(src, args.rows)
        size = src.stat().st_size
        base = min(_timed(baseline, src)[0] for _ in range(args.repeat))
        runs, written, templated = [], 0, ""
        for _ in range(args.repeat):
            try:
                elapsed, result = _timed(product_path, src, args.target)
            except CarbonlinkError as exc:  # e.g. a target that refuses what the export lacks: say so, no traceback
                raise SystemExit(f"translate refused the export: {exc.code}: {exc.message}") from exc
            if result.records_read != args.rows:
                raise SystemExit(f"translate read {result.records_read} of {args.rows} records")
            runs.append(elapsed)
            written = result.records_written
            if isinstance(result, StreamedTranslation):
                templated = f"; {result.stream.templated:,} from their group's template"
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
              f"{args.repeat}; {written:,} of {args.rows:,} records written{templated})  ratio {best / base:.1f}x")
        print(f"streaming reader (no mapping):  {args.rows / read_best:>10,.0f} rows/s  ratio {read_best / base:.1f}x")
        if args.rss_rows:
            big = folder / "big.csv"
            generate(big, args.rss_rows)
            src.unlink()
            size_mb = big.stat().st_size / 2**20
            count, mib = peak_rss(big, args.target)
            note = (f"streamed: a {size_mb:.0f} MiB export; the whole-file input limit is "
                    f"{max_input_bytes() / 2**20:.0f} MiB, the streamed cap {max_stream_bytes() / 2**30:.0f} GiB")
            print(f"peak RSS of translate over {count:,} rows (fresh process): {mib:.0f} MiB ({note})")

if __name__ == "__main__":
    main()
