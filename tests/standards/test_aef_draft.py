"""The draft AEF V1 (6/CMA.4 annex VII) read into AEF V2 tables."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import openpyxl
import pytest

from standards.aef.draft import DRAFT_COLUMNS, DraftHeaderError, read_draft
from standards.codec import Medium
from standards.errors import MalformedInput, UnsafeInput
from standards.tabular import write_csv_bytes
from tests.standards.aef_media_samples import rezip, zip_members

HEADERS = [text for _key, text in DRAFT_COLUMNS]
# template copies carry footnote letters after the headers
MARKED = [f"{text} ({chr(ord('a') + i)})" if i % 3 == 0 else text for i, text in enumerate(HEADERS)]


def action(**overrides: Any) -> list[Any]:
    values: dict[str, Any] = {
        "record_id": "A6DB-001", "cooperative_approach": "CA0001",
        "first_uid": "CA0001-GHA01-GHA-1001-2022", "last_uid": "CA0001-GHA01-GHA-2000-2022",
        "unit_first": 5001, "unit_last": 6000, "metric": "GHG", "quantity_metric": "NA",
        "quantity_co2": 1000, "conversion_factor": None, "first_transferring_party": "Ghana", "vintage": 2022,
        "sectors": "Energy", "activity_types": "Renewable energy", "authorization_date": datetime(2022, 11, 1),
        "authorization_id": "AUTH-1", "purposes": "NDC and OIMP", "oimp_authorized": "CORSIA",
        "first_transfer_definition": "Authorization", "action_date": datetime(2023, 3, 15),
        "action_type": "First transfer", "transferring_party": "Ghana", "acquiring_party": "Switzerland",
        "cancellation_purpose": None, "using": None, "first_transfer": None,
    }
    values.update(overrides)
    return [values[key] for key, _text in DRAFT_COLUMNS]


def holding(**overrides: Any) -> list[Any]:
    return action(**overrides)[:19]


def draft_workbook(actions: list[list[Any]], holdings: list[list[Any]] | None = None,
                   headers: list[str] | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Table 2 Actions"
    groups = [None, "Cooperative approach", "ITMO", None, None, None, "Metric and quantity"]
    for row in [["Table 1: Heading"], ["Party", "Switzerland"], ["Reported year", 2023], [],
                ["Table 2: Actions"], groups, headers or MARKED, *actions]:
        sheet.append(row)
    if holdings is not None:
        second = book.create_sheet("Table3 Holdings")
        for row in [["Party:", "CHE"], MARKED[:19], *holdings]:
            second.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_actions_and_holdings_split_into_v2_tables() -> None:
    data = draft_workbook([action(), action(first_uid="CA0001-GHA01-GHA-2001-2022",
                                            last_uid="CA0001-GHA01-GHA-2500-2022", quantity_co2=500.5,
                                            action_type="Transfer")],
                          [holding(quantity_co2=1500)])
    tables = read_draft(data, Medium.XLSX)
    assert tables.submission is not None
    assert tables.submission["ParticipatingParty"] == "CHE" and tables.submission["ReportedYear"] == 2023
    assert len(tables.rows["T2"]) == 1  # the same authorization on three rows
    t2 = tables.rows["T2"][0]
    assert t2 == t2 | {"AuthorizationID": "AUTH-1", "DateOfAuthorization": date(2022, 11, 1),
                       "CooperativeApproachID": "CA0001", "Metric": "GHG", "Sectors": "Energy",
                       "ActivityType": "Renewable energy", "PurposeForAuthorization": "NDC and OIMP",
                       "OIMPAuthorized": "CORSIA", "FirstTransferDefnForOIMP": "Authorization",
                       "AuthorizationVersion": None}
    first, second = tables.rows["T3"]
    assert first == first | {
        "ActionDateTime": datetime(2023, 3, 15, tzinfo=UTC), "ActionType": "First transfer",
        "CooperativeApproachID": "CA0001", "AuthorizationID": "AUTH-1", "FirstTransferringPartyID": "GHA",
        "PartyITMORegistryID": "GHA01", "FirstID": 1001, "LastID": 2000, "UnderlyingUnitFirstUnitID": 5001,
        "UnderlyingUnitLastUnitID": 6000, "QuantityCO2": Decimal(1000), "QuantityNon-GHG": "NA",
        "Vintage": 2022, "TransferringPartyID": "GHA", "AcquiringPartyID": "CHE",
        "AdditionalExplanatoryInformation": "AEF V1 Article 6 database record ID: A6DB-001"}
    assert (second["FirstID"], second["LastID"], second["QuantityCO2"]) == (2001, 2500, Decimal("500.5"))
    (held,) = tables.rows["T4"]
    assert (held["FirstID"], held["PartyITMORegistryID"], held["QuantityCO2"]) == (1001, "GHA01", 1500)
    assert "ActionType" not in held


def test_locations_point_at_the_draft_cells() -> None:
    tables = read_draft(draft_workbook([action(), action(authorization_id="AUTH-2")], [holding()]), Medium.XLSX)
    assert tables.location("T3", 1, "LastID").render() == "Table 2 Actions!D9"
    assert tables.location("T3", 0, "ActionDateTime").render() == "Table 2 Actions!T8"
    assert tables.location("T2", 1, "DateOfAuthorization").render() == "Table 2 Actions!O9"
    assert tables.location("T4", 0, "QuantityCO2").render() == "Table3 Holdings!I3"


def test_conflicting_authorizations_with_one_id_stay_separate_for_validation() -> None:
    tables = read_draft(draft_workbook([action(), action(purposes="NDC"), action()]), Medium.XLSX)
    assert [r["PurposeForAuthorization"] for r in tables.rows["T2"]] == ["NDC and OIMP", "NDC"]
    assert tables.origins[("T2", 1)].row == 9


def test_authorization_version_can_be_supplied() -> None:
    tables = read_draft(draft_workbook([action()]), Medium.XLSX, authorization_version=1)
    assert tables.rows["T2"][0]["AuthorizationVersion"] == 1


def test_cooperative_approach_name_and_bare_serials() -> None:
    tables = read_draft(draft_workbook([action(cooperative_approach="Swiss-Ghana bilateral", first_uid=1001,
                                               last_uid="2000", vintage=None)]), Medium.XLSX)
    t3 = tables.rows["T3"][0]
    assert (t3["FirstID"], t3["LastID"], t3["PartyITMORegistryID"]) == (1001, 2000, None)
    assert t3["CooperativeApproachID"] == "Swiss-Ghana bilateral"  # no code anywhere: kept for validation
    assert t3["FirstTransferringPartyID"] == "GHA" and t3["Vintage"] is None  # from column K's country name

    named = read_draft(draft_workbook([action(cooperative_approach="Swiss-Ghana bilateral")]), Medium.XLSX)
    assert named.rows["T3"][0]["CooperativeApproachID"] == "CA0001"  # taken from the ITMO identifier
    assert named.rows["T2"][0]["AdditionalExplanatoryInformation"] == \
        "AEF V1 cooperative approach: Swiss-Ghana bilateral"


def test_using_column_is_a_party_an_entity_or_na() -> None:
    rows = [action(action_type="Use", using="Switzerland"), action(action_type="Cancellation", using="Klima AG"),
            action(action_type="Transfer", using="NA")]
    t3 = read_draft(draft_workbook(rows), Medium.XLSX).rows["T3"]
    assert [(r["Using/cancellingPartyID"], r["Using/cancellingEntityID"]) for r in t3] == [
        ("CHE", None), (None, "Klima AG"), ("NA", "NA")]


def test_v1_columns_without_a_v2_field_become_notes() -> None:
    row = action(conversion_factor="1 MWh = 0.5 t", first_transfer="Issuance", cancellation_purpose="OMGE")
    t3 = read_draft(draft_workbook([row]), Medium.XLSX).rows["T3"][0]
    assert t3["AdditionalExplanatoryInformation"] == (
        "AEF V1 Article 6 database record ID: A6DB-001; AEF V1 Conversion factor (reporting Party): 1 MWh = 0.5 t; "
        "AEF V1 First transfer: Issuance")
    assert t3["PurposeITMOUsedForOIMP"] == "OMGE"


def test_csv_and_zipped_csv_forms() -> None:
    width = len(HEADERS)
    pad = [None] * (width - 2)
    rows = [["Party", "CHE", *pad], ["Reported year", "2023", *pad], HEADERS,
            action(authorization_date="01/11/2022", action_date="15/03/2023")]
    actions_csv = write_csv_bytes(rows)
    tables = read_draft(actions_csv, Medium.CSV)
    assert tables.rows["T3"][0]["ActionDateTime"] == datetime(2023, 3, 15, tzinfo=UTC)
    assert tables.rows["T2"][0]["DateOfAuthorization"] == date(2022, 11, 1)
    assert tables.submission is not None and tables.submission["ReportedYear"] == 2023
    assert tables.location("T3", 0, "FirstID").render() == "line 4 /Actions/0/FirstID"

    holdings_csv = write_csv_bytes([HEADERS[:19], holding()])
    both = read_draft(zip_members({"actions.csv": actions_csv, "holdings.csv": holdings_csv}), Medium.CSV)
    assert (len(both.rows["T3"]), len(both.rows["T4"]), len(both.rows["T2"])) == (1, 1, 1)


def test_missing_and_unknown_columns_are_named() -> None:
    headers = [h for h in HEADERS if h != "Vintage"] + ["Comment"]
    with pytest.raises(DraftHeaderError) as caught:
        read_draft(draft_workbook([], headers=headers), Medium.XLSX)
    message = caught.value.message
    assert caught.value.code == "AEF.DRAFT_HEADER"
    assert "'Comment'" in message and "Z7" in message and "missing column(s) 'Vintage'" in message


def test_workbook_without_draft_tables_is_refused() -> None:
    book = openpyxl.Workbook()
    book.active.append(["Party", "CHE"])
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(DraftHeaderError, match="no Actions or Holdings table"):
        read_draft(out.getvalue(), Medium.XLSX)


def test_contradicting_heading_is_refused() -> None:
    book = openpyxl.load_workbook(io.BytesIO(draft_workbook([action()], [holding()])))
    book["Table3 Holdings"]["B1"] = "GHA"
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(MalformedInput) as caught:
        read_draft(out.getvalue(), Medium.XLSX)
    assert caught.value.code == "AEF.DRAFT_HEADING" and "'GHA'" in caught.value.message


def test_other_media_and_unsafe_workbooks_are_refused() -> None:
    with pytest.raises(MalformedInput) as caught:
        read_draft(b"{}", Medium.JSON)
    assert caught.value.code == "AEF.DRAFT_MEDIUM"
    with pytest.raises(UnsafeInput):
        read_draft(rezip(draft_workbook([action()]), add={"xl/vbaProject.bin": b"x"}), Medium.XLSX)


def test_value_in_a_column_without_header_is_refused() -> None:
    with pytest.raises(DraftHeaderError, match=r"AB8 has a value in a column without a header"):
        read_draft(draft_workbook([[*action(), None, "stray"]]), Medium.XLSX)
