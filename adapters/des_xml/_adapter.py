"""The DES XML adapter: DES messages to canonical actions and answers (with findings), and back through
the writer.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from lxml import etree

from adapters.des_xml._nodes import _json_value, _location, _message_nodes, _Node, _party
from adapters.des_xml._rules import (
    FORMAT,
    MAX_FINDINGS,
    R_ACCOUNT_TYPE,
    R_APPROXIMATE,
    R_BLOCK_OVERLAP,
    R_BLOCK_RANGE,
    R_COMMIT_PERIOD,
    R_DUPLICATE_TRANSACTION,
    R_FINDINGS_LIMIT,
    R_LULUCF,
    R_MESSAGE_DATE,
    R_PERIOD_ORDER,
    R_PROJECT_REQUIRED,
    R_REGISTRY_CODE,
    R_RESPONSE_CODE,
    R_ROOT,
    R_SCHEMA,
    R_STATUS,
    R_SUPP_TRANSACTION_TYPE,
    R_SUPP_UNIT_TYPE,
    R_TRACK,
    R_TRANSACTION_ID,
    R_TRANSACTION_TYPE,
    R_UNIT_TYPE,
    R_VALUE,
    R_VERSION,
    RULES,
    SOAP_ENVELOPES,
)
from adapters.des_xml._writer import _Writer
from standards import (
    Action,
    ActionType,
    CanonicalDocument,
    Finding,
    FormatCodec,
    InputTooLarge,
    Location,
    MalformedInput,
    Medium,
    ParseResult,
    RecordKind,
    Rule,
    SerializeResult,
    UnitBlock,
    UnitStatus,
    max_input_bytes,
    parse_xml,
)
from standards.des.codelists import CodeLists, default_code_lists
from standards.des.messages import (
    BATCH,
    MESSAGE_TYPES,
    DesValueError,
    Message,
    read_document,
    write_document,
)
from standards.des.schema import NAMESPACE, schema_problems


class DesXmlAdapter(FormatCodec):
    """Kyoto DES ProposalRequest / NotificationRequest, document-literal XML."""

    name = FORMAT
    version = "1.0.0"
    description = ("Kyoto Protocol DES 1.1.2 messages (ProposalRequest with unit blocks, NotificationRequest "
                   "with evaluation results) as document-literal XML; Kyoto units only")
    reads = frozenset({RecordKind.ACTIONS, RecordKind.ISSUANCES, RecordKind.TRANSFERS,
                       RecordKind.CANCELLATIONS, RecordKind.RETIREMENTS, RecordKind.UNIT_BLOCKS})
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
        units = UnitBlock(registry=origin, first_id=start, last_id=end, quantity=quantity,
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


adapter = DesXmlAdapter()
