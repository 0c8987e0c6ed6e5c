"""The coded rules of CAD Trust v1 and v2 documents, one :class:`RuleCatalogue` per version."""

from __future__ import annotations

from standards.findings import Layer, RuleCatalogue, RuleSpec, Severity

V1_REF = "CADT v1.7.24 (develop@171e6d63)"
V2_REF = "CAD Trust Data Dictionary v2.0.2"

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
S, C, F, X = Layer.STRUCTURE, Layer.CODE_LIST, Layer.FIELD, Layer.CROSS_RECORD

#: Rules both versions declare under their own prefix: (id suffix, severity, layer, title, reference after
#: the version's reference; ``{version}`` is ``v1`` or ``v2``).
COMMON: tuple[RuleSpec, ...] = (
    ("DOCUMENT", E, S, "Document is an object of resource lists",
     "API resources (carbonlink document shape, docs/cadtrust.md)"),
    ("REQUIRED", E, S, "Required field present", "request schema, required fields"),
    ("TYPE", E, S, "Field has the type the schema gives", "field types (schema/cadt-{version}.schema.json)"),
    ("UNKNOWN_KEY", E, S, "No field the entity does not define", "request validation rejects unknown keys"),
    ("PICKLIST", E, C, "Enforced picklist value", "governance pickList (enforced fields)"),
    ("DATE", E, F, "Date is an ISO 8601 date", "date fields (ISO 8601)"),
    ("DATE_ORDER", E, F, "Period ends on or after its start", "end date >= start date"),
    ("UNIT.SERIAL_RANGE", E, F, "Unit count matches a numeric serial block",
     "unit block start/end and unitCount (CADT does not cross-check them)"),
    ("MARKETPLACE_ID", E, F, "marketplaceIdentifier is not empty", "unit.marketplaceIdentifier must not be ''"),
    ("SERVER_KEY", E, F, "No server-owned key in a request body",
     "keys set by CADT (ids, orgUid, timestamps) are refused in POST bodies"),
    ("DUPLICATE_ID", E, X, "Record ids are unique", "primary keys"),
)

V1_ONLY: tuple[RuleSpec, ...] = (
    ("CADT.V1.VINTAGE", E, F, "vintageYear within 1900-3000", f"{V1_REF}: unit.vintageYear 1900..3000"),
    ("CADT.V1.STRING_LENGTH", W, F, "String fits VARCHAR(255)",
     f"{V1_REF}: Sequelize STRING is VARCHAR(255) in the MySQL mirror"),
    ("CADT.V1.REF.ISSUANCE", E, X, "A unit's issuance belongs to a known project",
     f"{V1_REF}: unit -> issuance (issuanceId) -> project (warehouseProjectId)"),
    ("CADT.V1.EMPTY_STRING", E, F, "No empty string where the node refuses one",
     f"{V1_REF}: Joi.string() refuses '' unless the field allows it (data/v1-empty-strings.json)"),
    ("CADT.V1.VOCAB", E, C, "Registry value has a CAD Trust picklist value in carbonlink's vocabulary",
     f"{V1_REF}: governance pickList; carbonlink vocabulary files standards/cadt/data/vocab/*.json"),
    ("CADT.V1.PROFILE_MISSING", E, S, "A required value the export lacks is set in the operator profile",
     f"{V1_REF}: request schema, required fields; carbonlink operator profile (docs/cadtrust.md)"),
    ("CADT.V1.SOURCE_MISSING", E, S, "A required value no fact of the export gives",
     f"{V1_REF}: request schema, required fields"),
    ("CADT.V1.PROFILE_VALUE", INFO, F, "Values taken from the operator profile",
     "carbonlink operator profile (docs/cadtrust.md)"),
    ("CADT.V1.DERIVED", INFO, F, "Values derived from a fact of the registry",
     "carbonlink vocabulary files standards/cadt/data/vocab/*.json"),
)

V2_ONLY: tuple[RuleSpec, ...] = (
    ("CADT.LEGACY_KEY", W, S, "Legacy key spelling normalised",
     f"{V2_REF}: AEF key names (legacy '...Coopoerative...', '...Authozied...')"),
    ("CADT.LEGACY_VALUE", W, C, "Picklist spelling normalised",
     f"{V2_REF}: picklists vs UNFCCC Common Nomenclature (e.g. metric 'GHC')"),
    ("CADT.V2.PARTY_CODE", W, F, "Party given as alpha-2 or name, read as alpha-3",
     "AEF V2 Party fields use ISO 3166-1 alpha-3 (CN); CAD Trust examples use alpha-2"),
    ("CADT.V2.YEAR", E, F, "Year within 1900-2100", f"{V2_REF}: years 1900..2100"),
    ("CADT.V2.STRING_LENGTH", E, F, "String within the dictionary's maximum",
     f"{V2_REF}: string maximum lengths (255 unless stated)"),
    ("CADT.V2.QUANTITY_DP", E, F, "Quantity within its decimal places",
     f"{V2_REF}: quantities at most 2 dp (estimationUnitCount 6 dp)"),
    ("CADT.V2.REF", E, X, "Reference to a record of this document resolves", f"{V2_REF}: foreign keys (cadTrust*Id)"),
    ("CADT.V2.AEF.NEEDS_T2", E, X, "T3 actions and T4 holdings have their T2",
     f"{V2_REF}: aef_t3_actions / aef_t4_holdings require cadTrustAefT2AuthorizationsId"),
    ("CADT.V2.VOCAB", E, C, "Registry value has a CAD Trust v2 picklist value in carbonlink's vocabulary",
     f"{V2_REF}: picklists; carbonlink vocabulary files standards/cadt/data/vocab/*.json (section v2)"),
    ("CADT.V2.PROFILE_MISSING", E, S, "A required value the export lacks is set in the operator profile",
     f"{V2_REF}: required fields; carbonlink operator profile (docs/cadtrust.md)"),
    ("CADT.V2.SOURCE_MISSING", E, S, "A required value no fact of the export gives", f"{V2_REF}: required fields"),
    ("CADT.V2.PROFILE_VALUE", INFO, F, "Values taken from the operator profile",
     "carbonlink operator profile (docs/cadtrust.md)"),
    ("CADT.V2.DERIVED", INFO, F, "Values and records derived from a fact of the registry",
     "carbonlink vocabulary files standards/cadt/data/vocab/*.json; derived ids (docs/cadtrust.md)"),
    ("CADT.V2.UNPLACED", W, X, "Record has a place in the canonical model",
     "carbonlink canonical model: v2 records not linked to a project or unit are not carried"),
)


def _catalogue(standard: str, prefix: str, ref: str, own: tuple[RuleSpec, ...]) -> RuleCatalogue:
    version = prefix[-2:].lower()
    cat = RuleCatalogue(standard)
    cat.declare_all((f"{prefix}.{suffix}", severity, layer, title, f"{ref}: {detail.format(version=version)}")
                    for suffix, severity, layer, title, detail in COMMON)
    cat.declare_all(own)
    return cat


RULES_V1 = _catalogue("cadt-v1", "CADT.V1", V1_REF, V1_ONLY)
RULES_V2 = _catalogue("cadt-v2", "CADT.V2", V2_REF, V2_ONLY)
CATALOGUES = {"v1": RULES_V1, "v2": RULES_V2}
