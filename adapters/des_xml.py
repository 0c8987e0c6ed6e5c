"""The ``des-xml`` adapter: Kyoto Protocol DES messages (document-literal XML) <-> the canonical model.

Reading: the XML is parsed securely (:func:`standards.safeio.parse_xml`: no DTD, no entities, no
network), validated against ``standards/des/des-1.1.xsd`` (lxml first, xmlschema for the XPath of
every problem), checked against the DES code lists, then mapped:

* every unit block of a ``ProposalRequest`` becomes one :class:`~standards.model.Action` (action type
  from the transaction type, serial range in ``units``); the DES values with no canonical home are
  kept in ``Action.extra["des"]``;
* every ``NotificationRequest`` (the ITL's or a registry's answer about a transaction) becomes one
  *answer record*: a :class:`~standards.model.UnitBlock` in ``document.units`` whose ``status`` and
  ``status_reason`` carry the outcome and whose ``extra["des"]`` carries the whole answer.

Writing does the reverse. DES carries Kyoto units only: an ITMO (or any unit without a Kyoto unit
type) is never written with a Kyoto unit type; it is left out and reported as a loss.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from lxml import etree
from pydantic import BaseModel

from adapters._rules import rule_declarer
from standards import (
    Action,
    ActionType,
    CanonicalDocument,
    Finding,
    FormatCodec,
    InputTooLarge,
    Layer,
    Location,
    Loss,
    MalformedInput,
    Medium,
    MessageKind,
    ParseResult,
    Rule,
    RuleCatalogue,
    SerializeResult,
    Severity,
    UnitBlock,
    UnitStatus,
    UnknownParty,
    max_input_bytes,
    parse_xml,
    to_alpha2,
    to_alpha3,
)
from standards.des.codelists import CodeLists, default_code_lists
from standards.des.messages import (
    BATCH,
    MESSAGE_TYPES,
    DesValueError,
    Message,
    build_element,
    read_document,
    write_document,
)
from standards.des.schema import NAMESPACE, PREFIX, lxml_schema, schema_problems, xpath_of

STANDARD = "des-xml"
DES = "Kyoto DES 1.1.2"
#: The checks stop after this many findings in one document (a hostile file cannot make them run long).
MAX_FINDINGS = 1000
_TRANSACTION_ID_RE = re.compile(r"^[A-Z0-9]{1,60}$")
SOAP_ENVELOPES = ("http://schemas.xmlsoap.org/soap/envelope/", "http://www.w3.org/2003/05/soap-envelope")

RULES = RuleCatalogue(STANDARD)
_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO


_rule = rule_declarer(RULES)


R_ROOT = _rule("DES.ROOT", _E, Layer.STRUCTURE, "The document is a DES request in the carbonlink namespace",
               f"{DES} Annex B; carbonlink des-1.1.xsd")
R_SCHEMA = _rule("DES.SCHEMA", _E, Layer.STRUCTURE, "The document follows the DES schema",
                 f"{DES} common.wsdl types, rendered in carbonlink des-1.1.xsd")
R_VALUE = _rule("DES.VALUE", _E, Layer.FIELD, "Dates and times are real calendar values",
                "XML Schema Part 2 (xs:date, xs:dateTime)")
R_VERSION = _rule("DES.VERSION", _W, Layer.FIELD, "The message is DES version 1.x",
                  f"{DES} Annex E, ITL checks 1031 and 1032")
R_MESSAGE_DATE = _rule("DES.MESSAGE_DATE", _E, Layer.FIELD,
                       "A proposal carries messageDateTime (the canonical action date)",
                       "carbonlink des-1.1.xsd extension; canonical Action.date")
R_TRANSACTION_TYPE = _rule("DES.TRANSACTION_TYPE", _E, Layer.CODE_LIST, "The transaction type is a DES code",
                           f"{DES} code list: primary transaction types")
R_SUPP_TRANSACTION_TYPE = _rule("DES.SUPP_TRANSACTION_TYPE", _W, Layer.CODE_LIST,
                                "The supplementary transaction type is known",
                                f"{DES} code list: supplementary transaction types (Kyoto CP2)")
R_UNIT_TYPE = _rule("DES.UNIT_TYPE", _E, Layer.CODE_LIST, "The unit type is a DES code",
                    f"{DES} code list: unit types")
R_SUPP_UNIT_TYPE = _rule("DES.SUPP_UNIT_TYPE", _W, Layer.CODE_LIST, "The supplementary unit type is known",
                         f"{DES} code list: supplementary unit types")
R_COMMIT_PERIOD = _rule("DES.COMMIT_PERIOD", _E, Layer.CODE_LIST, "Commitment periods are DES codes",
                        f"{DES} code list: commitment periods")
R_LULUCF = _rule("DES.LULUCF_ACTIVITY", _E, Layer.CODE_LIST, "The LULUCF activity is a DES code",
                 f"{DES} code list: LULUCF activities")
R_TRACK = _rule("DES.TRACK", _E, Layer.CODE_LIST, "The JI track is 1 or 2", f"{DES} code list: JI tracks")
R_ACCOUNT_TYPE = _rule("DES.ACCOUNT_TYPE", _E, Layer.CODE_LIST, "Account types are DES codes",
                       f"{DES} code list: account types")
R_STATUS = _rule("DES.TRANSACTION_STATUS", _E, Layer.CODE_LIST, "The transaction status is a DES code",
                 f"{DES} code list: transaction statuses")
R_RESPONSE_CODE = _rule("DES.RESPONSE_CODE", _W, Layer.CODE_LIST, "The response code is a known ITL code",
                        f"{DES} Annex E (ITL response codes)")
R_REGISTRY_CODE = _rule("DES.REGISTRY_CODE", _E, Layer.FIELD,
                        "Registry codes are ISO 3166-1 alpha-2 or a special registry code",
                        f"{DES} registry codes (ISO 3166 alpha-2, CDM)")
R_BLOCK_RANGE = _rule("DES.BLOCK_RANGE", _E, Layer.FIELD, "A unit block starts at or before its end",
                      f"{DES} TransactionUnitBlock (unitSerialBlockStart <= unitSerialBlockEnd)")
R_BLOCK_OVERLAP = _rule("DES.BLOCK_OVERLAP", _E, Layer.CROSS_RECORD,
                        "The unit blocks of one transaction do not overlap",
                        f"{DES} Annex E, transaction data integrity")
R_PROJECT_REQUIRED = _rule("DES.PROJECT_REQUIRED", _E, Layer.FIELD,
                           "ERU, CER, tCER and lCER blocks name their project",
                           f"{DES} Annex E, ITL check 2017")
R_PERIOD_ORDER = _rule("DES.PERIOD_ORDER", _E, Layer.FIELD,
                       "The applicable commitment period is not before the original one",
                       f"{DES} TransactionUnitBlock (original/applicable commitment period)")
R_TRANSACTION_ID = _rule("DES.TRANSACTION_ID", _W, Layer.FIELD,
                         "The transaction identifier starts with the initiating registry's code",
                         f"{DES} transaction process (registry code + registry-unique number)")
R_DUPLICATE_TRANSACTION = _rule("DES.DUPLICATE_TRANSACTION", _E, Layer.CROSS_RECORD,
                                "A transaction is proposed once per document",
                                f"{DES} transaction process (transactionIdentifier is unique)")
R_FINDINGS_LIMIT = _rule("DES.FINDINGS_LIMIT", _E, Layer.STRUCTURE,
                         f"A document reports at most {MAX_FINDINGS} problems", "carbonlink input limits")
R_APPROXIMATE = _rule("DES.APPROXIMATE_ACTION", _I, Layer.CODE_LIST,
                      "The transaction type has no exact canonical action type",
                      "carbonlink des-xml mapping (docs/adapters/des-xml.md)")


@dataclass(frozen=True, slots=True)
class _Node:
    """An element with its XPath, built while walking down (no sibling scans per finding)."""

    element: etree._Element
    xpath: str

    def child(self, name: str) -> _Node:
        """The (single) child element ``name``; the node itself when it is absent."""
        tag = f"{{{NAMESPACE}}}{name}"
        for candidate in self.element:
            if candidate.tag == tag:
                return _Node(candidate, f"{self.xpath}/{PREFIX}:{name}")
        return self

    def items(self, wrapper: str, name: str) -> list[_Node]:
        """The ``name`` items of the array element ``wrapper``, with positional XPaths."""
        holder = self.child(wrapper)
        if holder is self:
            return []
        tag = f"{{{NAMESPACE}}}{name}"
        found = [c for c in holder.element if c.tag == tag]
        base = f"{holder.xpath}/{PREFIX}:{name}"
        if len(found) == 1:
            return [_Node(found[0], base)]
        return [_Node(c, f"{base}[{i}]") for i, c in enumerate(found, start=1)]


def _location(node: _Node | etree._Element | None, pointer: str = "") -> Location:
    if node is None:
        return Location(pointer=pointer)
    element, xpath = (node.element, node.xpath) if isinstance(node, _Node) else (node, xpath_of(node))
    line = element.sourceline
    return Location(pointer=pointer, xpath=xpath, line=line if isinstance(line, int) else None)


def _message_nodes(root: etree._Element, messages: list[Message]) -> list[_Node]:
    """Each message's node: the root itself, or its positional place in a MessageBatch."""
    if etree.QName(root).localname != BATCH:
        return [_Node(root, f"/{PREFIX}:{etree.QName(root).localname}")]
    totals = {kind: sum(1 for m in messages if m.type == kind) for kind in MESSAGE_TYPES}
    seen = dict.fromkeys(MESSAGE_TYPES, 0)
    nodes = []
    for message in messages:
        seen[message.type] += 1
        step = message.type if totals[message.type] == 1 else f"{message.type}[{seen[message.type]}]"
        assert message.element is not None
        nodes.append(_Node(message.element, f"/{PREFIX}:{BATCH}/{PREFIX}:{step}"))
    return nodes


def _party(code: str, codes: CodeLists) -> str | None:
    """The alpha-3 Party of an alpha-2 registry code; None for special codes (CDM, EU, ITL)."""
    if code in codes.raw.get("registryCodes", {}).get("special", []):
        return None
    try:
        return to_alpha3(code)[0] if len(code) == 2 else None
    except UnknownParty:
        return None


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


class DesXmlAdapter(FormatCodec):
    """Kyoto DES ProposalRequest / NotificationRequest, document-literal XML."""

    name = STANDARD
    version = "1.0.0"
    description = ("Kyoto Protocol DES 1.1.2 messages (ProposalRequest with unit blocks, NotificationRequest "
                   "with evaluation results) as document-literal XML; Kyoto units only")
    reads = frozenset({MessageKind.ACTIONS, MessageKind.ISSUANCES, MessageKind.TRANSFERS,
                       MessageKind.CANCELLATIONS, MessageKind.RETIREMENTS, MessageKind.UNIT_BLOCKS})
    writes = reads
    media: tuple[Medium, ...] = (Medium.XML,)
    rules = RULES

    def __init__(self, code_lists: CodeLists | None = None) -> None:
        self._codes = code_lists

    @property
    def codes(self) -> CodeLists:
        return self._codes if self._codes is not None else default_code_lists()

    # ------------------------------------------------------------------ parse
    def parse(self, data: bytes, *, medium: Medium = Medium.XML) -> ParseResult:
        self.check_medium(medium)
        limit = max_input_bytes()
        if len(data) > limit:
            raise InputTooLarge(f"DES document is {len(data)} bytes, over the limit of {limit} bytes")
        root = self._unwrap(parse_xml(data, what="DES document"))
        qname = etree.QName(root)
        if qname.namespace != NAMESPACE or qname.localname not in (*MESSAGE_TYPES, BATCH):
            found = f"{{{qname.namespace}}}{qname.localname}" if qname.namespace else qname.localname
            text = (f"the document is a <{found}>, not a DES ProposalRequest, NotificationRequest or "
                    f"MessageBatch in the namespace {NAMESPACE}")
            return ParseResult(CanonicalDocument(), [R_ROOT.finding(text, _location(root))])
        problems = schema_problems(root)
        if problems:
            return ParseResult(CanonicalDocument(), [
                R_SCHEMA.finding(p.message, Location(xpath=p.xpath, line=p.line)) for p in problems])
        try:
            messages = read_document(root)
        except DesValueError as exc:
            return ParseResult(CanonicalDocument(), [R_VALUE.finding(str(exc), _location(exc.element))])
        document = CanonicalDocument()
        findings: list[Finding] = []
        seen: set[str] = set()
        for index, (message, node) in enumerate(zip(messages, _message_nodes(root, messages), strict=True)):
            if len(findings) >= MAX_FINDINGS:
                findings.append(R_FINDINGS_LIMIT.finding(
                    f"more than {MAX_FINDINGS} problems: the checks stopped at message {index + 1} of "
                    f"{len(messages)}; correct these and validate again", _location(node)))
                break
            findings.extend(self._check_header(message, node))
            if message.type == "ProposalRequest":
                ident = message.values["proposedTransaction"]["transactionIdentifier"]
                if ident in seen:
                    findings.append(R_DUPLICATE_TRANSACTION.finding(
                        f"transaction {ident} is proposed twice in this document", _location(node)))
                seen.add(ident)
                actions, more = self._proposal_to_actions(message, node, index)
                document.actions.extend(actions)
            else:
                answer, more = self._notification_to_answer(message, node, index)
                if answer is not None:
                    document.units.append(answer)
            findings.extend(more)
        if any(f.is_error for f in findings):
            document = CanonicalDocument()  # no partial result from a document with errors
        return ParseResult(document, findings)

    @staticmethod
    def _unwrap(root: etree._Element) -> etree._Element:
        """The payload of a SOAP envelope (document-literal body); the element itself otherwise."""
        qname = etree.QName(root)
        if qname.localname != "Envelope" or qname.namespace not in SOAP_ENVELOPES:
            return root
        body = root.find(f"{{{qname.namespace}}}Body")
        payload = [c for c in body if isinstance(c.tag, str)] if body is not None else []
        if len(payload) != 1:
            raise MalformedInput("the SOAP envelope must carry exactly one DES request in its Body",
                                 code="INPUT.XML")
        return payload[0]

    def _check_header(self, message: Message, element: _Node) -> list[Finding]:
        values = message.values
        findings = []
        if values["majorVersion"] != 1:
            findings.append(R_VERSION.finding(
                f"majorVersion is {values['majorVersion']}; carbonlink reads DES version 1 (the ITL "
                "answered such messages with response code 1031)", _location(element.child("majorVersion"))))
        for name in ("from", "to"):
            code = values[name]
            if not self.codes.is_registry_code(code):
                findings.append(R_REGISTRY_CODE.finding(
                    f"{name} is {code!r}, which is no ISO 3166-1 alpha-2 registry code and no special "
                    "registry code", _location(element.child(name))))
        return findings

    def _code_check(self, rule: Rule, known: object, what: str, value: int,
                    element: _Node) -> list[Finding]:
        if known is not None:
            return []
        return [rule.finding(f"{what} {value} is not in the DES code list", _location(element))]

    def _proposal_to_actions(self, message: Message, node: _Node,
                             index: int) -> tuple[list[Action], list[Finding]]:
        codes = self.codes
        header = {k: _json_value(message.values[k]) for k in ("from", "to", "majorVersion", "minorVersion")}
        tx = message.values["proposedTransaction"]
        tx_element = node.child("proposedTransaction")
        findings: list[Finding] = []
        tx_type = codes.transaction_type(tx["transactionType"])
        findings += self._code_check(R_TRANSACTION_TYPE, tx_type, "transactionType", tx["transactionType"],
                                     tx_element.child("transactionType"))
        supp = tx.get("suppTransactionType")
        if supp is not None and codes.supp_transaction_type(tx["transactionType"], supp) is None:
            findings.append(R_SUPP_TRANSACTION_TYPE.finding(
                f"suppTransactionType {supp} is not a known supplementary code of transaction type "
                f"{tx['transactionType']} (it may be an EU or UK registry code)",
                _location(tx_element.child("suppTransactionType"))))
        for side in ("transferring", "acquiring"):
            code = tx[f"{side}RegistryCode"]
            if not codes.is_registry_code(code):
                findings.append(R_REGISTRY_CODE.finding(
                    f"{side}RegistryCode {code!r} is no ISO 3166-1 alpha-2 registry code and no special "
                    "registry code", _location(tx_element.child(f"{side}RegistryCode"))))
            account_type = tx.get(f"{side}RegistryAccountType")
            if account_type is not None:
                findings += self._code_check(R_ACCOUNT_TYPE, codes.account_type(account_type),
                                             f"{side}RegistryAccountType", account_type,
                                             tx_element.child(f"{side}RegistryAccountType"))
        initiator = tx["acquiringRegistryCode"] if tx["transactionType"] == 1 else tx["transferringRegistryCode"]
        if not tx["transactionIdentifier"].startswith((tx["transferringRegistryCode"], initiator)):
            findings.append(R_TRANSACTION_ID.finding(
                f"transactionIdentifier {tx['transactionIdentifier']} does not start with the registry code "
                f"{tx['transferringRegistryCode']}", _location(tx_element.child("transactionIdentifier"))))
        date = message.values.get("messageDateTime")
        if date is None:
            findings.append(R_MESSAGE_DATE.finding(
                f"proposal {tx['transactionIdentifier']} has no messageDateTime: DES requests carry no date, "
                "but carbonlink needs one to date the action; add <messageDateTime> to the header",
                _location(node)))
        if tx_type is not None and tx_type.approximate:
            findings.append(R_APPROXIMATE.finding(
                f"transaction type {tx_type.code} ({tx_type.name}) is recorded as the canonical action "
                f"'{tx_type.canonical}' with subtype '{tx_type.name}'", _location(tx_element.child("transactionType"))))
        blocks = tx["proposalUnitBlocks"]
        block_nodes = tx_element.items("proposalUnitBlocks", "TransactionUnitBlock")
        for block, element in zip(blocks, block_nodes, strict=True):
            if len(findings) >= MAX_FINDINGS:
                break
            findings += self._check_block(block, element)
        findings += self._overlaps(blocks, block_nodes)
        if tx_type is None or date is None or any(f.is_error for f in findings):
            return [], findings
        transaction = {k: _json_value(v) for k, v in tx.items() if k != "proposalUnitBlocks"}
        actions = []
        for block in blocks:
            extra = {"des": {"message": "ProposalRequest", "messageIndex": index, "header": header,
                             "transaction": transaction, "block": {k: _json_value(v) for k, v in block.items()}}}
            actions.append(self._block_action(tx, tx_type.canonical, tx_type.name, date, block, extra))
        return actions, findings

    @staticmethod
    def _overlaps(blocks: list[dict[str, Any]], nodes: list[_Node]) -> list[Finding]:
        """Blocks of one originating registry that share serials (sorted sweep, n log n)."""
        findings: list[Finding] = []
        order = sorted(range(len(blocks)), key=lambda i: (blocks[i]["originatingRegistryCode"],
                                                          blocks[i]["unitSerialBlockStart"], i))
        reach: tuple[str, int, int] | None = None  # (registry, furthest end so far, its block)
        for i in order:
            block = blocks[i]
            registry, start, end = (block["originatingRegistryCode"], block["unitSerialBlockStart"],
                                    block["unitSerialBlockEnd"])
            if reach is not None and reach[0] == registry and start <= reach[1]:
                other = blocks[reach[2]]
                findings.append(R_BLOCK_OVERLAP.finding(
                    f"unit block {start}-{end} overlaps block {reach[2] + 1} ({other['unitSerialBlockStart']}-"
                    f"{other['unitSerialBlockEnd']}) of the same transaction", _location(nodes[i])))
                if len(findings) >= MAX_FINDINGS:
                    break
            if reach is None or reach[0] != registry or end > reach[1]:
                reach = (registry, end, i)
        return findings

    def _check_block(self, block: dict[str, Any], element: _Node) -> list[Finding]:
        codes = self.codes
        findings: list[Finding] = []
        start, end = block["unitSerialBlockStart"], block["unitSerialBlockEnd"]
        if start > end:
            findings.append(R_BLOCK_RANGE.finding(
                f"the block starts at {start} after its end {end}", _location(element.child("unitSerialBlockEnd"))))
        code = block["originatingRegistryCode"]
        if not codes.is_registry_code(code):
            findings.append(R_REGISTRY_CODE.finding(
                f"originatingRegistryCode {code!r} is no ISO 3166-1 alpha-2 registry code and no special code",
                _location(element.child("originatingRegistryCode"))))
        unit_type = block["unitType"]
        findings += self._code_check(R_UNIT_TYPE, codes.unit_type(unit_type), "unitType", unit_type,
                                     element.child("unitType"))
        supp = block.get("suppUnitType")
        if supp is not None and codes.supp_unit_type(unit_type, supp) is None:
            findings.append(R_SUPP_UNIT_TYPE.finding(
                f"suppUnitType {supp} is not a known supplementary code of unit type {unit_type}",
                _location(element.child("suppUnitType"))))
        periods = {}
        for name in ("originalCommitPeriod", "applicableCommitPeriod"):
            periods[name] = codes.commitment_period(block[name])
            findings += self._code_check(R_COMMIT_PERIOD, periods[name], name, block[name], element.child(name))
        if all(periods.values()) and block["applicableCommitPeriod"] < block["originalCommitPeriod"]:
            findings.append(R_PERIOD_ORDER.finding(
                f"applicableCommitPeriod {block['applicableCommitPeriod']} is before originalCommitPeriod "
                f"{block['originalCommitPeriod']}", _location(element.child("applicableCommitPeriod"))))
        if "LULUCFActivity" in block:
            findings += self._code_check(R_LULUCF, codes.lulucf_activity(block["LULUCFActivity"]),
                                         "LULUCFActivity", block["LULUCFActivity"], element.child("LULUCFActivity"))
        if "track" in block:
            findings += self._code_check(R_TRACK, codes.track(block["track"]), "track", block["track"],
                                         element.child("track"))
        for side in ("transferring", "acquiring"):
            account_type = block.get(f"{side}RegistryAccountType")
            if account_type is not None:
                findings += self._code_check(R_ACCOUNT_TYPE, codes.account_type(account_type),
                                             f"{side}RegistryAccountType", account_type,
                                             element.child(f"{side}RegistryAccountType"))
        if codes.needs_project(unit_type) and "projectIdentifier" not in block:
            findings.append(R_PROJECT_REQUIRED.finding(
                f"a {codes.unit_type(unit_type)} block must name its project (projectIdentifier); the ITL "
                "refused it with response code 2017", _location(element)))
        return findings

    def _block_action(self, tx: dict[str, Any], canonical: str, subtype: str, date: datetime,
                      block: dict[str, Any], extra: dict[str, Any]) -> Action:
        codes = self.codes
        start, end = block["unitSerialBlockStart"], block["unitSerialBlockEnd"]
        quantity = Decimal(end - start + 1)
        origin = block["originatingRegistryCode"]
        project = block.get("projectIdentifier")
        units = UnitBlock(registry=origin, serial_first=start, serial_last=end, quantity=quantity,
                          unit_type=codes.unit_type(block["unitType"]), status=UnitStatus.PENDING,
                          project_id=None if project is None else str(project), country=_party(origin, codes))
        return Action(action_type=ActionType(canonical), subtype=subtype, date=date,
                      message_id=tx["transactionIdentifier"],
                      transferring_party=_party(tx["transferringRegistryCode"], codes),
                      acquiring_party=_party(tx["acquiringRegistryCode"], codes),
                      quantity=quantity, units=units, extra=extra)

    def _notification_to_answer(self, message: Message, element: _Node,
                                index: int) -> tuple[UnitBlock | None, list[Finding]]:
        codes = self.codes
        values = message.values
        findings: list[Finding] = []
        status = codes.transaction_status(values["transactionStatus"])
        findings += self._code_check(R_STATUS, status, "transactionStatus", values["transactionStatus"],
                                     element.child("transactionStatus"))
        reasons = []
        results = values["evaluationResult"]
        result_nodes = element.items("evaluationResult", "EvaluationResult")
        for result, result_element in zip(results, result_nodes, strict=True):
            if len(findings) >= MAX_FINDINGS:
                break
            code = result["responseCode"]
            known = codes.response_code(code)
            if known is None:
                findings.append(R_RESPONSE_CODE.finding(
                    f"response code {code} is in no known list or range of ITL response codes",
                    _location(result_element.child("responseCode"))))
                reasons.append(str(code))
            else:
                meaning, range_name = known
                reasons.append(f"{code} {meaning or range_name or ''}".strip())
            ident_nodes = result_element.items("unitBlockIdentifiers", "UnitBlockIdentifier")
            for ident, ident_node in zip(result.get("unitBlockIdentifiers", []), ident_nodes, strict=True):
                if ident["unitSerialBlockStart"] > ident["unitSerialBlockEnd"]:
                    findings.append(R_BLOCK_RANGE.finding(
                        f"the block starts at {ident['unitSerialBlockStart']} after its end "
                        f"{ident['unitSerialBlockEnd']}",
                        _location(ident_node)))
        if any(f.is_error for f in findings):
            return None, findings
        header = {k: _json_value(values[k]) for k in ("from", "to", "majorVersion", "minorVersion")}
        sent = values.get("messageDateTime")
        answer = {"message": "NotificationRequest", "messageIndex": index, "header": header,
                  "messageDateTime": None if sent is None else sent.isoformat(),
                  "transactionIdentifier": values["transactionIdentifier"],
                  "transactionStatus": values["transactionStatus"],
                  "transactionStatusName": None if status is None else status[0],
                  "partyType": values["partyType"],
                  "evaluationResult": [{k: v for k, v in r.items()} for r in results]}
        record = UnitBlock(status=None if status is None else UnitStatus(status[1]),
                           status_date=None if sent is None else sent.date(),
                           status_reason="; ".join(reasons) or None, extra={"des": answer})
        return record, findings

    # -------------------------------------------------------------- serialize
    def serialize(self, document: CanonicalDocument, *, medium: Medium = Medium.XML) -> SerializeResult:
        self.check_medium(medium)
        writer = _Writer(self.codes)
        for index, action in enumerate(document.actions):
            writer.add_action(index, action)
        for index, unit in enumerate(document.units):
            writer.add_unit(index, unit)
        for name in ("authorizations", "holdings", "authorized_entities", "projects"):
            records = getattr(document, name)
            if records:
                writer.lose(name, [f"/{name}/{i}" for i in range(len(records))],
                            f"DES messages carry no {name.replace('_', ' ')}")
        if document.submission is not None:
            writer.lose("submission", ["/submission"], "DES messages carry no AEF submission header")
        return SerializeResult(data=write_document(writer.messages(self._read_back_problem)), medium=Medium.XML,
                               losses=writer.losses())

    def _read_back_problem(self, message: Message) -> str | None:
        """The first error the reader finds in ``message`` written alone (values kept in ``extra`` may
        have been edited into codes the DES lists do not have), or None."""
        report = self.validate(write_document([message]), medium=Medium.XML)
        errors = [f for f in report.findings if f.is_error]
        return f"{errors[0].rule}: {errors[0].message}" if errors else None


#: Canonical fields a DES proposal holds (the rest of a record with a value is a loss).
_ACTION_FIELDS = {"action_type", "subtype", "date", "message_id", "transferring_party", "acquiring_party",
                  "quantity", "units", "extra"}
_UNIT_FIELDS = {"registry", "serial_first", "serial_last", "quantity", "unit_type", "project_id", "country",
                "status", "extra"}
_ANSWER_FIELDS = {"status", "status_date", "status_reason", "extra"}
_ITMO_FIELDS = ("cooperative_approach", "authorization_id", "first_transferring_party", "first_id", "last_id",
                "metric", "gwp_values", "mitigation_type", "oimp_purpose", "using_party", "ndc_year")


def _mapping(value: Any) -> dict[str, Any]:
    """A copy of ``value`` when it is a dict (values kept in ``extra`` may have been edited), else {}."""
    return dict(value) if isinstance(value, dict) else {}


def _unwritable(message: Message) -> str | None:
    """Why a message cannot be written as schema-valid DES, or None."""
    try:
        element = build_element(message)
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        return f"{type(exc).__name__}: {exc}"
    schema = lxml_schema()
    if not schema.validate(element):
        log: Any = schema.error_log  # the stubs do not declare last_error
        entry = log.last_error
        return str(entry.message) if entry is not None else "schema"
    return None


def _set_fields(record: BaseModel) -> Iterable[str]:
    """Fields given a non-empty value (defaults are all empty, so only explicitly set ones count)."""
    for name in record.model_fields_set:
        value = getattr(record, name)
        if value is None or value == {} or value == [] or value == "":
            continue
        yield name


class _Writer:
    """Collects DES messages and losses while a canonical document is serialized."""

    def __init__(self, codes: CodeLists) -> None:
        self.codes = codes
        self._proposals: dict[str, tuple[float, Message, Action, list[str]]] = {}
        self._answers: list[tuple[float, Message, list[str]]] = []
        self._losses: dict[tuple[str, str], list[str]] = {}

    def lose(self, field: str, records: list[str], reason: str) -> None:
        self._losses.setdefault((field, reason), []).extend(records)

    def losses(self) -> list[Loss]:
        return [Loss(field, tuple(ids), reason) for (field, reason), ids in sorted(self._losses.items())]

    def messages(self, check: Callable[[Message], str | None]) -> list[Message]:
        """The messages in source order; one that would break the schema, or that ``check`` (the reader's
        own rules, e.g. the code lists) refuses, is dropped and reported."""
        ordered = [(order, m, ids) for order, m, _a, ids in self._proposals.values()] + self._answers
        out = []
        for _order, message, ids in sorted(ordered, key=lambda item: item[0]):
            problem = _unwritable(message) or check(message)
            if problem is None:
                out.append(message)
            else:
                self.lose("actions" if message.type == "ProposalRequest" else "units", ids,
                          f"the DES values kept in extra are not valid DES ({problem})")
        return out

    # -- proposals
    def add_action(self, index: int, action: Action) -> None:
        record = f"/actions/{index}"
        des = _mapping(action.extra.get("des")) or None
        refusal = self._refusal(action)
        if refusal is not None:
            self.lose("actions", [record], refusal)
            return
        units = action.units
        assert units is not None and units.serial_first is not None and units.serial_last is not None
        saved_tx: dict[str, Any] = _mapping(des.get("transaction")) if des else {}
        saved_block: dict[str, Any] = _mapping(des.get("block")) if des else {}
        tx_type = self._transaction_type(action, saved_tx)
        assert tx_type is not None
        transferring = self._registry(action.transferring_party, saved_tx.get("transferringRegistryCode"))
        acquiring = self._registry(action.acquiring_party, saved_tx.get("acquiringRegistryCode"))
        if transferring is None or acquiring is None:
            self.lose("actions", [record], "DES needs the transferring and acquiring registries (alpha-2 Parties)")
            return
        block = self._block(units, saved_block)
        if block is None:
            self.lose("actions", [record], "DES needs the Kyoto commitment periods of the block "
                                           "(from the DES source or a vintage within a commitment period)")
            return
        if units.vintage is not None and "originalCommitPeriod" not in saved_block:
            self.lose("units.vintage", [record], "DES holds the commitment period, not the vintage year")
        self._note_losses(record, action, units)
        ident = str(action.message_id)
        existing = self._proposals.get(ident)
        if existing is not None:
            _order, message, first, ids = existing
            if (first.action_type, first.transferring_party, first.acquiring_party, first.date) != (
                    action.action_type, action.transferring_party, action.acquiring_party, action.date):
                self.lose("actions", [record], f"conflicts with the first action of transaction {ident}")
                return
            message.values["proposedTransaction"]["proposalUnitBlocks"].append(block)
            ids.append(record)
            return
        tx = {k: saved_tx[k] for k in ("suppTransactionType", "transferringRegistryAccountType",
                                       "transferringRegistryAccountIdentifier", "acquiringRegistryAccountType",
                                       "acquiringRegistryAccountIdentifier", "notificationIdentifier")
              if saved_tx.get(k) is not None}
        if tx.get("suppTransactionType") is not None and saved_tx.get("transactionType") != tx_type:
            del tx["suppTransactionType"]
        tx.update(transactionIdentifier=ident, transactionType=tx_type, transferringRegistryCode=transferring,
                  acquiringRegistryCode=acquiring, proposalUnitBlocks=[block])
        header: dict[str, Any] = _mapping(des.get("header")) if des else {}
        values = {"from": header.get("from", transferring), "to": header.get("to", "ITL"),
                  "majorVersion": header.get("majorVersion", 1), "minorVersion": header.get("minorVersion", 1),
                  "messageDateTime": action.date, "proposedTransaction": tx}
        order = float(des["messageIndex"]) if des and isinstance(des.get("messageIndex"), int) else 1e9 + index
        self._proposals[ident] = (order, Message("ProposalRequest", values), action, [record])

    def _refusal(self, action: Action) -> str | None:
        """Why an action cannot be a DES proposal at all, or None."""
        units = action.units
        itmo = [f for f in _ITMO_FIELDS if getattr(action, f) is not None]
        if units is not None and (units.itmo_reference or units.corresponding_adjustment):
            itmo.append("units.itmo_reference")
        if itmo or (units is not None and (units.unit_type or "").upper().startswith("ITMO")):
            return ("the action is on ITMOs (Article 6.2); DES carries Kyoto units only and carbonlink never "
                    "writes a Kyoto unit type for an ITMO")
        if units is None or units.serial_first is None or units.serial_last is None:
            return "DES needs the serial range of the block (units.serial_first/serial_last)"
        if units.serial_first < 1 or units.serial_last < units.serial_first:
            return "DES needs a serial range with 1 <= first <= last"
        if self._unit_type(units, action) is None:
            return (f"unit type {units.unit_type!r} is not a Kyoto unit type (AAU, RMU, ERU, CER, tCER, lCER); "
                    "DES carries Kyoto units only")
        saved_tx = _mapping(_mapping(action.extra.get("des")).get("transaction"))
        if self._transaction_type(action, saved_tx) is None:
            return f"action type {action.action_type.value!r} has no DES transaction type"
        if not action.message_id or _TRANSACTION_ID_RE.match(action.message_id) is None:
            return "DES needs a transaction identifier (message_id: registry code + number, e.g. GB1000234)"
        return None

    def _unit_type(self, units: UnitBlock, action: Action) -> int | None:
        saved = _mapping(_mapping(action.extra.get("des")).get("block")).get("unitType")
        if units.unit_type is None:
            return saved if isinstance(saved, int) and self.codes.unit_type(saved) else None
        code = self.codes.unit_type_code(units.unit_type)
        if code == 0 and saved != 0:
            return None  # "non-Kyoto" only when the DES source said so
        return code

    def _transaction_type(self, action: Action, saved_tx: dict[str, Any]) -> int | None:
        saved = saved_tx.get("transactionType")
        if isinstance(saved, int):
            known = self.codes.transaction_type(saved)
            if known is not None and known.canonical == action.action_type.value:
                return saved
        if action.action_type is ActionType.TRANSFER and action.transferring_party is not None \
                and action.transferring_party == action.acquiring_party:
            return 10
        return self.codes.transaction_type_for(action.action_type.value)

    def _registry(self, party: str | None, saved: Any) -> str | None:
        if isinstance(saved, str) and (party is None or _party(saved, self.codes) == party):
            return saved
        if party is None:
            return None
        try:
            return to_alpha2(party)
        except UnknownParty:
            return None

    def _block(self, units: UnitBlock, saved: dict[str, Any]) -> dict[str, Any] | None:
        original = saved.get("originalCommitPeriod")
        applicable = saved.get("applicableCommitPeriod")
        if original is None and units.vintage is not None:
            for code in (1, 2, 0, 3):
                period = self.codes.commitment_period(code)
                if period is not None and period[1] <= units.vintage <= period[2]:
                    original = applicable = code
                    break
        origin = self._registry(units.country, saved.get("originatingRegistryCode")) or units.registry
        if original is None or applicable is None or origin is None:
            return None
        block = dict(saved)
        unit_type = self.codes.unit_type_code(units.unit_type) if units.unit_type else saved.get("unitType")
        block.update(unitSerialBlockStart=units.serial_first, unitSerialBlockEnd=units.serial_last,
                     originatingRegistryCode=origin, unitType=unit_type, originalCommitPeriod=original,
                     applicableCommitPeriod=applicable)
        if units.project_id is not None and units.project_id.isdigit():
            block["projectIdentifier"] = int(units.project_id)
        else:
            block.pop("projectIdentifier", None)
        if block.get("suppUnitType") is not None and saved.get("unitType") != unit_type:
            del block["suppUnitType"]
        return block

    def _note_losses(self, record: str, action: Action, units: UnitBlock) -> None:
        for name in _set_fields(action):
            if name not in _ACTION_FIELDS:
                self.lose(f"actions.{name}", [record], "DES proposals have no such field")
        for name in _set_fields(units):
            if name not in _UNIT_FIELDS and name != "vintage":
                self.lose(f"units.{name}", [record], "DES unit blocks have no such field")
        if units.project_id is not None and not units.project_id.isdigit():
            self.lose("units.project_id", [record], "DES project identifiers are integers")
        if action.quantity is not None and action.quantity != units.range_length:
            self.lose("actions.quantity", [record], "DES derives the quantity from the serial range")
        if units.status not in (None, UnitStatus.PENDING):
            self.lose("units.status", [record], "a DES proposal is pending by definition")
        for key in action.extra:
            if key != "des":
                self.lose(f"extra.{key}", [record], "DES proposals have no such field")

    # -- answers
    def add_unit(self, index: int, unit: UnitBlock) -> None:
        record = f"/units/{index}"
        des = unit.extra.get("des")
        if not isinstance(des, dict) or des.get("message") != "NotificationRequest":
            self.lose("units", [record], "DES messages carry no holdings; only DES answers (NotificationRequest) "
                                         "are written from unit records")
            return
        header = _mapping(des.get("header"))
        values: dict[str, Any] = {"from": header.get("from"), "to": header.get("to"),
                                  "majorVersion": header.get("majorVersion"),
                                  "minorVersion": header.get("minorVersion"),
                                  "transactionIdentifier": des.get("transactionIdentifier"),
                                  "transactionStatus": des.get("transactionStatus"),
                                  "partyType": des.get("partyType"),
                                  "evaluationResult": des.get("evaluationResult") or []}
        if des.get("messageDateTime"):
            values["messageDateTime"] = des["messageDateTime"]
        if any(values[k] is None for k in ("from", "to", "majorVersion", "minorVersion",
                                           "transactionIdentifier", "transactionStatus", "partyType")):
            self.lose("units", [record], "the DES answer record is incomplete (header, transaction or status)")
            return
        for name in _set_fields(unit):
            if name not in _ANSWER_FIELDS:
                self.lose(f"units.{name}", [record], "DES answers have no such field")
        for key in unit.extra:
            if key != "des":
                self.lose(f"extra.{key}", [record], "DES answers have no such field")
        order = float(des["messageIndex"]) if isinstance(des.get("messageIndex"), int) else 2e9 + index
        self._answers.append((order, Message("NotificationRequest", values), [record]))


adapter = DesXmlAdapter()
