"""Maintenance tool: derive the bundled CAD Trust data files from a CAD Trust field table.

The field table (``cadtrust-fields.json``) is transcribed from github.com/Chia-Network/cadt: the v1
models, validations and governance picklists (1.7.24) and the v2 data dictionary
(``docs/cadtrust-schema-v2.0.2.json``). Run ``python -m standards.cadt._derive path/to/cadtrust-fields.json``
after the table changes; it rewrites ``data/cadt-v{1,2}-*.json`` (entities) and ``data/picklists-v{1,2}-*.json``
(the picklist snapshots), then ``schema/`` is regenerated with ``python -m standards.cadt.structure``.
Nothing at run time imports this module.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
RELEASES = {"v1": "1.7.24", "v2": "2.0.2"}

#: Document resource key -> entity, per version (v1 nests children under projects and units).
V1_RESOURCES = {"projects": "project", "units": "unit"}
V1_CHILDREN = {
    "project": {"projectLocations": "projectLocation", "labels": "label", "issuances": "issuance",
                "coBenefits": "coBenefit", "relatedProjects": "relatedProject",
                "projectRatings": "projectRating", "estimations": "estimation"},
    "unit": {"issuance": "issuance", "labels": "label"},
    "label": {"label_unit": "label_unit"},
}
V1_ENTITIES = ("project", "unit", "issuance", "label", "label_unit", "projectLocation", "estimation",
               "projectRating", "coBenefit", "relatedProject")
#: Lengths the reference states; v1 STRING columns are VARCHAR(255) in the MySQL mirror.
V1_TEXT_TYPES = {"text"}
V2_MAX_RE = re.compile(r"max (\d+)")
V2_DP_RE = re.compile(r"<= ?(\d+) decimal places|(\d+) dp")


def _kind(raw_type: str) -> str:
    t = raw_type.split("(")[0].strip()
    if t.startswith("array<") and t[6:-1] in ("string",):
        return "array<string>"
    if t.startswith("array<"):
        return "array"
    if t.startswith("object<"):
        return "object"
    return {
        "string": "string", "uuid": "string", "url": "string", "text": "text", "date": "date",
        "datetime": "datetime", "integer": "integer", "decimal": "decimal", "year": "year",
        "string|number": "string|number", "unix-seconds": "unix-seconds",
    }[t]


def _field(version: str, entity: str, raw: dict[str, Any]) -> dict[str, Any]:
    kind = _kind(raw["type"])
    out: dict[str, Any] = {"name": raw["name"], "kind": kind, "required": raw["required"]}
    if kind in ("array", "object"):
        out["child"] = raw["type"].split("<")[1].rstrip(">")
    if raw.get("pk"):
        out["pk"] = True
    if "fk" in raw:
        out["fk"] = raw["fk"]
    picklist = raw.get("enum") or raw.get("picklist_available")
    if picklist:
        out["picklist"] = picklist
        out["enforced"] = bool(raw.get("enum")) if version == "v2" else bool(raw.get("picklist_enforced"))
    text = " ".join(str(raw.get(k, "")) for k in ("constraints", "notes"))
    if version == "v2":
        match = V2_MAX_RE.search(raw.get("constraints", ""))
        if match:
            out["max_length"] = int(match.group(1))
        elif kind == "string" and raw["type"] != "uuid":
            out["max_length"] = 255
        dp = V2_DP_RE.search(text)
        if dp:
            out["decimal_places"] = int(dp.group(1) or dp.group(2))
        if "1900..2100" in text or kind == "year":
            out["range"] = [1900, 2100]
    else:
        if kind == "string" and not raw["name"].endswith("Id") and raw["name"] != "projectLink":
            out["max_length"] = 255
        if "1900..3000" in text:
            out["range"] = [1900, 3000]
    if "must not be empty string" in text or "not ''" in text:
        out["non_empty"] = True
    order = re.search(r"(>=|>) ?(\w+)", raw.get("constraints", ""))
    if order is not None and (kind in ("date", "datetime") or raw["type"].startswith("date")):
        out["after"] = order.group(2)
        out["strictly_after"] = order.group(1) == ">"
    return out


def derive(source: Path) -> None:
    facts = json.loads(source.read_text(encoding="utf-8"))
    for version in ("v1", "v2"):
        block = facts[version]
        names = V1_ENTITIES if version == "v1" else tuple(block["entities"])
        entities = {n: [_field(version, n, f) for f in block["entities"][n]] for n in names}
        if version == "v1":
            resources = {k: {"entity": v} for k, v in V1_RESOURCES.items()}
            for parent, children in V1_CHILDREN.items():
                for fld in entities[parent]:
                    if fld["name"] in children:
                        fld["child"] = children[fld["name"]]
        else:
            resources = {path.rsplit("/", 1)[1]: {"entity": name}
                         for name, path in block["meta"]["endpoints"].items()}
        entity_doc = {
            "version": version, "release": RELEASES[version], "source": block["meta"]["source"],
            "required_semantics": block["meta"]["required_semantics"],
            "resources": resources, "entities": entities,
        }
        if version == "v2":
            entity_doc["insert_order"] = block["meta"]["insert_order"] + block["meta"]["aef_insert_order"]
        lists = {k: v for k, v in block["picklists"].items() if isinstance(v, list)}
        picklists = {
            "version": version, "release": RELEASES[version],
            "source": block["meta"]["source"] + " (bundled snapshot)",
            "note": block["meta"].get("picklists_note", "Snapshot of the data dictionary's picklists; "
                                      "a live node's GET /v2/governance/meta/pickList may differ."),
            "lists": lists,
        }
        release = RELEASES[version]
        (HERE / "data" / f"cadt-{version}-{release}.json").write_text(
            json.dumps(entity_doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        (HERE / "data" / f"picklists-{version}-{release}.json").write_text(
            json.dumps(picklists, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    derive(Path(sys.argv[1]))
