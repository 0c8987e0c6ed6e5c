"""The des-xml adapter: DES document-literal XML <-> canonical, hostile input, code lists, losses."""

from __future__ import annotations

import json
import socket
import threading
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from adapters.des_xml import RULES, DesXmlAdapter, adapter
from standards.codec import Medium
from standards.des import NAMESPACE, CodeLists
from standards.des.messages import Message, read_document, write_document
from standards.des.schema import lxml_schema
from standards.errors import InputTooLarge, MalformedInput, UnknownFormat, UnsafeInput, UnsupportedEncoding
from standards.model import Action, ActionType, CanonicalDocument, Project, UnitBlock, UnitStatus
from tests.support.edge import EdgeEnvironment

FIXTURES = Path(__file__).parent.parent / "fixtures" / "des-xml"
XML = Medium.XML


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def rules_of(result: Any) -> list[str]:
    return [f.rule for f in result.findings]


def proposal(body: str = "", *, header_extra: str = "<messageDateTime>2012-01-02T03:04:05Z</messageDateTime>",
             blocks: str | None = None, tx_type: int = 3) -> bytes:
    block = blocks if blocks is not None else (
        "<TransactionUnitBlock><unitSerialBlockStart>1</unitSerialBlockStart>"
        "<unitSerialBlockEnd>10</unitSerialBlockEnd><originatingRegistryCode>GB</originatingRegistryCode>"
        "<unitType>1</unitType><originalCommitPeriod>1</originalCommitPeriod>"
        "<applicableCommitPeriod>1</applicableCommitPeriod></TransactionUnitBlock>")
    return (f'<ProposalRequest xmlns="{NAMESPACE}"><from>GB</from><to>ITL</to><majorVersion>1</majorVersion>'
            f"<minorVersion>1</minorVersion>{header_extra}<proposedTransaction>"
            f"<transactionIdentifier>GB1</transactionIdentifier><transactionType>{tx_type}</transactionType>"
            "<transferringRegistryCode>GB</transferringRegistryCode><acquiringRegistryCode>JP"
            f"</acquiringRegistryCode><proposalUnitBlocks>{block}</proposalUnitBlocks></proposedTransaction>"
            f"{body}</ProposalRequest>").encode()


# --------------------------------------------------------------------------- reading real-shaped files

def test_external_transfer_maps_each_block_to_a_transfer_action() -> None:
    result = adapter.parse(load("proposal-external-transfer.xml"), medium=XML)
    assert result.valid and result.findings == []
    cer, aau = result.document.actions
    assert cer.action_type is ActionType.TRANSFER and cer.subtype == "External transfer"
    assert (cer.transferring_party, cer.acquiring_party) == ("GBR", "JPN")
    assert cer.message_id == "GB1000234"
    assert cer.date == datetime(2012, 11, 14, 9, 30, tzinfo=UTC)
    assert cer.units is not None and aau.units is not None
    assert (cer.units.first_id, cer.units.last_id, cer.units.quantity) == (104500001, 104525000, 25000)
    assert cer.quantity == Decimal(25000)
    assert (cer.units.unit_type, cer.units.registry, cer.units.country) == ("CER", "CDM", None)
    assert cer.units.project_id == "1234" and cer.units.status is UnitStatus.PENDING
    assert (aau.units.unit_type, aau.units.country, aau.units.project_id) == ("AAU", "GBR", None)
    des = cer.extra["des"]
    assert des["transaction"]["acquiringRegistryAccountType"] == 100
    assert des["block"]["originalCommitPeriod"] == 1


def test_batch_maps_retirement_cancellation_internal_transfer_and_the_answer() -> None:
    result = adapter.parse(load("batch.xml"), medium=XML)
    assert result.valid, result.findings
    retire, cancel, internal = result.document.actions
    assert retire.action_type is ActionType.RETIREMENT and retire.units is not None
    assert retire.units.unit_type == "ERU (from AAU)" and retire.units.country == "UKR"
    assert retire.date == datetime(2014, 4, 30, 16, 5, 11, tzinfo=timezone(timedelta(hours=1)))
    assert cancel.action_type is ActionType.CANCELLATION
    assert cancel.extra["des"]["transaction"]["acquiringRegistryAccountType"] == 230
    assert internal.action_type is ActionType.TRANSFER and internal.subtype == "Internal transfer"
    assert internal.extra["des"]["block"]["expiryDate"] == "2017-12-31"
    (answer,) = result.document.units
    assert answer.status is UnitStatus.TRANSFERRED and answer.status_date == date(2014, 4, 30)
    assert answer.extra["des"]["transactionIdentifier"] == "GB2000101"
    assert answer.extra["des"]["transactionStatusName"] == "Completed"


def test_notification_keeps_the_evaluation_results_and_names_the_codes() -> None:
    result = adapter.parse(load("notification-discrepancy.xml"), medium=XML)
    assert result.valid and result.document.actions == []
    (answer,) = result.document.units
    assert answer.status is UnitStatus.REJECTED
    assert answer.status_reason is not None
    assert "2017 A project identifier is required" in answer.status_reason
    assert "5215 External transfer checks" in answer.status_reason
    results = answer.extra["des"]["evaluationResult"]
    assert results[0]["unitBlockIdentifiers"][0] == {
        "unitSerialBlockStart": 104600001, "unitSerialBlockEnd": 104600100, "originatingRegistryCode": "CDM"}
    assert answer.extra["des"]["transactionStatus"] == 3


def test_soap_envelope_is_unwrapped() -> None:
    result = adapter.parse(load("soap-envelope.xml"), medium=XML)
    assert result.valid
    assert result.document.units[0].extra["des"]["transactionStatusName"] == "Accepted"


def test_soap_envelope_with_two_payloads_is_refused() -> None:
    inner = load("notification-discrepancy.xml").split(b"?>", 1)[1]
    doc = (b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>' + inner + inner
           + b"</e:Body></e:Envelope>")
    with pytest.raises(MalformedInput) as info:
        adapter.parse(doc, medium=XML)
    assert info.value.code == "INPUT.XML"


# --------------------------------------------------------------------------- coded findings

def test_bad_codes_give_one_coded_finding_each_with_an_xpath() -> None:
    result = adapter.parse(load("bad-codes.xml"), medium=XML)
    assert not result.valid and result.document.is_empty()
    assert sorted(rules_of(result)) == sorted([
        "DES.TRANSACTION_TYPE", "DES.ACCOUNT_TYPE", "DES.REGISTRY_CODE", "DES.BLOCK_RANGE",
        "DES.PROJECT_REQUIRED", "DES.UNIT_TYPE", "DES.PERIOD_ORDER", "DES.BLOCK_OVERLAP"])
    by_rule = {f.rule: f for f in result.findings}
    blocks = "/des:ProposalRequest/des:proposedTransaction/des:proposalUnitBlocks"
    assert by_rule["DES.BLOCK_RANGE"].location.xpath == f"{blocks}/des:TransactionUnitBlock[1]/des:unitSerialBlockEnd"
    assert by_rule["DES.UNIT_TYPE"].location.xpath == f"{blocks}/des:TransactionUnitBlock[3]/des:unitType"
    assert by_rule["DES.REGISTRY_CODE"].location.xpath.endswith("des:acquiringRegistryCode")
    assert "'QQ'" in by_rule["DES.REGISTRY_CODE"].message
    assert all(f.reference for f in result.findings)


def test_schema_problems_are_located_by_xpath_and_line() -> None:
    result = adapter.parse(load("schema-invalid.xml"), medium=XML)
    assert not result.valid and result.document.is_empty()
    assert set(rules_of(result)) == {"DES.SCHEMA"}
    serial = next(f for f in result.findings if "unitSerialBlockStart" in f.location.render())
    assert serial.location.xpath == ("/des:ProposalRequest/des:proposedTransaction/des:proposalUnitBlocks/"
                                     "des:TransactionUnitBlock/des:unitSerialBlockStart")
    assert serial.location.line == 14 and "'10O0'" in serial.message and "whole number" in serial.message
    missing = next(f for f in result.findings if f.location.xpath == "/des:ProposalRequest/des:proposedTransaction")
    assert "transactionType" in missing.message


def test_a_proposal_without_a_date_is_an_error_not_an_invented_date() -> None:
    result = adapter.parse(proposal(header_extra=""), medium=XML)
    assert rules_of(result) == ["DES.MESSAGE_DATE"] and result.document.actions == []


def test_an_impossible_date_is_a_value_finding() -> None:
    result = adapter.parse(proposal(header_extra="<messageDateTime>2012-02-30T00:00:00Z</messageDateTime>"),
                           medium=XML)
    assert not result.valid
    assert rules_of(result)[0] in {"DES.SCHEMA", "DES.VALUE"}


def test_version_two_is_a_warning_and_approximate_types_are_noted() -> None:
    data = proposal(tx_type=7).replace(b"<majorVersion>1<", b"<majorVersion>2<")
    result = adapter.parse(data, medium=XML)
    assert result.valid
    assert sorted(rules_of(result)) == ["DES.APPROXIMATE_ACTION", "DES.VERSION"]
    assert result.document.actions[0].subtype == "Carry-over"


def test_duplicate_transaction_in_a_batch() -> None:
    one = proposal().decode()
    inner = one.replace(f' xmlns="{NAMESPACE}"', "")
    batch = f'<MessageBatch xmlns="{NAMESPACE}">{inner}{inner}</MessageBatch>'.encode()
    result = adapter.parse(batch, medium=XML)
    assert "DES.DUPLICATE_TRANSACTION" in rules_of(result) and not result.valid


def test_unknown_response_code_and_unknown_status() -> None:
    doc = (f'<NotificationRequest xmlns="{NAMESPACE}"><from>ITL</from><to>GB</to><majorVersion>1</majorVersion>'
           "<minorVersion>1</minorVersion><transactionIdentifier>GB1</transactionIdentifier>"
           "<transactionStatus>{status}</transactionStatus><partyType>1</partyType><evaluationResult>"
           "<EvaluationResult><responseCode>9999</responseCode></EvaluationResult></evaluationResult>"
           "</NotificationRequest>")
    warned = adapter.parse(doc.format(status=4).encode(), medium=XML)
    assert rules_of(warned) == ["DES.RESPONSE_CODE"] and warned.valid
    assert warned.document.units[0].status_reason == "9999"
    refused = adapter.parse(doc.format(status=42).encode(), medium=XML)
    assert "DES.TRANSACTION_STATUS" in rules_of(refused) and refused.document.units == []


@pytest.mark.parametrize("root", [b"<foo/>", b"<ProposalRequest xmlns='urn:other'/>",
                                  b"<ProposalRequest/>"])
def test_foreign_roots_are_refused_with_a_coded_finding(root: bytes) -> None:
    result = adapter.parse(root, medium=XML)
    assert rules_of(result) == ["DES.ROOT"] and result.findings[0].location.xpath is not None


def test_every_rule_has_a_reference_and_a_stable_prefix() -> None:
    assert len(RULES) >= 20
    assert all(r.id.startswith("DES.") and r.reference for r in RULES)


def test_other_media_are_refused() -> None:
    with pytest.raises(UnknownFormat):
        adapter.parse(b"a,b", medium=Medium.CSV)


# --------------------------------------------------------------------------- hostile input

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE ProposalRequest [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<ProposalRequest xmlns="urn:KyotoProtocol:RegistrySystem:ITL:DocLit:1.1:0.0"><from>&xxe;</from></ProposalRequest>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<lolz>&lol3;</lolz>"""


class _Listener:
    """A real TCP listener on 127.0.0.1 that counts connection attempts."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.hits += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def listener() -> Any:
    server = _Listener()
    yield server
    server.close()


def test_xxe_is_refused_before_any_entity_is_read() -> None:
    with pytest.raises(UnsafeInput) as info:
        adapter.parse(XXE, medium=XML)
    assert info.value.code == "INPUT.XML_DTD"


def test_billion_laughs_is_refused() -> None:
    with pytest.raises(UnsafeInput):
        adapter.parse(LAUGHS, medium=XML)


def test_external_dtd_is_refused_without_a_connection(listener: _Listener) -> None:
    doc = (f'<?xml version="1.0"?><!DOCTYPE ProposalRequest SYSTEM "http://127.0.0.1:{listener.port}/des.dtd">'
           f'<ProposalRequest xmlns="{NAMESPACE}"/>').encode()
    with pytest.raises(UnsafeInput):
        adapter.parse(doc, medium=XML)
    assert listener.hits == 0


def test_schema_location_hints_and_xinclude_are_not_followed(listener: _Listener) -> None:
    url = f"http://127.0.0.1:{listener.port}/evil"
    doc = (f'<ProposalRequest xmlns="{NAMESPACE}" xmlns:xi="http://www.w3.org/2001/XInclude" '
           f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="{NAMESPACE} {url}.xsd">'
           f'<xi:include href="{url}.xml"/></ProposalRequest>').encode()
    result = adapter.parse(doc, medium=XML)
    assert set(rules_of(result)) == {"DES.SCHEMA"}
    assert listener.hits == 0


def test_huge_input_is_refused_by_size(edge_env: EdgeEnvironment) -> None:
    edge_env.setenv("CARBONLINK_MAX_INPUT_BYTES", "4096")
    with pytest.raises(InputTooLarge):
        adapter.parse(proposal() + b" " * 5000, medium=XML)


def test_deep_nesting_is_refused_as_malformed() -> None:
    doc = b"<a>" * 20000 + b"</a>" * 20000
    with pytest.raises(MalformedInput):
        adapter.parse(doc, medium=XML)


@pytest.mark.parametrize("data", [b"", b"   ", proposal()[:-40], b"<ProposalRequest><from>GB</to>",
                                  b"\x00\x01\x02binary"])
def test_truncated_or_garbage_input_is_a_coded_input_error(data: bytes) -> None:
    with pytest.raises(MalformedInput) as info:
        adapter.parse(data, medium=XML)
    assert info.value.code == "INPUT.XML"


def test_mixed_encoding_is_a_coded_input_error() -> None:
    latin1 = proposal().replace(b"<to>ITL</to>", "<to>ITL\xe9</to>".encode("latin-1"))
    with pytest.raises((MalformedInput, UnsupportedEncoding)) as info:
        adapter.parse(b'<?xml version="1.0" encoding="UTF-8"?>' + latin1, medium=XML)
    assert info.value.code.startswith("INPUT.")


# --------------------------------------------------------------------------- writing and losses

@pytest.mark.parametrize("name", ["proposal-external-transfer.xml", "batch.xml", "notification-discrepancy.xml",
                                  "soap-envelope.xml"])
def test_fixtures_round_trip_losslessly(name: str) -> None:
    first = adapter.parse(load(name), medium=XML)
    out = adapter.serialize(first.document, medium=XML)
    assert out.losses == []
    assert adapter.validate(out.data, medium=XML).valid
    second = adapter.parse(out.data, medium=XML)
    assert second.document == first.document
    original = etree.fromstring(load(name))
    if etree.QName(original).localname == "Envelope":
        original = original[-1][0]
    assert [m.values for m in read_document(original)] == [
        m.values for m in read_document(etree.fromstring(out.data))]


def test_itmo_actions_are_never_written_with_kyoto_unit_types() -> None:
    itmo = Action(action_type=ActionType.FIRST_TRANSFER, date=datetime(2025, 3, 1, tzinfo=UTC),
                  cooperative_approach="CA0004", registry="VUT01", first_transferring_party="CHE",
                  first_id=3001, last_id=5000, vintage=2024, transferring_party="VUT", acquiring_party="CHE",
                  message_id="VU1", units=UnitBlock(first_id=3001, last_id=5000, unit_type="CER",
                                                    country="VUT", vintage=2024))
    out = adapter.serialize(CanonicalDocument(actions=[itmo]), medium=XML)
    assert b"unitType" not in out.data and b"TransactionUnitBlock" not in out.data
    (loss,) = out.losses
    assert loss.field == "actions" and loss.records == ("/actions/0",) and "ITMO" in loss.reason
    assert adapter.validate(out.data, medium=XML).valid


def test_non_kyoto_units_and_article6_actions_are_reported_not_written() -> None:
    vcu = Action(action_type=ActionType.RETIREMENT, date=datetime(2024, 1, 1, tzinfo=UTC), message_id="US7",
                 units=UnitBlock(first_id=1, last_id=5, unit_type="VCU", vintage=2020))
    use = Action(action_type=ActionType.USE, date=datetime(2024, 1, 1, tzinfo=UTC), message_id="GB8",
                 transferring_party="GBR", units=UnitBlock(first_id=1, last_id=5, unit_type="AAU",
                                                           vintage=2010, country="GBR"))
    out = adapter.serialize(CanonicalDocument(actions=[vcu, use], projects=[Project(project_id="P1")]),
                            medium=XML)
    reasons = {loss.records: loss.reason for loss in out.losses}
    assert "not a Kyoto unit type" in reasons[("/actions/0",)]
    assert "no DES transaction type" in reasons[("/actions/1",)]
    assert any(loss.field == "projects" and loss.records == ("/projects/0",) for loss in out.losses)


def test_a_hand_built_cer_transfer_is_written_with_derived_codes_and_reported_losses() -> None:
    action = Action(action_type=ActionType.TRANSFER, date=datetime(2011, 6, 1, 12, tzinfo=UTC),
                    transferring_party="DEU", acquiring_party="NZL", message_id="DE42", quantity=Decimal(100),
                    additional_information="sale", extra={"note": "x"},
                    units=UnitBlock(first_id=901, last_id=1000, unit_type="CER", vintage=2010,
                                    country="IND", project_id="77", owner="Acme GmbH"))
    out = adapter.serialize(CanonicalDocument(actions=[action]), medium=XML)
    assert adapter.validate(out.data, medium=XML).valid
    (message,) = read_document(etree.fromstring(out.data))
    tx = message.values["proposedTransaction"]
    assert (tx["transactionType"], tx["transferringRegistryCode"], tx["acquiringRegistryCode"]) == (3, "DE", "NZ")
    block = tx["proposalUnitBlocks"][0]
    assert (block["unitType"], block["originalCommitPeriod"], block["originatingRegistryCode"]) == (5, 1, "IN")
    assert block["projectIdentifier"] == 77
    assert {loss.field for loss in out.losses} == {
        "actions.additional_information", "extra.note", "units.owner", "units.vintage"}
    assert all(loss.records == ("/actions/0",) for loss in out.losses)


def test_a_quantity_that_disagrees_with_the_range_is_a_loss() -> None:
    action = Action(action_type=ActionType.ISSUANCE, date=datetime(2010, 1, 1, tzinfo=UTC), message_id="GB9",
                    transferring_party="GBR", acquiring_party="GBR", quantity=Decimal(7),
                    units=UnitBlock(first_id=1, last_id=5, unit_type="AAU", vintage=2010, country="GBR"))
    out = adapter.serialize(CanonicalDocument(actions=[action]), medium=XML)
    assert "actions.quantity" in {loss.field for loss in out.losses}


def test_plain_unit_holdings_are_a_loss() -> None:
    out = adapter.serialize(CanonicalDocument(units=[UnitBlock(first_id=1, last_id=2)]), medium=XML)
    assert [loss.field for loss in out.losses] == ["units"]
    assert adapter.validate(out.data, medium=XML).valid


# --------------------------------------------------------------------------- configurable code lists

def test_code_lists_can_be_replaced_by_a_deployment(tmp_path: Path) -> None:
    raw = json.loads((Path(__file__).parents[2] / "standards" / "des" / "codes.json").read_text())
    raw["responseCodes"]["9999"] = "Local check"
    raw["registryCodes"]["special"].append("QQ")
    path = tmp_path / "codes.json"
    path.write_text(json.dumps(raw))
    local = DesXmlAdapter(CodeLists.load(path))
    bad = load("bad-codes.xml")
    assert "DES.REGISTRY_CODE" not in rules_of(local.parse(bad, medium=XML))
    assert "DES.REGISTRY_CODE" in rules_of(adapter.parse(bad, medium=XML))
    with pytest.raises(MalformedInput):
        CodeLists.load(tmp_path / "missing.json")


def test_adapter_is_found_through_its_entry_point() -> None:
    from adapters import default_catalog

    found = default_catalog().get("des-xml")
    assert found.version == "1.0.0" and Medium.XML in found.media


# --------------------------------------------------------------------------- hypothesis round trip

REGISTRIES = ["GB", "JP", "DE", "NZ", "UA", "CDM"]
_ints = st.integers(min_value=0, max_value=2**31 - 1)


@st.composite
def unit_blocks(draw: st.DrawFn, count: int) -> list[dict[str, Any]]:
    starts = sorted(draw(st.lists(st.integers(1, 10**12), min_size=count, max_size=count, unique=True)))
    blocks = []
    for i, start in enumerate(starts):
        limit = starts[i + 1] - 1 if i + 1 < len(starts) else start + 10**6
        end = draw(st.integers(start, min(limit, start + 10**6)))
        unit_type = draw(st.sampled_from([0, 1, 2, 3, 4, 5, 6, 7]))
        original = draw(st.sampled_from([0, 1, 2, 3]))
        block: dict[str, Any] = {
            "unitSerialBlockStart": start, "unitSerialBlockEnd": end,
            "originatingRegistryCode": draw(st.sampled_from(REGISTRIES)), "unitType": unit_type,
            "originalCommitPeriod": original, "applicableCommitPeriod": draw(st.integers(original, 3))}
        if unit_type == 1 and draw(st.booleans()):
            block["suppUnitType"] = 1
        if draw(st.booleans()):
            block["LULUCFActivity"] = draw(st.integers(1, 7))
        if unit_type >= 3 or draw(st.booleans()):
            block["projectIdentifier"] = draw(_ints)
        for name, strategy in (("track", st.sampled_from([1, 2])), ("blockRole", st.just("REP")),
                               ("transferringRegistryAccountType", st.sampled_from([100, 121])),
                               ("transferringRegistryAccountIdentifier", st.integers(0, 2**62)),
                               ("acquiringRegistryAccountType", st.sampled_from([100, 230, 300])),
                               ("acquiringRegistryAccountIdentifier", st.integers(0, 2**62)),
                               ("yearInCommitmentPeriod", st.integers(2008, 2020)),
                               ("installationIdentifier", st.integers(0, 2**62)),
                               ("expiryDate", st.dates(date(2008, 1, 1), date(2040, 12, 31)))):
            if draw(st.booleans()):
                block[name] = draw(strategy)
        ordered = [n for n in ("unitSerialBlockStart", "unitSerialBlockEnd", "originatingRegistryCode", "unitType",
                               "suppUnitType", "originalCommitPeriod", "applicableCommitPeriod", "LULUCFActivity",
                               "projectIdentifier", "track", "blockRole", "transferringRegistryAccountType",
                               "transferringRegistryAccountIdentifier", "acquiringRegistryAccountType",
                               "acquiringRegistryAccountIdentifier", "yearInCommitmentPeriod",
                               "installationIdentifier", "expiryDate") if n in block]
        blocks.append({n: block[n] for n in ordered})
    return blocks


datetimes = st.datetimes(datetime(2005, 1, 1), datetime(2030, 12, 31),
                         timezones=st.sampled_from([UTC, timezone(timedelta(hours=1))])).map(
                             lambda d: d.replace(microsecond=0))


@st.composite
def des_messages(draw: st.DrawFn) -> Message:
    codes = [*REGISTRIES, "ITL"]
    header = {"from": draw(st.sampled_from(codes)), "to": draw(st.sampled_from(codes)),
              "majorVersion": 1, "minorVersion": draw(st.integers(0, 3)), "messageDateTime": draw(datetimes)}
    if draw(st.booleans()):
        transferring = draw(st.sampled_from(REGISTRIES))
        tx_type = draw(st.sampled_from([1, 2, 3, 4, 5, 6, 7, 8, 10]))
        tx: dict[str, Any] = {"transactionIdentifier": f"{transferring}{draw(st.integers(1, 10**9))}",
                              "transactionType": tx_type}
        if tx_type == 4 and draw(st.booleans()):
            tx["suppTransactionType"] = 48
        tx["transferringRegistryCode"] = transferring
        if draw(st.booleans()):
            tx["transferringRegistryAccountType"] = 100
            tx["transferringRegistryAccountIdentifier"] = draw(st.integers(0, 2**40))
        tx["acquiringRegistryCode"] = draw(st.sampled_from(REGISTRIES))
        if draw(st.booleans()):
            tx["acquiringRegistryAccountType"] = draw(st.sampled_from([100, 230, 300]))
        if draw(st.booleans()):
            tx["notificationIdentifier"] = draw(st.integers(0, 2**40))
        tx["proposalUnitBlocks"] = draw(unit_blocks(draw(st.integers(1, 4))))
        return Message("ProposalRequest", {**header, "proposedTransaction": tx})
    if draw(st.booleans()):
        del header["messageDateTime"]
    results = []
    for _ in range(draw(st.integers(0, 3))):
        result: dict[str, Any] = {"responseCode": draw(st.sampled_from([1031, 2017, 4010, 5008, 5215, 7027]))}
        if draw(st.booleans()):
            result["unitBlockIdentifiers"] = [
                {"unitSerialBlockStart": s, "unitSerialBlockEnd": s + n, "originatingRegistryCode": "GB"}
                for s, n in draw(st.lists(st.tuples(st.integers(1, 10**9), st.integers(0, 1000)), min_size=1,
                                          max_size=3))]
        results.append(result)
    return Message("NotificationRequest", {
        **header, "transactionIdentifier": f"GB{draw(st.integers(1, 10**9))}",
        "transactionStatus": draw(st.integers(1, 10)), "partyType": draw(st.integers(0, 3)),
        "evaluationResult": results})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(des_messages(), min_size=1, max_size=4, unique_by=lambda m: str(m.values.get(
    "proposedTransaction", {}).get("transactionIdentifier", id(m)))))
def test_native_canonical_native_round_trip_is_lossless(messages: list[Message]) -> None:
    native = write_document(messages)
    assert lxml_schema().validate(etree.fromstring(native))
    parsed = adapter.parse(native, medium=XML)
    assert parsed.valid, [f.as_dict() for f in parsed.findings]
    out = adapter.serialize(parsed.document, medium=XML)
    assert out.losses == []
    again = read_document(etree.fromstring(out.data))
    assert [(m.type, m.values) for m in again] == [(m.type, m.values) for m in messages]


def test_findings_in_a_batch_name_the_message_by_position() -> None:
    good = proposal().decode().replace(f' xmlns="{NAMESPACE}"', "")
    bad = good.replace("<unitType>1</unitType>", "<unitType>42</unitType>").replace("GB1<", "GB2<")
    result = adapter.parse(f'<MessageBatch xmlns="{NAMESPACE}">{good}{bad}</MessageBatch>'.encode(), medium=XML)
    (finding,) = result.findings
    assert finding.location.xpath == ("/des:MessageBatch/des:ProposalRequest[2]/des:proposedTransaction/"
                                      "des:proposalUnitBlocks/des:TransactionUnitBlock/des:unitType")
    assert result.document.is_empty()  # no partial result from a document with errors


def test_a_hostile_number_of_bad_blocks_stops_at_the_findings_limit() -> None:
    import time

    block = ("<TransactionUnitBlock><unitSerialBlockStart>1</unitSerialBlockStart>"
             "<unitSerialBlockEnd>10</unitSerialBlockEnd><originatingRegistryCode>GB</originatingRegistryCode>"
             "<unitType>5</unitType><originalCommitPeriod>9</originalCommitPeriod>"
             "<applicableCommitPeriod>9</applicableCommitPeriod></TransactionUnitBlock>")
    data = proposal(blocks=block * 40000)
    started = time.perf_counter()
    result = adapter.parse(data, medium=XML)
    elapsed = time.perf_counter() - started
    assert result.findings[-1].rule in {"DES.FINDINGS_LIMIT", "DES.BLOCK_OVERLAP"}
    assert 1000 <= len(result.findings) <= 2002
    assert "DES.BLOCK_OVERLAP" in rules_of(result)
    assert result.findings[0].location.xpath is not None and result.findings[0].location.xpath.endswith(
        "des:TransactionUnitBlock[1]/des:originalCommitPeriod")
    assert elapsed < 30  # linear work: a hostile file cannot make the checks quadratic


@pytest.mark.parametrize(("target", "rule"), [("aef", "AEF.STRUCTURE.REQUIRED"), ("cadt-v2", "CADT.V2.REQUIRED")])
def test_kyoto_units_do_not_translate_to_article6_targets(target: str, rule: str) -> None:
    from adapters import default_catalog
    from adapters.translate import translate
    from standards.errors import TranslationError

    if target not in default_catalog():
        pytest.skip(f"the {target} codec is not installed")
    with pytest.raises(TranslationError) as info:
        translate(load("batch.xml"), source="des-xml", target=target, source_medium=XML,
                  target_medium=Medium.JSON)
    findings = info.value.findings  # type: ignore[attr-defined]
    assert any(f.rule == rule and f.is_error for f in findings)


def test_translation_to_canonical_json_keeps_every_des_value() -> None:
    from adapters import default_catalog
    from adapters.translate import translate

    if "canonical" not in default_catalog():
        pytest.skip("the canonical codec is not installed")
    result = translate(load("batch.xml"), source="des-xml", target="canonical", source_medium=XML,
                       target_medium=Medium.JSON)
    back = translate(result.output.data, source="canonical", target="des-xml", source_medium=Medium.JSON,
                     target_medium=XML)
    assert back.losses == []
    assert [m.values for m in read_document(etree.fromstring(back.output.data))] == [
        m.values for m in read_document(etree.fromstring(load("batch.xml")))]


def test_edited_des_extras_that_break_the_schema_are_reported_not_written() -> None:
    parsed = adapter.parse(load("batch.xml"), medium=XML).document
    retire = parsed.actions[0]
    broken_block = dict(retire.extra["des"]["block"], track="fast")
    actions = [retire.model_copy(update={"extra": {"des": dict(retire.extra["des"], block=broken_block)}}),
               parsed.actions[1].model_copy(update={
                   "extra": {"des": {"block": "nope", "transaction": 5, "header": [1]}},
                   "units": parsed.actions[1].units.model_copy(update={"vintage": 2010})})]  # type: ignore[union-attr]
    answer = parsed.units[0]
    answers = [answer.model_copy(update={"extra": {"des": dict(answer.extra["des"],
                                                               evaluationResult=[{"unitBlockIdentifiers": 5}])}})]
    out = adapter.serialize(CanonicalDocument(actions=actions, units=answers), medium=XML)
    assert adapter.validate(out.data, medium=XML).valid
    reasons = {loss.records: loss.reason for loss in out.losses}
    assert "not valid DES" in reasons[("/actions/0",)] and "not valid DES" in reasons[("/units/0",)]
    (written,) = read_document(etree.fromstring(out.data))
    assert written.values["proposedTransaction"]["transactionIdentifier"] == "GB2000102"


_json_values = st.recursive(st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.text(max_size=12),
                            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                         max_size=3), max_leaves=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["header", "transaction", "block", "messageIndex", "evaluationResult", "partyType",
                        "transactionStatus", "messageDateTime"]),
       st.sampled_from(["from", "majorVersion", "transactionType", "unitType", "track", "expiryDate", None]),
       _json_values)
def test_edited_des_extras_never_break_writing(part: str, key: str | None, value: Any) -> None:
    parsed = adapter.parse(load("batch.xml"), medium=XML).document

    def edit(extra: dict[str, Any]) -> dict[str, Any]:
        des = dict(extra["des"])
        if key is None or not isinstance(des.get(part), dict):
            des[part] = value
        else:
            des[part] = {**des[part], key: value}
        return {"des": des}

    doc = CanonicalDocument(actions=[a.model_copy(update={"extra": edit(a.extra)}) for a in parsed.actions],
                            units=[u.model_copy(update={"extra": edit(u.extra)}) for u in parsed.units])
    out = adapter.serialize(doc, medium=XML)
    assert adapter.validate(out.data, medium=XML).valid


def test_a_giant_text_node_is_refused() -> None:
    giant = proposal().replace(b"<to>ITL</to>", b"<to>" + b"A" * 11_000_000 + b"</to>")
    with pytest.raises(MalformedInput) as info:
        adapter.parse(giant, medium=XML)
    assert info.value.code == "INPUT.XML"


def test_a_status_code_outside_the_des_lists_is_a_reported_loss_not_invalid_output() -> None:
    """Regression (found by the property test above): an answer whose kept transactionStatus was edited to 0
    is schema-valid XML but not in the DES code list; the writer drops it and reports why."""
    parsed = adapter.parse(load("batch.xml"), medium=XML).document
    assert parsed.units
    units = [u.model_copy(update={"extra": {"des": {**u.extra["des"], "transactionStatus": 0}}}) for u in parsed.units]
    out = adapter.serialize(CanonicalDocument(actions=parsed.actions, units=units), medium=XML)
    assert adapter.validate(out.data, medium=XML).valid
    (loss,) = [loss for loss in out.losses if loss.field == "units"]
    assert "DES.TRANSACTION_STATUS" in loss.reason and len(loss.records) == len(units)
