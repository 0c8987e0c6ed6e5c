"""The AEF V2 rule catalogue: every check carbonlink runs on an AEF submission.

Ids are stable; severities are the defaults. References name the clause each rule enforces
(AEF V2 tables and Common Nomenclature as UNDP's AEF V2 library transcribes them,
github.com/xeptagondev/carbon-registry-undp ``backend/services/libs/aef-v2/``; where a rule is
carbonlink's own sensible check rather than a UNFCCC rule, the reference says so).
"""

from __future__ import annotations

from standards.findings import Layer, RuleCatalogue, Severity

AEF = "CMA.6 AEF V2"
CN = "Common Nomenclature 2026-02-17"
S, C, F, X = Layer.STRUCTURE, Layer.CODE_LIST, Layer.FIELD, Layer.CROSS_RECORD
E, W = Severity.ERROR, Severity.WARNING

CATALOGUE = RuleCatalogue("aef")
_add = CATALOGUE.add

REQUIRED = _add("AEF.STRUCTURE.REQUIRED", severity=E, layer=S, title="A required field is blank",
                reference=f"{AEF}, table field lists (required fields)")
TYPE = _add("AEF.STRUCTURE.TYPE", severity=E, layer=S, title="A value has the wrong type",
            reference=f"{AEF}, table field lists (field types)")
UNKNOWN_FIELD = _add("AEF.STRUCTURE.UNKNOWN_FIELD", severity=E, layer=S,
                     title="A field that is not in the AEF table", reference=f"{AEF}, table field lists")
T1_MISSING = _add("AEF.T1.MISSING", severity=W, layer=S,
                  title="No Table 1 (Submission): cross-table rules are not run",
                  reference=f"{AEF}, Table 1 Submission")
FMT_CA = _add("AEF.FORMAT.COOPERATIVE_APPROACH_ID", severity=E, layer=S,
              title="Cooperative approach ID is not CA followed by 4 digits", reference=f"{CN}, Table 9(a)")
FMT_REGISTRY = _add("AEF.FORMAT.REGISTRY_ID", severity=E, layer=S,
                    title="Party ITMO registry ID is not alpha-3 plus 2 digits", reference=f"{CN}, Table 28")
FMT_PARTY = _add("AEF.FORMAT.PARTY", severity=E, layer=S,
                 title="A Party ID is not three capital letters (ISO 3166-1 alpha-3)",
                 reference=f"{AEF}, Party fields (ISO 3166-1 alpha-3)")
FMT_AUTH = _add("AEF.FORMAT.AUTHORIZATION_ID", severity=E, layer=S,
                title="Authorization ID has characters other than letters, digits, spaces and hyphens",
                reference=f"{CN}, Table 7")
FMT_VERSION = _add("AEF.FORMAT.VERSION", severity=E, layer=S,
                   title="Submission version is not of the form X.Y (first version 1.0)",
                   reference=f"{AEF}, Table 1 Version")
FMT_YEAR = _add("AEF.FORMAT.YEAR", severity=E, layer=S, title="A year is outside 1900-2100",
                reference=f"{AEF}, year fields (YYYY)")
FMT_SERIAL = _add("AEF.FORMAT.ITMO_SERIAL", severity=E, layer=S,
                  title="First ID / Last ID is not a positive integer ITMO serial",
                  reference="decision 6/CMA.4, annex I, para 5; AEF V2 T3/T4 First ID, Last ID")

CODE_VALUE = _add("AEF.CODE_LIST.VALUE", severity=E, layer=C,
                  title="A value is not in the Common Nomenclature list", reference=CN)
CODE_SPELLING = _add("AEF.CODE_LIST.SPELLING", severity=W, layer=C,
                     title="A known non-standard spelling was normalised to the Common Nomenclature",
                     reference=CN)
CODE_PARTY = _add("AEF.CODE_LIST.PARTY", severity=E, layer=C,
                  title="A Party ID is not an ISO 3166-1 alpha-3 code or a reserved Party code",
                  reference=f"{AEF}, Party fields (ISO 3166-1 alpha-3, reserved codes such as EUE)")
SUBTYPE = _add("AEF.T3.SUBTYPE_NOT_FOR_TYPE", severity=W, layer=C,
               title="The action subtype does not belong to the action type", reference=f"{CN}, 26(b)")

BLOCK_RANGE = _add("AEF.BLOCK.RANGE", severity=E, layer=F, title="First ID is greater than Last ID",
                   reference="AEF V2 T3/T4 First ID <= Last ID (decision 6/CMA.4, annex I, para 5)")
BLOCK_QUANTITY = _add("AEF.BLOCK.QUANTITY", severity=E, layer=F,
                      title="Quantity (t CO2 eq) differs from the block length for a GHG block",
                      reference="carbonlink check: one ITMO serial per t CO2 eq "
                                "(Quantity = LastID - FirstID + 1)")
UNIT_RANGE = _add("AEF.BLOCK.UNDERLYING_RANGE", severity=E, layer=F,
                  title="Underlying First unit ID is greater than Last unit ID",
                  reference=f"{AEF}, T3/T4 underlying unit IDs")
TRANSFERRING = _add("AEF.T3.TRANSFERRING_PARTY_REQUIRED", severity=E, layer=F,
                    title="An Acquisition needs the transferring participating Party",
                    reference=f"{AEF}, T3 Transferring participating Party ID (footnote: Acquisition)")
ACQUIRING = _add("AEF.T3.ACQUIRING_PARTY_REQUIRED", severity=E, layer=F,
                 title="A First transfer or Transfer needs the acquiring participating Party",
                 reference=f"{AEF}, T3 Acquiring participating Party ID (footnote: First transfer, Transfer)")
NDC_YEAR = _add("AEF.T3.NDC_YEAR_REQUIRED", severity=E, layer=F,
                title="A Use towards the NDC needs the calendar year it is used for",
                reference=f"{AEF}, T3 Calendar year for which the ITMOs are used towards the Party's NDC")
NON_GHG_METRIC = _add("AEF.NON_GHG.METRIC_REQUIRED", severity=E, layer=F,
                      title="A non-GHG metric needs the applicable non-GHG metric",
                      reference=f"{AEF}, Applicable non-GHG metric (only when Metric = non-GHG)")
NON_GHG_QUANTITY = _add("AEF.NON_GHG.QUANTITY_REQUIRED", severity=E, layer=F,
                        title="A non-GHG metric needs the quantity in that metric",
                        reference=f"{AEF}, Quantity (in non-GHG metric)")
OIMP_AUTHORIZED = _add("AEF.T2.OIMP_AUTHORIZED_REQUIRED", severity=E, layer=F,
                       title="An OIMP purpose needs 'OIMP authorized by the Party'",
                       reference=f"{AEF}, T2 OIMP authorized by the Party")
FIRST_TRANSFER_DEF = _add("AEF.T2.FIRST_TRANSFER_DEFINITION_REQUIRED", severity=E, layer=F,
                          title="An OIMP purpose needs the first transfer definition",
                          reference=f"{AEF}, T2 First transfer definition for OIMP; 2/CMA.3 annex para 2(b)")
NOT_APPLICABLE = _add("AEF.CONDITIONAL.NOT_APPLICABLE", severity=E, layer=F,
                      title="A conditional field carries a value where it does not apply (must be NA)",
                      reference=f"{AEF}, conditional fields ('otherwise NA')")
NA_EXPECTED = _add("AEF.CONDITIONAL.NA_EXPECTED", severity=W, layer=F,
                   title="A conditional field that does not apply is blank instead of NA",
                   reference=f"{AEF}, conditional fields ('otherwise NA')")
CARP_FIELD = _add("AEF.CARP_FIELD.FILLED", severity=E, layer=F,
                  title="A field populated by CARP was filled in by the Party",
                  reference=f"{AEF}, CARP-populated fields (T1 review status, consistency result, "
                            "TER link; "
                            "T2 documentation; T3 consistency result)")
VINTAGE = _add("AEF.T3.VINTAGE_AFTER_ACTION", severity=E, layer=F,
               title="The vintage is after the year of the action",
               reference="2/CMA.3 annex: vintage is the year the mitigation occurred, before any action on it")
NDC_PERIOD = _add("AEF.T1.NDC_PERIOD", severity=E, layer=F,
                  title="The NDC period's first year is after its last year", reference=f"{AEF}, Table 1")
DECIMALS = _add("AEF.QUANTITY.DECIMALS", severity=W, layer=F,
                title="A quantity has more than 2 decimal places",
                reference="AEF validators and CAD Trust: quantities at most 2 decimals")
TOO_LONG = _add("AEF.TEXT.TOO_LONG", severity=W, layer=F,
                title="A text value is longer than 255 characters",
                reference="CAD Trust v2.0.2 data dictionary: strings at most 255 characters")
PARTY_LIST = _add("AEF.T2.AUTHORIZED_PARTIES", severity=E, layer=F,
                  title="Authorized Party(ies) ID is not a comma-separated list of alpha-3 codes",
                  reference=f"{AEF}, T2 Authorized Party(ies) ID")

AUTH_UNKNOWN = _add("AEF.CROSS.AUTHORIZATION_UNKNOWN", severity=E, layer=X,
                    title="A T3/T4 Authorization ID is not reported in T2 for that cooperative approach",
                    reference=f"{AEF}, T3/T4 Authorization ID joins T2 (same Authorization ID and CA ID)")
AUTH_DUPLICATE = _add("AEF.CROSS.AUTHORIZATION_DUPLICATE", severity=E, layer=X,
                      title="The same Authorization ID and version is reported twice in T2",
                      reference=f"{AEF}, T2: one row per authorization and version")
OVERLAP = _add("AEF.CROSS.BLOCK_OVERLAP", severity=E, layer=X,
               title="ITMO blocks overlap or repeat in one submission",
               reference="decision 6/CMA.4, annex I, para 5 (unique identifiers); holdings and once-only "
                         "actions may not count an ITMO twice")
AUTH_QUANTITY = _add("AEF.CROSS.AUTHORIZED_QUANTITY_EXCEEDED", severity=E, layer=X,
                     title="First transfers exceed the authorized quantity",
                     reference=f"{AEF}, T2 Authorized quantity")
REPORTED_YEAR = _add("AEF.CROSS.ACTION_OUTSIDE_REPORTED_YEAR", severity=E, layer=X,
                     title="An action date is outside the reported year",
                     reference="CARP FAQ: actions of year Y are reported for year Y (1 Jan-31 Dec)")
ENTITY_UNKNOWN = _add("AEF.CROSS.ENTITY_UNKNOWN", severity=W, layer=X,
                      title="An authorized entity ID in T2 is not listed in T5",
                      reference=f"{AEF}, T2 Authorized entity(ies) ID links to T5")
T5_CA_UNKNOWN = _add("AEF.CROSS.T5_APPROACH_UNKNOWN", severity=W, layer=X,
                     title="A T5 cooperative approach has no authorization in T2",
                     reference=f"{AEF}, T5 Cooperative approach ID")

#: Pattern rule by field type, for structure-layer pattern errors.
PATTERN_RULES = {"ca_id": FMT_CA, "registry_id": FMT_REGISTRY, "party": FMT_PARTY, "party_or_na": FMT_PARTY,
                 "auth_id": FMT_AUTH, "version": FMT_VERSION, "year": FMT_YEAR, "year_or_na": FMT_YEAR,
                 "serial": FMT_SERIAL}
