"""The spreadsheet adapter: declarative mappings, parsing CSV/XLSX, streaming, serializing with losses."""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import openpyxl
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import AdapterCatalog, check_adapter, default_catalog
from adapters.spreadsheet import MAX_FINDINGS, RULES, SpreadsheetAdapter
from adapters.spreadsheet_mapping import (
    DEFAULT_MAPPING,
    ENV_VAR,
    DateFormat,
    MappingError,
    builtin_mappings,
    load_mapping,
    mapping_json_schema,
)
from adapters.translate import translate
from standards.codec import Medium, RecordKind
from standards.errors import InputError, MalformedInput, TranslationError, UnsupportedEncoding
from standards.findings import Finding
from standards.model import Action, ActionType, CanonicalDocument, Metric, Project, UnitBlock, UnitStatus
from tests.support.edge import EdgeEnvironment

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "spreadsheet"
MAPPINGS = Path(__file__).resolve().parents[2] / "adapters" / "mappings"
LEDGER_XLSX = (FIXTURES / "itmo-ledger.xlsx").read_bytes()
BLOCKS_CSV = (FIXTURES / "credit-blocks.csv").read_bytes()


@pytest.fixture(scope="module")
def ledger() -> SpreadsheetAdapter:
    return SpreadsheetAdapter("ministry-itmo-ledger")


@pytest.fixture(scope="module")
def blocks() -> SpreadsheetAdapter:
    return SpreadsheetAdapter("credit-block-ledger")


def rules_of(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]


def only(findings: list[Finding], rule: str) -> Finding:
    hits = [f for f in findings if f.rule == rule]
    assert len(hits) == 1, [f.as_dict() for f in findings]
    return hits[0]


def mapping_dict(name: str) -> dict[str, Any]:
    data = yaml.safe_load((MAPPINGS / f"{name}.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def blocks_with(header: str, rows: list[str]) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")


BLOCK_HEADER = BLOCKS_CSV.decode("utf-8").splitlines()[0]
BLOCK_ROWS = BLOCKS_CSV.decode("utf-8").splitlines()[1:]


# --------------------------------------------------------------------------- mappings


def test_built_in_mappings_load_and_declare_what_they_read() -> None:
    assert builtin_mappings() == ["credit-block-ledger", "ministry-itmo-ledger"]
    assert DEFAULT_MAPPING in builtin_mappings()
    ledger = SpreadsheetAdapter("ministry-itmo-ledger")
    blocks = SpreadsheetAdapter("credit-block-ledger")
    assert RecordKind.TRANSFERS in ledger.reads and RecordKind.UNIT_BLOCKS not in ledger.reads
    assert blocks.reads == blocks.writes == frozenset({RecordKind.UNIT_BLOCKS})
    assert "ministry-itmo-ledger" in ledger.description


def test_published_json_schema_matches_the_model_and_accepts_the_examples() -> None:
    published = json.loads((MAPPINGS / "mapping.schema.json").read_text(encoding="utf-8"))
    assert published == mapping_json_schema(), "regenerate adapters/mappings/mapping.schema.json"
    for name in builtin_mappings():
        jsonschema.validate(mapping_dict(name), published)
    broken = mapping_dict("credit-block-ledger") | {"header_row": 0}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, published)


def test_mapping_adapter_passes_the_plugin_contract() -> None:
    from adapters import spreadsheet

    assert check_adapter(spreadsheet.adapter, "spreadsheet") is spreadsheet.adapter
    assert spreadsheet.adapter.version.count(".") == 2
    assert "SPREADSHEET.QUANTITY_RANGE" in RULES
    assert all(rule.reference for rule in RULES)


def _problems(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(MappingError) as info:
        load_mapping(data)
    assert info.value.code == "SPREADSHEET.MAPPING"
    return dict(info.value.problems)


def test_bad_mapping_keys_are_named() -> None:
    data = mapping_dict("ministry-itmo-ledger")
    data["columns"][1] = {"colum": "Tipo de acción", "field": "action_type"}
    data["header_rwo"] = 3
    problems = _problems(data)
    assert "columns[1].colum" in problems and "unknown key" in problems["columns[1].colum"]
    assert "columns[1].column" in problems and "required" in problems["columns[1].column"]
    assert "header_rwo" in problems


def test_bad_mapping_fields_values_formats_and_patterns_are_named() -> None:
    data = mapping_dict("credit-block-ledger")
    data["columns"][1]["field"] = "project_nmae"
    data["columns"][6]["values"]["Held"] = "holding"
    data["columns"][7]["date_format"] = "dd/dd/yyyy"
    data["columns"][0]["groups"]["ca"] = "cooperative_approach"
    data["defaults"]["vintage"] = "twenty"
    problems = _problems(data)
    assert "did you mean 'project_name'" in problems["columns[1].field"]
    assert "'holding' is not one of" in problems["columns[6].values['Held']"]
    assert "not a usable date format" in problems["columns[7].date_format"]
    assert "not a field of a canonical unit_block" in problems["columns[0].groups.ca"]
    assert "not a whole number" in problems["defaults.vintage"]


def test_bad_pattern_and_missing_required_field_are_named() -> None:
    data = mapping_dict("credit-block-ledger")
    data["columns"][0]["pattern"] = "^(?P<first>\\d+"
    assert "not a valid regular expression" in _problems(data)["columns[0].pattern"]
    data = mapping_dict("ministry-itmo-ledger")
    data["columns"] = [c for c in data["columns"] if c["field"] != "date"]
    assert "'date' is required for a action" in _problems(data)["columns"]
    data = mapping_dict("ministry-itmo-ledger")
    data["columns"].append({"column": " fecha ", "field": "additional_information"})
    problems = _problems(data)
    assert any("mapped twice" in m for m in problems.values())


def test_mapping_files_that_are_not_mappings(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\ncolumns: [\n", encoding="utf-8")
    with pytest.raises(MappingError, match="not valid YAML"):
        load_mapping(broken)
    listing = tmp_path / "list.json"
    listing.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(MappingError, match="must be a YAML/JSON object"):
        load_mapping(listing)
    with pytest.raises(MappingError, match="no built-in mapping named 'nope'"):
        load_mapping("nope")
    as_json = tmp_path / "blocks.json"
    as_json.write_text(json.dumps(mapping_dict("credit-block-ledger")), encoding="utf-8")
    assert load_mapping(as_json).name == "credit-block-ledger"


def test_yaml_aliases_and_unquoted_yaml_scalars_are_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                    "name: bomb\nrecord: unit_block\ncolumns: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n",
                    encoding="utf-8")
    with pytest.raises(MappingError, match="aliases"):
        load_mapping(bomb)
    data = mapping_dict("credit-block-ledger")
    data["columns"][6]["values"] = {True: "held"}  # an unquoted Yes in YAML
    problems = _problems(data)
    assert any(key.startswith("columns[6].values") for key in problems)


def test_environment_selects_the_mapping_and_a_bad_one_fails_at_use(
        edge_env: EdgeEnvironment, tmp_path: Path) -> None:
    edge_env.setenv(ENV_VAR, "credit-block-ledger")
    assert SpreadsheetAdapter().mapping.name == "credit-block-ledger"
    custom = tmp_path / "mine.yaml"
    custom.write_text(yaml.safe_dump(mapping_dict("credit-block-ledger") | {"name": "mine"}), encoding="utf-8")
    edge_env.setenv(ENV_VAR, str(custom))
    assert SpreadsheetAdapter().mapping.name == "mine"
    edge_env.setenv(ENV_VAR, str(tmp_path / "missing.yaml"))
    lazy = SpreadsheetAdapter()  # loading must not fail: the registry would lose the adapter
    assert lazy.name == "spreadsheet" and "invalid" in lazy.description
    with pytest.raises(MappingError) as info:
        lazy.parse(BLOCKS_CSV, medium=Medium.CSV)
    assert isinstance(info.value, InputError)
    with pytest.raises(MappingError):
        SpreadsheetAdapter(str(tmp_path / "missing.yaml"))


def test_two_mappings_side_by_side_under_their_own_names() -> None:
    catalog = AdapterCatalog()
    catalog.register(SpreadsheetAdapter("ministry-itmo-ledger"))
    catalog.register(SpreadsheetAdapter("credit-block-ledger", name="vu-blocks"))
    assert catalog.get("vu-blocks").parse(BLOCKS_CSV, medium=Medium.CSV).document.units[0].project_id == "356"
    assert len(catalog.get("spreadsheet").parse(LEDGER_XLSX, medium=Medium.XLSX).document.actions) == 5


def test_date_formats_excel_style_and_strftime() -> None:
    moment = datetime(2024, 3, 5, 7, 8, 9)
    assert DateFormat.compile("dd/mm/yyyy").format(moment) == "05/03/2024"
    assert DateFormat.compile("d/m/yy").format(moment) == "5/3/24"
    assert DateFormat.compile("yyyy-mm-dd hh:mm:ss").format(moment) == "2024-03-05 07:08:09"
    assert DateFormat.compile("%d.%m.%Y").parse("05.03.2024") == datetime(2024, 3, 5)
    assert DateFormat.compile("dd-mmm-yy").parse("05-Mar-24") == datetime(2024, 3, 5)
    for bad in ("yyyy", "mm/yyyy", "dd/dd/yyyy", "%Q"):
        with pytest.raises(ValueError):
            DateFormat.compile(bad)


# --------------------------------------------------------------------------- parsing the samples


def test_parse_ministry_ledger_xlsx(ledger: SpreadsheetAdapter) -> None:
    result = ledger.parse(LEDGER_XLSX, medium=Medium.XLSX)
    assert result.findings == [] and result.valid
    actions = result.document.actions
    assert [a.action_type for a in actions] == [
        ActionType.AUTHORIZATION, ActionType.FIRST_TRANSFER, ActionType.TRANSFER,
        ActionType.VOLUNTARY_CANCELLATION, ActionType.USE]
    first = actions[0]
    assert first.date == datetime(2024, 3, 15)
    assert (first.cooperative_approach, first.registry, first.first_transferring_party) == ("CA0001", "GHA01", "GHA")
    assert (first.first_id, first.last_id, first.quantity, first.vintage) == (1, 5000, Decimal(5000), 2023)
    assert first.metric is Metric.GHG  # from the mapping's defaults
    assert first.mitigation_type == "Emission reductions"
    assert first.units is not None and (first.units.registry, first.units.first_id) == ("VCS", 941467007)
    assert first.extra == {"Funcionario": "K.A."}
    assert actions[1].date == datetime(2024, 5, 2)  # typed as text dd/mm/yyyy in the workbook
    assert actions[2].acquiring_party == "SWE"  # alpha-2 'SE'
    assert actions[4].using_party == "SWE" and actions[4].ndc_year == 2030  # name 'Sweden'


def test_parse_credit_block_csv_splits_the_serial(blocks: SpreadsheetAdapter) -> None:
    result = blocks.parse(BLOCKS_CSV, medium=Medium.CSV)
    assert result.findings == []
    units = result.document.units
    assert len(units) == 5
    block = units[2]
    assert block.serial == "CA0004-VU-CH-356-3001-5000-2024"
    assert (block.first_id, block.last_id, block.quantity) == (3001, 5000, Decimal(2000))
    assert (block.project_id, block.vintage, block.country) == ("356", 2024, "VUT")
    assert block.extra == {"cooperative_approach": "CA0004", "first_transferring_party": "CH",
                           "cadTrustIssuanceId": "0d4b9f3e-8c21-47a6-b5e0-93c7a2f41d20",
                           "unitMetric": "tCO2e", "Block ID": "BLK-000131"}
    assert block.registry == "Vanuatu National Carbon Registry"
    assert units[3].status is UnitStatus.RETIRED and units[3].status_date == date(2025, 3, 14)  # dd.mm.yyyy


def test_validate_reports_the_same_findings(blocks: SpreadsheetAdapter) -> None:
    report = blocks.validate(BLOCKS_CSV, medium=Medium.CSV)
    assert report.valid and report.records == 5


# --------------------------------------------------------------------------- bad input


def test_wrong_columns(blocks: SpreadsheetAdapter) -> None:
    header = BLOCK_HEADER.replace("Credits", "Quantity").replace("Holder Account", "Account No")
    result = blocks.parse(blocks_with(header, BLOCK_ROWS), medium=Medium.CSV)
    missing = only(result.findings, "SPREADSHEET.COLUMN_MISSING")
    assert "'Credits'" in missing.message and missing.location.line == 1
    absent = only(result.findings, "SPREADSHEET.COLUMN_ABSENT")
    assert "'Holder Account'" in absent.message and not absent.is_error
    assert result.document.units == [] and not result.valid


def test_header_match_ignores_case_and_spaces_unless_exact(blocks: SpreadsheetAdapter) -> None:
    header = BLOCK_HEADER.replace("Serial Number", "serial  number ")
    assert blocks.parse(blocks_with(header, BLOCK_ROWS), medium=Medium.CSV).valid
    exact = SpreadsheetAdapter(mapping_dict("credit-block-ledger") | {"header_match": "exact"})
    result = exact.parse(blocks_with(header, BLOCK_ROWS), medium=Medium.CSV)
    assert "SPREADSHEET.COLUMN_MISSING" in rules_of(result.findings)


def test_duplicate_header_and_unmapped_column_policies(blocks: SpreadsheetAdapter) -> None:
    header = BLOCK_HEADER + ",Credits"
    rows = [r + ",1" for r in BLOCK_ROWS]
    dup = only(blocks.parse(blocks_with(header, rows), medium=Medium.CSV).findings, "SPREADSHEET.HEADER_DUPLICATE")
    assert "columns F, L" in dup.message
    strict = SpreadsheetAdapter(mapping_dict("credit-block-ledger") | {"unmapped_columns": "error"})
    finding = only(strict.parse(BLOCKS_CSV, medium=Medium.CSV).findings, "SPREADSHEET.COLUMN_UNMAPPED")
    assert finding.is_error and "'Block ID'" in finding.message
    lenient = SpreadsheetAdapter(mapping_dict("credit-block-ledger") | {"unmapped_columns": "ignore"})
    result = lenient.parse(BLOCKS_CSV, medium=Medium.CSV)
    assert result.valid and "Block ID" not in result.document.units[0].extra
    assert only(result.findings, "SPREADSHEET.COLUMN_UNMAPPED").severity.value == "info"


def test_bad_serial_points_at_the_line_and_field(blocks: SpreadsheetAdapter) -> None:
    rows = list(BLOCK_ROWS)
    rows[2] = rows[2].replace("CA0004-VU-CH-356-3001-5000-2024", "CA0004-VU-CH-356-3001-5000")
    result = blocks.parse(blocks_with(BLOCK_HEADER, rows), medium=Medium.CSV)
    finding = only(result.findings, "SPREADSHEET.SERIAL_PATTERN")
    assert finding.location.line == 4 and finding.location.pointer == "/units/2/serial"
    assert "CA0004-VU-CH-356-3001-5000" in finding.message
    assert len(result.document.units) == 4 and not result.valid


def test_quantity_must_match_the_serial_range(blocks: SpreadsheetAdapter) -> None:
    rows = list(BLOCK_ROWS)
    rows[0] = rows[0].replace(",2000,Held", ",1999,Held")
    finding = only(blocks.parse(blocks_with(BLOCK_HEADER, rows), medium=Medium.CSV).findings,
                   "SPREADSHEET.QUANTITY_RANGE")
    assert "1999" in finding.message and "2000 serials 1 to 2000" in finding.message
    assert finding.location.pointer == "/units/0/quantity"
    rows = list(BLOCK_ROWS)
    rows[0] = rows[0].replace("CA0004-VU-CH-356-1-2000-2023", "CA0004-VU-CH-356-2000-1-2023")
    assert "SPREADSHEET.RANGE_ORDER" in rules_of(
        blocks.parse(blocks_with(BLOCK_HEADER, rows), medium=Medium.CSV).findings)


def test_cell_level_problems_each_get_a_coded_finding(blocks: SpreadsheetAdapter) -> None:
    rows = [
        BLOCK_ROWS[0].replace(",Held,", ",Frozen,"),
        BLOCK_ROWS[1].replace("2024-05-03", "May 3rd"),
        BLOCK_ROWS[2].replace(",2000,", ",two thousand,"),
        BLOCK_ROWS[3].replace("CA0004-VU-CH", "CA0004-QQ-CH"),
        BLOCK_ROWS[4].replace("Nakamal Energy Cooperative", ""),
    ]
    result = blocks.parse(blocks_with(BLOCK_HEADER, rows), medium=Medium.CSV)
    assert rules_of(result.findings) == ["SPREADSHEET.VALUE_UNMAPPED", "SPREADSHEET.DATE", "SPREADSHEET.NUMBER",
                                         "SPREADSHEET.PARTY", "SPREADSHEET.REQUIRED_EMPTY"]
    assert [f.location.line for f in result.findings] == [2, 3, 4, 5, 6]
    assert "'Frozen'" in result.findings[0].message and "'Held'" in result.findings[0].message
    assert "yyyy-mm-dd or dd.mm.yyyy" in result.findings[1].message
    assert result.document.units == []


def test_canonical_model_limits_become_findings(blocks: SpreadsheetAdapter) -> None:
    rows = [BLOCK_ROWS[0].replace("-2023,", "-1850,", 1)]
    finding = only(blocks.parse(blocks_with(BLOCK_HEADER, rows), medium=Medium.CSV).findings,
                   "SPREADSHEET.FIELD_INVALID")
    assert "'Serial Number'" in finding.message and finding.location.pointer == "/units/0/vintage"


def test_xlsx_findings_point_at_sheet_cells(ledger: SpreadsheetAdapter) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(LEDGER_XLSX))
    ws = wb["Libro ITMO"]
    ws["B5"] = "Transferido"
    ws["I6"] = 999
    ws["A7"] = 45000  # a date typed as an Excel day number
    ws["A7"].number_format = "General"
    out = io.BytesIO()
    wb.save(out)
    result = ledger.parse(out.getvalue(), medium=Medium.XLSX)
    unmapped = only(result.findings, "SPREADSHEET.VALUE_UNMAPPED")
    assert unmapped.location.render() == "Libro ITMO!B5"
    quantity = only(result.findings, "SPREADSHEET.QUANTITY_RANGE")
    assert quantity.location.render() == "Libro ITMO!I6"
    serial_date = only(result.findings, "SPREADSHEET.DATE_SERIAL")
    assert serial_date.location.render() == "Libro ITMO!A7" and "2023-03-15" in serial_date.message
    assert len(result.document.actions) == 3


def test_missing_sheet_and_missing_header_row(ledger: SpreadsheetAdapter) -> None:
    other = SpreadsheetAdapter(mapping_dict("ministry-itmo-ledger") | {"sheet": "Ledger 2025"})
    finding = only(other.parse(LEDGER_XLSX, medium=Medium.XLSX).findings, "SPREADSHEET.SHEET_MISSING")
    assert "Libro ITMO" in finding.message and "Notas" in finding.message
    short = SpreadsheetAdapter(mapping_dict("credit-block-ledger") | {"header_row": 40})
    assert "SPREADSHEET.HEADER_MISSING" in rules_of(short.parse(BLOCKS_CSV, medium=Medium.CSV).findings)
    empty_rows = SpreadsheetAdapter("credit-block-ledger").parse(BLOCK_HEADER.encode(), medium=Medium.CSV)
    assert rules_of(empty_rows.findings) == ["SPREADSHEET.NO_RECORDS"]


def test_truncated_and_broken_files_raise_coded_input_errors(ledger: SpreadsheetAdapter,
                                                             blocks: SpreadsheetAdapter) -> None:
    with pytest.raises(MalformedInput) as info:
        blocks.parse(BLOCKS_CSV[: len(BLOCKS_CSV) - 40], medium=Medium.CSV)
    assert info.value.code == "INPUT.CSV_RAGGED" and "line 6" in info.value.message
    with pytest.raises(MalformedInput) as info:
        blocks.parse(BLOCKS_CSV + b'CA0004-VU-CH-1-1-1-2024,"unterminated\n', medium=Medium.CSV)
    assert info.value.code == "INPUT.CSV"
    with pytest.raises(InputError) as xinfo:
        ledger.parse(LEDGER_XLSX[: len(LEDGER_XLSX) // 2], medium=Medium.XLSX)
    assert xinfo.value.code.startswith("INPUT.")
    with pytest.raises(InputError):
        ledger.parse(b"", medium=Medium.XLSX)
    with pytest.raises(InputError):
        blocks.parse(b"", medium=Medium.CSV)


def test_mixed_encodings_are_refused_and_legacy_encodings_are_opt_in(blocks: SpreadsheetAdapter) -> None:
    mixed = BLOCKS_CSV.replace(b"Efate Solar", "Éfaté Solar".encode("latin-1"), 1)
    with pytest.raises(UnsupportedEncoding):
        blocks.parse(mixed, medium=Medium.CSV)
    windows = SpreadsheetAdapter(mapping_dict("credit-block-ledger") | {"csv": {"encoding": "cp1252"}})
    text = BLOCKS_CSV.decode("utf-8").replace("Efate Solar", "Éfaté Solar – €")
    result = windows.parse(text.encode("cp1252"), medium=Medium.CSV)
    assert result.valid and result.document.units[0].project_name == "Éfaté Solar – € Mini-grids"
    out = windows.serialize(result.document, medium=Medium.CSV)
    assert "Éfaté Solar – €".encode("cp1252") in out.data


def test_finding_flood_is_capped(blocks: SpreadsheetAdapter) -> None:
    rows = [BLOCK_ROWS[0].replace(",Held,", ",Frozen,")] * (MAX_FINDINGS + 50)
    result = blocks.parse(blocks_with(BLOCK_HEADER, rows), medium=Medium.CSV)
    assert len(result.findings) == MAX_FINDINGS + 1
    assert result.findings[-1].rule == "SPREADSHEET.TOO_MANY_FINDINGS" and not result.valid


def test_unnamed_column_with_values_is_reported(blocks: SpreadsheetAdapter) -> None:
    rows = [r + ",stray note" for r in BLOCK_ROWS]
    result = blocks.parse(blocks_with(BLOCK_HEADER + ",", rows), medium=Medium.CSV)
    finding = only(result.findings, "SPREADSHEET.COLUMN_UNNAMED")
    assert "column L" in finding.message and result.valid


def test_medium_outside_the_adapter_is_refused(blocks: SpreadsheetAdapter) -> None:
    with pytest.raises(Exception) as info:
        blocks.parse(b"{}", medium=Medium.JSON)
    assert getattr(info.value, "code", "") == "FORMAT.UNKNOWN"


def test_other_record_kinds_through_an_inline_mapping() -> None:
    projects = SpreadsheetAdapter({
        "name": "project-list", "record": "project",
        "columns": [{"column": "Código", "field": "project_id", "required": True},
                    {"column": "Nombre", "field": "name"},
                    {"column": "País", "field": "country", "party_format": "name"},
                    {"column": "Registrado", "field": "status_date", "date_format": "d/m/yyyy"}],
    })
    assert projects.reads == frozenset({RecordKind.PROJECTS})
    data = "Código;Nombre;País;Registrado\nP-001;Parque eólico;CL;5/1/2024\n".encode()
    result = projects.parse(data, medium=Medium.CSV)
    assert result.findings == []
    assert result.document.projects == [Project(project_id="P-001", name="Parque eólico", country="CHL",
                                                status_date=date(2024, 1, 5))]
    out = projects.serialize(result.document, medium=Medium.CSV)
    assert out.data.decode("utf-8-sig").splitlines()[1] == "P-001,Parque eólico,Chile,5/1/2024"


def test_ministry_ledger_as_csv_reads_decimal_comma_and_thousands_dot(ledger: SpreadsheetAdapter) -> None:
    document = ledger.parse(LEDGER_XLSX, medium=Medium.XLSX).document
    text = ledger.serialize(document, medium=Medium.CSV).data.decode("utf-8-sig")
    assert ";5000;5000;2023;" in text
    grouped = text.replace(";5000;5000;2023;", ";5000;5.000;2023;", 1)
    assert ledger.parse(grouped.encode(), medium=Medium.CSV).document == document
    wrong = text.replace(";5000;5000;2023;", ";5000;5,000;2023;", 1)  # 5,000 is five here
    finding = only(ledger.parse(wrong.encode(), medium=Medium.CSV).findings, "SPREADSHEET.QUANTITY_RANGE")
    assert finding.location.line == 4 and "quantity 5.000 differs" in finding.message


# --------------------------------------------------------------------------- serializing


def test_serialize_round_trips_the_samples_in_both_media(ledger: SpreadsheetAdapter,
                                                         blocks: SpreadsheetAdapter) -> None:
    for adapter, data, medium in ((ledger, LEDGER_XLSX, Medium.XLSX), (blocks, BLOCKS_CSV, Medium.CSV)):
        document = adapter.parse(data, medium=medium).document
        for target in (Medium.CSV, Medium.XLSX):
            out = adapter.serialize(document, medium=target)
            assert out.losses == [] and out.findings == []
            again = adapter.parse(out.data, medium=target)
            assert again.findings == [] and again.document == document
            if target is Medium.CSV:  # XLSX files carry a creation time, so only CSV bytes can repeat
                assert adapter.serialize(again.document, medium=target).data == out.data


def test_written_csv_follows_the_mapping(blocks: SpreadsheetAdapter, ledger: SpreadsheetAdapter) -> None:
    out = blocks.serialize(blocks.parse(BLOCKS_CSV, medium=Medium.CSV).document, medium=Medium.CSV)
    lines = out.data.decode("utf-8-sig").splitlines()
    assert lines[0] == BLOCK_HEADER
    assert lines[4].split(",")[0] == "CA0004-VU-CH-412-1-750-2024"
    assert ",2025-03-14," in lines[4]  # dd.mm.yyyy was read; the first format is written
    text = ledger.serialize(ledger.parse(LEDGER_XLSX, medium=Medium.XLSX).document,
                            medium=Medium.CSV).data.decode("utf-8-sig").splitlines()
    assert text[0].startswith("Registro Nacional de Mitigación") and text[2].startswith("Fecha;Tipo de acción;")
    assert text[4].startswith("02/05/2024;Primera transferencia;CA0001;")


def test_written_xlsx_has_real_dates_and_text_never_becomes_a_formula(ledger: SpreadsheetAdapter) -> None:
    document = ledger.parse(LEDGER_XLSX, medium=Medium.XLSX).document
    document.actions[0].additional_information = "=HYPERLINK(\"http://evil\",\"x\")"
    out = ledger.serialize(document, medium=Medium.XLSX)
    ws = openpyxl.load_workbook(io.BytesIO(out.data))["Libro ITMO"]
    assert ws["A1"].value == "Registro Nacional de Mitigación - Libro de ITMO"
    assert ws["A4"].value == datetime(2024, 3, 15) and ws["A4"].number_format == "dd/mm/yyyy"
    info_col = next(c.column for c in ws[3] if c.value == "Observaciones")
    cell = ws.cell(row=4, column=info_col)
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
    again = ledger.parse(out.data, medium=Medium.XLSX).document
    assert again.actions[0].additional_information == document.actions[0].additional_information


def test_csv_text_that_looks_like_a_formula_is_escaped_and_read_back(blocks: SpreadsheetAdapter) -> None:
    document = blocks.parse(BLOCKS_CSV, medium=Medium.CSV).document
    document.units[0].owner = "=cmd|' /C calc'!A0"
    out = blocks.serialize(document, medium=Medium.CSV)
    assert b",'=cmd|" in out.data
    assert blocks.parse(out.data, medium=Medium.CSV).document.units[0].owner == "=cmd|' /C calc'!A0"


def test_unwritable_text_is_a_coded_error_not_a_corrupt_file(blocks: SpreadsheetAdapter) -> None:
    document = blocks.parse(BLOCKS_CSV, medium=Medium.CSV).document
    document.units[1].owner = "Bell\x07 Ltd"
    with pytest.raises(TranslationError) as info:
        blocks.serialize(document, medium=Medium.XLSX)
    assert info.value.code == "OUTPUT.UNWRITABLE_CELL"
    document.units[1].owner = "Ōkubo 大久保"
    windows = SpreadsheetAdapter(mapping_dict("credit-block-ledger") | {"csv": {"encoding": "cp1252"}})
    with pytest.raises(TranslationError) as info:
        windows.serialize(document, medium=Medium.CSV)
    assert "line 3" in info.value.message and "cp1252" in info.value.message


def test_losses_name_every_field_and_record_the_mapping_cannot_hold(blocks: SpreadsheetAdapter) -> None:
    document = CanonicalDocument(
        units=[
            UnitBlock(serial="CA0004-VU-CH-356-1-10-2023", first_id=1, last_id=10, quantity=Decimal(10),
                      vintage=2023, country="VUT", project_id="356", owner="A", status=UnitStatus.HELD,
                      beneficiary="Town of Port Vila", link="https://registry.example/b/1",
                      registry="Vanuatu National Carbon Registry",
                      extra={"cooperative_approach": "CA0004", "first_transferring_party": "CH"}),
            UnitBlock(serial="CA0004-VU-CH-356-11-20-2023", first_id=11, last_id=20, quantity=Decimal(10),
                      vintage=2023, country="VUT", project_id="356", owner="B", status=UnitStatus.HELD,
                      registry="Another Registry",
                      extra={"cooperative_approach": "CA0004", "first_transferring_party": "CH"}),
        ],
        projects=[Project(project_id="356", name="Efate Solar")],
        actions=[Action(action_type=ActionType.ISSUANCE, date=datetime(2024, 1, 1))],
    )
    out = blocks.serialize(document, medium=Medium.CSV)
    losses = {loss.field: loss for loss in out.losses}
    assert set(losses) == {"projects", "actions", "units.beneficiary", "units.link", "units.registry"}
    assert losses["projects"].records == ("projects[0]",)
    assert losses["units.beneficiary"].records == ("units[0]",)
    assert losses["units.registry"].records == ("units[1]",)  # only the one that differs from the default
    assert "fixes registry" in losses["units.registry"].reason


def test_serial_rebuilt_from_parts_when_the_record_has_none(blocks: SpreadsheetAdapter) -> None:
    unit = UnitBlock(first_id=5, last_id=9, quantity=Decimal(5), vintage=2025, country="VUT",
                     project_id="77", owner="X", status=UnitStatus.RETIRED,
                     extra={"cooperative_approach": "CA0009", "first_transferring_party": "JP"})
    out = blocks.serialize(CanonicalDocument(units=[unit]), medium=Medium.CSV)
    assert out.losses == []
    assert b"CA0009-VU-JP-77-5-9-2025," in out.data
    foreign = unit.model_copy(update={"serial": "VCS-123"})
    out = blocks.serialize(CanonicalDocument(units=[foreign]), medium=Medium.CSV)
    assert [loss.field for loss in out.losses] == ["units.serial"]
    assert b"CA0009-VU-JP-77-5-9-2025," in out.data
    no_parts = UnitBlock(serial="VCS-123", owner="X", quantity=Decimal(1), status=UnitStatus.HELD)
    out = blocks.serialize(CanonicalDocument(units=[no_parts]), medium=Medium.CSV)
    assert rules_of(out.findings) == ["SPREADSHEET.SERIAL_PATTERN"]


def test_time_of_day_and_unmapped_values_are_not_dropped_silently(ledger: SpreadsheetAdapter) -> None:
    document = ledger.parse(LEDGER_XLSX, medium=Medium.XLSX).document
    document.actions[1].date = datetime(2024, 5, 2, 14, 30)
    document.actions[2].gwp_values = "AR5"
    out = ledger.serialize(document, medium=Medium.CSV)
    losses = {loss.field: loss.records for loss in out.losses}
    assert losses == {"actions.date": ("actions[1]",), "actions.gwp_values": ("actions[2]",)}
    document.actions[3].action_type = ActionType.ACQUISITION
    ledger_without = mapping_dict("ministry-itmo-ledger")
    ledger_without["columns"][1]["values"].pop("Adquisición")
    out = SpreadsheetAdapter(ledger_without).serialize(document, medium=Medium.CSV)
    finding = only(out.findings, "SPREADSHEET.VALUE_NO_NATIVE")
    assert "'Acquisition'" in finding.message and finding.location.pointer == "/actions/3"


# --------------------------------------------------------------------------- streaming


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


def test_iter_records_streams_the_same_records(blocks: SpreadsheetAdapter, ledger: SpreadsheetAdapter) -> None:
    expected = blocks.parse(BLOCKS_CSV, medium=Medium.CSV).document.units
    findings: list[Finding] = []
    streamed = list(blocks.iter_records(iter(_chunks(BLOCKS_CSV, 7)), medium=Medium.CSV, findings=findings))
    assert streamed == expected and findings == []
    assert list(blocks.iter_records(io.BytesIO(BLOCKS_CSV), medium=Medium.CSV)) == expected
    xlsx = list(ledger.iter_records(iter(_chunks(LEDGER_XLSX, 1000)), medium=Medium.XLSX))
    assert xlsx == ledger.parse(LEDGER_XLSX, medium=Medium.XLSX).document.actions


def test_iter_records_is_lazy_and_reports_findings(blocks: SpreadsheetAdapter) -> None:
    def endless() -> Any:
        yield (BLOCK_HEADER + "\n").encode()
        n = 0
        while True:
            n += 1
            yield f"CA0004-VU-CH-9-{n}-{n}-2024,P,Reduction - technical,H,A,1,Held,2024-01-01,r,i,{n}\n".encode()

    stream = blocks.iter_records(endless(), medium=Medium.CSV)
    first = [next(stream) for _ in range(3)]
    assert [getattr(u, "first_id", None) for u in first] == [1, 2, 3]  # an endless input still yields records
    findings: list[Finding] = []
    bad = blocks_with(BLOCK_HEADER, [BLOCK_ROWS[0].replace(",Held,", ",Frozen,"), BLOCK_ROWS[1]])
    got = list(blocks.iter_records(iter(_chunks(bad, 5)), medium=Medium.CSV, findings=findings))
    assert len(got) == 1 and rules_of(findings) == ["SPREADSHEET.VALUE_UNMAPPED"]


def test_streamed_workbook_over_the_limit_is_refused(ledger: SpreadsheetAdapter,
                                                     edge_env: EdgeEnvironment) -> None:
    edge_env.setenv("CARBONLINK_MAX_INPUT_BYTES", str(len(LEDGER_XLSX) - 1))
    for stream in (iter(_chunks(LEDGER_XLSX, 1000)), io.BytesIO(LEDGER_XLSX)):
        with pytest.raises(InputError) as info:
            list(ledger.iter_records(stream, medium=Medium.XLSX))
        assert info.value.code == "INPUT.TOO_LARGE"


def test_cp1252_streaming(blocks: SpreadsheetAdapter) -> None:
    windows = SpreadsheetAdapter(mapping_dict("credit-block-ledger") | {"csv": {"encoding": "cp1252"}})
    data = BLOCKS_CSV.decode().replace("KliK Foundation", "Fondation Klik – Genève").encode("cp1252")
    units = list(windows.iter_records(iter(_chunks(data, 3)), medium=Medium.CSV))
    assert isinstance(units[1], UnitBlock) and units[1].owner == "Fondation Klik – Genève"


# --------------------------------------------------------------------------- property round trips

_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF, exclude_characters="\x7f"),
                min_size=1, max_size=20).map(str.strip).filter(bool)
_party = st.sampled_from(["VUT", "CHE", "GHA", "JPN", "SWE", "FJI"])


@st.composite
def unit_blocks(draw: st.DrawFn) -> UnitBlock:
    first = draw(st.integers(min_value=1, max_value=10**9))
    size = draw(st.integers(min_value=1, max_value=10**6))
    return UnitBlock(
        first_id=first, last_id=first + size - 1, quantity=Decimal(size),
        vintage=draw(st.integers(min_value=2000, max_value=2099)), country=draw(_party),
        project_id=str(draw(st.integers(min_value=1, max_value=999999))),
        project_name=draw(st.none() | _text), owner=draw(_text), account=draw(st.none() | _text),
        unit_type=draw(st.none() | _text),
        status=draw(st.sampled_from([UnitStatus.HELD, UnitStatus.RETIRED, UnitStatus.CANCELLED,
                                     UnitStatus.TRANSFERRED, UnitStatus.PENDING, UnitStatus.ISSUED])),
        status_date=draw(st.none() | st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31))),
        status_reason=draw(st.none() | _text),
        registry="Vanuatu National Carbon Registry",
        extra={"cooperative_approach": f"CA{draw(st.integers(0, 9999)):04d}",
               "first_transferring_party": draw(st.sampled_from(["CH", "JP", "SE"])),
               "unitMetric": "tCO2e"},
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(unit_blocks(), min_size=1, max_size=6), st.sampled_from([Medium.CSV, Medium.XLSX]))
def test_property_credit_blocks_round_trip_losslessly(units: list[UnitBlock], medium: Medium) -> None:
    adapter = SpreadsheetAdapter("credit-block-ledger")
    document = CanonicalDocument(units=units)
    out = adapter.serialize(document, medium=medium)
    assert out.losses == [] and out.findings == []
    back = adapter.parse(out.data, medium=medium)
    assert back.findings == []
    expected = [u.model_copy(update={"serial": back.document.units[i].serial}) for i, u in enumerate(units)]
    assert back.document.units == expected
    assert all(u.serial and u.serial.endswith(f"-{u.vintage}") for u in back.document.units)


_extra_fields = st.fixed_dictionaries({}, optional={
    "beneficiary": _text, "link": _text, "itmo_reference": _text, "issuance_date": st.dates(),
})


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(unit_blocks(), _extra_fields), min_size=1, max_size=5))
def test_property_fields_without_a_column_are_reported_as_losses(items: list[tuple[UnitBlock, dict[str, Any]]]
                                                                 ) -> None:
    adapter = SpreadsheetAdapter("credit-block-ledger")
    units = [u.model_copy(update=extra) for u, extra in items]
    out = adapter.serialize(CanonicalDocument(units=units), medium=Medium.CSV)
    expected: dict[str, tuple[str, ...]] = {}
    for i, (_, extra) in enumerate(items):
        for name in extra:
            expected[f"units.{name}"] = (*expected.get(f"units.{name}", ()), f"units[{i}]")
    assert {loss.field: loss.records for loss in out.losses} == expected
    back = adapter.parse(out.data, medium=Medium.CSV).document.units
    assert [b.model_copy(update=dict.fromkeys(extra)) for b, (_, extra) in zip(back, items, strict=True)] == \
        [u.model_copy(update={"serial": b.serial}) for u, b in zip((u for u, _ in items), back, strict=True)]


@st.composite
def actions(draw: st.DrawFn) -> Action:
    first = draw(st.integers(min_value=1, max_value=10**7))
    size = draw(st.integers(min_value=1, max_value=10**5))
    unit_first = draw(st.integers(min_value=1, max_value=10**12))
    return Action(
        action_type=draw(st.sampled_from([t for t in ActionType if t.is_article6])),
        date=datetime.combine(draw(st.dates(min_value=date(2021, 1, 1), max_value=date(2040, 12, 31))),
                              datetime.min.time()),
        cooperative_approach=f"CA{draw(st.integers(0, 9999)):04d}", authorization_id=draw(_text),
        registry=draw(_party) + "01", first_transferring_party=draw(_party),
        first_id=first, last_id=first + size - 1, quantity=Decimal(size),
        vintage=draw(st.integers(min_value=2021, max_value=2040)),
        mitigation_type=draw(st.none() | st.sampled_from(["Emission reductions", "Removals"])),
        acquiring_party=draw(st.none() | _party), using_party=draw(st.none() | _party),
        ndc_year=draw(st.none() | st.integers(min_value=2021, max_value=2050)),
        units=UnitBlock(registry=draw(st.sampled_from(["VCS", "GS"])), first_id=unit_first,
                        last_id=unit_first + size - 1),
        metric=Metric.GHG, additional_information=draw(st.none() | _text),
    )


@settings(max_examples=30, deadline=None)
@given(st.lists(actions(), min_size=1, max_size=5), st.sampled_from([Medium.CSV, Medium.XLSX]))
def test_property_itmo_ledger_round_trips_losslessly(items: list[Action], medium: Medium) -> None:
    adapter = SpreadsheetAdapter("ministry-itmo-ledger")
    document = CanonicalDocument(actions=items)
    out = adapter.serialize(document, medium=medium)
    assert out.losses == [] and out.findings == []
    back = adapter.parse(out.data, medium=medium)
    assert back.findings == [] and back.document == document


# --------------------------------------------------------------------------- golden translations


def _catalog_with(mapping: str, target: str) -> AdapterCatalog:
    installed = default_catalog()
    if target not in installed:
        pytest.skip(f"the {target} codec is not installed yet")
    catalog = AdapterCatalog()
    catalog.register(installed.get(target))
    catalog.register(SpreadsheetAdapter(mapping))
    return catalog


def test_golden_itmo_ledger_to_aef_json() -> None:
    catalog = _catalog_with("ministry-itmo-ledger", "aef")
    result = translate(LEDGER_XLSX, source="spreadsheet", target="aef", source_medium=Medium.XLSX,
                       target_medium=Medium.JSON, catalog=catalog)
    golden = json.loads((FIXTURES / "golden" / "itmo-ledger.aef.json").read_text(encoding="utf-8"))
    assert json.loads(result.output.data) == golden
    assert [(loss.field, len(loss.records)) for loss in result.losses] == [("actions.extra.Funcionario", 5)]


def test_golden_credit_blocks_to_cadt_v2_json() -> None:
    catalog = _catalog_with("credit-block-ledger", "cadt-v2")
    result = translate(BLOCKS_CSV, source="spreadsheet", target="cadt-v2", source_medium=Medium.CSV,
                       target_medium=Medium.JSON, catalog=catalog)
    golden = json.loads((FIXTURES / "golden" / "credit-blocks.cadt-v2.json").read_text(encoding="utf-8"))
    assert json.loads(result.output.data) == golden
    assert {loss.field for loss in result.losses} >= {"unit.extra.Block ID", "unit.country", "unit.account"}


def test_mappings_may_name_the_old_block_bound_fields() -> None:
    data = mapping_dict("ministry-itmo-ledger")
    for column in data["columns"]:
        if column["field"] in ("units.first_id", "units.last_id"):
            column["field"] = column["field"].replace("first_id", "serial_first").replace("last_id", "serial_last")
    old = load_mapping(data)
    assert old.covered == load_mapping(mapping_dict("ministry-itmo-ledger")).covered
    assert {"units.first_id", "units.last_id"} <= old.covered
