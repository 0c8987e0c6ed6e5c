"""The CARB adapter: each row of the ARB offset credit issuance table becomes the blocks its columns account
for (always adding up to the credits issued), back again, and the projects CAD Trust v1 gets from it."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from adapters import default_catalog
from adapters.translate import detect_format
from standards import Medium, UnitStatus
from tests.adapters.registry_samples import FIXTURES, cadt_v1, flagged, parse, rules

TABLE = FIXTURES / "carb" / "issuance-table.csv"


def test_the_table_is_detected_as_carb() -> None:
    assert detect_format(TABLE.read_bytes(), medium=Medium.CSV) == "carb"


def test_blocks_of_an_issuance_add_up_to_the_credits_issued() -> None:
    parsed = parse("carb", "issuance-table.csv")
    assert rules(parsed.findings, errors_only=False) == ["CARB.NO_CREDITS"]  # the row with nothing issued
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for unit in parsed.document.units:
        totals[unit.extra["CARB Issuance ID"]] += unit.quantity or 0
    assert totals == {"CAOD1007-A": 79565, "CAMM1009-A": 31850, "CAOD1020-A": 83176, "CAFR5003-A": 2163951,
                      "CAFR5011-D": 107992, "CAFR5012-A": 107214}


def test_each_column_becomes_a_block_with_its_status_and_reason() -> None:
    units = [u for u in parse("carb", "issuance-table.csv").document.units
             if u.extra["CARB Issuance ID"] == "CAFR5011-D"]
    shown = {(u.status, u.status_reason, u.quantity) for u in units}
    assert shown == {(UnitStatus.ISSUED, None, 55510), (UnitStatus.BUFFER, None, 17063),
                     (UnitStatus.RETIRED, "Retired 2nd Compliance Period (CA)", 24555),
                     (UnitStatus.RETIRED, "Retired 4th Compliance Period (CA)", 10864)}
    assert all(u.project_id == "CAFR5011" and u.vintage == 2016 and u.country == "USA" for u in units)
    assert units[0].extra["OPR Project ID"] == "CAR993"


def test_dispositions_beyond_the_credits_issued_are_refused() -> None:
    data = TABLE.read_bytes().replace(b"CAOD1020-A,0.0,,0.0,0.0,0.0,0.0,0.0,0.0,48508.0",
                                      b"CAOD1020-A,0.0,,0.0,0.0,0.0,0.0,0.0,0.0,98508.0")
    parsed = parse("carb", "issuance-table.csv", data)
    assert rules(parsed.findings) == ["CARB.DISPOSITION_SUM"]
    assert not [u for u in parsed.document.units if u.project_id == "CAOD1020"]


def test_a_project_id_that_is_not_carbs_is_refused() -> None:
    data = TABLE.read_bytes().replace(b"CAMM1009,ACR1009", b"ACR1009,ACR1009")
    assert rules(parse("carb", "issuance-table.csv", data).findings) == ["CARB.PROJECT_ID"]


def test_round_trip_gives_the_same_blocks() -> None:
    adapter = default_catalog().get("carb")
    first = parse("carb", "issuance-table.csv")
    written = adapter.serialize(first.document, medium=Medium.CSV)
    assert not written.losses
    again = adapter.parse(written.data, medium=Medium.CSV)
    assert not rules(again.findings)
    key = [(u.extra["CARB Issuance ID"], u.status, u.status_reason, u.quantity) for u in first.document.units]
    assert [(u.extra["CARB Issuance ID"], u.status, u.status_reason, u.quantity) for u in again.document.units] == key


def test_cadt_v1_projects_come_from_the_rows_units_lack_serials() -> None:
    doc, findings = cadt_v1("carb", "issuance-table.csv")
    assert flagged(findings, "projects") == set() and len(doc["projects"]) == 6
    ods = next(p for p in doc["projects"] if p["projectId"] == "CAOD1020")
    assert ods["projectDeveloper"] == "Hudson Technologies Company"
    assert ods["sector"] == "Water supply; sewerage, waste management and remediation activities"
    assert ods["projectLink"] == "https://acr2.apx.com/mymodule/reg/prjView.asp?id1=1020"
    assert (ods["projectStatus"], ods["projectStatusDate"]) == ("Registered", "2024-09-24")
    assert ods["issuances"][0]["startDate"] == "2024-03-11" and ods["issuances"][0]["endDate"] == "2024-03-25"
    # the table gives no serial numbers: every unit is flagged, none is written with made-up blocks
    assert flagged(findings, "units") == set(range(len(doc["units"])))
    assert all("unitBlockStart" not in u for u in doc["units"])
    forest = [f for f in findings if f.rule == "CADT.V1.VOCAB" and "'Forest'" in f.message]
    assert forest and all("carb.json" in f.message for f in forest)
