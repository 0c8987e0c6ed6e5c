"""CAD Trust v2 values that fit where v1 has none: the v2.0.2 location_country list's own country spellings,
'Not Determined' for units whose methodology credits removals and reductions alike, and the umbrella project
type AFOLU for land-use projects that are no single listed type; and what still has no honest value (ODS
destruction, Isometric's carbon-removal pathways) stays a coded finding naming the vocabulary file."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from adapters import default_catalog
from standards import CanonicalDocument, Finding, Medium
from standards.cadt.codec import CadtV1Codec, CadtV2Codec
from standards.cadt.operator import load_operator_profile
from standards.cadt.picklists import bundled
from standards.cadt.vocab import common_vocabulary

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
LISTS = bundled("v2").lists


def _parse(fmt: str, *files: tuple[str, bytes]) -> CanonicalDocument:
    document = CanonicalDocument()
    for _, data in files:
        parsed = default_catalog().get(fmt).parse(data, medium=Medium.CSV)
        assert not [f for f in parsed.findings if f.is_error], parsed.findings
        document.projects.extend(parsed.document.projects)
        document.units.extend(parsed.document.units)
    return document


def _fixture(fmt: str, *names: str) -> CanonicalDocument:
    return _parse(fmt, *((name, (FIXTURES / fmt / name).read_bytes()) for name in names))


def _v2(document: CanonicalDocument, profile: str, own_types: bool = True) -> tuple[dict[str, Any], list[Finding]]:
    """``own_types=False``: without the profile's own project types (``project.projectTypeV2``)."""
    operator = load_operator_profile(ROOT / "bench" / profile)
    codec = CadtV2Codec(operator=operator if own_types else replace(operator, maps={}))
    result = codec.serialize(document, medium=Medium.JSON)
    return json.loads(result.data), list(result.findings)


def _at(findings: list[Finding], rule: str, suffix: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule and (f.location.pointer or "").endswith(suffix)]


# as the registries spell them (pycountry reads these); the v2 list spells them its own way
SPELLED_BY_REGISTRIES = {"COD": "Congo, The Democratic Republic of the", "GNQ": "Equatorial Guinea",
                         "VAT": "Holy See (Vatican City State)", "KNA": "Saint Kitts and Nevis",
                         "LCA": "Saint Lucia", "VCT": "Saint Vincent and the Grenadines",
                         "SYR": "Syrian Arab Republic"}


def test_every_v2_country_spelling_carbonlink_maps_is_in_the_v2_list() -> None:
    mapped = common_vocabulary().table("countriesV2")
    assert mapped and set(mapped.values()) <= set(LISTS["location_country"])
    assert set(mapped) == set(SPELLED_BY_REGISTRIES)


@pytest.mark.parametrize(("alpha3", "registry_name"), sorted(SPELLED_BY_REGISTRIES.items()))
def test_a_project_in_a_country_the_v2_list_spells_its_own_way_gets_its_location(alpha3: str,
                                                                                 registry_name: str) -> None:
    # the Verra sample's Ethiopian project, moved to the country
    files = [(name, (FIXTURES / "verra" / name).read_bytes().replace(b"Ethiopia", f'"{registry_name}"'.encode()))
             for name in ("projects.csv", "transactions.csv")]
    doc, findings = _v2(_parse("verra", *files), "cadt_operator_profile.yaml")
    assert not [f for f in findings if "has no spelling" in f.message]
    bale = next(p for p in doc["project"] if p["projectId"] == "VCS1340")
    locations = [loc for loc in doc["location"] if loc["cadTrustProjectId"] == bale["cadTrustProjectId"]]
    assert [loc["locationCountry"] for loc in locations] == [common_vocabulary().lookup("countriesV2", alpha3)]


def test_a_vm0042_unit_is_not_determined_in_v2_and_still_reported_in_v1() -> None:
    document = _fixture("verra", "projects.csv", "transactions.csv")
    doc, findings = _v2(document, "cadt_operator_profile.yaml")
    assert not _at(findings, "CADT.V2.VOCAB", "/unitType")
    assert sorted(u["unitType"] for u in doc["unit"]).count("Not Determined") == 1
    # v1's unitType list has no such value: the unit stays a coded finding there
    v1 = CadtV1Codec(operator=load_operator_profile(ROOT / "bench" / "cadt_operator_profile.yaml"))
    v1_findings = v1.serialize(document, medium=Medium.JSON).findings
    assert [f for f in _at(list(v1_findings), "CADT.V1.VOCAB", "/unitType") if "VM0042" in f.message]


def test_carb_forest_projects_are_written_in_v2_and_ods_projects_are_reported() -> None:
    doc, findings = _v2(_fixture("carb", "issuance-table.csv"), "cadt_operator_profile_registries.yaml")
    forest = [p for p in doc["project"] if p["projectId"].startswith("CAFR")]
    assert forest and all(p["projectType"] == ["Agriculture, forestry and other land use (AFOLU)"]
                          and p["projectSector"] == ["Others"] for p in forest)
    forest_issuances = {i["cadTrustIssuanceId"] for i in doc["issuance"] if i["issuanceId"].startswith("CAFR")}
    forest_units = [u for u in doc["unit"] if u.get("cadTrustIssuanceId") in forest_issuances]
    assert forest_units and {u["unitType"] for u in forest_units} == {"Not Determined"}
    ods = {p["projectId"] for p in doc["project"] if p["projectId"].startswith("CAOD")}
    flagged = {f.message.split(":")[0] for f in _at(findings, "CADT.V2.VOCAB", "/projectType")}
    assert flagged == {f"project {pid}" for pid in ods} and ods
    assert all("carb.json" in f.message for f in _at(findings, "CADT.V2.VOCAB", "/projectType"))


def test_isometric_biochar_has_a_sector_but_no_isometric_pathway_has_a_v2_project_type() -> None:
    doc, findings = _v2(_fixture("isometric", "projects.csv"), "cadt_operator_profile_registries.yaml",
                        own_types=False)
    assert {s for p in doc["project"] for s in p.get("projectSector", [])} == {"Others", "Carbon capture and storage"}
    assert not _at(findings, "CADT.V2.VOCAB", "/projectSector")
    no_type = _at(findings, "CADT.V2.VOCAB", "/projectType")
    assert len(no_type) == len(doc["project"]) == 4
    assert all("isometric.json" in f.message for f in no_type)
    assert not any(set(p.get("projectType", [])) & set(LISTS["project_type"]) for p in doc["project"])
