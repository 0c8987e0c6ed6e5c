"""AEF V2 CSV medium: round trips, table detection, header errors, locations."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from standards.aef.cells import AefHeaderError, AefWriteError
from standards.aef.csvio import read_csv, write_csv
from standards.aef.tables import TABLES, AefTables
from standards.errors import MalformedInput
from standards.tabular import pack_csv_directory
from tests.standards.aef_media_samples import blank, sample_tables, tables_strategy, zip_members


def _round_trip(tables: AefTables) -> AefTables:
    return read_csv(zip_members(write_csv(tables)))


def test_round_trip_of_every_table_through_a_zip() -> None:
    tables = sample_tables()
    back = _round_trip(tables)
    assert back.submission == tables.submission
    assert back.rows == tables.rows


def test_written_file_names_and_only_non_empty_tables() -> None:
    tables = sample_tables()
    tables.rows["T5"] = []
    files = write_csv(tables)
    assert sorted(files) == ["T1_Submission.csv", "T2_Authorizations.csv", "T3_Actions.csv", "T4_Holdings.csv"]


def test_written_forms_dates_datetimes_decimals_and_escaping() -> None:
    text = write_csv(sample_tables())["T3_Actions.csv"].decode("utf-8-sig")
    header, first = text.split("\r\n")[:2]
    assert header.startswith("Action date,Action type,Action subtype,Cooperative approach ID")
    assert first.startswith("2024-03-15T10:30:00Z,First transfer,,CA0001,AUTH-1,GHA,GHA01,1,1000,NA,")
    assert ",1000.25," in first  # Decimal exactly as held, no float artefact
    assert first.endswith(',"\'=HYPERLINK(""http://x"")"')  # formula text gets the apostrophe
    t1 = write_csv(sample_tables())["T1_Submission.csv"].decode("utf-8-sig")
    assert "Date of submission,01/04/2025\r\n" in t1


def test_cn_headers_are_accepted_and_written_on_request() -> None:
    tables = sample_tables()
    files = write_csv(tables, headers="cn")
    assert files["T3_Actions.csv"].decode("utf-8-sig").startswith("ActionDateTime,ActionType,")
    assert read_csv(files["T3_Actions.csv"]).rows["T3"] == tables.rows["T3"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables_strategy())
def test_round_trip_of_generated_tables(tables: AefTables) -> None:
    back = _round_trip(tables) if write_csv(tables) else AefTables()
    assert back.submission == tables.submission
    assert back.rows == tables.rows


@pytest.mark.parametrize("table_id", ["T2", "T3", "T4", "T5"])
def test_single_file_table_is_detected_from_its_header(table_id: str) -> None:
    tables = sample_tables()
    data = write_csv(tables)[f"{table_id}_{TABLES[table_id].key}.csv"]
    back = read_csv(data)
    assert back.rows[table_id] == tables.rows[table_id]
    assert all(back.rows[t] == [] for t in back.rows if t != table_id)


def test_single_t1_file_is_detected_from_its_labels() -> None:
    data = write_csv(sample_tables())["T1_Submission.csv"]
    assert read_csv(data).submission == sample_tables().submission


def test_semicolon_headers_in_other_case_and_both_date_forms() -> None:
    header = ";".join(f.label.upper() for f in TABLES["T5"].fields)
    data = (header + "\n" + "2023-05-02;Klima AG;CHE;X1;CA0001;;;\n" + "02/05/2023;B;GHA;X2;CA0002;;;\n").encode()
    rows = read_csv(data).rows["T5"]
    assert [r["DateOfAuthorization"] for r in rows] == [date(2023, 5, 2), date(2023, 5, 2)]


def test_action_date_read_from_template_and_iso_forms() -> None:
    header = ",".join(f.cn for f in TABLES["T3"].fields)
    empty = "," * (len(TABLES["T3"].fields) - 1)
    lines = [header] + [value + empty for value in
                        ("15/03/2024", "2024-03-15T10:30:00.250Z", "2024-03-15T12:30:00+02:00", "31/02/2024")]
    rows = read_csv("\n".join(lines).encode()).rows["T3"]
    assert [r["ActionDateTime"] for r in rows] == [
        datetime(2024, 3, 15, tzinfo=UTC), datetime(2024, 3, 15, 10, 30, 0, 250000, tzinfo=UTC),
        datetime(2024, 3, 15, 10, 30, tzinfo=UTC), "31/02/2024"]  # an impossible date stays text


def test_values_that_do_not_parse_are_kept_as_text_for_validation() -> None:
    tables = sample_tables()
    data = write_csv(tables)["T4_Holdings.csv"].decode("utf-8-sig").replace(",3000.75,", ",\"3 000,75\",")
    data = data.replace(",2023\r\n", ",twenty\r\n")
    row = read_csv(data.encode()).rows["T4"][0]
    assert row["QuantityCO2"] == "3 000,75" and row["Vintage"] == "twenty"


def test_unknown_and_missing_columns_are_named() -> None:
    labels = [f.label for f in TABLES["T5"].fields]
    labels[1] = "Nom"
    with pytest.raises(AefHeaderError) as caught:
        read_csv((",".join(labels) + "\n" + "," * 7 + "\n").encode())
    assert caught.value.code == "AEF.CSV_HEADER"
    assert "column 2 'Nom'" in caught.value.message and "missing column(s) 'Name'" in caught.value.message


def test_repeated_column_is_refused() -> None:
    labels = [f.label for f in TABLES["T5"].fields] + ["Name"]
    with pytest.raises(AefHeaderError, match="repeated column"):
        read_csv((",".join(labels) + "\n").encode())


def test_header_of_no_table_is_refused() -> None:
    with pytest.raises(AefHeaderError, match="names no column of any AEF table"):
        read_csv(b"foo,bar,baz\n1,2,3\n")


def test_t1_with_unknown_or_missing_label_is_refused() -> None:
    text = write_csv(sample_tables())["T1_Submission.csv"].decode("utf-8-sig")
    with pytest.raises(AefHeaderError) as caught:
        read_csv(text.replace("Reported year", "Reporting yr").encode(), )
    assert "unknown label(s) line 3 'Reporting yr'" in caught.value.message
    assert "missing label(s) 'Reported year'" in caught.value.message


def test_two_files_for_one_table_in_a_zip_are_refused() -> None:
    files = write_csv(sample_tables())
    data = zip_members({"T3_Actions.csv": files["T3_Actions.csv"], "T3_more.csv": files["T3_Actions.csv"]})
    with pytest.raises(MalformedInput) as caught:
        read_csv(data)
    assert caught.value.code == "AEF.CSV_DUPLICATE_TABLE"


def test_file_name_decides_between_t3_and_t4_shaped_headers() -> None:
    t4 = write_csv(sample_tables())["T4_Holdings.csv"]
    back = read_csv(zip_members({"t4 holdings december.csv": t4}))
    assert len(back.rows["T4"]) == 1 and back.rows["T3"] == []
    with pytest.raises(AefHeaderError, match="missing column"):
        read_csv(zip_members({"T3_wrong.csv": t4}))  # a T4 header under a T3 name lacks the action columns


def test_locations_point_at_csv_lines_counting_multiline_cells() -> None:
    tables = sample_tables()
    tables.rows["T3"][0]["AdditionalExplanatoryInformation"] = "line one\nline two\nline three"
    back = read_csv(write_csv(tables)["T3_Actions.csv"])
    assert [back.origins[("T3", i)].line for i in range(3)] == [2, 5, 6]
    location = back.location("T3", 2, "QuantityCO2")
    assert location.line == 6 and location.pointer == "/Actions/2/QuantityCO2"
    assert location.render() == "line 6 /Actions/2/QuantityCO2"


def test_blank_lines_are_skipped_and_counted() -> None:
    text = write_csv(sample_tables())["T5_AuthorizedEntities.csv"].decode("utf-8-sig")
    header, row = text.split("\r\n")[:2]
    back = read_csv(f"\r\n{header}\r\n\r\n{row}\r\n,,,,,,,\r\n".encode())
    assert len(back.rows["T5"]) == 1 and back.origins[("T5", 0)].line == 4


def test_folder_packed_by_the_cli_reads_back(tmp_path: Path) -> None:
    for name, content in write_csv(sample_tables()).items():
        (tmp_path / name).write_bytes(content)
    (tmp_path / "notes.txt").write_text("ignored: not a CSV")
    back = read_csv(pack_csv_directory(tmp_path))
    assert back.rows == sample_tables().rows and back.submission == sample_tables().submission


def test_rows_with_fields_of_another_table_are_not_written_silently() -> None:
    tables = sample_tables()
    tables.rows["T4"][0]["ActionType"] = "Transfer"
    with pytest.raises(AefWriteError, match="'ActionType'"):
        write_csv(tables)


def test_large_decimal_and_serial_survive_exactly() -> None:
    tables = AefTables()
    tables.rows["T4"].append(blank("T4") | {"FirstID": 10**22 + 1, "LastID": 10**22 + 7,
                                            "QuantityCO2": Decimal("12345678901234567890.123456")})
    assert _round_trip(tables).rows["T4"] == tables.rows["T4"]


def test_date_columns_accept_midnight_iso_datetimes_only() -> None:
    header = ",".join(f.label for f in TABLES["T5"].fields)
    values = ("2023-05-02T00:00:00Z", "2023-05-02T00:00:00", "2023-05-02T09:00:00Z", "2023-05-02T00:00+01:00")
    lines = [header] + [f"{value},N,CHE,X,CA0001,,," for value in values]
    rows = read_csv("\n".join(lines).encode()).rows["T5"]
    assert [r["DateOfAuthorization"] for r in rows] == [
        date(2023, 5, 2), date(2023, 5, 2), "2023-05-02T09:00:00Z", "2023-05-02T00:00+01:00"]


def test_t1_fields_point_at_their_own_csv_line() -> None:
    text = write_csv(sample_tables())["T1_Submission.csv"].decode("utf-8-sig")
    back = read_csv(("\r\n" + text).encode())  # a leading blank line shifts every label by one
    assert back.location("T1", 0, "ReportedYear").line == 4
    assert back.location("T1", 0, "DateOfSubmission").render() == "line 5 /Submission/DateOfSubmission"
    assert back.location("T1", 0).line == 2


def test_value_under_a_blank_header_is_refused_not_dropped() -> None:
    header = ",".join(f.label for f in TABLES["T5"].fields) + ",,"
    data = f"{header}\n02/05/2023,N,CHE,X,CA0001,,,,,\n02/05/2023,N,CHE,X,CA0001,,,,lost?,\n".encode()
    with pytest.raises(AefHeaderError) as caught:
        read_csv(data)
    assert caught.value.code == "AEF.CSV_UNNAMED_COLUMN" and "line 3" in caught.value.message
    assert "column 9" in caught.value.message


def test_t1_padded_with_empty_columns_is_read() -> None:
    text = write_csv(sample_tables())["T1_Submission.csv"].decode("utf-8-sig")
    padded = "".join(line + ",,\r\n" for line in text.split("\r\n") if line)
    assert read_csv(padded.encode()).submission == sample_tables().submission
