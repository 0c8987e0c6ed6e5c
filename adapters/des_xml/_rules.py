"""The DES adapter's constants and rule catalogue."""

from __future__ import annotations

import re

from adapters._rules import rule_declarer
from standards import (
    Layer,
    RuleCatalogue,
    Severity,
)

FORMAT = "des-xml"
#: The old name of :data:`FORMAT`, kept for code that imports it.
STANDARD = FORMAT


DES = "Kyoto DES 1.1.2"


#: The checks stop after this many findings in one document (a hostile file cannot make them run long).
MAX_FINDINGS = 1000


_TRANSACTION_ID_RE = re.compile(r"^[A-Z0-9]{1,60}$")


SOAP_ENVELOPES = ("http://schemas.xmlsoap.org/soap/envelope/", "http://www.w3.org/2003/05/soap-envelope")


RULES = RuleCatalogue(FORMAT)


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
