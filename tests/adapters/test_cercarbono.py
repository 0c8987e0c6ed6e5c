"""The Cercarbono adapter: projects, issuances and retirements exports, serial blocks, round trips, and
linked CAD Trust v1 documents."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from adapters.cercarbono import literal_list, serial_project
from adapters.translate import detect_format
from standards import Medium, UnitStatus, parse_serial
from tests.adapters.registry_samples import FIXTURES, cadt_v1, flagged, parse, rules


@pytest.mark.parametrize("name", ["projects.csv", "issuances.csv", "retirements.csv"])
def test_each_export_is_detected_as_cercarbono(name: str) -> None:
    assert detect_format((FIXTURES / "cercarbono" / name).read_bytes(), medium=Medium.CSV) == "cercarbono"


def test_projects_read_ids_country_and_lists() -> None:
    parsed = parse("cercarbono", "projects.csv")
    assert not parsed.findings
    first, second = parsed.document.projects
    assert (first.project_id, first.country, first.status, first.project_type) == \
        ("1", "COL", "Certified", "Land use (AFOLU)")
    assert first.developer == "Forestry Consulting Group S.A.S." and first.extra["code"] == "CDC-1"
    assert first.link == "https://www.ecoregistry.io/projects/1"
    assert second.description == "Commercial reforestation in the Meta department."


def test_issuances_take_the_project_from_the_serial_and_mark_the_buffer() -> None:
    units = parse("cercarbono", "issuances.csv").document.units
    assert [u.project_id for u in units] == ["1", "1", "1", "1", "7"]
    assert [u.status for u in units].count(UnitStatus.BUFFER) == 1
    assert units[0].quantity == Decimal(62740) and units[0].vintage == 2015
    assert units[0].issuance_date == date(2019, 3, 7)  # 2019-03-07T18:33:46.000Z
    assert units[0].extra["vintage_of_credits"] == "2010-01-01 / 2018-09-30"


def test_retirements_are_serial_blocks_with_timestamped_dates() -> None:
    parsed = parse("cercarbono", "retirements.csv")
    assert not rules(parsed.findings)
    unit = parsed.document.units[0]
    assert unit.serial == "CDC_1_1_1_321_14_1_2009:4426-4971"
    assert (unit.first_id, unit.last_id, unit.quantity) == (4426, 4971, Decimal(546))
    assert unit.status is UnitStatus.RETIRED and unit.status_date == date(2022, 2, 24)
    assert unit.beneficiary == "Reciclene S.A.S" and unit.status_reason == "Voluntary compensation"
    zero_based = parsed.document.units[3]
    assert (zero_based.first_id, zero_based.last_id, zero_based.quantity) == (0, 999, Decimal(1000))


def test_a_range_that_does_not_hold_the_quantity_is_refused() -> None:
    data = (FIXTURES / "cercarbono" / "retirements.csv").read_bytes().replace(b",546,", b",547,", 1)
    parsed = parse("cercarbono", "retirements.csv", data)
    assert rules(parsed.findings) == ["CERCARBONO.SERIAL_QUANTITY"]
    assert parsed.findings[0].location.line == 2


def test_overlapping_retirements_of_one_serial_are_refused() -> None:
    data = (FIXTURES / "cercarbono" / "retirements.csv").read_bytes().replace(b",2164,", b",2165,").replace(
        b",2262,4425,", b",2262,4426,")
    parsed = parse("cercarbono", "retirements.csv", data)
    assert "CERCARBONO.SERIAL_OVERLAP" in rules(parsed.findings)


def test_a_project_id_that_contradicts_the_serial_is_reported() -> None:
    data = (FIXTURES / "cercarbono" / "retirements.csv").read_bytes().replace(
        b"Carbono Agroporvanda,1,CDC_1_1_1_321_14_1_2009,2009,Voluntary compensation,Reciclene",
        b"Carbono Agroporvanda,2,CDC_1_1_1_321_14_1_2009,2009,Voluntary compensation,Reciclene")
    parsed = parse("cercarbono", "retirements.csv", data)
    assert [f.rule for f in parsed.findings] == ["CERCARBONO.SERIAL_MISMATCH"]


def test_serial_helpers() -> None:
    assert serial_project("CDC_7_1_1_321_14_CO_1_1") == "7"
    assert serial_project("CDC_R_16_1_1_321_14_1") == "16"
    assert serial_project("not a serial") is None
    assert literal_list("[{'country': 'Colombia'}]") == [{"country": "Colombia"}]
    assert literal_list("__import__('os')") is None
    block = parse_serial("CDC_4_1_1_321_14_R1_XX_CO_1_2_2018:1-609", "cercarbono")
    assert (block.part("project"), block.quantity) == ("4", 609)


@pytest.mark.parametrize("name", ["projects.csv", "issuances.csv", "retirements.csv"])
def test_round_trip_gives_the_same_records(name: str) -> None:
    first = parse("cercarbono", name)
    from adapters import default_catalog
    adapter = default_catalog().get("cercarbono")
    written = adapter.serialize(first.document, medium=Medium.CSV)
    assert not written.losses
    again = adapter.parse(written.data, medium=Medium.CSV)
    assert not rules(again.findings)
    assert again.document == first.document


def test_cadt_v1_links_retirements_to_the_issuance_their_serial_names() -> None:
    doc, findings = cadt_v1("cercarbono", "projects.csv", "issuances.csv", "retirements.csv")
    assert flagged(findings, "projects") == set()
    # issuance rows give no unit range: CAD Trust cannot hold them as blocks, and says so
    assert flagged(findings, "units") == {0, 1, 2, 3, 4}
    assert {f.rule for f in findings if f.is_error} == {"CADT.V1.REQUIRED", "CADT.V1.SOURCE_MISSING"}
    missing = [f for f in findings if f.rule == "CADT.V1.SOURCE_MISSING"]
    assert flagged(missing, "units") == {0, 1, 2, 3, 4}
    assert all("no serial block" in f.message and "gives no first and last unit" in f.message for f in missing)
    retired = doc["units"][5:]
    assert len(retired) == 6 and all(u["unitStatus"] == "Retired" for u in retired)
    assert all(u["unitType"] == "Removal - nature" and u["countryJurisdictionOfOwner"] == "Colombia"
               for u in retired)
    first = retired[0]
    assert (first["unitBlockStart"], first["unitBlockEnd"], first["unitCount"]) == ("4426", "4971", 546)
    assert (first["issuance"]["startDate"], first["issuance"]["endDate"]) == ("2009-01-01", "2009-12-31")
    assert first["issuance"]["verificationReportDate"] == "2020-01-23"  # the issuance row's date
    project = next(p for p in doc["projects"] if p["projectId"] == "1")
    assert project["registryOfOrigin"] == "EcoRegistry" and project["projectStatus"] == "Registered"
    assert project["sector"] == "Agriculture; forestry and fishing"
    assert first["issuanceId"] in {i["id"] for i in project["issuances"]}
    again, _ = cadt_v1("cercarbono", "projects.csv", "issuances.csv", "retirements.csv")
    assert [u["warehouseUnitId"] for u in again["units"]] == [u["warehouseUnitId"] for u in doc["units"]]


def test_cadt_v1_retirements_alone_say_the_issuance_is_missing() -> None:
    _, findings = cadt_v1("cercarbono", "retirements.csv")
    messages = [f.message for f in findings if f.rule == "CADT.V1.SOURCE_MISSING" and "/units/" in
                (f.location.pointer or "")]
    assert len(messages) == 6 and all("monitoring period" in m for m in messages)


def test_cadt_v2_links_retirements_and_flags_only_the_issuance_rows() -> None:
    import json

    from standards import CanonicalDocument
    from standards.cadt.codec import CadtV2Codec
    from standards.cadt.operator import load_operator_profile
    from tests.adapters.registry_samples import PROFILE

    document = CanonicalDocument()
    for name in ("projects.csv", "issuances.csv", "retirements.csv"):
        parsed = parse("cercarbono", name)
        document.projects.extend(parsed.document.projects)
        document.units.extend(parsed.document.units)
    codec = CadtV2Codec(operator=load_operator_profile(PROFILE))
    result = codec.serialize(document, medium=Medium.JSON)
    findings = list(result.findings) + list(codec.validate(result.data, medium=Medium.JSON).findings)
    assert flagged(findings, "project") == set() and flagged(findings, "unit") == {0, 1, 2, 3, 4}
    doc = json.loads(result.data)
    retired = doc["unit"][5:]
    issuances = {i["cadTrustIssuanceId"]: i for i in doc["issuance"]}
    assert all(u["cadTrustIssuanceId"] in issuances and u["unitStatus"] == "Retired" for u in retired)
    assert {p["projectSector"][0] for p in doc["project"]} == {"Afforestation and reforestation"}
    assert doc["location"][0]["locationCountry"] == "Colombia"
