"""The AEF V2 rule catalogue: every check carbonlink runs on an AEF submission.

Ids are stable; severities are the defaults. References name the clause each rule enforces
(AEF V2 tables and Common Nomenclature as UNDP's AEF V2 library transcribes them,
github.com/xeptagondev/carbon-registry-undp ``backend/services/libs/aef-v2/``; where a rule is
carbonlink's own sensible check rather than a UNFCCC rule, the reference says so).
"""

from __future__ import annotations

from collections.abc import Mapping

from standards.errors import InvalidValue
from standards.findings import Layer, RuleCatalogue, Severity

AEF = "CMA.6 AEF V2"
CN = "Common Nomenclature 2026-02-17"
S, C, F, X = Layer.STRUCTURE, Layer.CODE_LIST, Layer.FIELD, Layer.CROSS_RECORD
E, W = Severity.ERROR, Severity.WARNING

CATALOGUE = RuleCatalogue("aef")
_rule = CATALOGUE.declare

REQUIRED = _rule("AEF.STRUCTURE.REQUIRED", E, S, "A required field is blank",
                 f"{AEF}, table field lists (required fields)")
TYPE = _rule("AEF.STRUCTURE.TYPE", E, S, "A value has the wrong type",
             f"{AEF}, table field lists (field types)")
UNKNOWN_FIELD = _rule("AEF.STRUCTURE.UNKNOWN_FIELD", E, S,
                      "A field that is not in the AEF table", f"{AEF}, table field lists")
T1_MISSING = _rule("AEF.T1.MISSING", W, S,
                   "No Table 1 (Submission): the rules that need it are listed as not run; the rest run",
                   f"{AEF}, Table 1 Submission")
FMT_CA = _rule("AEF.FORMAT.COOPERATIVE_APPROACH_ID", E, S,
               "Cooperative approach ID is not CA followed by 4 digits", f"{CN}, Table 9(a)")
FMT_REGISTRY = _rule("AEF.FORMAT.REGISTRY_ID", E, S,
                     "Party ITMO registry ID is not alpha-3 plus 2 digits", f"{CN}, Table 28")
FMT_PARTY = _rule("AEF.FORMAT.PARTY", E, S,
                  "A Party ID is not three capital letters (ISO 3166-1 alpha-3)",
                  f"{AEF}, Party fields (ISO 3166-1 alpha-3)")
FMT_AUTH = _rule("AEF.FORMAT.AUTHORIZATION_ID", E, S,
                 "Authorization ID has characters other than letters, digits, spaces and hyphens",
                 f"{CN}, Table 7")
FMT_VERSION = _rule("AEF.FORMAT.VERSION", E, S,
                    "Submission version is not of the form X.Y (first version 1.0)",
                    f"{AEF}, Table 1 Version")
FMT_YEAR = _rule("AEF.FORMAT.YEAR", E, S, "A year is outside 1900-2100",
                 f"{AEF}, year fields (YYYY)")
FMT_SERIAL = _rule("AEF.FORMAT.ITMO_SERIAL", E, S,
                   "First ID / Last ID is not a positive integer ITMO serial",
                   "decision 6/CMA.4, annex I, para 5; AEF V2 T3/T4 First ID, Last ID")

NEGATIVE = _rule("AEF.QUANTITY.NEGATIVE", E, S, "A quantity is negative",
                 f"{AEF}, T2 Authorized quantity, T3/T4 Quantity (t CO2 eq and non-GHG metric)")
CODE_VALUE = _rule("AEF.CODE_LIST.VALUE", E, C,
                   "A value is not in the Common Nomenclature list (strict: a known alias is an error "
                   "that names the expected value)", CN)
CODE_SPELLING = _rule("AEF.CODE_LIST.SPELLING", W, C,
                      "Lenient reading only: a known non-standard spelling was normalised to the "
                      "Common Nomenclature", CN)
CODE_PARTY = _rule("AEF.CODE_LIST.PARTY", E, C,
                   "A Party ID is not an ISO 3166-1 alpha-3 code or a reserved Party code",
                   f"{AEF}, Party fields (ISO 3166-1 alpha-3, reserved codes such as EUE)")
SUBTYPE = _rule("AEF.T3.SUBTYPE_NOT_FOR_TYPE", W, C,
                "The action subtype does not belong to the action type", f"{CN}, 26(b)")

BLOCK_RANGE = _rule("AEF.BLOCK.RANGE", E, F, "First ID is greater than Last ID",
                    "AEF V2 T3/T4 First ID <= Last ID (decision 6/CMA.4, annex I, para 5)")
BLOCK_QUANTITY = _rule("AEF.BLOCK.QUANTITY", E, F,
                       "Quantity (t CO2 eq) differs from the block length for a GHG block",
                       "carbonlink check: one ITMO serial per t CO2 eq "
                       "(Quantity = LastID - FirstID + 1)")
UNIT_RANGE = _rule("AEF.BLOCK.UNDERLYING_RANGE", E, F,
                   "Underlying First unit ID is greater than Last unit ID",
                   f"{AEF}, T3/T4 underlying unit IDs")
TRANSFERRING = _rule("AEF.T3.TRANSFERRING_PARTY_REQUIRED", E, F,
                     "An Acquisition needs the transferring participating Party",
                     f"{AEF}, T3 Transferring participating Party ID (footnote: Acquisition)")
ACQUIRING = _rule("AEF.T3.ACQUIRING_PARTY_REQUIRED", E, F,
                  "A First transfer or Transfer needs the acquiring participating Party",
                  f"{AEF}, T3 Acquiring participating Party ID (footnote: First transfer, Transfer)")
NDC_YEAR = _rule("AEF.T3.NDC_YEAR_REQUIRED", E, F,
                 "A Use towards the NDC needs the calendar year it is used for",
                 f"{AEF}, T3 Calendar year for which the ITMOs are used towards the Party's NDC")
NON_GHG_METRIC = _rule("AEF.NON_GHG.METRIC_REQUIRED", E, F,
                       "A non-GHG metric needs the applicable non-GHG metric",
                       f"{AEF}, Applicable non-GHG metric (only when Metric = non-GHG)")
NON_GHG_QUANTITY = _rule("AEF.NON_GHG.QUANTITY_REQUIRED", E, F,
                         "A non-GHG metric needs the quantity in that metric",
                         f"{AEF}, Quantity (in non-GHG metric)")
OIMP_AUTHORIZED = _rule("AEF.T2.OIMP_AUTHORIZED_REQUIRED", E, F,
                        "An OIMP purpose needs 'OIMP authorized by the Party'",
                        f"{AEF}, T2 OIMP authorized by the Party")
FIRST_TRANSFER_DEF = _rule("AEF.T2.FIRST_TRANSFER_DEFINITION_REQUIRED", E, F,
                           "An OIMP purpose needs the first transfer definition",
                           f"{AEF}, T2 First transfer definition for OIMP; 2/CMA.3 annex para 2(b)")
NOT_APPLICABLE = _rule("AEF.CONDITIONAL.NOT_APPLICABLE", E, F,
                       "A conditional field carries a value where it does not apply (must be NA)",
                       f"{AEF}, conditional fields ('otherwise NA')")
NA_EXPECTED = _rule("AEF.CONDITIONAL.NA_EXPECTED", W, F,
                    "A conditional field that does not apply is blank instead of NA",
                    f"{AEF}, conditional fields ('otherwise NA')")
CARP_FIELD = _rule("AEF.CARP_FIELD.FILLED", E, F,
                   "A field populated by CARP was filled in by the Party",
                   f"{AEF}, CARP-populated fields (T1 review status, consistency result, TER link; "
                   "T2 documentation; T3 consistency result)")
CARP_INSTRUCTION = _rule("AEF.CARP_FIELD.INSTRUCTION", Severity.INFO, F,
                         "A CARP-populated cell holds the template's instruction text; it is read as blank",
                         f"{AEF}, CARP-populated fields (templates print an instruction in them)")
VINTAGE = _rule("AEF.T3.VINTAGE_AFTER_ACTION", E, F,
                "The vintage is after the year of the action",
                "2/CMA.3 annex: vintage is the year the mitigation occurred, before any action on it")
ACTION_IN_FUTURE = _rule("AEF.T3.ACTION_IN_FUTURE", E, F,
                         "The action is dated after the moment of validation (a day of clock skew allowed)",
                         "2/CMA.3 annex paras 20-21 (information on actions that have taken place); "
                         f"{AEF}, T3 Action date and time")
SAME_PARTY = _rule("AEF.T3.SAME_PARTY", E, F,
                   "A transfer or acquisition names the same Party as transferring and acquiring Party "
                   "(first transfers: AEF.PARTY.FIRST_TRANSFER_TO_SELF)",
                   "2/CMA.3 annex para 1 (internationally transferred mitigation outcomes: a transfer between "
                   f"two Parties); {AEF}, T3 Transferring and Acquiring participating Party ID")
NDC_PERIOD = _rule("AEF.T1.NDC_PERIOD", E, F,
                   "The NDC period's first year is after its last year", f"{AEF}, Table 1")
DECIMALS = _rule("AEF.QUANTITY.DECIMALS", W, F,
                 "A quantity has more than 2 decimal places",
                 "AEF validators and CAD Trust: quantities at most 2 decimals")
TOO_LONG = _rule("AEF.TEXT.TOO_LONG", W, F,
                 "A text value is longer than 255 characters",
                 "CAD Trust v2.0.2 data dictionary: strings at most 255 characters")
PARTY_LIST = _rule("AEF.T2.AUTHORIZED_PARTIES", E, F,
                   "Authorized Party(ies) ID is not a comma-separated list of alpha-3 codes",
                   f"{AEF}, T2 Authorized Party(ies) ID")

AUTH_UNKNOWN = _rule("AEF.CROSS.AUTHORIZATION_UNKNOWN", E, X,
                     "A T3/T4 Authorization ID is not reported in T2 for that cooperative approach",
                     f"{AEF}, T3/T4 Authorization ID joins T2 (same Authorization ID and CA ID)")
AUTH_DUPLICATE = _rule("AEF.CROSS.AUTHORIZATION_DUPLICATE", E, X,
                       "The same Authorization ID and version is reported twice in T2",
                       f"{AEF}, T2: one row per authorization and version")
OVERLAP = _rule("AEF.CROSS.BLOCK_OVERLAP", E, X,
                "ITMO blocks overlap or repeat in one submission",
                "decision 6/CMA.4, annex I, para 5 (unique identifiers); holdings and once-only "
                "actions may not count an ITMO twice")
AUTH_QUANTITY = _rule("AEF.CROSS.AUTHORIZED_QUANTITY_EXCEEDED", E, X,
                      "First transfers exceed the quantity of the authorization version in force",
                      f"{AEF}, T2 Authorized quantity, per Authorization version and Date of authorization")
REPORTED_YEAR = _rule("AEF.CROSS.ACTION_OUTSIDE_REPORTED_YEAR", E, X,
                      "An action date is outside the reported year",
                      "CARP FAQ: actions of year Y are reported for year Y (1 Jan-31 Dec)")
ENTITY_UNKNOWN = _rule("AEF.CROSS.ENTITY_UNKNOWN", W, X,
                       "An authorized entity ID in T2 is not listed in T5",
                       f"{AEF}, T2 Authorized entity(ies) ID links to T5")
T5_CA_UNKNOWN = _rule("AEF.CROSS.T5_APPROACH_UNKNOWN", W, X,
                      "A T5 cooperative approach has no authorization in T2",
                      f"{AEF}, T5 Cooperative approach ID")

# -- the ITMO ledger: T3 replayed in date order and reconciled with T4 (31 December) --------------
_NOT_EXPLICIT = "the text does not state this check explicitly: severity configurable"
_LEDGER = ("T3 replayed in date order against T4 (4/CMA.6 annex II, T4: holdings on 31 December of the "
           "reported year); holdings are the reporting Party's, so the rule needs Table 1")
NOT_HELD = _rule("AEF.LEDGER.NOT_HELD", E, X,
                 "ITMOs are used, transferred or cancelled when the report shows they were not held "
                 "(acquired later, or already used, cancelled or transferred away)",
                 f"2/CMA.3 annex para 20 (actions on ITMOs); {_LEDGER}; {_NOT_EXPLICIT}")
FIRST_TRANSFER_TWICE = _rule("AEF.LEDGER.FIRST_TRANSFER_TWICE", E, X,
                             "The same ITMOs are first-transferred twice",
                             "2/CMA.3 annex para 2 (the first transfer of a mitigation outcome); "
                             "6/CMA.4 annex I para 5 (one unique identifier per ITMO)")
SPENT_STILL_HELD = _rule("AEF.LEDGER.SPENT_STILL_HELD", E, X,
                         "T4 holds ITMOs that T3 shows used, cancelled or transferred away in the reported year",
                         f"{_LEDGER}")
ACQUIRED_NOT_HELD = _rule("AEF.LEDGER.ACQUIRED_NOT_HELD", W, X,
                          "ITMOs acquired in the reported year and not moved on are missing from T4",
                          f"{_LEDGER}; {_NOT_EXPLICIT}")
UNEXPLAINED_HOLDING = _rule("AEF.LEDGER.UNEXPLAINED_HOLDING", W, X,
                            "T4 holds another Party's ITMOs of a vintage no earlier than the reported year "
                            "that T3 shows no acquisition of",
                            f"{_LEDGER}; {_NOT_EXPLICIT}")
ATTRIBUTES_DIFFER = _rule("AEF.LEDGER.ATTRIBUTES_DIFFER", E, X,
                          "Overlapping blocks (T3 actions, T3 and T4) give the same ITMOs a different vintage, "
                          "authorization, metric or mitigation type",
                          "6/CMA.4 annex I para 5 (one unique identifier per ITMO: its attributes cannot differ "
                          "between rows)")

# -- authorizations over their versions (the T2 version in force at the action's date) ------------
_IN_FORCE = "the T2 version in force at the action's date (latest Date of authorization on or before it)"
BEFORE_AUTHORIZATION = _rule("AEF.AUTH.ACTION_BEFORE_AUTHORIZATION", E, X,
                             "An action is dated before its authorization was first given",
                             f"{AEF}, T2 Date of authorization; 2/CMA.3 annex para 2 (ITMOs are authorized "
                             f"mitigation outcomes); {_NOT_EXPLICIT}")
METRIC_MISMATCH = _rule("AEF.AUTH.METRIC_MISMATCH", E, X,
                        "A T3/T4 metric differs from the metric of its authorization",
                        f"{AEF}, T2 and T3/T4 Metric; {_IN_FORCE}")
TIMEFRAME_VINTAGE = _rule("AEF.AUTH.VINTAGE_OUTSIDE_TIMEFRAME", E, X,
                          "The vintage is outside the authorized timeframe",
                          f"{AEF}, T2 Authorized timeframe ({CN}, Table 20: YYYY - YYYY); {_IN_FORCE}; "
                          f"{_NOT_EXPLICIT}")
TIMEFRAME_ACTION = _rule("AEF.AUTH.ACTION_OUTSIDE_TIMEFRAME", W, X,
                         "The action date is outside the authorized timeframe",
                         f"{AEF}, T2 Authorized timeframe ({CN}, Table 20); {_IN_FORCE}; {_NOT_EXPLICIT}")
PARTY_NOT_AUTHORIZED = _rule("AEF.AUTH.PARTY_NOT_AUTHORIZED", E, X,
                             "A first transfer goes to a Party the authorization does not name",
                             f"{AEF}, T2 Authorized Party(ies) ID (when the authorization names Parties); "
                             f"{_IN_FORCE}")

# -- Party roles against Table 1 ---------------------------------------------------------------
_ROLE = "the reporting Party is T1 Participating Party"
OTHER_PARTYS_ITMOS = _rule("AEF.PARTY.FIRST_TRANSFER_OF_OTHER_PARTY", E, X,
                           "A first transfer of ITMOs whose first transferring Party is not the reporting Party",
                           f"2/CMA.3 annex para 2 (the first transfer is made by the Party where the mitigation "
                           f"occurred); {AEF}, T3 First transferring participating Party ID; {_ROLE}")
FIRST_TRANSFER_TO_SELF = _rule("AEF.PARTY.FIRST_TRANSFER_TO_SELF", E, F,
                               "A first transfer to another Party names its first transferring Party as acquirer",
                               f"2/CMA.3 annex para 2(a) (first international transfer); {AEF}, T3 First "
                               "transferring and Acquiring participating Party ID")
ACQUISITION_FROM_SELF = _rule("AEF.PARTY.ACQUISITION_FROM_SELF", E, X,
                              "An acquisition names the reporting Party as the transferring Party",
                              f"{AEF}, T3 Transferring participating Party ID (Acquisition); {_ROLE}")
NDC_YEAR_OUTSIDE = _rule("AEF.PARTY.NDC_YEAR_OUTSIDE_PERIOD", E, X,
                         "The year of use towards the NDC is outside the NDC period of Table 1",
                         f"{AEF}, T3 Calendar year for which the ITMOs are used towards the Party's NDC; "
                         "T1 First/Last year of the NDC implementation period")
SUBMISSION_DATE = _rule("AEF.T1.SUBMISSION_BEFORE_YEAR_END", E, F,
                        "The submission is dated on or before 31 December of the reported year",
                        f"{AEF}, T1 Reported year and Date of submission; 2/CMA.3 annex para 20 (annual "
                        "information on the previous calendar year)")
VINTAGE_2021 = _rule("AEF.VINTAGE.BEFORE_2021", E, F,
                     "The vintage is before 2021",
                     "2/CMA.3 annex, definition of ITMOs (mitigation outcomes from 2021 onward); "
                     f"{AEF}, T3/T4 Vintage")

# -- authorized entities (T5) and the purposes of authorization --------------------------------
_T5 = f"{AEF}, T5 Authorized entities (the entities the Party authorized, per cooperative approach)"
_USING_ENTITY = f"{AEF}, T3 Using/cancelling authorized entity ID"
ENTITY_NOT_LISTED = _rule("AEF.ENTITY.USING_NOT_LISTED", E, X,
                          "A use or cancellation names an authorized entity that T5 does not list",
                          f"{_USING_ENTITY} (an authorized entity); {_T5}; {_NOT_EXPLICIT}")
ENTITY_APPROACH = _rule("AEF.ENTITY.OTHER_APPROACH", E, X,
                        "An entity is named for a cooperative approach T5 does not authorize it for",
                        f"{_USING_ENTITY} and T2 Authorized entity(ies) ID against {_T5} (Cooperative "
                        "approach ID)")
ENTITY_BEFORE_AUTHORIZATION = _rule("AEF.ENTITY.ACTION_BEFORE_ENTITY_AUTHORIZATION", E, X,
                                    "An entity uses or cancels ITMOs before T5 dates its authorization",
                                    f"{_USING_ENTITY}; {_T5} (Date of the authorization); {_NOT_EXPLICIT}")
ENTITY_NOT_IN_AUTHORIZATION = _rule("AEF.ENTITY.NOT_NAMED_BY_AUTHORIZATION", W, X,
                                    "A use or cancellation by an entity the authorization does not name "
                                    "(when it names entities)",
                                    f"{_USING_ENTITY}; {AEF}, T2 Authorized entity(ies) ID; {_IN_FORCE}; "
                                    f"{_NOT_EXPLICIT}")
_PURPOSES = (f"{AEF}, T2 Purposes for authorization ({CN}, Table 16(b): NDC, OIMP, IMP, OP, NDC and OIMP, "
             "NDC and IMP, NDC and OP); 2/CMA.3 annex (ITMOs are authorized for use towards NDCs and/or for "
             f"other international mitigation purposes); {_IN_FORCE}")
NDC_USE_NOT_AUTHORIZED = _rule("AEF.PURPOSE.NDC_USE_NOT_AUTHORIZED", E, X,
                               "ITMOs are used towards the NDC under an authorization for other purposes only",
                               f"{AEF}, T3 Calendar year for which the ITMOs are used towards the NDC; "
                               f"{_PURPOSES}")
OIMP_USE_NOT_AUTHORIZED = _rule("AEF.PURPOSE.OIMP_USE_NOT_AUTHORIZED", E, X,
                                "ITMOs are used or cancelled for an OIMP under an authorization for NDC use only",
                                f"{AEF}, T3 Purpose for which the ITMO has been used towards or cancelled for "
                                f"OIMP; {_PURPOSES}")
FIRST_TRANSFER_DEFINITION = _rule("AEF.PURPOSE.FIRST_TRANSFER_DEFINITION", E, X,
                                  "A first transfer's subtype contradicts the authorization: an OIMP first "
                                  "transfer (on authorization, issuance, or use or cancellation) other than "
                                  "the one its first transfer definition names, or under an NDC-only "
                                  "authorization",
                                  "2/CMA.3 annex para 2 ((a) NDC use: the first international transfer; (b) "
                                  f"OIMP: authorization, issuance, or use or cancellation, as the first "
                                  f"transferring Party specifies); {AEF}, T2 First transfer definition for "
                                  f"OIMP ({CN}, Table 22(b)) and T3 Action subtype; {_IN_FORCE}")

#: Rules whose clause leaves the check implicit: their severity may be overridden per run.
CONFIGURABLE = frozenset(rule.id for rule in (NOT_HELD, ACQUIRED_NOT_HELD, UNEXPLAINED_HOLDING,
                                               BEFORE_AUTHORIZATION, TIMEFRAME_VINTAGE, TIMEFRAME_ACTION,
                                               ENTITY_NOT_LISTED, ENTITY_BEFORE_AUTHORIZATION,
                                               ENTITY_NOT_IN_AUTHORIZATION))


def severity_overrides(overrides: Mapping[str, str | Severity] | None) -> dict[str, Severity]:
    """Check a ``{rule id: severity}`` mapping: only :data:`CONFIGURABLE` rules may be overridden."""
    out: dict[str, Severity] = {}
    for rule_id, severity in (overrides or {}).items():
        if rule_id not in CONFIGURABLE:
            raise InvalidValue(f"the severity of {rule_id} is fixed; configurable rules: "
                               f"{', '.join(sorted(CONFIGURABLE))}")
        try:
            out[rule_id] = Severity(severity)
        except ValueError as exc:
            raise InvalidValue(f"{severity!r} is not a severity (error, warning, info)") from exc
    return out


#: Pattern rule by field type, for structure-layer pattern errors.
PATTERN_RULES = {"ca_id": FMT_CA, "registry_id": FMT_REGISTRY, "party": FMT_PARTY, "party_or_na": FMT_PARTY,
                 "auth_id": FMT_AUTH, "version": FMT_VERSION, "year": FMT_YEAR, "year_or_na": FMT_YEAR,
                 "serial": FMT_SERIAL}
