"""CAD Trust picklists: bundled snapshot, file override, and a live node answer over real HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from standards.cadt.codec import CadtV1Codec, CadtV2Codec
from standards.cadt.errors import CadtNodeUnavailable, PicklistError
from standards.cadt.picklists import bundled, fetch_live, from_file, resolve
from standards.codec import Medium
from tests.support.edge import EdgeEnvironment

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "standards" / "examples" / "cadt-v2-aef.json"
V1_BASE = ROOT / "conformance" / "cases" / "cadt-v1-messages" / "bases" / "v1.json"

#: A tiny CADT governance endpoint: answers GET /v{1,2}/governance/meta/pickList from a JSON file.
SERVER = textwrap.dedent("""
    import json, sys
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    answers = json.load(open(sys.argv[1], encoding="utf-8"))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            answer = answers.get(self.path)
            if answer is None or (answers.get("key") and self.headers.get("x-api-key") != answers["key"]):
                self.send_response(404 if answer is None else 401)
                self.end_headers()
                return
            body = answer.encode("utf-8") if isinstance(answer, str) else json.dumps(answer).encode("utf-8")
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
""")

NODE_LISTS = {
    # the node's governance body adds a status and spells the list the way the code does (camelCase)
    "unitStatus": ["Issued", "Held", "Retired", "Cancelled", "Expired", "Buffer", "Inactive", "Rejected", "Active"],
    "label_name": "free text",
}


@pytest.fixture
def cadt_node(tmp_path: Path) -> Iterator[str]:
    answers = {
        "/v2/governance/meta/pickList": NODE_LISTS,
        "/v1/governance/meta/pickList": {"unitStatus": ["Held", "Retired", "Tokenized"]},
        "/broken/v2/governance/meta/pickList": "{not json",
        "/empty/v2/governance/meta/pickList": {"label_name": "free text"},
        "key": "s3cret",
    }
    config = tmp_path / "answers.json"
    config.write_text(json.dumps(answers), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(config)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _unit_with_status(status: str) -> bytes:
    doc: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    doc["unit"][0]["unitStatus"] = status
    return json.dumps(doc).encode()


def test_bundled_snapshots_hold_the_dictionary_lists() -> None:
    v2 = bundled("v2")
    assert v2.values("aef_t2_authorizations_metric") == ("GHC", "Non-GHG")
    assert "First Transfer" in (v2.values("aef_t3_actions_type") or ())
    assert "Australia" not in (v2.values("aef_t5_authorized_entities_incorporation_country") or ())
    assert bundled("v1").values("unitStatus") == ("Held", "Retired", "Cancelled", "Expired", "Buffer", "Exported",
                                                  "Pending Export")
    assert v2.origin("unit_status").startswith("bundled v2 2.0.2")


def test_live_node_picklists_replace_the_snapshot(cadt_node: str) -> None:
    live = fetch_live(cadt_node, "v2", api_key="s3cret")
    assert "Active" in (live.values("unit_status") or ())  # camelCase list name mapped to the dictionary's
    assert live.origin("unit_status") == f"node {cadt_node}/v2/governance/meta/pickList"
    assert live.values("unit_type") == bundled("v2").values("unit_type")  # lists it does not send stay
    bundled_codec = CadtV2Codec(picklists=bundled("v2"))
    node_codec = CadtV2Codec(picklists=live)
    assert not bundled_codec.validate(_unit_with_status("Active"), medium=Medium.JSON).valid
    report = node_codec.validate(_unit_with_status("Active"), medium=Medium.JSON)
    assert report.valid, [f.as_dict() for f in report.findings if f.is_error]
    errors = node_codec.validate(_unit_with_status("Exported"), medium=Medium.JSON).errors
    assert errors[0].rule == "CADT.V2.PICKLIST" and "node http://127.0.0.1" in errors[0].message


def test_live_v1_picklists_and_the_environment_switch(cadt_node: str, edge_env: EdgeEnvironment) -> None:
    edge_env.setenv("CARBONLINK_CADT_PICKLISTS", cadt_node)
    edge_env.setenv("CARBONLINK_CADT_API_KEY", "s3cret")
    doc = json.loads(V1_BASE.read_text(encoding="utf-8"))
    doc["units"][0]["unitStatus"] = "Tokenized"
    codec = CadtV1Codec()  # the configured picklists (CARBONLINK_CADT_PICKLISTS at the edge)
    assert codec.validate(json.dumps(doc).encode(), medium=Medium.JSON).valid
    assert resolve("v1").values("unitStatus") == ("Held", "Retired", "Tokenized")


def test_node_problems_are_coded_errors(cadt_node: str) -> None:
    with pytest.raises(CadtNodeUnavailable) as unauthorized:
        fetch_live(cadt_node, "v2")  # no API key
    assert "HTTP 401" in unauthorized.value.message
    with pytest.raises(CadtNodeUnavailable):
        fetch_live(cadt_node + "/nowhere", "v2", api_key="s3cret")
    with pytest.raises(PicklistError) as broken:
        fetch_live(cadt_node + "/broken", "v2", api_key="s3cret")
    assert broken.value.code == "CADT.PICKLISTS"
    with pytest.raises(PicklistError, match="no picklists"):
        fetch_live(cadt_node + "/empty", "v2", api_key="s3cret")


def test_unreachable_node_is_a_coded_error() -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(CadtNodeUnavailable) as exc:
        fetch_live(f"http://127.0.0.1:{port}", "v2", timeout=2)
    assert exc.value.code == "CADT.NODE_UNAVAILABLE"


def test_file_override_in_every_accepted_shape(tmp_path: Path, edge_env: EdgeEnvironment) -> None:
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"unit_status": ["Held"]}), encoding="utf-8")
    assert from_file(plain, "v2").values("unit_status") == ("Held",)
    ours = tmp_path / "ours.json"
    ours.write_text(json.dumps({"version": "v2", "lists": {"aefT3ActionsType": ["Transfer"]}}), encoding="utf-8")
    assert from_file(ours, "v2").values("aef_t3_actions_type") == ("Transfer",)  # field name -> list name
    both = tmp_path / "both.json"
    both.write_text(json.dumps({"v1": {"unitType": ["Avoidance"]}, "v2": {"unit_type": ["Not Determined"]}}),
                    encoding="utf-8")
    assert from_file(both, "v1").values("unitType") == ("Avoidance",)
    edge_env.setenv("CARBONLINK_CADT_PICKLISTS", str(both))
    assert resolve("v2").values("unit_type") == ("Not Determined",)
    assert resolve("v2").origin("unit_type") == f"file {both}"


@pytest.mark.parametrize(("content", "message"), [
    ("[1, 2]", "not a JSON object"),
    ('{"version": "v1", "lists": {"unitType": ["x"]}}', "holds v1 picklists"),
    ('{"unit_status": ["Held", 3]}', "non-text value"),
    ("{broken", "not valid JSON"),
])
def test_bad_picklist_files_are_coded_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "lists.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PicklistError, match=message) as exc:
        from_file(path, "v2")
    assert exc.value.code == "CADT.PICKLISTS"
    with pytest.raises(PicklistError):
        from_file(tmp_path / "missing.json", "v2")
