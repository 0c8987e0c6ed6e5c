"""The ``MRV.*`` rules: every coded finding the MRV checks can give (``carbonlink rules`` lists them)."""

from __future__ import annotations

from collections.abc import Sequence

from standards.findings import Finding, Layer, Location, RuleCatalogue, RuleSpec, Severity, json_pointer

FORMAT = "mrv"
_DOC = "carbonlink MRV documents v1 (docs/mrv.md)"
_ISO_3 = "ISO 14064-3:2019 (verification of GHG statements)"
_ISO_65 = "ISO 14065:2020 §5 (impartiality of validation and verification bodies)"
_CCP = "ICVCM Core Carbon Principles (2023), principle 5: no double counting"
_CN = "UNFCCC Article 6.2 Common Nomenclature (sectors)"
E, W = Severity.ERROR, Severity.WARNING
S, F, X = Layer.STRUCTURE, Layer.FIELD, Layer.CROSS_RECORD

_SPECS: Sequence[RuleSpec] = (
    ("MRV.NOT_JSON", E, S, "The document is a JSON object", f"{_DOC} §The documents; RFC 8259"),
    ("MRV.TOO_LARGE", E, S, "The document is within the size bound", f"{_DOC} §Bounds"),
    ("MRV.STRUCTURE", E, S, "The document has the shape of its kind", f"{_DOC} §The documents (JSON Schema)"),
    ("MRV.NOT_FINITE", E, S, "Numbers are finite (no NaN or Infinity)", f"{_DOC} §The documents; RFC 8259 §6"),
    ("MRV.TOO_MANY_ITEMS", E, S, "Parameter, evidence and finding lists are within their bounds", f"{_DOC} §Bounds"),
    ("MRV.TOO_MANY_FINDINGS", E, S, "Validation stopped listing findings after the bound", f"{_DOC} §Bounds"),
    ("MRV.UNIT_UNKNOWN", E, F, "A measured parameter's unit is one pint reads", f"{_DOC} §Units"),
    ("MRV.UNIT_DIMENSION", E, F, "A measured parameter's unit has the dimension the methodology expects",
     f"{_DOC} §Units"),
    ("MRV.SECTOR_UNKNOWN", E, F, "Sectors are Common Nomenclature sectors", _CN),
    ("MRV.PERIOD_ORDER", E, F, "A monitoring period starts no later than it ends", f"{_DOC} §Checks"),
    ("MRV.DATE_ORDER", E, X, "Dates follow the chain: period end <= report <= verification <= request <= notice",
     f"{_DOC} §Checks"),
    ("MRV.BUFFER_EXCEEDS_REPORTED", E, F, "The buffer is no larger than the reported reductions and removals",
     f"{_DOC} §Checks"),
    ("MRV.DUPLICATE_EVIDENCE", E, F, "An evidence file name names one file", f"{_DOC} §Checks"),
    ("MRV.EVIDENCE_MISSING", E, X, "Every evidence file a report cites is held (by its SHA-256)",
     f"{_DOC} §Evidence"),
    ("MRV.EVIDENCE_SIZE", E, X, "A held evidence file has the size the report states", f"{_DOC} §Evidence"),
    ("MRV.OPEN_FINDINGS", W, F, "A positive opinion leaves no verifier finding unresolved", _ISO_3),
    ("MRV.BLOCK_ORDER", E, F, "An issued block's first unit is not after its last", f"{_DOC} §Checks"),
    ("MRV.BLOCK_QUANTITY", E, X, "The issued block holds exactly the requested quantity", f"{_DOC} §Checks"),
    ("MRV.BLOCK_SERIAL", E, F, "The block's serial string names the same units as first and last",
     f"{_DOC} §Checks; docs/serials.md"),
    ("MRV.REPORT_DIGEST", E, X, "The verification cites the exact digest of the report", f"{_DOC} §Digests"),
    ("MRV.VERIFICATION_DIGEST", E, X, "The issuance request cites the exact digest of the verification",
     f"{_DOC} §Digests"),
    ("MRV.REQUEST_DIGEST", E, X, "The issuance notice cites the exact digest of the request", f"{_DOC} §Digests"),
    ("MRV.PROJECT_MISMATCH", E, X, "Every document of a chain names the same project", f"{_DOC} §Checks"),
    ("MRV.PERIOD_MISMATCH", E, X, "The verification covers the report's monitoring period", f"{_DOC} §Checks"),
    ("MRV.NOTICE_MISMATCH", E, X, "The notice answers the request (registry, vintage)", f"{_DOC} §Checks"),
    ("MRV.VERIFIED_EXCEEDS_REPORTED", E, X, "The verified quantity is no more than the reported quantity", _ISO_3),
    ("MRV.OPINION_ADVERSE", E, X, "Units are issued only on a positive or qualified opinion", _ISO_3),
    ("MRV.ISSUANCE_EXCEEDS_VERIFIED", E, X, "The issuance is no more than the verified quantity minus the buffer",
     f"{_DOC} §Checks"),
    ("MRV.VINTAGE_OUTSIDE_PERIOD", E, X, "The vintage is a year of the monitoring period", f"{_DOC} §Checks"),
    ("MRV.VERIFIER_NOT_ACCREDITED", E, X, "The verifier holds the verifier role for the report's sector", _ISO_65),
    ("MRV.VERIFIER_NOT_INDEPENDENT", E, X, "The verifier is not the MRV system or its operator", _ISO_65),
    ("MRV.PERIOD_OVERLAP", E, X, "Monitoring periods of one project do not overlap (no double issuance)", _CCP),
)

RULES = RuleCatalogue(FORMAT)
RULES.declare_all(_SPECS)


def finding(rule_id: str, path: Sequence[str | int], message: str, *, cause: object | None = None) -> Finding:
    """A finding of rule ``rule_id`` at ``path`` (the instance path, as JSON Schema validators give it)."""
    return RULES[rule_id].finding(message, Location(pointer=json_pointer(path)), cause=cause)
