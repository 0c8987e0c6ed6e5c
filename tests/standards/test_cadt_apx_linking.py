"""Linked CAD Trust v1 documents from the APX registries' exports (ACR, CAR, ART TREES): monitoring periods
read in the exports' stated day/month order (configurable), issuance-report rows carried as issuances,
project fields from unit rows, and several exports of one registry read together (files or a folder)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from adapters import default_catalog
from standards import Medium, Options, current_options, use_options
from standards.cadt.codec import CadtV1Codec
from standards.cadt.operator import OperatorProfileError, load_operator_profile, operator_profile_from
from standards.cadt.picklists import resolve
from standards.errors import MalformedInput
from standards.tabular import pack_csv_files
from tests.support.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
APX = ROOT / "tests" / "fixtures" / "apx"
PROFILE = ROOT / "bench" / "cadt_operator_profile_apx.yaml"
ACR = [APX / "acr-projects.csv", APX / "acr-issuances.csv", APX / "acr-retirements.csv"]


def _v1(paths: list[Path], profile: Path = PROFILE) -> tuple[dict[str, Any], list[Any], list[Any]]:
    parsed = default_catalog().get("apx").parse(pack_csv_files(paths), medium=Medium.CSV)
    assert parsed.valid, [f.message for f in parsed.findings if f.is_error]
    codec = CadtV1Codec(operator=load_operator_profile(profile, resolve("v1")))
    result = codec.serialize(parsed.document, medium=Medium.JSON)
    return json.loads(result.data), list(result.findings), list(result.losses)


def _issuances(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["id"]: i for p in doc["projects"] for i in p.get("issuances", [])}


def test_acr_units_link_to_issuances_with_month_first_periods() -> None:
    doc, findings, _ = _v1(ACR)
    assert not [f for f in findings if f.is_error], [f.message for f in findings if f.is_error]
    issuances = _issuances(doc)
    by_serial = {u["unitBlockStart"] + "-" + u["unitBlockEnd"]: u for u in doc["units"]}
    normandy = by_serial["30932-35143"]  # Vintage Assignment Period 1/1/2025 - 6/30/2025
    assert issuances[normandy["issuanceId"]]["startDate"] == "2025-01-01"
    assert issuances[normandy["issuanceId"]]["endDate"] == "2025-06-30"
    assert normandy["issuance"] == issuances[normandy["issuanceId"]]
    # the issuance report row (no serial) is its project's issuance: ReportingPeriod 1/1/2024 - 12/31/2024
    landfill = next(p for p in doc["projects"] if p["projectId"] == "ACR1185")
    assert {(i["startDate"], i["endDate"]) for i in landfill["issuances"]} >= {("2024-01-01", "2024-12-31")}
    assert len(doc["units"]) == 2  # the two retirement blocks; the issuance row is not a unit


def test_issuance_rows_are_issuances_and_their_quantity_a_loss() -> None:
    _, _, losses = _v1(ACR)
    quantity = next(loss for loss in losses if loss.field == "unit.quantity")
    assert quantity.records and "issuance" in quantity.reason
    assert not any(loss.field == "units.record" for loss in losses)


def test_project_status_falls_back_to_the_compliance_status_and_developer_comes_from_the_export() -> None:
    doc, _, _ = _v1(ACR)
    projects = {p["projectId"]: p for p in doc["projects"]}
    assert projects["ACR1185"]["projectStatus"] == "Completed"  # Voluntary Status empty, ARB Completed
    assert projects["ACR1129"]["projectStatus"] == "Registered"
    assert projects["ACR1185"]["projectDeveloper"] == "Example Landfill Gas Co"
    assert projects["ACR1129"]["projectLink"].endswith("id1=1129")  # the profile's template
    assert all(u["unitRegistryLink"] for u in doc["units"])


def test_day_first_order_reads_the_same_cells_differently_or_refuses_them() -> None:
    with use_options(current_options().model_copy(update={"apx_date_order": "dmy"})):
        parsed = default_catalog().get("apx").parse((APX / "acr-retirements.csv").read_bytes(), medium=Medium.CSV)
    refused = [f for f in parsed.findings if f.rule == "APX.DATE_INVALID"]
    # 6/30/2025 has no month 30: refused under dmy, with the option named
    assert any("Vintage Assignment Period End Date" in f.message and "CARBONLINK_APX_DATE_ORDER" in f.message
               for f in refused)


def test_the_order_option_changes_the_issuance_period(tmp_path: Path) -> None:
    export = tmp_path / "acr-retirements.csv"
    header, first = (APX / "acr-retirements.csv").read_text(encoding="utf-8").splitlines()[:2]
    first = first.replace("1/1/2025,6/30/2025", "2/1/2025,3/6/2025").replace("9/15/2025", "9/10/2025")
    export.write_text(f"{header}\n{first}\n", encoding="utf-8")  # every date readable in both orders
    paths = [APX / "acr-projects.csv", export]
    starts = {}
    for order in ("mdy", "dmy"):
        with use_options(Options(apx_date_order=order)):
            doc, _, _ = _v1(paths)
        unit = next(u for u in doc["units"] if u["unitBlockStart"] == "30932")
        starts[order] = (unit["issuance"]["startDate"], unit["issuance"]["endDate"])
    assert starts == {"mdy": ("2025-02-01", "2025-03-06"), "dmy": ("2025-01-02", "2025-06-03")}


def test_vintage_year_period_only_when_the_profile_says_so(tmp_path: Path) -> None:
    car = [APX / "car-retirements.csv"]
    plain = tmp_path / "plain.yaml"
    plain.write_text(PROFILE.read_text(encoding="utf-8").replace("  period: vintage year", "  # no period"),
                     encoding="utf-8")
    _, findings, _ = _v1(car, plain)
    assert any(f.rule == "CADT.V1.SOURCE_MISSING" and "issuance.period" in f.message for f in findings)
    fixed = tmp_path / "fixed.yaml"  # CAR retirements give no issuance date either: a fixed report date
    fixed.write_text(PROFILE.read_text(encoding="utf-8").replace("verificationReportDate: issuance date",
                                                                 "verificationReportDate: 2025-10-01"),
                     encoding="utf-8")
    doc, findings, _ = _v1(car, fixed)
    assert not any("monitoring period" in f.message for f in findings)
    assert any(f.rule == "CADT.V1.PROFILE_VALUE" and "issuance.period" in f.message for f in findings)
    periods = {(i["startDate"], i["endDate"]) for i in _issuances(doc).values()}
    assert periods == {("2025-01-01", "2025-12-31")}


@pytest.mark.parametrize(("section", "value"), [("period", "calendar year"), ("projectLink", "acr.example/{number}")])
def test_profile_values_are_checked(section: str, value: str) -> None:
    where = "issuance" if section == "period" else "project"
    with pytest.raises(OperatorProfileError, match=section):
        operator_profile_from({where: {section: value}}, "test profile")


def test_several_files_and_a_folder_give_the_same_document_with_the_same_ids(tmp_path: Path) -> None:
    folder = tmp_path / "acr"
    folder.mkdir()
    for path in ACR:
        shutil.copy(path, folder / path.name)
    outputs = []
    for inputs in ([str(p) for p in ACR], [str(folder)]):
        out = tmp_path / f"out{len(outputs)}.json"
        done = run_cli("translate", *inputs, "--from", "apx", "--to", "cadt-v1", "--profile", str(PROFILE),
                       "--accept-losses", "-o", str(out))
        assert done.returncode == 0, done.stdout + done.stderr
        outputs.append(json.loads(out.read_text(encoding="utf-8")))
    assert outputs[0] == outputs[1]
    assert outputs[0]["units"] and all(u.get("issuanceId") for u in outputs[0]["units"])


def test_a_transactions_export_is_completed_by_the_projects_export(tmp_path: Path) -> None:
    only = run_cli("translate", str(APX / "acr-retirements.csv"), "--from", "apx", "--to", "cadt-v1",
                   "--profile", str(PROFILE), "-o", str(tmp_path / "a.json"))
    assert only.returncode == 1 and "projectDeveloper" in only.stdout
    both = run_cli("translate", str(APX / "acr-projects.csv"), str(APX / "acr-retirements.csv"), "--from", "apx",
                   "--to", "cadt-v1", "--profile", str(PROFILE), "-o", str(tmp_path / "b.json"))
    assert both.returncode == 0, both.stdout + both.stderr


def test_date_order_option_on_the_command_line(tmp_path: Path) -> None:
    done = run_cli("translate", str(APX / "acr-retirements.csv"), "--from", "apx", "--to", "cadt-v1",
                   "--date-order", "dmy", "-o", str(tmp_path / "x.json"))
    assert done.returncode == 1 and "APX.DATE_INVALID" in done.stdout
    wrong = run_cli("translate", str(APX / "acr-retirements.csv"), "--from", "apx", "--to", "cadt-v1",
                    "--date-order", "ymd", "-o", str(tmp_path / "x.json"))
    assert wrong.returncode == 2 and "mdy" in wrong.stderr
    other = run_cli("translate", str(ROOT / "tests" / "fixtures" / "verra" / "transactions.csv"), "--from", "verra",
                    "--to", "cadt-v1", "--date-order", "dmy", "-o", str(tmp_path / "x.json"))
    assert other.returncode == 2 and "APX input" in other.stderr


def test_several_inputs_must_be_csv_files(tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("x", encoding="utf-8")
    with pytest.raises(MalformedInput) as caught:
        pack_csv_files([APX / "acr-projects.csv", other])
    assert caught.value.code == "INPUT.CSV"
    with pytest.raises(MalformedInput) as missing:
        pack_csv_files([tmp_path / "absent.csv"])
    assert missing.value.code == "INPUT.NOT_FOUND"


def test_findings_of_a_folder_name_their_file(tmp_path: Path) -> None:
    bad = tmp_path / "acr-retirements.csv"
    bad.write_text((APX / "acr-retirements.csv").read_text(encoding="utf-8").replace("4212", "4213", 1),
                   encoding="utf-8")
    parsed = default_catalog().get("apx").parse(pack_csv_files([APX / "acr-projects.csv", bad]), medium=Medium.CSV)
    errors = [f for f in parsed.findings if f.is_error]
    assert errors and all(f.message.startswith("acr-retirements.csv: ") for f in errors)


def test_art_programs_take_their_crediting_standard_as_methodology() -> None:
    doc, findings, _ = _v1([APX / "art-projects.csv"])
    (program,) = doc["projects"]
    assert program["methodology"] == "ART TREES" and program["projectLink"].endswith("id1=102")
    assert not any(f.is_error and "methodology" in f.message for f in findings)


def test_a_folder_of_one_registry_s_exports_is_detected(tmp_path: Path) -> None:
    for path in ACR:
        shutil.copy(path, tmp_path / path.name)
    done = run_cli("validate", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "detected format apx" in done.stderr and "(5 records" in done.stdout


def test_a_car_retirement_takes_the_date_of_the_one_issuance_of_its_project_and_vintage() -> None:
    doc, findings, _ = _v1([APX / "car-issuances.csv", APX / "car-retirements.csv"])
    units = {u["unitBlockStart"] + "-" + u["unitBlockEnd"]: u for u in doc["units"]}
    coffeyville = units["1-5000"]  # CAR1335, vintage 2025: the issuances report lists one issuance, 09/18/2025
    assert coffeyville["issuance"]["verificationReportDate"] == "2025-09-18"
    project = next(p for p in doc["projects"] if p["projectId"] == "CAR1335")
    assert [i["id"] for i in project["issuances"]] == [coffeyville["issuanceId"]]  # the same issuance as the row
    assert any(f.rule == "CADT.V1.DERIVED" and "issuance date" in f.message for f in findings)
    # CAR2056 has no issuance row in the export: no date is made up
    assert "issuance" not in units["1-260294"]
    assert any(f.rule == "CADT.V1.SOURCE_MISSING" and "CAR-ROC-US-2056" in f.message for f in findings)
