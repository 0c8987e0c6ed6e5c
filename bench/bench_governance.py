"""The authorization gate's cost on the relay's own path, against the same path without it, in one run.

Two transfer services are built exactly as ``carbonlink serve`` builds them (``gateway.transfers.build_service``
on the development trust layer), one with ``CARBONLINK_GOVERNANCE_ENFORCE=off`` (the baseline) and one with
``always``, each with its own data directory (embedded SQLite stores) or, with ``--postgres DSN``, the governed
one on a PostgreSQL authorization store. CHE's national authority has issued one authorization with a quantity
no run exhausts. Each timed message is a different first transfer (AEF JSON, CHE -> GHA, citing that
authorization) under a new message id, taken through what the relay does before delivery:
``TransferService.plan`` (read, check - and, governed, the gate's checks - route, translate) and
``Recorder.intend`` (the evidence log's intent record - and, governed, the drawing on the authorization). The
delivery itself (an HTTP round trip to the receiving registry) is the same with or without the gate and is
left out, so the ratio printed is the worst case for the gate: the full relay, with delivery, loses less.

Usage: ``python bench/bench_governance.py [--messages 400] [--rounds 3] [--postgres DSN] [--json]``
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

from gateway.demo import itmo_message
from gateway.governance import Authorities, open_authorization_store
from gateway.protocol import MessageKind
from gateway.settings import Settings
from gateway.transfers import TransferService, build_service
from gateway.trust.development import anchor, participants
from gateway.trust.directory import Participant, sign_directory
from gateway.trust.setup import build_trust

AUTH_ID = "CHE-A6-2023-001"


def directory(root: Path) -> Path:
    """The development directory with the GHA registry speaking ``aef`` too (AEF -> AEF, as the demo's
    default pair does not need a CAD Trust profile) and CHE's national authority."""
    content = participants()
    for entry in content["participants"]:
        entry["format"] = "aef"
    path = root / "directory.jws"
    path.write_text(sign_directory({**content, "sequence": 1}, anchor()))
    return path


def service(root: Path, enforce: str, evidence: str | None, store: str | None) -> TransferService:
    env = {"CARBONLINK_DATA_DIR": str(root), "CARBONLINK_GOVERNANCE_ENFORCE": enforce,
           "CARBONLINK_DIRECTORY": str(directory(root.parent))}
    if evidence:
        env["CARBONLINK_EVIDENCE_LOG"] = evidence
    if store:
        env["CARBONLINK_AUTHORIZATION_STORE"] = store
    settings = Settings.from_environ(env)
    return build_service(build_trust(settings), settings.transfers)


def store_url(root: Path, evidence: str | None, store: str | None) -> str:
    """The authorization store the governed service opens (by default: the evidence log's database)."""
    env = {"CARBONLINK_DATA_DIR": str(root), **({"CARBONLINK_EVIDENCE_LOG": evidence} if evidence else {}),
           **({"CARBONLINK_AUTHORIZATION_STORE": store} if store else {})}
    settings = Settings.from_environ(env)
    return settings.governance.authorization_url(settings.transfers.data_dir, settings.transfers.evidence_url())


def authorize(url: str) -> None:
    entry = next(p for p in participants()["participants"] if p["party"] == "CHE")
    authority = Participant.model_validate({**entry, "id": "che-authority", "scopes": [], "message_kinds": [],
                                            "roles": [{"role": "national-authority", "party": "CHE"}]})
    settings = Settings.from_environ({})
    authorities = Authorities(open_authorization_store(url), build_trust(settings).keyring)
    authorities.issue(authority, {"authorization_id": AUTH_ID, "date": "2023-01-01", "cooperative_approach": "CA0001",
                                  "authorized_quantity": "1000000000000", "metric": "GHG",
                                  "sectors": "Energy generation", "purposes": "NDC", "timeframe": "2021 - 2030"})
    authorities.close()


def run(svc: TransferService, messages: int, start: int) -> tuple[float, float]:
    """Wall and CPU seconds of this process for ``messages`` first transfers through plan + intend."""
    directory = svc.outbound.directory.current()
    che = directory.get("dev-che-registry")
    assert che is not None
    bodies = [orjson.dumps(itmo_message(sender_party="CHE", receiver_party="GHA", first=start + i * 10 + 1,
                                        last=start + i * 10 + 10)) for i in range(messages)]
    began, cpu = time.perf_counter(), time.process_time()
    for body in bodies:
        message_id = uuid.uuid4().hex
        plan = svc.plan(che, MessageKind.TRANSFERS, body, "application/json", None)
        svc.recorder.intend(che, MessageKind.TRANSFERS, message_id, "00" * 32, plan)
    return time.perf_counter() - began, time.process_time() - cpu


def drop(dsn: str, tag: str) -> None:
    """Drop this run's PostgreSQL tables (the database is shared)."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        for table in (f"bench_ev_off_{tag}", f"bench_ev_{tag}"):
            conn.execute(f"DROP TABLE IF EXISTS {table}, {table}_keys CASCADE")
            conn.execute(f"DROP FUNCTION IF EXISTS {table}_refuse() CASCADE")
        auth = f"bench_gov_{tag}"
        conn.execute(f"DROP TABLE IF EXISTS {auth}_versions, {auth}_revocations, {auth}_drawings, {auth}_totals")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", default=None, help="a PostgreSQL DSN for the governed authorization store")
    parser.add_argument("--synchronous", default="full", choices=["full", "normal"],
                        help="the embedded store's SQLite synchronous mode")
    parser.add_argument("--separate", action="store_true",
                        help="keep the authorization store apart from the evidence log (two durable writes)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-governance-") as tmp:
        root = Path(tmp)
        (root / "governed").mkdir()
        (root / "plain").mkdir()
        tag = uuid.uuid4().hex[:8]
        plain_log = governed_log = store = None
        if args.postgres:  # both evidence logs on PostgreSQL, the store in the governed one's database
            plain_log = f"{args.postgres}?table=bench_ev_off_{tag}"
            governed_log = f"{args.postgres}?table=bench_ev_{tag}"
        elif args.synchronous != "full":
            plain_log = f"sqlite:///{root / 'plain' / 'evidence.sqlite3'}?synchronous={args.synchronous}"
            governed_log = f"sqlite:///{root / 'governed' / 'evidence.sqlite3'}?synchronous={args.synchronous}"
        if args.separate:  # the store in a database of its own: the drawing is a second durable write
            store = (f"{args.postgres}?table=bench_gov_{tag}" if args.postgres else
                     f"sqlite:///{root / 'governed' / 'authorizations.sqlite3'}?synchronous={args.synchronous}")
        elif args.postgres:
            store = f"{args.postgres}?table=bench_gov_{tag}"
        authorize(store_url(root / "governed", governed_log, store))
        plain = service(root / "plain", "off", plain_log, None)
        governed = service(root / "governed", "always", governed_log, store)
        run(plain, 20, 0)  # warm up both (imports, caches, connections)
        run(governed, 20, 0)
        times: dict[str, list[tuple[float, float]]] = {"off": [], "gated": []}
        for r in range(args.rounds):  # alternate, so load on the machine falls on both alike
            offset = 1_000_000 * (r + 1)
            times["off"].append(run(plain, args.messages, offset))
            times["gated"].append(run(governed, args.messages, offset))
        plain.close()
        governed.close()
        if args.postgres:
            drop(args.postgres, tag)
    best = {k: min(t[0] for t in v) for k, v in times.items()}
    cpu = {k: min(t[1] for t in v) for k, v in times.items()}
    kind = "postgresql" if args.postgres else f"sqlite synchronous={args.synchronous}"
    result: dict[str, Any] = {
        "messages": args.messages, "rounds": args.rounds,
        "store": kind + (", separate" if args.separate else ", with the evidence log"),
        "off_per_s": round(args.messages / best["off"], 1), "gated_per_s": round(args.messages / best["gated"], 1),
        "ratio": round(best["off"] / best["gated"], 3),
        "gate_ms_per_message": round((best["gated"] - best["off"]) / args.messages * 1000, 3),
        "cpu_ratio": round(cpu["off"] / cpu["gated"], 3),
        "gate_cpu_ms_per_message": round((cpu["gated"] - cpu["off"]) / args.messages * 1000, 3),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['messages']} first transfers x {args.rounds} rounds, authorization store {result['store']}: "
              f"without the gate {result['off_per_s']}/s, with it {result['gated_per_s']}/s = {result['ratio']} "
              f"(the gate adds {result['gate_ms_per_message']} ms per message; best round of each); CPU time "
              f"{result['cpu_ratio']} (+{result['gate_cpu_ms_per_message']} ms per message)")


if __name__ == "__main__":
    main()
