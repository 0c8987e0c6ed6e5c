"""The UNDP National Carbon Registry's AEF templates (actions and holdings workbooks), both ways.

The workbooks here are built cell by cell as the registry fills its templates
(github.com/undp/undp-national-carbon-registry, ``templates/aef_*_template.xlsx`` and
``aef-report-management.service.ts``): heading rows, three header rows with merged cells,
``DD-MMM-YY`` text dates, the registry's sector labels.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from standards.aef.codec import AEF, AefDraftCodec
from standards.aef.draft import VocabularyMap, VocabularyMapError, read_draft, write_template
from standards.codec import Medium

ROOT = Path(__file__).resolve().parents[2]
LEAVES = ["First unique identifier", "Last unique identifier", "Underlying unit block start ID",
          "Underlying unit block last ID", "Metric", "Quantity (expressed in metric)", "Quantity (t\xa0CO2\xa0eq)",
          "Conversion factor \xa0(reporting Party)", "First transferring participating Party", "Vintage",
          "Sector(s)", "Activity type(s)", "Date of authorization", "Authorization ID",
          "Purposes for authorization", "OIMP authorized by the Party"]
ACTION_LEAVES = ["Action date", "Action type", "Transferring participating Party", "Acquiring participating Party",
                 "Purposes for cancellation", "Using participating Party or authorized entity or entities",
                 "First transfer"]
TEMPLATE_MERGES = {"A8:A10", "B8:B10", "C8:N8", "S8:S10", "T8:Z8", "C9:F9", "G9:J9", "K9:N9", "O9:R9", "T9:Y9"}
HOLDING_MERGES = {"A4:A6", "B4:B6", "C4:N4", "S4:S6", "C5:F5", "G5:J5", "K5:N5", "O5:R5"}


def _headers(sheet: Any, top: int, actions: bool) -> None:
    sheet.cell(top, 1, "Article 6 database record ID ")
    sheet.cell(top, 2, "Cooperative approach")
    sheet.cell(top, 3, "ITMO")
    sheet.cell(top, 19, "First transfer definition")
    for column, text in ((3, "Unique identifier"), (7, "Metric and quantity"), (11, "ITMO details"),
                         (15, "Authorization")):
        sheet.cell(top + 1, column, text)
    for column, text in enumerate(LEAVES, start=3):
        sheet.cell(top + 2, column, text)
    if actions:
        sheet.cell(top, 20, "Actions")
        sheet.cell(top + 1, 20, "Action details")
        for column, text in enumerate(ACTION_LEAVES, start=20):
            sheet.cell(top + 2, column, text)
    for merge in TEMPLATE_MERGES if actions else HOLDING_MERGES:
        sheet.merge_cells(merge)


def _block(first: int, last: int, party: str = "GHA") -> list[Any]:
    return [f"CA0001-{party}01-{party}-{first}-2023", f"CA0001-{party}01-{party}-{last}-2023", first + 4000,
            last + 4000, "GHG", "NA", last - first + 1, "NA", party, 2023, "Energy", "Energy Distribution",
            "15-Nov-23", "GHA-A6-2023-001", "NDC", "NA"]


def actions_workbook(rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Actions"
    sheet["A2"], sheet["A3"], sheet["B3"], sheet["A4"], sheet["B4"] = (
        "Table 1: Heading", "Party", "GHA", "Reported year", 2024)
    sheet["A5"] = "The annual period from 1 January to 31 December during which actions occurred."
    sheet["A7"] = "Table 2: Actions"
    _headers(sheet, 8, actions=True)
    for number, row in enumerate(rows, start=11):
        for column, value in enumerate(row, start=1):
            sheet.cell(number, column, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def holdings_workbook(rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Holdings"
    sheet["A3"] = "Table3: Holdings"
    _headers(sheet, 4, actions=False)
    for number, row in enumerate(rows, start=7):
        for column, value in enumerate(row, start=1):
            sheet.cell(number, column, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


FIRST_TRANSFER = ["A6-0001", "CA0001", *_block(1, 1000), "Authorization",
                  "20-Feb-24", "First transfer", "GHA", "CHE", "NA", "NA", "Authorization"]
USE = ["A6-0002", "CA0001", *_block(1001, 1500), "Authorization",
       "03-Mar-24", "Use", "NA", "NA", "NA", "GHA", "NA"]


def test_the_actions_template_is_read_with_every_column_and_the_heading() -> None:
    tables = read_draft(actions_workbook([FIRST_TRANSFER, USE]), Medium.XLSX)
    assert tables.submission is not None
    assert (tables.submission["ParticipatingParty"], tables.submission["ReportedYear"]) == ("GHA", 2024)
    first, use = tables.rows["T3"]
    assert (first["CooperativeApproachID"], first["FirstID"], first["LastID"], first["QuantityCO2"]) == (
        "CA0001", 1, 1000, 1000)
    assert first["ActionDateTime"].date().isoformat() == "2024-02-20"  # DD-MMM-YY text
    assert first["AdditionalExplanatoryInformation"] == (
        "AEF V1 Article 6 database record ID: A6-0001; AEF V1 Conversion factor (reporting Party): NA; "
        "AEF V1 First transfer: Authorization")
    assert use["Using/cancellingPartyID"] == "GHA"
    (auth,) = tables.rows["T2"]
    assert auth["FirstTransferDefnForOIMP"] == "Authorization"  # column S
    assert auth["DateOfAuthorization"].isoformat() == "2023-11-15"
    assert tables.origins[("T3", 1)].row == 12


def test_the_holdings_template_is_read_and_its_record_ids_reported_lost() -> None:
    data = holdings_workbook([["H-1", "CA0001", *_block(2001, 2500, "CHE"), "NA"]])
    tables = read_draft(data, Medium.XLSX)
    (holding,) = tables.rows["T4"]
    assert (holding["FirstTransferringPartyID"], holding["FirstID"], holding["Vintage"]) == ("CHE", 2001, 2023)
    assert tables.lost == [("T4", 0, "Article 6 database record ID", "H-1")]
    report = AefDraftCodec().validate(data, medium=Medium.XLSX)
    lost = [f for f in report.findings if f.rule == "AEF.DRAFT.COLUMN_LOST"]
    assert len(lost) == 1 and "'H-1'" in lost[0].message and lost[0].location.cell == "A7"


def test_sector_labels_map_through_a_data_file() -> None:
    data = actions_workbook([FIRST_TRANSFER])
    plain = read_draft(data, Medium.XLSX).rows["T2"][0]
    assert (plain["Sectors"], plain["ActivityType"]) == ("Energy", "Energy Distribution")
    mapped = read_draft(data, Medium.XLSX, vocabulary=VocabularyMap.load("undp-ncr")).rows["T2"][0]
    assert (mapped["Sectors"], mapped["ActivityType"]) == ("Energy generation", "Energy distribution")


def test_a_vocabulary_map_file_is_checked(tmp_path: Path) -> None:
    bad = tmp_path / "map.json"
    bad.write_text(json.dumps({"fields": {"Vintage": {"a": "b"}}}))
    with pytest.raises(VocabularyMapError, match="not a mappable AEF field"):
        VocabularyMap.load(bad)
    with pytest.raises(VocabularyMapError, match="undp-ncr"):
        VocabularyMap.load("no-such-map")


def _cells(data: bytes, sheet_name: str) -> tuple[Any, set[str]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data))[sheet_name]
    return sheet, {str(r) for r in sheet.merged_cells.ranges}


def test_written_workbook_has_the_template_layout_with_numbers_as_numbers() -> None:
    holdings = holdings_workbook([["H-1", "CA0001", *_block(2001, 2500, "CHE"), "NA"]])
    tables = read_draft(actions_workbook([FIRST_TRANSFER, USE]), Medium.XLSX)
    tables.rows["T4"] = read_draft(holdings, Medium.XLSX).rows["T4"]
    written = write_template(tables)
    actions, merges = _cells(written, "Actions")
    assert merges == TEMPLATE_MERGES
    assert (actions["A2"].value, actions["B3"].value, actions["B4"].value, actions["A7"].value) == (
        "Table 1: Heading", "GHA", 2024, "Table 2: Actions")
    assert actions["C10"].value == "First unique identifier" and actions["Z10"].value == "First transfer"
    assert actions["A11"].value == "A6-0001" and actions["C11"].value == "CA0001-GHA01-GHA-1-2023"
    assert actions["I11"].data_type == "n" and actions["I11"].value == 1000
    assert actions["L11"].value == 2023 and actions["E11"].value == 4001
    assert actions["T11"].is_date and actions["T11"].number_format == "dd-mmm-yy"
    holdings_sheet, holding_merges = _cells(written, "Holdings")
    assert holding_merges == HOLDING_MERGES
    assert holdings_sheet["A3"].value == "Table3: Holdings"
    assert holdings_sheet["C7"].value == "CA0001-CHE01-CHE-2001-2023"


def test_the_templates_round_trip() -> None:
    tables = read_draft(actions_workbook([FIRST_TRANSFER, USE]), Medium.XLSX)
    tables.rows["T4"] = read_draft(holdings_workbook([[None, "CA0001", *_block(2001, 2500, "CHE"), "NA"]]),
                                   Medium.XLSX).rows["T4"]
    again = read_draft(write_template(tables), Medium.XLSX)
    assert again.submission == tables.submission
    for table_id in ("T2", "T3", "T4"):
        assert again.rows[table_id] == tables.rows[table_id], table_id


def test_mapped_labels_are_written_back_as_the_registry_labels() -> None:
    vocabulary = VocabularyMap.load("undp-ncr")
    tables = read_draft(actions_workbook([FIRST_TRANSFER]), Medium.XLSX, vocabulary=vocabulary)
    sheet, _ = _cells(write_template(tables, vocabulary=vocabulary), "Actions")
    assert (sheet["M11"].value, sheet["N11"].value) == ("Energy", "Energy Distribution")
    assert read_draft(write_template(tables, vocabulary=vocabulary), Medium.XLSX,
                      vocabulary=vocabulary).rows["T2"] == tables.rows["T2"]


def test_an_aef_v2_report_translates_to_the_templates_and_names_what_they_cannot_hold() -> None:
    data = (ROOT / "standards/examples/aef-v2-report.json").read_bytes()
    document = AEF.parse(data, medium=Medium.JSON).document
    result = AefDraftCodec().serialize(document, medium=Medium.XLSX)
    lost = {loss.field for loss in result.losses}
    assert "Actions.ActionSubtype" in lost and "Submission.SubmissionVersion" in lost
    tables = read_draft(result.data, Medium.XLSX)
    source = AEF.parse(data, medium=Medium.JSON)
    assert len(tables.rows["T3"]) == len(source.document.actions)
    assert tables.rows["T3"][0]["QuantityCO2"] == Decimal(
        json.loads(data)["Actions"][0]["QuantityCO2"])
    with pytest.raises(Exception, match="XLSX"):
        AefDraftCodec().serialize(document, medium=Medium.CSV)
