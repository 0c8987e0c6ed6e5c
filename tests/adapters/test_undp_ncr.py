"""The undp-ncr adapter: registry entity JSON and the AEF actions CSV export <-> canonical."""

from __future__ import annotations

import copy
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import AdapterCatalog, default_catalog
from adapters.translate import translate
from adapters.undp_ncr import AEF_COLUMNS, RULES, UndpNcrAdapter, UndpProfile, adapter
from standards.codec import Medium
from standards.errors import MalformedInput, TranslationError, UnsafeInput, UnsupportedEncoding, ValidationFailed
from standards.model import Action, ActionType, CanonicalDocument, Metric, Project, UnitBlock, UnitStatus
from standards.tabular import read_csv_records
from tests.support.edge import EdgeEnvironment

FIXTURES = Path(__file__).parent.parent / "fixtures" / "undp-ncr"
JSON, CSV = Medium.JSON, Medium.CSV
PROFILE = UndpProfile("01", "Emission reductions", 1, {"Energy": "Energy generation"},
                      {"Energy industries (renewable - / non-renewable sources)": "Solar"})


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def registry_json() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(load("registry.json"))
    return data


def parse_json(data: Any, codec: UndpNcrAdapter = adapter) -> Any:
    return codec.parse(json.dumps(data).encode(), medium=JSON)


def rules_of(result: Any) -> list[str]:
    return [f.rule for f in result.findings]


# --------------------------------------------------------------------------- entity JSON

def test_credit_blocks_become_unit_blocks_with_alpha3_parties() -> None:
    result = adapter.parse(load("registry.json"), medium=JSON)
    assert result.valid and result.findings == []
    first, transferred, issued, retired = result.document.units
    assert first.serial == "CA0004-VU-CH-356-1-2000-2023" and first.itmo_reference == first.serial
    assert (first.first_id, first.last_id, first.quantity, first.vintage) == (1, 2000, 2000, 2023)
    assert (first.country, first.owner, first.project_id) == ("VUT", "12", "356")
    assert first.status is UnitStatus.ISSUED and first.status_date == date(2024, 4, 1)
    assert transferred.status is UnitStatus.HELD and transferred.owner == "31"
    assert issued.quantity == 1500 and retired.status is UnitStatus.RETIRED
    assert first.extra["undp"]["reservedCreditAmount"] == 250


def test_transactions_follow_the_partial_transfer_rule_and_join_the_authorization() -> None:
    result = adapter.parse(load("registry.json"), medium=JSON)
    transfer, cancel, cross, rejected = result.document.actions
    # a partial transfer of 1000 from 1-3000: the holder keeps the lower range, the receiver gets 2001-3000
    assert transfer.action_type is ActionType.TRANSFER
    assert (transfer.first_id, transfer.last_id, transfer.quantity) == (2001, 3000, Decimal(1000))
    assert transfer.units is not None and transfer.units.status is UnitStatus.TRANSFERRED
    assert (transfer.cooperative_approach, transfer.first_transferring_party, transfer.vintage) == ("CA0004", "CHE",
                                                                                                    2023)
    assert transfer.authorization_id == "150324VU356" and transfer.metric is Metric.GHG
    assert transfer.date == datetime(2024, 4, 1, tzinfo=UTC) and transfer.message_id == "1"
    assert cancel.action_type is ActionType.VOLUNTARY_CANCELLATION and cancel.units is not None
    assert cancel.units.status is UnitStatus.RETIRED and (cancel.first_id, cancel.last_id) == (4501, 5000)
    assert cancel.additional_information == "Retired on behalf of Air Vanuatu, 2024 flights"
    assert cross.action_type is ActionType.TRANSFER and cross.acquiring_party == "CHE"
    assert cross.units is not None and cross.units.status is UnitStatus.PENDING
    assert cross.units.beneficiary.startswith("Foundation for Climate Protection")  # type: ignore[union-attr]
    assert rejected.units is not None and rejected.units.status is UnitStatus.REJECTED
    assert transfer.registry is None and transfer.mitigation_type is None  # unset without a profile


def test_projects_map_with_their_authorization_time() -> None:
    (project,) = adapter.parse(load("registry.json"), medium=JSON).document.projects
    assert (project.project_id, project.name, project.developer, project.sector) == (
        "356", "Efate Solar Mini-grids", "12", "Energy")
    assert project.status == "AUTHORISED" and project.status_date == date(2024, 3, 15)


def test_profile_fills_what_the_registry_does_not_say(edge_env: EdgeEnvironment) -> None:
    action = parse_json(registry_json(), UndpNcrAdapter(PROFILE)).document.actions[0]
    assert (action.registry, action.mitigation_type) == ("VUT01", "Emission reductions")
    edge_env.setenv("CARBONLINK_UNDP_REGISTRY_SUFFIX", "02")
    assert adapter.parse(load("registry.json"), medium=JSON).document.actions[0].registry == "VUT02"
    with pytest.raises(ValueError):
        UndpProfile("1")


def test_bare_list_and_data_wrapper_are_read() -> None:
    raw = registry_json()
    records = raw["projects"] + raw["creditBlocks"] + raw["transactions"]
    for shape in (records, {"data": records}):
        result = parse_json(shape)
        assert result.valid
        assert (len(result.document.projects), len(result.document.units), len(result.document.actions)) == (1, 4, 4)


def test_fixture_round_trips_to_the_same_json() -> None:
    first = adapter.parse(load("registry.json"), medium=JSON)
    out = adapter.serialize(first.document, medium=JSON)
    assert out.losses == []
    assert json.loads(out.data) == registry_json()
    assert adapter.parse(out.data, medium=JSON).document == first.document


# --------------------------------------------------------------------------- bad JSON

def _mutated(group: str, index: int, **changes: Any) -> dict[str, Any]:
    raw = copy.deepcopy(registry_json())
    for key, value in changes.items():
        if value is None:
            raw[group][index].pop(key, None)
        else:
            raw[group][index][key] = value
    return raw


@pytest.mark.parametrize(("group", "index", "changes", "rule", "pointer"), [
    ("creditBlocks", 0, {"serialNumber": "CA0004-VU-CH-356-1-2000"}, "UNDP.SERIAL", "/creditBlocks/0/serialNumber"),
    ("creditBlocks", 0, {"serialNumber": "CA0004-VU-CH-356-2000-1-2023"}, "UNDP.SERIAL",
     "/creditBlocks/0/serialNumber"),
    ("creditBlocks", 0, {"creditAmount": 1999}, "UNDP.SERIAL_QUANTITY", "/creditBlocks/0/creditAmount"),
    ("creditBlocks", 0, {"vintage": "2022"}, "UNDP.VINTAGE", "/creditBlocks/0/vintage"),
    ("creditBlocks", 0, {"serialNumber": "CA0004-QQ-CH-356-1-2000-2023"}, "UNDP.PARTY",
     "/creditBlocks/0/serialNumber"),
    ("creditBlocks", 0, {"txType": "Frozen"}, "UNDP.CODE", "/creditBlocks/0/txType"),
    ("creditBlocks", 0, {"creditAmount": "two thousand"}, "UNDP.TYPE", "/creditBlocks/0/creditAmount"),
    ("creditBlocks", 0, {"ownerCompanyId": None}, "UNDP.REQUIRED", "/creditBlocks/0/ownerCompanyId"),
    ("creditBlocks", 0, {"txTime": "yesterday"}, "UNDP.TYPE", "/creditBlocks/0/txTime"),
    ("creditBlocks", 0, {"serialNumber": "CA0004-VU-CH-356-1-2000-1800", "vintage": None}, "UNDP.TYPE",
     "/creditBlocks/0"),
    ("transactions", 0, {"amount": 5000}, "UNDP.SERIAL_QUANTITY", "/transactions/0/amount"),
    ("transactions", 0, {"status": "Done"}, "UNDP.CODE", "/transactions/0/status"),
    ("transactions", 0, {"retirementType": "Gift"}, "UNDP.CODE", "/transactions/0/retirementType"),
    ("transactions", 2, {"country": None}, "UNDP.COUNTRY", "/transactions/2/country"),
    ("transactions", 2, {"country": "Atlantis"}, "UNDP.PARTY", "/transactions/2/country"),
    ("transactions", 0, {"createTime": -5}, "UNDP.TYPE", "/transactions/0/createTime"),
    ("projects", 0, {"refId": ""}, "UNDP.TYPE", "/projects/0"),
])
def test_bad_values_give_coded_findings_at_their_pointer(group: str, index: int, changes: dict[str, Any],
                                                         rule: str, pointer: str) -> None:
    result = parse_json(_mutated(group, index, **changes))
    assert not result.valid and result.document.is_empty()
    errors = [f for f in result.findings if f.is_error]
    assert errors[0].rule == rule and errors[0].location.pointer == pointer, [f.as_dict() for f in errors]
    assert errors[0].reference


def test_placeholder_party_is_a_warning_and_left_empty() -> None:
    result = parse_json(_mutated("creditBlocks", 0, serialNumber="CA0004-VU-XX-356-1-2000-2023"))
    assert rules_of(result) == ["UNDP.PARTY_PLACEHOLDER"] and result.valid


def test_duplicates_and_overlapping_blocks_are_cross_record_errors() -> None:
    raw = registry_json()
    raw["creditBlocks"].append(dict(raw["creditBlocks"][1], creditBlockId="CA0004-VU-CH-356-2500",
                                    serialNumber="CA0004-VU-CH-356-2500-2600-2023", creditAmount=101))
    raw["transactions"].append(dict(raw["transactions"][0]))
    assert sorted(rules_of(parse_json(raw))) == ["UNDP.BLOCK_OVERLAP", "UNDP.DUPLICATE_ID"]


@pytest.mark.parametrize("shape", ["text", 42, {"blocks": []}, {}, {"creditBlocks": {}}, [{"foo": 1}],
                                   {"creditBlocks": ["not an object"]}])
def test_wrong_shapes_are_structure_findings(shape: Any) -> None:
    result = parse_json(shape)
    assert not result.valid and rules_of(result)[0] == "UNDP.SHAPE" and result.document.is_empty()


def test_truncated_json_and_bad_encodings_are_coded_input_errors() -> None:
    data = load("registry.json")
    with pytest.raises(MalformedInput) as info:
        adapter.parse(data[: len(data) // 2], medium=JSON)
    assert info.value.code == "INPUT.JSON"
    with pytest.raises(UnsupportedEncoding):
        adapter.parse(data.replace(b"Efate", "Éfaté".encode("latin-1")), medium=JSON)


# --------------------------------------------------------------------------- AEF export CSV

def test_aef_export_rows_become_actions_and_one_authorization() -> None:
    result = adapter.parse(load("aef-actions.csv"), medium=CSV)
    assert result.valid and result.findings == []
    auth_row, transfer, retire, cross = result.document.actions
    assert auth_row.action_type is ActionType.AUTHORIZATION and (auth_row.first_id, auth_row.last_id) == (1, 3000)
    assert auth_row.date == datetime(2024, 3, 21, tzinfo=UTC) and auth_row.transferring_party is None
    assert transfer.action_type is ActionType.TRANSFER and transfer.acquiring_party is None
    assert retire.action_type is ActionType.VOLUNTARY_CANCELLATION and retire.vintage == 2024
    assert cross.action_type is ActionType.TRANSFER and cross.acquiring_party == "CHE"
    assert cross.first_transferring_party == "CHE" and cross.cooperative_approach == "CA0004"
    (authorization,) = result.document.authorizations
    assert authorization.authorization_id == "150324VU356" and authorization.date == date(2024, 3, 15)
    assert authorization.cooperative_approach == "CA0004" and authorization.purposes == "NDC"
    assert authorization.first_transfer_definition is None  # only applies to OIMP purposes


def test_aef_export_round_trips_cell_for_cell() -> None:
    first = adapter.parse(load("aef-actions.csv"), medium=CSV)
    out = adapter.serialize(first.document, medium=CSV)
    assert out.losses == []
    original = [r.cells for r in read_csv_records(load("aef-actions.csv"))]
    assert [r.cells for r in read_csv_records(out.data)] == original


def test_aef_export_with_plain_unit_numbers_and_iso_dates() -> None:
    header = ("Underlying unit block start ID,Underlying unit block last ID,Quantity (t CO2 eq),Action date,"
              "Action type,Acquiring participating Party,Local note\n")
    data = (header + "101,200,100,2024-02-29,crossBoarderTransfer,GH,internal\n").encode()
    result = adapter.parse(data, medium=CSV)
    (action,) = result.document.actions
    assert (action.first_id, action.last_id, action.acquiring_party) == (101, 200, "GHA")
    assert action.date.date() == date(2024, 2, 29) and action.extra["undp"]["_unknown"] == {"Local note": "internal"}
    out = adapter.serialize(result.document, medium=CSV)
    assert [loss.field for loss in out.losses] == ["extra.undp._unknown"]


@pytest.mark.parametrize(("row", "rule", "column"), [
    ("1,10,10,31-Feb-24,transfer", "UNDP.AEF_VALUE", "actionTime"),
    ("1,10,11,01-Feb-24,transfer", "UNDP.SERIAL_QUANTITY", "creditAmount"),
    ("10,1,10,01-Feb-24,transfer", "UNDP.AEF_VALUE", "creditBlockEndId"),
    ("1,10,10,01-Feb-24,teleport", "UNDP.CODE", "actionType"),
    ("CA0004-VU-CH-356-1,10,10,01-Feb-24,transfer", "UNDP.SERIAL", "creditBlockStartId"),
    ("1,10,NA,01-Feb-24,transfer", "UNDP.AEF_VALUE", "creditAmount"),
    ("CA0004-VU-CH-356-1-1-2023,CA0004-VU-CH-357-10-10-2023,10,01-Feb-24,transfer", "UNDP.SERIAL",
     "creditBlockEndId"),
])
def test_bad_export_cells_are_located_by_line(row: str, rule: str, column: str) -> None:
    header = ("Underlying unit block start ID,Underlying unit block last ID,Quantity (t CO2 eq),Action date,"
              "Action type\n")
    result = adapter.parse((header + "1,5,5,01-Feb-24,transfer\n" + row + "\n").encode(), medium=CSV)
    assert result.document.is_empty() and not result.valid  # no partial result
    (finding,) = result.findings
    assert finding.rule == rule and finding.location.line == 3 and finding.location.pointer == f"/rows/1/{column}"


def test_missing_columns_ragged_rows_and_encodings() -> None:
    result = adapter.parse(b"Action date,Action type\n01-Feb-24,transfer\n", medium=CSV)
    assert rules_of(result) == ["UNDP.AEF_COLUMNS"] and "Quantity (t CO2 eq)" in result.findings[0].message
    data = load("aef-actions.csv")
    with pytest.raises(MalformedInput) as info:
        adapter.parse(data[:-60], medium=CSV)
    assert info.value.code == "INPUT.CSV_RAGGED"
    with pytest.raises(UnsupportedEncoding):
        adapter.parse(data.replace(b"Vanuatu", "Vanuatu\xe9".encode("latin-1")), medium=CSV)
    with pytest.raises(UnsupportedEncoding):
        adapter.parse(data.decode().encode("utf-16-le"), medium=CSV)


def test_written_csv_cannot_smuggle_formulas() -> None:
    action = Action(action_type=ActionType.USE, date=datetime(2024, 1, 1, tzinfo=UTC), first_id=1, last_id=5,
                    quantity=Decimal(5), using_entity='=HYPERLINK("http://evil.example","x")')
    out = adapter.serialize(CanonicalDocument(actions=[action]), medium=CSV)
    assert b"\"'=HYPERLINK" in out.data and b",=HYPERLINK" not in out.data
    back = adapter.parse(out.data, medium=CSV).document.actions[0]
    assert back.using_entity == action.using_entity


def test_streaming_reads_a_large_export_row_by_row() -> None:
    header = load("aef-actions.csv").splitlines()[0].decode()
    template = load("aef-actions.csv").splitlines()[2].decode()
    rows = [template.replace("2001-2001-2023", f"{n}-{n}-2023").replace("CA0004-VU-CH-356-3000-3000-2023",
                                                                         f"CA0004-VU-CH-356-{n}-{n}-2023")
            .replace(",1000,", ",1,") for n in range(1, 20001)]
    data = ("\n".join([header, *rows]) + "\n").encode()
    chunks = (data[i:i + 4096] for i in range(0, len(data), 4096))
    count = 0
    for record in adapter.iter_records(chunks, medium=CSV):
        assert isinstance(record, Action)
        count += 1
        last = record
    assert count == 20000 and last.first_id == 20000 and last.quantity == 1
    bad = data.replace(b"CA0004-VU-CH-356-777-777-2023,tCO2,NA,1,", b"CA0004-VU-CH-356-777-777-2023,tCO2,NA,2,")
    with pytest.raises(ValidationFailed) as info:
        list(adapter.iter_records(io.BytesIO(bad), medium=CSV))
    assert info.value.findings[0].location.line == 778


# --------------------------------------------------------------------------- writing other records

def test_foreign_records_are_refused_or_built_with_losses() -> None:
    verra = Action(action_type=ActionType.RETIREMENT, date=datetime(2024, 1, 1, tzinfo=UTC), message_id="9",
                   units=UnitBlock(serial="19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1",
                                   first_id=941467007, last_id=941467431))
    itmo = Action(action_type=ActionType.TRANSFER, date=datetime(2024, 7, 1, tzinfo=UTC), message_id="T-7",
                  cooperative_approach="CA0001", first_transferring_party="GHA", acquiring_party="CHE",
                  using_party="CHE", vintage=2023,
                  units=UnitBlock(first_id=1001, last_id=1500, quantity=Decimal(500), project_id="12",
                                  country="GHA", owner="Buyer AG"))
    use = Action(action_type=ActionType.USE, date=datetime(2024, 7, 1, tzinfo=UTC), message_id="U-1",
                 units=UnitBlock(serial="CA0004-VU-CH-356-1-10-2023"))
    doc = CanonicalDocument(actions=[verra, itmo, use], holdings=[], projects=[Project(project_id="P-1")])
    out = adapter.serialize(doc, medium=JSON)
    written = json.loads(out.data)
    (transaction,) = written["transactions"]
    assert transaction["serialNumber"] == "CA0001-GH-GH-12-1001-1500-2023"
    assert (transaction["retirementType"], transaction["country"], transaction["amount"]) == (
        "Cross-Border Transactions", "CHE", 500)
    losses = {(loss.field, loss.records) for loss in out.losses}
    assert ("actions", ("/actions/0",)) in losses and ("actions", ("/actions/2",)) in losses
    assert ("actions.using_party", ("/actions/1",)) in losses
    assert ("projects", ("/projects/0",)) in losses  # a project needs a title
    assert adapter.validate(out.data, medium=JSON).valid


# --------------------------------------------------------------------------- goldens and catalogue

def _catalog_with_profile() -> AdapterCatalog:
    catalog = AdapterCatalog()
    for found in default_catalog():
        if found.name != "undp-ncr":
            catalog.register(found)
    catalog.register(UndpNcrAdapter(PROFILE))
    return catalog


@pytest.mark.parametrize(("target", "golden"), [("aef", "golden-aef.json"), ("cadt-v2", "golden-cadt-v2.json")])
def test_golden_translation_of_the_aef_export(target: str, golden: str) -> None:
    catalog = _catalog_with_profile()
    if target not in catalog:
        pytest.skip(f"the {target} codec is not installed")
    result = translate(load("aef-actions-international.csv"), source="undp-ncr", target=target,
                       source_medium=CSV, target_medium=JSON, catalog=catalog)
    assert json.loads(result.output.data) == json.loads(load(golden))


def test_domestic_transfers_are_no_aef_actions() -> None:
    catalog = _catalog_with_profile()
    if "aef" not in catalog:
        pytest.skip("the aef codec is not installed")
    with pytest.raises(TranslationError) as info:
        translate(load("registry.json"), source="undp-ncr", target="aef", source_medium=JSON,
                  target_medium=JSON, catalog=catalog)
    errors = [f for f in info.value.findings if f.is_error]  # type: ignore[attr-defined]
    assert len(errors) == 2 and all("Acquiring participating Party" in f.message for f in errors)
    assert {f.location.pointer for f in errors} == {"/Actions/0/AcquiringPartyID", "/Actions/3/AcquiringPartyID"}


def test_catalogue_and_entry_point() -> None:
    assert all(rule.id.startswith("UNDP.") and rule.reference for rule in RULES)
    found = default_catalog().get("undp-ncr")
    assert found.version == "1.0.0" and set(found.media) == {JSON, CSV, Medium.XLSX}


# --------------------------------------------------------------------------- hypothesis round trips

PARTIES = ["VU", "CH", "GH", "SG", "SE", "PE"]


@st.composite
def registry_bundles(draw: st.DrawFn) -> dict[str, Any]:
    blocks, transactions = [], []
    next_first = 1
    for n in range(draw(st.integers(1, 5))):
        size = draw(st.integers(1, 10**6))
        first, last = next_first, next_first + size - 1
        next_first = last + 1 + draw(st.integers(0, 50))
        vintage = draw(st.integers(2021, 2030))
        serial = (f"CA{draw(st.integers(0, 9999)):04d}-{draw(st.sampled_from(PARTIES))}-"
                  f"{draw(st.sampled_from(PARTIES))}-{n + 1}-{first}-{last}-{vintage}")
        block: dict[str, Any] = {"creditBlockId": f"B{n}", "txType": draw(st.sampled_from(["Issued", "Transfered",
                                                                                            "Retired"])),
                                 "txTime": draw(st.integers(1_600_000_000_000, 1_900_000_000_000)),
                                 "ownerCompanyId": draw(st.integers(1, 999)), "projectRefId": str(n + 1),
                                 "serialNumber": serial, "vintage": str(vintage), "creditAmount": size,
                                 "isNotTransferred": draw(st.booleans())}
        if draw(st.booleans()):
            block["previousOwnerCompanyId"] = draw(st.integers(1, 999))
        blocks.append(block)
        kind = draw(st.sampled_from(["transfer", "voluntary", "cross", "issued"]))
        transaction: dict[str, Any] = {"id": n + 1, "status": draw(st.sampled_from(["Completed", "Pending",
                                                                                     "Rejected"])),
                                       "serialNumber": serial, "amount": draw(st.integers(1, size)),
                                       "projectRefId": str(n + 1),
                                       "createTime": draw(st.integers(1_600_000_000_000, 1_900_000_000_000))}
        if kind == "issued":
            transaction["type"] = "Issued"
        elif kind == "voluntary":
            transaction["retirementType"] = "Voluntary Cancellations"
        elif kind == "cross":
            transaction["retirementType"] = "Cross-Border Transactions"
            transaction["country"] = draw(st.sampled_from(["Switzerland", "SG", "SWE"]))
            transaction["organizationName"] = draw(st.text(min_size=1, max_size=20))
        if draw(st.booleans()):
            transaction["recieverId"] = draw(st.integers(1, 999))
        if draw(st.booleans()):
            transaction["remarks"] = draw(st.text(max_size=30))
        transactions.append(transaction)
    return {"creditBlocks": blocks, "transactions": transactions}


def _canonical_order(bundle: dict[str, Any], written: dict[str, Any]) -> None:
    for group, records in bundle.items():
        assert [json.dumps(r, sort_keys=True) for r in written[group]] == [
            json.dumps(r, sort_keys=True) for r in records]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(registry_bundles())
def test_json_native_canonical_native_is_lossless(bundle: dict[str, Any]) -> None:
    parsed = parse_json(bundle)
    assert parsed.valid, [f.as_dict() for f in parsed.findings]
    out = adapter.serialize(parsed.document, medium=JSON)
    assert out.losses == []
    _canonical_order(bundle, json.loads(out.data))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(registry_bundles())
def test_canonical_without_native_extras_still_round_trips(bundle: dict[str, Any]) -> None:
    """Strip the kept native records: what is rebuilt from canonical fields alone reads back the same."""
    parsed = parse_json(bundle).document
    bare = CanonicalDocument(
        units=[u.model_copy(update={"extra": {}}) for u in parsed.units],
        actions=[a.model_copy(update={"extra": {}}) for a in parsed.actions])
    out = adapter.serialize(bare, medium=JSON)
    again = adapter.parse(out.data, medium=JSON)
    assert again.valid
    strip = [u.model_copy(update={"extra": {}}) for u in again.document.units]
    assert strip == bare.units
    assert [a.model_copy(update={"extra": {}}) for a in again.document.actions] == bare.actions


@st.composite
def export_rows(draw: st.DrawFn) -> list[list[str]]:
    rows = []
    for _ in range(draw(st.integers(1, 6))):
        first = draw(st.integers(1, 10**7))
        last = first + draw(st.integers(0, 10**5))
        vintage = draw(st.integers(2021, 2030))
        prefix = f"CA0004-{draw(st.sampled_from(PARTIES))}-{draw(st.sampled_from(PARTIES))}-356"
        kind = draw(st.sampled_from(["authorization", "transfer", "retire", "crossBoarderTransfer"]))
        day = draw(st.dates(date(2021, 1, 1), date(2030, 12, 31)))
        cells = {
            "creditBlockStartId": f"{prefix}-{first}-{first}-{vintage}",
            "creditBlockEndId": f"{prefix}-{last}-{last}-{vintage}", "creditAmount": str(last - first + 1),
            "vintage": str(vintage), "actionTime": day.strftime("%d-%b-%y"), "actionType": kind,
            "metric": "tCO2", "firstTransferingParty": draw(st.sampled_from(["Switzerland", "NA"])),
            "transferingParty": draw(st.sampled_from(["Vanuatu", "NA"])),
            "aquiringParty": "Singapore" if kind == "crossBoarderTransfer" else "NA",
            "authorizationId": draw(st.sampled_from(["150324VU356", "NA"])),
            "projectAuthorizationTime": "15-Mar-24", "purposeForAuthorization": "NDC",
            "firstTransferDefinition": "Authorization", "cooperativeApproach": "Article 6.2",
            "actionBy": draw(st.sampled_from(["NA", "Acme Ltd"]))}
        rows.append([cells.get(key, "NA") for key in KEYS])
    return rows


KEYS = [key for _label, key in AEF_COLUMNS]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(export_rows())
def test_csv_native_canonical_native_is_lossless(rows: list[list[str]]) -> None:
    header = load("aef-actions.csv").decode().splitlines()[0]
    text = header + "\n" + "\n".join(",".join(r) for r in rows) + "\n"
    parsed = adapter.parse(text.encode(), medium=CSV)
    assert parsed.valid, [f.as_dict() for f in parsed.findings]
    out = adapter.serialize(parsed.document, medium=CSV)
    assert out.losses == []
    assert [list(r.cells) for r in read_csv_records(out.data)[1:]] == rows


def test_entity_json_lacks_what_a_cad_trust_v2_unit_needs() -> None:
    catalog = _catalog_with_profile()
    if "cadt-v2" not in catalog:
        pytest.skip("the cadt-v2 codec is not installed")
    with pytest.raises(TranslationError) as info:
        translate(load("registry.json"), source="undp-ncr", target="cadt-v2", source_medium=JSON,
                  target_medium=JSON, catalog=catalog)
    missing = {f.location.pointer.rsplit("/", 1)[-1] for f in info.value.findings  # type: ignore[attr-defined]
               if f.is_error and f.location.pointer.startswith("/unit/")}
    assert {"unitType", "unitMetric"} <= missing


# --------------------------------------------------------------------------- AEF export XLSX

def _template_workbook(rows: list[list[Any]] | None = None) -> bytes:
    """A workbook laid out like the registry's template: a heading table, then the actions table."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "AEF Actions"
    sheet.append(["Table 1: Heading"])
    sheet.append(["Party", "Vanuatu"])
    sheet.append(["Reported year", 2024])
    sheet.append([])
    sheet.append(["Table 2: Actions"])
    records = read_csv_records(load("aef-actions.csv"))
    sheet.append(list(records[0].cells))
    for record in records[1:] if rows is None else []:
        cells: list[Any] = list(record.cells)
        cells[8] = int(cells[8])  # Quantity (t CO2 eq) as a number cell
        cells[19] = datetime.strptime(cells[19], "%d-%b-%y")  # Action date as a date cell
        sheet.append(cells)
    for row in rows or []:
        sheet.append(row)
    sheet.append([])
    sheet.append(["Table3: Holdings"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_xlsx_export_reads_like_the_csv_and_round_trips() -> None:
    from_csv = adapter.parse(load("aef-actions.csv"), medium=CSV).document
    result = adapter.parse(_template_workbook(), medium=Medium.XLSX)
    assert result.valid, [f.as_dict() for f in result.findings]
    strip = [a.model_copy(update={"extra": {}}) for a in result.document.actions]
    assert strip == [a.model_copy(update={"extra": {}}) for a in from_csv.actions]
    out = adapter.serialize(result.document, medium=Medium.XLSX)
    assert out.losses == [] and out.medium is Medium.XLSX
    assert adapter.parse(out.data, medium=Medium.XLSX).document == result.document


def test_xlsx_findings_point_at_sheet_and_cell() -> None:
    bad_row: list[Any] = ["NA"] * 26
    bad_row[4], bad_row[5], bad_row[8], bad_row[19], bad_row[20] = 1, 10, 11, "01-Feb-24", "transfer"
    result = adapter.parse(_template_workbook([bad_row]), medium=Medium.XLSX)
    (finding,) = result.findings
    assert finding.rule == "UNDP.SERIAL_QUANTITY"
    assert (finding.location.sheet, finding.location.cell) == ("AEF Actions", "I7")


def test_xlsx_without_an_actions_table_and_hostile_workbooks() -> None:
    import zipfile

    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(["Party", "Vanuatu"])
    plain = io.BytesIO()
    workbook.save(plain)
    result = adapter.parse(plain.getvalue(), medium=Medium.XLSX)
    assert rules_of(result) == ["UNDP.AEF_COLUMNS"]
    with_macros = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain.getvalue())) as source, zipfile.ZipFile(with_macros, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        target.writestr("xl/vbaProject.bin", b"\x00" * 64)
    with pytest.raises(UnsafeInput):
        adapter.parse(with_macros.getvalue(), medium=Medium.XLSX)
    with pytest.raises(MalformedInput):
        adapter.parse(b"PK\x03\x04 not really a zip", medium=Medium.XLSX)


_json_values = st.recursive(st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.text(max_size=12),
                            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                         max_size=3), max_leaves=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["creditAmount", "txTime", "serialNumber", "ownerCompanyId", "vintage",
                                        "txType", "amount", "createTime", "status", "country", "retirementType",
                                        "type", "id", "actionType", "creditBlockStartId", "vintage", "other"]),
                       _json_values, max_size=6), st.sampled_from([JSON, CSV, Medium.XLSX]))
def test_edited_native_extras_never_break_writing(native: dict[str, Any], medium: Medium) -> None:
    """Whatever was put in extra["undp"], writing gives a valid file or a reported loss, never a traceback."""
    parsed = adapter.parse(load("registry.json"), medium=JSON).document
    doc = CanonicalDocument(
        units=[u.model_copy(update={"extra": {"undp": {**u.extra["undp"], **native}}}) for u in parsed.units],
        actions=[a.model_copy(update={"extra": {"undp": {**a.extra["undp"], **native}}}) for a in parsed.actions])
    out = adapter.serialize(doc, medium=medium)
    assert adapter.validate(out.data, medium=medium).valid
