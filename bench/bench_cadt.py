"""Benchmark: CAD Trust v2 validation (compiled structure check, all layers, parse to canonical).

The baseline is ``jsonschema`` (Draft 2020-12) checking the same records against the published
schema, measured in the same run; ratios are baseline time / our time (higher is faster). Run::

    python bench/bench_cadt.py [--records 20000] [--repeat 5] [--json]
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import orjson

from standards.cadt.codec import CadtV2Codec
from standards.cadt.picklists import bundled
from standards.cadt.profiles import load_profile
from standards.cadt.spec import load_spec
from standards.cadt.structure import published_schema, structure_checker
from standards.cadt.validate import CadtValidator
from standards.codec import Medium

EXAMPLE = Path(__file__).resolve().parents[1] / "standards" / "examples" / "cadt-v2-aef.json"


def make_document(n: int) -> dict[str, Any]:
    """The example with ``n`` units and ``n`` T3 actions (distinct ids and serial blocks)."""
    doc: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    unit, action = doc["unit"][0], doc["aef-t3-actions"][0]
    units, actions = [], []
    for i in range(n):
        first = i * 1000 + 1
        u = copy.deepcopy(unit)
        u.update(cadTrustUnitId=f"00000000-0000-4000-8000-{i:012d}", unitStartBlock=str(first),
                 unitEndBlock=str(first + 999), unitCount=1000, unitSerialId=f"GS-{first}-{first + 999}")
        a = copy.deepcopy(action)
        a.update(cadTrustAefT3ActionsId=f"10000000-0000-4000-8000-{i:012d}", aefT3ActionsItmoFirstId=str(first),
                 aefT3ActionsItmoLastId=str(first + 999), aefT3ActionsQuantityTCo2=1000,
                 cadTrustUnitId=u["cadTrustUnitId"])
        units.append(u)
        actions.append(a)
    doc["unit"], doc["aef-t3-actions"] = units, actions
    doc["aef-t4-holdings"][0]["cadTrustUnitId"] = units[0]["cadTrustUnitId"]
    return doc


def best_of(repeat: int, func: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20_000, help="units and T3 actions (each)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    doc = make_document(args.records)
    data = orjson.dumps(doc)
    spec = load_spec("v2")
    pairs = [(spec.resources[r], rec) for r in ("unit", "aef-t3-actions") for rec in doc[r]]
    schema = published_schema("v2")
    validators = {e: jsonschema.Draft202012Validator({"$defs": schema["$defs"], "$ref": f"#/$defs/{e}"})
                  for e in ("unit", "aef_t3_actions")}
    checker = structure_checker("v2")
    picklists, profile = bundled("v2"), load_profile("cadt-v2.0.2")
    codec = CadtV2Codec(picklists=picklists, profile=profile)

    def baseline() -> None:
        assert all(validators[e].is_valid(r) for e, r in pairs)

    def fast() -> None:
        assert all(checker.check(e, r) for e, r in pairs)

    def layers() -> None:
        result = CadtValidator("v2", picklists, profile).run(doc)
        assert not any(f.is_error for f in result.findings)

    def parse() -> None:
        result = codec.parse(data, medium=Medium.JSON)
        assert result.valid and len(result.document.units) == args.records

    for warm in (baseline, fast, layers, parse):
        warm()
    t_base = best_of(args.repeat, baseline)
    t_fast = best_of(args.repeat, fast)
    t_layers = best_of(args.repeat, layers)
    t_parse = best_of(max(1, args.repeat // 2), parse)
    n = len(pairs)
    out = {
        "records": n, "python": platform.python_version(),
        "jsonschema_structure_s": round(t_base, 4), "fast_structure_s": round(t_fast, 4),
        "all_layers_s": round(t_layers, 4), "parse_to_canonical_s": round(t_parse, 4),
        "fast_structure_speedup_vs_jsonschema": round(t_base / t_fast, 1),
        "all_layers_speedup_vs_jsonschema_structure_only": round(t_base / t_layers, 2),
        "parse_records_per_s": round(n / t_parse),
    }
    if args.json:
        print(json.dumps(out))
        return
    for key, value in out.items():
        print(f"{key:50} {value}")


if __name__ == "__main__":
    main()
