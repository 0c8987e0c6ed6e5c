"""Several exports of one registry read together: a retirement of part of an issued block is a state change of
that part, not a second block over the same units. The real Gold Standard exports (rows of the OffsetsDB test
data, carbonplan/offsets-db-data tests/data/gold-standard) retire parts of blocks their issuances export lists
whole; read together they give the retired parts and the parts still issued, the quantities adding up to what was
issued, and no SERIAL_OVERLAP."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from adapters import default_catalog
from standards import Medium, ParseResult
from standards.tabular import pack_csv_files
from tests.support.cli import run_cli

ISSUANCES = (
    "Vintage,Credit Status,Quantity,GSID,Project Name,Project Developer,Country,Project Type,Methodology,"
    "Programme of Activities,POA GSID,Product Type,Issuance Date,Monitoring Period Start,Monitoring Period End,"
    "Serial Number,Label,Article Six Authorization\n"
    "2025,Issued,5485,11603,GS10789 VPA8: Efficient and Clean Cooking for households in Kenya,ECC- Talanton Trust,"
    "Kenya,Energy Efficiency - Domestic,GS TPDDTEC v3.1,VPA,10789.0,VER,2026-03-31T14:08:58.606444,2024-03-02,"
    "2025-03-10,GS1-1-KE-GS11603-16-2025-30256-1-5485,Emission Reduction,Not Applicable\n"
    "2024,Issued,24247,11603,GS10789 VPA8: Efficient and Clean Cooking for households in Kenya,ECC- Talanton Trust,"
    "Kenya,Energy Efficiency - Domestic,GS TPDDTEC v3.1,VPA,10789.0,VER,2026-03-31T14:08:58.544722,2024-03-02,"
    "2025-03-10,GS1-1-KE-GS11603-16-2024-30255-1-24247,Emission Reduction,Not Applicable\n")
RETIREMENTS = (
    "Vintage,Credit Status,Quantity,GSID,Project Name,Project Developer,Country,Product Type,Project Type,"
    "Methodology,Programme of Activities,POA GSID,Issuance Date,Retirement Date,Monitoring Period Start,"
    "Monitoring Period End,Serial Number,Note,Aeroplane Operator Name,Label,Use Case,Using Entity,"
    "Article Six Authorization\n"
    "2025,Retired,5354,11603,GS10789 VPA8: Efficient and Clean Cooking for households in Kenya,ECC- Talanton Trust,"
    "Kenya,VER,Energy Efficiency - Domestic,GS TPDDTEC v3.1,VPA,10789.0,2026-03-31,2026-04-10,2024-03-02,2025-03-10,"
    "GS1-1-KE-GS11603-16-2025-30256-110-5463,Retirement on behalf of an example company,,Emission Reduction,"
    "Voluntary,,Not Applicable\n"
    "2024,Retired,12139,11603,GS10789 VPA8: Efficient and Clean Cooking for households in Kenya,ECC- Talanton Trust,"
    "Kenya,VER,Energy Efficiency - Domestic,GS TPDDTEC v3.1,VPA,10789.0,2026-03-31,2026-04-10,2024-03-02,2025-03-10,"
    "GS1-1-KE-GS11603-16-2024-30255-485-12623,Retirement on behalf of an example company,,Emission Reduction,"
    "Voluntary,,Not Applicable\n")


def _files(tmp_path: Path, retirements: str = RETIREMENTS) -> list[Path]:
    paths = [tmp_path / "issuances.csv", tmp_path / "retirements.csv"]
    paths[0].write_text(ISSUANCES, encoding="utf-8")
    paths[1].write_text(retirements, encoding="utf-8")
    return paths


def _read(paths: list[Path]) -> ParseResult:
    return default_catalog().get("gold-standard").parse(pack_csv_files(paths), medium=Medium.CSV)


def test_a_retired_part_of_an_issued_block_splits_it(tmp_path: Path) -> None:
    parsed = _read(_files(tmp_path))
    assert parsed.valid, [f.message for f in parsed.findings if f.is_error]
    blocks = {u.serial: (u.status.value if u.status else None, u.quantity) for u in parsed.document.units}
    assert blocks == {
        "GS1-1-KE-GS11603-16-2025-30256-1-109": ("issued", Decimal(109)),
        "GS1-1-KE-GS11603-16-2025-30256-110-5463": ("retired", Decimal(5354)),
        "GS1-1-KE-GS11603-16-2025-30256-5464-5485": ("issued", Decimal(22)),
        "GS1-1-KE-GS11603-16-2024-30255-1-484": ("issued", Decimal(484)),
        "GS1-1-KE-GS11603-16-2024-30255-485-12623": ("retired", Decimal(12139)),
        "GS1-1-KE-GS11603-16-2024-30255-12624-24247": ("issued", Decimal(11624)),
    }
    for vintage, issued in ((2025, 5485), (2024, 24247)):  # quantities conserved per issued block
        assert sum(u.quantity or 0 for u in parsed.document.units if u.vintage == vintage) == issued
    for unit in parsed.document.units:  # bounds follow the serial; the parts keep the issuance's facts
        assert unit.range_length == unit.quantity
        assert unit.project_id == "GS11603" and unit.issuance_date is not None


def test_each_export_alone_is_unchanged(tmp_path: Path) -> None:
    paths = _files(tmp_path)
    alone = default_catalog().get("gold-standard").parse(paths[0].read_bytes(), medium=Medium.CSV)
    assert [u.serial for u in alone.document.units] == ["GS1-1-KE-GS11603-16-2025-30256-1-5485",
                                                       "GS1-1-KE-GS11603-16-2024-30255-1-24247"]


def test_blocks_that_only_partly_overlap_are_still_refused(tmp_path: Path) -> None:
    crossing = RETIREMENTS.replace("30256-110-5463", "30256-5400-5600").replace(",5354,", ",201,")
    parsed = _read(_files(tmp_path, crossing))
    assert "GOLD_STANDARD.SERIAL_OVERLAP" in {f.rule for f in parsed.findings if f.is_error}


def test_the_cli_reads_the_real_exports_together(tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    done = run_cli("translate", *map(str, _files(tmp_path)), "--from", "gold-standard", "--to", "canonical",
                   "-o", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SERIAL_OVERLAP" not in done.stderr and "(6 of 6 records written)" in done.stderr
