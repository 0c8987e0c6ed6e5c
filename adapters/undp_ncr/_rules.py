"""The UNDP adapter's constants, the registry's codes and the rule catalogue."""

from __future__ import annotations

from adapters._rules import rule_declarer
from standards import (
    ActionType,
    Layer,
    RuleCatalogue,
    Severity,
    UnitStatus,
)

FORMAT = "undp-ncr"
#: The old name of :data:`FORMAT`, kept for code that imports it.
STANDARD = FORMAT


SCHEME = "undp-v2"


REF_MODEL = "UNDP National Carbon Registry v2 entities (github.com/undp/undp-national-carbon-registry, entities)"


REF_SERIAL = ("UNDP NCR v2 serial = ITMO ID (github.com/undp/undp-national-carbon-registry, "
              "serial-number-management.service.ts; decision 6/CMA.4, annex I, para 5)")


REF_AEF = "UNDP NCR v2 AEF export (github.com/undp/undp-national-carbon-registry, aef-report-management.service.ts)"


#: The registry's placeholder for an unconfigured first transferring Party (config FIRST_TRANSFERRING_PARTY_ID).
UNCONFIGURED_PARTY = "XX"


#: Deployment settings the registry's data does not carry (see :class:`UndpProfile`).
REGISTRY_SUFFIX_ENV = "CARBONLINK_UNDP_REGISTRY_SUFFIX"


MITIGATION_TYPE_ENV = "CARBONLINK_UNDP_MITIGATION_TYPE"


AUTHORIZATION_VERSION_ENV = "CARBONLINK_UNDP_AUTHORIZATION_VERSION"


RULES = RuleCatalogue(FORMAT)


_E, _W = Severity.ERROR, Severity.WARNING


_rule = rule_declarer(RULES)


R_SHAPE = _rule("UNDP.SHAPE", _E, Layer.STRUCTURE, "The JSON holds UNDP registry records", REF_MODEL)


R_REQUIRED = _rule("UNDP.REQUIRED", _E, Layer.STRUCTURE, "Required entity fields are present", REF_MODEL)


R_TYPE = _rule("UNDP.TYPE", _E, Layer.FIELD, "Fields have the entity's types (numbers, ids, epoch times)",
               REF_MODEL)


R_SERIAL = _rule("UNDP.SERIAL", _E, Layer.FIELD, "Serials are UNDP v2 block serials", REF_SERIAL)


R_SERIAL_QUANTITY = _rule("UNDP.SERIAL_QUANTITY", _E, Layer.FIELD,
                          "A block's credit amount equals its serial range; a transaction does not exceed it",
                          REF_SERIAL)


R_VINTAGE = _rule("UNDP.VINTAGE", _E, Layer.FIELD, "The vintage field agrees with the serial's vintage",
                  REF_SERIAL)


R_PARTY = _rule("UNDP.PARTY", _E, Layer.FIELD, "Parties in serials and countries are ISO 3166-1 codes or names",
                "ISO 3166-1; github.com/undp/undp-national-carbon-registry, serial-number-management.service.ts")


R_PARTY_PLACEHOLDER = _rule("UNDP.PARTY_PLACEHOLDER", _W, Layer.FIELD,
                            "The first transferring Party is configured (not the placeholder XX)",
                            "UNDP NCR v2 config serialNumber.FIRST_TRANSFERRING_PARTY_ID "
                            "(github.com/undp/undp-national-carbon-registry, app-config/configuration.ts)")


R_CODE = _rule("UNDP.CODE", _E, Layer.CODE_LIST,
               "Statuses, transaction and retirement types are the registry's values", REF_MODEL)


R_COUNTRY = _rule("UNDP.COUNTRY", _E, Layer.FIELD, "A cross-border retirement names the acquiring country",
                  "UNDP NCR v2 retireRequest (country and organization required for cross-border)")


R_OVERLAP = _rule("UNDP.BLOCK_OVERLAP", _E, Layer.CROSS_RECORD, "Credit blocks of one series do not overlap",
                  REF_SERIAL)


R_DUPLICATE = _rule("UNDP.DUPLICATE_ID", _E, Layer.CROSS_RECORD, "Record ids are unique", REF_MODEL)


R_COLUMNS = _rule("UNDP.AEF_COLUMNS", _E, Layer.STRUCTURE, "The AEF export has the registry's columns", REF_AEF)


R_AEF_VALUE = _rule("UNDP.AEF_VALUE", _E, Layer.FIELD, "AEF export cells hold valid dates, numbers and ids",
                    REF_AEF)


BLOCK_FIELDS = ("creditBlockId", "txRef", "txData", "txType", "txTime", "transactionRecords",
                "previousOwnerCompanyId", "ownerCompanyId", "projectRefId", "serialNumber", "vintage",
                "creditAmount", "isNotTransferred", "reservedCreditAmount", "createTime")


TRANSACTION_FIELDS = ("id", "type", "senderId", "recieverId", "status", "creditBlockId", "serialNumber", "amount",
                      "projectRefId", "retirementType", "remarks", "country", "organizationName", "createTime")


PROJECT_FIELDS = ("refId", "serialNumber", "title", "companyId", "independentCertifiers", "projectProposalStage",
                  "noObjectionLetterUrl", "letterOfAuthorizationUrl", "sector", "sectoralScope",
                  "projectAuthorizationTime", "authorizationId", "activities", "txType", "txRef", "txTime",
                  "createTime", "updateTime", "creditEst", "creditBalance", "creditRetired", "creditTransferred",
                  "creditIssued", "creditChange")


BLOCK_STATUS = {"Issued": UnitStatus.ISSUED, "Transfered": UnitStatus.HELD, "Retired": UnitStatus.RETIRED}


TRANSACTION_STATUS = {"Completed": None, "Pending": UnitStatus.PENDING, "Rejected": UnitStatus.REJECTED,
                      "Cancelled": UnitStatus.REJECTED}


TRANSACTION_TYPES = ("Issued", "Transfered", "Retired")


CROSS_BORDER = "Cross-Border Transactions"


VOLUNTARY = "Voluntary Cancellations"


#: AEF V2 reports the transferring Party only for acquisitions; UNDP writes its country on every row.
TRANSFER_LIKE = (ActionType.ACQUISITION,)
