"""A title lookup on a large evidence log, with and without the title index, in one run.

    .venv/bin/python bench/bench_title.py --records 100000 --rounds 5

Builds (once, kept in ``--dir``) a real SQLite evidence log of ``--records`` receipted records, sealed and signed
by the log (ES256), each receipt signed as the relay signs it (:class:`DetachedSigner`, ES256): ``--series``
numbering series, each cut into blocks of 100 serials, every record moving one block of one series from one of
six registries to the next, so a block's trail grows along the log (``records / series / 50`` hops). Then times
what ``GET /v1/title`` runs (:func:`gateway.title.title_from_log` with ``verify_chain=False``) for blocks spread
over the series:

* ``scan``: no index (the log read from its first record);
* ``index``: through a title index already caught up with the log (SQLite, its own file);
* ``index, 1,000 behind``: the same after 1,000 more records were appended (the lookup catches up first);
* ``build``: the index built from nothing over the whole log (once).

Rounds alternate scan and index lookups (A/B/A/B). Reported: milliseconds per lookup (wall and CPU of this
process, median round), the ratio scan / index, and that both answered the same parts for every block.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from statistics import median
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway.evidence import Exchange, JwkSigner, open_log
from gateway.evidence.log import EvidenceLog
from gateway.title import TitleIndex, open_title_index, parse_block, title_from_log
from gateway.transfers import DetachedSigner
from gateway.transfers._recorder import RECEIPT_SIGNATURE, receipt_bytes
from gateway.transfers._signer import RECEIPT_TYP
from gateway.trust.keys import SigningKeyRing

REGISTRIES = ["GHA01", "CHE01", "SWE01", "NOR01", "JPN01", "SGP01"]
BLOCKS_PER_SERIES = 50


def series_name(i: int) -> str:
    return f"CA{i:04d}:GHA"


def build(log: EvidenceLog, signer: DetachedSigner, start: int, count: int, series: int) -> None:
    for k in range(start, start + count):
        s, b = k % series, (k // series) % BLOCKS_PER_SERIES
        hop = k // (series * BLOCKS_PER_SERIES)
        sender, receiver = REGISTRIES[hop % 6], REGISTRIES[(hop + 1) % 6]
        message_id = f"m-{k}-{uuid.uuid4().hex[:6]}"
        receipt: dict[str, Any] = {
            "type": "carbonlink-receipt", "version": 1, "receipt_id": str(uuid.uuid4()), "gateway": "https://gw.test",
            "message_id": message_id, "kind": "transfers", "outcome": "accepted",
            "sender": {"id": sender.lower(), "party": sender[:3], "registry": sender},
            "receiver": {"id": receiver.lower(), "party": receiver[:3], "registry": receiver},
            "units": [{"series": series_name(s), "first": b * 100 + 1, "last": b * 100 + 100, "vintage": 2023,
                       "action": "transfer"}]}
        signature = signer.sign(receipt_bytes(receipt), typ=RECEIPT_TYP)
        log.append_receipt(Exchange(kind="transfers", sender=sender.lower(), receiver=receiver.lower(),
                                    message_id=message_id, inbound_sha256="00" * 32, outbound_sha256="11" * 32,
                                    receipt=receipt, verdicts={"outcome": "accepted", RECEIPT_SIGNATURE: signature}))


def timed(lookup: Any) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = lookup()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000, result


def parts(result: dict[str, Any]) -> list[Any]:
    return [(p["first"], p["last"], p["holder"], [h["seq"] for h in p["hops"]]) for p in result["parts"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--series", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--lookups", type=int, default=5, help="blocks looked up per round")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "carbonlink-bench-title")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    keyring_file = args.dir / f"keyring-{args.records}.json"
    if keyring_file.exists():
        keyring = SigningKeyRing.from_document(json.loads(keyring_file.read_text()), grace_seconds=300)
    else:
        keyring = SigningKeyRing.generate("ES256", kid="bench-title-1")
        keyring_file.write_text(json.dumps(keyring.to_document()))
    log_url = f"sqlite:///{args.dir / f'evidence-{args.records}.sqlite3'}?synchronous=normal"
    log = open_log(log_url, signer=JwkSigner(keyring.current))
    have = log.head()[0]
    if have < args.records:
        started = time.perf_counter()
        build(log, DetachedSigner(keyring, "https://gw.test"), have, args.records - have, args.series)
        print(f"built the log: {args.records - have} records in {time.perf_counter() - started:.0f} s")
    head = log.head()[0]
    jwks = keyring.jwks()
    index_path = args.dir / f"index-{uuid.uuid4().hex[:8]}.sqlite3"
    index: TitleIndex = open_title_index(f"sqlite:///{index_path}?synchronous=normal")
    build_ms, build_cpu, _ = timed(lambda: index.catch_up(log))
    print(f"uptime: {os.getloadavg()}; log: {head} records, {args.series} series of {BLOCKS_PER_SERIES} blocks")
    print(f"build: the index of {head} records in {build_ms:.0f} ms ({build_cpu:.0f} ms CPU)")

    blocks = [parse_block(f"{series_name((7 * i + 3) % args.series)}:{(i % BLOCKS_PER_SERIES) * 100 + 1}-"
                          f"{(i % BLOCKS_PER_SERIES) * 100 + 150}") for i in range(args.lookups)]
    scan_wall: list[float] = []
    scan_cpu: list[float] = []
    idx_wall: list[float] = []
    idx_cpu: list[float] = []
    hops = 0
    for _ in range(args.rounds):
        for block in blocks:
            w, c, scanned = timed(lambda b=block: title_from_log(log, b, jwks=jwks, verify_chain=False))
            scan_wall.append(w)
            scan_cpu.append(c)
            w, c, found = timed(lambda b=block: title_from_log(log, b, jwks=jwks, verify_chain=False, index=index))
            idx_wall.append(w)
            idx_cpu.append(c)
            assert found["evidence"]["index"]["used"] and parts(found) == parts(scanned), block
            hops = max(hops, found["messages"])
    print(f"lookups: {len(scan_wall)} each, up to {hops} messages per block; both answered the same parts")
    print(f"scan : {median(scan_wall):9.1f} ms wall, {median(scan_cpu):9.1f} ms CPU per lookup (median)")
    print(f"index: {median(idx_wall):9.1f} ms wall, {median(idx_cpu):9.1f} ms CPU per lookup (median)")
    print(f"ratio scan/index: {median(scan_wall) / median(idx_wall):.0f}x wall, "
          f"{median(scan_cpu) / median(idx_cpu):.0f}x CPU")

    build(log, DetachedSigner(keyring, "https://gw.test"), head, 1000, args.series)
    w, c, behind = timed(lambda: title_from_log(log, blocks[0], jwks=jwks, verify_chain=False, index=index))
    print(f"index, 1,000 records behind: {w:.1f} ms wall, {c:.1f} ms CPU (caught up "
          f"{behind['evidence']['index']['caught_up']} records, then looked up)")
    index.close()
    index_path.unlink()
    log.close()


if __name__ == "__main__":
    main()
