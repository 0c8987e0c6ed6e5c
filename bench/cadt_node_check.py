"""Post carbonlink's CAD Trust v1 output to a real CADT node and report what the node accepted.

    python -m bench.cadt_node_check EXPORT [EXPORT ...] --from verra [--profile FILE] \
        [--node-url URL] [--api-key KEY] [--unchecked] [--json REPORT.json]

For each export: translate it to ``cadt-v1`` through the product path (the adapter's parse and the
``cadt-v1`` codec carbonlink translate uses), post every project (with its issuances) to
``POST /v1/projects``, commit, wait until the node lists them, post every unit to ``POST /v1/units``
linked to the issuance the node stored for it, commit, wait, read back, and report per record:
accepted (200) or rejected (400, with the node's Joi messages), and whether the node holds every
accepted unit with the same serial block and quantity. The exports are read together (a registry's
transactions and projects exports); records carbonlink itself flags with an error finding are counted
and not posted, unless ``--unchecked`` (the baseline run: post everything as the codec writes it). A node
without a home organization gets one first. The node API is that of CADT 1.7.x
(github.com/Chia-Network/cadt: src/routes/v1, src/validations).

``--node-url`` defaults to ``$CARBONLINK_CADT_NODE_URL`` and ``--api-key`` to ``$CARBONLINK_CADT_API_KEY``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from adapters import default_catalog
from standards import Finding
from standards.cadt.codec import CadtV1Codec
from standards.cadt.operator import OperatorProfile, load_operator_profile
from standards.codec import Medium
from standards.safeio import read_bytes
from standards.tabular import pack_csv_files

#: Keys the node sets itself (CADT 1.7.x controllers assign ids, orgUid and timestamps).
SERVER_KEYS = frozenset({"warehouseProjectId", "warehouseUnitId", "orgUid", "issuanceId", "serialNumberBlock",
                         "timeStaged", "createdAt", "updatedAt", "id"})
WAIT_SECONDS = 60.0
#: Answers that mean "not now" (committed rows waiting for the simulator task, a resync), not "refused".
BUSY = ("pending on the blockchain", "still resyncing", "no home organization found")


@dataclass
class Outcome:
    kind: str
    key: str
    status: int
    errors: list[str] = field(default_factory=list)
    node_id: str | None = None


@dataclass
class Report:
    projects: list[Outcome] = field(default_factory=list)
    units: list[Outcome] = field(default_factory=list)
    translation: dict[str, Any] = field(default_factory=dict)
    readback: dict[str, Any] = field(default_factory=dict)

    def counts(self, kind: str) -> dict[str, int]:
        rows = self.projects if kind == "projects" else self.units
        accepted = sum(1 for r in rows if r.status == 200)
        return {"posted": len(rows), "accepted": accepted, "rejected": len(rows) - accepted}

    def as_dict(self) -> dict[str, Any]:
        return {"translation": self.translation, "projects": self.counts("projects"), "units": self.counts("units"),
                "readback": self.readback,
                "rejected": [o.__dict__ for o in self.projects + self.units if o.status != 200]}


def request_body(record: dict[str, Any]) -> dict[str, Any]:
    """A record of a carbonlink v1 document as a POST body: the node's own keys removed (also in children)."""
    body: dict[str, Any] = {}
    for key, value in record.items():
        if key in SERVER_KEYS:
            continue
        if isinstance(value, list):
            body[key] = [request_body(v) if isinstance(v, dict) else v for v in value]
        elif isinstance(value, dict):
            body[key] = request_body(value)
        else:
            body[key] = value
    return body


def flagged_records(findings: list[Finding]) -> set[tuple[str, int]]:
    """The (resource, index) of every record an error finding points at."""
    flagged: set[tuple[str, int]] = set()
    for finding in findings:
        parts = (finding.location.pointer or "").split("/")
        if finding.is_error and len(parts) > 2 and parts[2].isdigit():
            flagged.add((parts[1], int(parts[2])))
    return flagged


def carbonlink_document(paths: list[Path], source: str, profile: OperatorProfile | None,
                        unchecked: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """The cadt-v1 document carbonlink writes for the exports (read together, as one registry's data),
    the records carbonlink itself flags removed unless ``unchecked``, and a summary of the translation."""
    adapter = default_catalog().get(source)
    # as `carbonlink translate A B C` reads several exports: packed as one folder of CSV tables, read together
    parsed = adapter.parse(pack_csv_files(paths) if len(paths) > 1 else read_bytes(paths[0]), medium=Medium.CSV)
    source_errors = sum(1 for f in parsed.findings if f.is_error)
    document = parsed.document
    codec = CadtV1Codec(operator=profile)
    result = codec.serialize(document, medium=Medium.JSON)
    check = codec.validate(result.data, medium=Medium.JSON)
    findings = list(result.findings) + list(check.findings)
    errors = [f for f in findings if f.is_error]
    flagged = flagged_records(errors)
    native = json.loads(result.data)
    summary = {"exports": [str(p) for p in paths], "source_errors": source_errors,
               "projects_written": len(native["projects"]), "units_written": len(native["units"]),
               "carbonlink_errors": len(errors),
               "carbonlink_rules": dict(Counter(f.rule for f in errors)),
               "projects_flagged": sum(1 for r, _ in flagged if r == "projects"),
               "units_flagged": sum(1 for r, _ in flagged if r == "units"),
               "losses": [loss.field for loss in result.losses]}
    if not unchecked:
        native = {resource: [r for i, r in enumerate(records) if (resource, i) not in flagged]
                  for resource, records in native.items()}
    return native, summary


class Node:
    def __init__(self, url: str, api_key: str) -> None:
        self.http = httpx.Client(base_url=url.rstrip("/"), headers={"x-api-key": api_key}, timeout=30.0)

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            answer = self.http.post(path, json=body)
            text = answer.text.lower()
            busy = answer.status_code == 400 and any(word in text for word in BUSY)
            if not busy or time.monotonic() > deadline:
                return answer
            time.sleep(2.0)

    def ensure_home_organization(self, name: str) -> None:
        """Create the node's home organization when it has none (a fresh node refuses writes without)."""
        answer = self.http.get("/v1/organizations")
        if answer.status_code == 200 and any(isinstance(o, dict) and o.get("isHome")
                                             for o in (answer.json() or {}).values()):
            return
        # the node answers once the organization is confirmed (about 30 s in simulator mode)
        self.http.post("/v1/organizations", json={"name": name, "icon": "https://example.org/icon.png"},
                       timeout=180.0)

    def commit(self) -> None:
        self.post("/v1/staging/commit", {})

    def listing(self, resource: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            answer = self.http.get(f"/v1/{resource}", params={"page": page, "limit": 1000})
            answer.raise_for_status()
            data = answer.json()
            rows.extend(data.get("data", []))
            if page >= int(data.get("pageCount", 1)):
                return rows
            page += 1

    def staged(self) -> int:
        answer = self.http.get("/v1/staging", params={"page": 1, "limit": 1000})
        return len(answer.json().get("data", [])) if answer.status_code == 200 else 0


def _errors(answer: httpx.Response) -> list[str]:
    try:
        data = answer.json()
    except ValueError:
        return [answer.text[:300]]
    errors = data.get("errors") or ([data.get("error")] if data.get("error") else [])
    return [str(e) for e in errors] or [str(data.get("message"))]


def _wait_for(node: Node, resource: str, wanted: set[str], key: Any) -> dict[str, dict[str, Any]]:
    """The node's records of ``resource`` whose key is in ``wanted``, once all are listed (or time is up)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        found = {key(r): r for r in node.listing(resource) if key(r) in wanted}
        if set(found) >= wanted or time.monotonic() > deadline:
            return found
        time.sleep(3.0)


def _project_key(record: dict[str, Any]) -> str:
    return f"{record.get('registryOfOrigin')}|{record.get('originProjectId')}"


def _issuance_key(project_key: str, issuance: dict[str, Any]) -> str:
    return "|".join((project_key, str(issuance.get("startDate"))[:10], str(issuance.get("endDate"))[:10],
                     str(issuance.get("verificationReportDate"))[:10]))


def _unit_key(record: dict[str, Any]) -> str:
    """A unit as posted and as the node lists it: its block, vintage and registry link (two projects, or two
    vintages, of one registry may number blocks alike: Cercarbono and Gold Standard start series at 1)."""
    return f"{record.get('unitBlockStart')}-{record.get('unitBlockEnd')}|{record.get('vintageYear')}|" \
           f"{record.get('unitRegistryLink')}"


def post_projects(node: Node, doc: dict[str, Any], report: Report) -> dict[str, str]:
    """Post and commit the projects; our issuance id -> the node's issuance id."""
    ours: dict[str, str] = {}  # our issuance id -> natural key
    posted: dict[str, dict[str, Any]] = {}
    for project in doc.get("projects", []):
        key = _project_key(project)
        for issuance in project.get("issuances") or []:
            ours[str(issuance.get("id"))] = _issuance_key(key, issuance)
        answer = node.post("/v1/projects", request_body(project))
        report.projects.append(Outcome("project", key, answer.status_code,
                                       [] if answer.status_code == 200 else _errors(answer)))
        if answer.status_code == 200:
            posted[key] = project
    node.commit()
    stored = _wait_for(node, "projects", set(posted), _project_key)
    for key in set(posted) - set(stored):  # answered 200 but dropped by the simulator task: post again
        node.post("/v1/projects", request_body(posted[key]))
    if set(posted) - set(stored):
        node.commit()
        stored = _wait_for(node, "projects", set(posted), _project_key)
    theirs = {_issuance_key(key, i): str(i["id"]) for key, p in stored.items() for i in p.get("issuances") or []}
    report.readback["projects_listed"] = len(stored)
    return {mine: theirs[natural] for mine, natural in ours.items() if natural in theirs}


def post_units(node: Node, doc: dict[str, Any], issuances: dict[str, str], report: Report) -> None:
    posted: dict[str, dict[str, Any]] = {}
    for unit in doc.get("units", []):
        body = request_body(unit)
        link = unit.get("issuance") if isinstance(unit.get("issuance"), dict) else None
        if link is not None and str(link.get("id")) in issuances:
            body["issuance"] = {**request_body(link), "id": issuances[str(link.get("id"))]}
        key = _unit_key(body)
        answer = node.post("/v1/units", body)
        report.units.append(Outcome("unit", key, answer.status_code,
                                    [] if answer.status_code == 200 else _errors(answer)))
        if answer.status_code == 200:
            posted[key] = body
    node.commit()
    stored = _wait_for(node, "units", set(posted), _unit_key)
    missing = set(posted) - set(stored)
    if missing:
        for key in missing:
            node.post("/v1/units", posted[key])
        node.commit()
        stored = _wait_for(node, "units", set(posted), _unit_key)
    linked = sum(1 for r in stored.values() if r.get("issuanceId"))
    conserved = all(int(stored[k].get("unitCount", -1)) == int(posted[k]["unitCount"]) for k in stored)
    report.readback.update({
        "units_listed": len(stored), "units_missing": sorted(set(posted) - set(stored)),
        "units_linked_to_issuance": linked,
        "quantity_posted": sum(int(b["unitCount"]) for b in posted.values()),
        "quantity_read_back": sum(int(r.get("unitCount", 0)) for r in stored.values()),
        "serial_blocks_and_counts_conserved": conserved and not (set(posted) - set(stored)),
    })


def run(exports: list[Path], source: str, node: Node, profile: OperatorProfile | None,
        unchecked: bool) -> Report:
    report = Report()
    node.ensure_home_organization("carbonlink-check")
    doc, report.translation = carbonlink_document(exports, source, profile, unchecked)
    issuances = post_projects(node, doc, report)
    post_units(node, doc, issuances, report)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exports", nargs="+", type=Path)
    parser.add_argument("--from", dest="source", default="verra")
    parser.add_argument("--profile", type=Path, help="operator profile (YAML or JSON)")
    parser.add_argument("--node-url", default=os.environ.get("CARBONLINK_CADT_NODE_URL"))
    parser.add_argument("--api-key", default=os.environ.get("CARBONLINK_CADT_API_KEY", ""))
    parser.add_argument("--unchecked", action="store_true", help="post even what carbonlink refuses")
    parser.add_argument("--json", type=Path, help="write the full report here")
    args = parser.parse_args(argv)
    if not args.node_url:
        parser.error("no node: give --node-url or set CARBONLINK_CADT_NODE_URL")
    profile = load_operator_profile(args.profile) if args.profile else None
    report = run(args.exports, args.source, Node(args.node_url, args.api_key), profile, args.unchecked)
    data = report.as_dict()
    if args.json:
        args.json.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: data[k] for k in ("translation", "projects", "units", "readback")}, indent=1))
    for outcome in report.projects + report.units:
        if outcome.status != 200:
            print(f"rejected {outcome.kind} {outcome.key}: {'; '.join(outcome.errors)[:400]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
