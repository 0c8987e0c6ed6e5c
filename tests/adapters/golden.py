"""Shared checks for registry-export adapters: golden translations (regenerate with
CARBONLINK_UPDATE_GOLDEN=1, then check by hand) and damaged-input fuzzing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import strategies as st

from adapters import default_catalog
from adapters.protocol import RegistryAdapter
from adapters.translate import translate
from standards.codec import Medium
from standards.errors import InputError, TranslationError


def check_golden(path: Path, actual: object) -> None:
    text = json.dumps(actual, indent=2, ensure_ascii=False, sort_keys=True, default=str) + "\n"
    if os.environ.get("CARBONLINK_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{path.name} differs from the checked golden file"


def translate_or_findings(source: bytes, *, adapter: str, target: str,
                          medium: Medium = Medium.CSV) -> dict[str, object]:
    """The translation (output and losses, whole records left out accepted), or the coded refusal: the
    target's validation failed, or not one record could be carried."""
    if target not in default_catalog():
        pytest.skip(f"the {target} codec is not installed")
    try:
        done = translate(source, source=adapter, target=target, source_medium=medium, target_medium=Medium.JSON,
                         accept_losses=True)
    except TranslationError as exc:
        findings = exc.findings or []
        return {"refused": exc.code, "findings": sorted({f"{f.rule} {f.location.pointer}" for f in findings})}
    return {"output": json.loads(done.output.data),
            "losses": [{"field": loss.field, "records": len(loss.records)} for loss in done.losses]}


def cadt_v2_records(source: bytes, *, adapter: str, medium: Medium = Medium.CSV) -> object:
    """What the CAD Trust v2 codec makes of an adapter's records, before its own validation."""
    catalog = default_catalog()
    if "cadt-v2" not in catalog:
        pytest.skip("the cadt-v2 codec is not installed")
    document = catalog.get(adapter).parse(source, medium=medium).document
    return json.loads(catalog.get("cadt-v2").serialize(document, medium=Medium.JSON).data)


def damage(original: bytes, data: st.DataObject) -> bytes:
    """Flip, cut and insert bytes of a sample export, as hypothesis draws them."""
    damaged = bytearray(original)
    for _ in range(data.draw(st.integers(1, 6))):
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        at = data.draw(st.integers(0, max(len(damaged) - 1, 0)))
        if action == "flip" and damaged:
            damaged[at] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del damaged[at:at + data.draw(st.integers(1, 40))]
        else:
            damaged[at:at] = data.draw(st.sampled_from([b",", b'"', b"\r\n", b";", b"'=", b"\x00", b"-1"]))
    return bytes(damaged)


def assert_damage_is_coded(adapter: RegistryAdapter, original: bytes, data: st.DataObject) -> None:
    """A damaged export gives a result with the registry-export findings, or a coded InputError."""
    try:
        result = adapter.parse(damage(original, data), medium=Medium.CSV)
    except InputError as exc:
        assert exc.code.startswith("INPUT.")
        return
    for finding in result.findings:
        assert finding.rule.split(".")[0] in {"VERRA", "GOLD_STANDARD", "APX", "CERCARBONO", "ISOMETRIC", "CARB"}
