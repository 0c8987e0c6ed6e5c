"""A table without rows skips the row layers (a relayed message holds one table of five). Every combination of
present and absent tables of the bundled report, strict and lenient, gives the findings, typed rows and rules
not run that running every layer over the empty tables gives."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from gateway.demo import itmo_message
from standards.aef import validate as aef_validate
from standards.aef.jsonio import read_json
from standards.aef.validate import validate_run

ROOT = Path(__file__).resolve().parents[2]
REPORT = json.loads((ROOT / "standards/examples/aef-v2-report.json").read_text())
TABLES = ["Submission", "Authorizations", "Actions", "Holdings", "AuthorizedEntities"]


def _inputs() -> list[tuple[str, dict[str, Any]]]:
    cases = []
    for kept in itertools.product([True, False], repeat=len(TABLES)):
        doc = {k: v for k, v in REPORT.items() if k not in TABLES}
        doc.update({name: REPORT[name] for name, keep in zip(TABLES, kept, strict=True) if keep})
        cases.append(("+".join(n for n, k in zip(TABLES, kept, strict=True) if k) or "none", doc))
    message = itmo_message(sender_party="GHA", receiver_party="CHE", first=1, last=10)
    cases.append(("relayed transfer", message))
    broken = json.loads(json.dumps(message))
    broken["Actions"][0]["FirstID"] = "one"
    cases.append(("relayed transfer with a type error", broken))
    return cases


def _outcome(doc: dict[str, Any], lenient: bool) -> tuple[Any, ...]:
    run = validate_run(read_json(json.dumps(doc).encode()), lenient=lenient)
    return ([repr(f) for f in run.findings], [r.id for r in run.not_run], run.typed.submission,
            {t: run.typed.rows[t] for t in sorted(run.typed.rows)}, {t: run.passed[t] for t in sorted(run.passed)})


@pytest.mark.parametrize("lenient", [False, True], ids=["strict", "lenient"])
@pytest.mark.parametrize(("name", "doc"), _inputs(), ids=[name for name, _ in _inputs()])
def test_skipping_empty_tables_changes_nothing(name: str, doc: dict[str, Any], lenient: bool,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    skipped = _outcome(doc, lenient)
    monkeypatch.setattr(aef_validate, "_skips_empty", False)
    assert skipped == _outcome(doc, lenient)


def test_the_relayed_transfer_has_empty_tables_to_skip() -> None:
    tables = read_json(json.dumps(itmo_message(sender_party="GHA", receiver_party="CHE", first=1, last=10)).encode())
    assert sum(1 for t in ("T1", "T2", "T3", "T4", "T5") if not tables.table(t)) >= 3
