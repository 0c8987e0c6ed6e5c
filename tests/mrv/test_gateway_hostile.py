"""Hostile MRV payloads at the gateway's HTTP boundary: huge parameter arrays, NaN and Infinity, odd unit strings,
deep nesting, bad encodings, huge uploads. Each is a coded 4xx problem, never a 500 or a traceback."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from tests.mrv.gateway_world import EVIDENCE, MrvWorld, report


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MrvWorld]:
    world = MrvWorld(tmp_path_factory.mktemp("hostile"), CARBONLINK_MRV_EVIDENCE_MAX_BYTES="4096",
                     CARBONLINK_TRANSFER_MAX_BODY_BYTES=str(1024 * 1024))
    assert world.upload("mrv-sys", EVIDENCE).status_code == 201
    yield world
    log = world.gateway.log
    world.stop()
    assert "Traceback" not in log.read_text()


def _raw(**overrides: str) -> bytes:
    """A report whose members ``overrides`` are spliced in as raw JSON text (NaN, Infinity, ...)."""
    text = json.dumps(report())
    for name, raw in overrides.items():
        doc = json.loads(text)
        doc[name] = "@@"
        text = json.dumps(doc).replace('"@@"', raw)
    return text.encode()


def _param(unit: str, value: Any = "1") -> dict[str, Any]:
    return report(parameters=[{"name": "EG_y", "value": value, "unit": unit}])


HOSTILE: list[tuple[str, bytes | dict[str, Any]]] = [
    ("too many parameters", report(parameters=[{"name": f"p{i}", "value": "1", "unit": "MWh"} for i in range(1001)])),
    ("NaN literal", _raw(emission_reductions="NaN")),
    ("Infinity literal", _raw(emission_reductions="Infinity")),
    ("-Infinity value", _raw(buffer="-Infinity")),
    ("NaN string", report(emission_reductions="NaN")),
    ("huge exponent", _raw(emission_reductions="1e999999")),
    ("code in a unit", _param("__import__('os').system('id')")),
    ("unit power bomb", _param("m**99999999")),
    ("unit division by zero", _param("1/0")),
    ("overlong unit", _param("m" * 65)),
    ("empty unit", _param("")),
    ("NaN parameter", _param("MWh", "NaN")),
    ("deep nesting", b'{"kind": "monitoring-report", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
    ("not an object", b"[1, 2, 3]"),
    ("UTF-16 without BOM", json.dumps(report()).encode("utf-16-le")),
    ("invalid UTF-8", b'{"kind": "monitoring-report", "report_id": "\xff\xfe"}'),
    ("duplicate huge string", report(report_id="x" * 100_000)),
]


@pytest.mark.parametrize(("what", "payload"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_reports_are_coded_4xx(net: MrvWorld, what: str, payload: bytes | dict[str, Any]) -> None:
    sent = net.send("mrv-sys", "monitoring-reports", payload, "hostile-" + what.replace(" ", "-"))
    assert 400 <= sent.status < 500, (what, sent.status, sent.body)
    assert sent.body.get("code"), sent.body
    assert sent.body["code"] != "INTERNAL"


def test_unit_findings_are_named(net: MrvWorld) -> None:
    sent = net.send("mrv-sys", "monitoring-reports", _param("__import__('os')"), "hostile-unit")
    assert sent.status == 422 and sent.body["code"] == "MRV.INVALID"
    assert any(e["rule"].startswith("MRV.UNIT") and e["pointer"] == "/parameters/0/unit"
               for e in sent.body["errors"]), sent.body["errors"]


def test_a_body_over_the_relay_bound_is_413(net: MrvWorld) -> None:
    huge = report(parameters=[{"name": f"p{i}", "value": "1", "unit": "MWh", "description": "x" * 3000}
                              for i in range(400)])
    sent = net.send("mrv-sys", "monitoring-reports", huge, "hostile-huge")
    assert sent.status == 413 and sent.body["code"]


@pytest.mark.parametrize("size", [4097, 64 * 1024])
def test_a_huge_upload_is_413(net: MrvWorld, size: int) -> None:
    answer = net.upload("mrv-sys", b"x" * size)
    assert answer.status_code == 413 and answer.json()["code"], answer.text


def test_an_upload_without_a_digest_path_or_of_a_bad_digest(net: MrvWorld) -> None:
    client = net.client("mrv-sys")
    for path in ("/v1/mrv/evidence/" + "A" * 64, "/v1/mrv/evidence/" + "0" * 65, "/v1/mrv/evidence/..%2F..%2Fetc"):
        answer = client.request("PUT", path, content=b"data")
        assert 400 <= answer.status_code < 500 and answer.json()["code"], (path, answer.text)


def test_nothing_hostile_was_put_on_record(net: MrvWorld) -> None:
    with sqlite3.connect(net.root / "data" / "mrv.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM mrv_messages").fetchone() == (0,)
        assert db.execute("SELECT uploaded_by FROM mrv_evidence").fetchall() == [("mrv-sys",)]
