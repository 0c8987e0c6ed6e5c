"""Gold Standard statuses and country spellings as the real exports carry them: ``Canceled`` rows in the
retirements export (credits moved to a national registry) and comma-inverted ISO names without the comma."""

from __future__ import annotations

import csv
import io
import json

import pytest

from adapters.gold_standard import RETIREMENTS, adapter
from adapters.registry_exports._values import country_from_name
from standards.codec import Medium
from standards.model import UnitStatus
from standards.parties import SPELLINGS_FILE, registry_spellings, to_alpha3

CSV = Medium.CSV


def _row(status: str, serial: str, quantity: str, *, country: str = "Uganda", date: str = "2026-05-02") -> list[str]:
    cells = {"Vintage": "2024", "Credit Status": status, "Quantity": quantity, "GSID": "11236",
             "Country": country, "Product Type": "VER", "Retirement Date": date, "Serial Number": serial}
    return [cells.get(c, "") for c in RETIREMENTS.columns]


def _export(*rows: list[str]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(RETIREMENTS.columns)
    writer.writerows(rows)
    return out.getvalue().encode()


RETIRED = _row("Retired", "GS1-1-UG-GS11236-16-2024-30256-110-5463", "5354")
CANCELED = _row("Canceled", "GS1-1-UG-GS11236-16-2024-30256-5464-5563", "100", date="")


def test_canceled_rows_are_read_as_cancellations_with_the_rest() -> None:
    result = adapter.parse(_export(RETIRED, CANCELED), medium=CSV)
    assert result.valid, [f.message for f in result.findings]
    assert [u.status for u in result.document.units] == [UnitStatus.RETIRED, UnitStatus.CANCELLED]
    assert result.document.units[1].quantity == 100


def test_cancellations_are_written_back_as_canceled() -> None:
    document = adapter.parse(_export(RETIRED, CANCELED), medium=CSV).document
    out = adapter.serialize(document, medium=CSV)
    assert out.losses == []
    written = out.files.get("retirements.csv", out.data).decode("utf-8-sig")
    assert [row["Credit Status"] for row in csv.DictReader(io.StringIO(written))] == ["Retired", "Canceled"]
    again = adapter.parse(written.encode(), medium=CSV).document
    assert [u.model_dump() for u in again.units] == [u.model_dump() for u in document.units]


def test_an_unknown_status_is_still_refused() -> None:
    result = adapter.parse(_export(_row("Pending", "GS1-1-UG-GS11236-16-2024-30256-110-5463", "5354")),
                           medium=CSV)
    assert [f.rule for f in result.findings if f.is_error] == ["GOLD_STANDARD.STATUS"]


@pytest.mark.parametrize(("name", "alpha3"), [
    ("Tanzania United Republic of", "TZA"), ("Congo the Democratic Republic of the", "COD"),
    ("Korea Republic of", "KOR"), ("Korea Democratic People's Republic of", "PRK"),
    ("Bolivia Plurinational State of", "BOL"), ("Iran Islamic Republic of", "IRN"),
    ("Moldova Republic of", "MDA"), ("Venezuela Bolivarian Republic of", "VEN"),
    ("Micronesia Federated States of", "FSM"), ("Virgin Islands British", "VGB"),
    ("Taiwan Province of China", "TWN"), ("Palestine State of", "PSE"),
    ("Tanzania, United Republic of", "TZA"), ("Côte d'Ivoire", "CIV"), ("Cote d'Ivoire", "CIV"),
    ("Congo", "COG"), ("Uganda", "UGA"), ("Hong Kong S.A.R.", "HKG"), ("Burma", "MMR"),
])
def test_registry_country_spellings_map_to_iso(name: str, alpha3: str) -> None:
    assert to_alpha3(name) == (alpha3, "name")
    assert country_from_name(name) == alpha3


def test_gold_standard_country_column_reads_the_registry_spelling() -> None:
    row = _row("Retired", "GS1-1-TZ-GS11236-16-2024-30256-110-5463", "5354", country="Tanzania United Republic of")
    result = adapter.parse(_export(row), medium=CSV)
    assert result.valid, [f.message for f in result.findings]
    assert result.document.units[0].country == "TZA"


def test_the_spelling_table_is_data_every_code_of_which_is_known() -> None:
    table = json.loads(SPELLINGS_FILE.read_text(encoding="utf-8"))["spellings"]
    assert len(registry_spellings()) == len(table)
    for name, code in table.items():
        assert to_alpha3(code)[0] == code, name
