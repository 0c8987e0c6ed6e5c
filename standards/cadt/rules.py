"""The coded rules of CAD Trust v1 and v2 documents, one :class:`RuleCatalogue` per version."""

from __future__ import annotations

from standards.findings import Layer, RuleCatalogue, Severity

V1_REF = "CADT v1.7.24 (develop@171e6d63)"
V2_REF = "CAD Trust Data Dictionary v2.0.2"

E, W = Severity.ERROR, Severity.WARNING
S, C, F, X = Layer.STRUCTURE, Layer.CODE_LIST, Layer.FIELD, Layer.CROSS_RECORD


def _common(cat: RuleCatalogue, prefix: str, ref: str) -> None:
    cat.add(f"{prefix}.DOCUMENT", severity=E, layer=S, title="Document is an object of resource lists",
            reference=f"{ref}: API resources (carbonlink document shape, docs/cadtrust.md)")
    cat.add(f"{prefix}.REQUIRED", severity=E, layer=S, title="Required field present",
            reference=f"{ref}: request schema, required fields")
    cat.add(f"{prefix}.TYPE", severity=E, layer=S, title="Field has the type the schema gives",
            reference=f"{ref}: field types (schema/cadt-{prefix[-2:].lower()}.schema.json)")
    cat.add(f"{prefix}.UNKNOWN_KEY", severity=E, layer=S, title="No field the entity does not define",
            reference=f"{ref}: request validation rejects unknown keys")
    cat.add(f"{prefix}.PICKLIST", severity=E, layer=C, title="Enforced picklist value",
            reference=f"{ref}: governance pickList (enforced fields)")
    cat.add(f"{prefix}.DATE", severity=E, layer=F, title="Date is an ISO 8601 date",
            reference=f"{ref}: date fields (ISO 8601)")
    cat.add(f"{prefix}.DATE_ORDER", severity=E, layer=F, title="Period ends on or after its start",
            reference=f"{ref}: end date >= start date")
    cat.add(f"{prefix}.UNIT.SERIAL_RANGE", severity=E, layer=F,
            title="Unit count matches a numeric serial block",
            reference=f"{ref}: unit block start/end and unitCount (CADT does not cross-check them)")
    cat.add(f"{prefix}.MARKETPLACE_ID", severity=E, layer=F, title="marketplaceIdentifier is not empty",
            reference=f"{ref}: unit.marketplaceIdentifier must not be ''")
    cat.add(f"{prefix}.SERVER_KEY", severity=E, layer=F, title="No server-owned key in a request body",
            reference=f"{ref}: keys set by CADT (ids, orgUid, timestamps) are refused in POST bodies")
    cat.add(f"{prefix}.DUPLICATE_ID", severity=E, layer=X, title="Record ids are unique",
            reference=f"{ref}: primary keys")


def _v1() -> RuleCatalogue:
    cat = RuleCatalogue("cadt-v1")
    _common(cat, "CADT.V1", V1_REF)
    cat.add("CADT.V1.VINTAGE", severity=E, layer=F, title="vintageYear within 1900-3000",
            reference=f"{V1_REF}: unit.vintageYear 1900..3000")
    cat.add("CADT.V1.STRING_LENGTH", severity=W, layer=F, title="String fits VARCHAR(255)",
            reference=f"{V1_REF}: Sequelize STRING is VARCHAR(255) in the MySQL mirror")
    cat.add("CADT.V1.REF.ISSUANCE", severity=E, layer=X, title="A unit's issuance belongs to a known project",
            reference=f"{V1_REF}: unit -> issuance (issuanceId) -> project (warehouseProjectId)")
    return cat


def _v2() -> RuleCatalogue:
    cat = RuleCatalogue("cadt-v2")
    _common(cat, "CADT.V2", V2_REF)
    cat.add("CADT.LEGACY_KEY", severity=W, layer=S, title="Legacy key spelling normalised",
            reference=f"{V2_REF}: AEF key names (legacy '...Coopoerative...', '...Authozied...')")
    cat.add("CADT.LEGACY_VALUE", severity=W, layer=C, title="Picklist spelling normalised",
            reference=f"{V2_REF}: picklists vs UNFCCC Common Nomenclature (e.g. metric 'GHC')")
    cat.add("CADT.V2.PARTY_CODE", severity=W, layer=F, title="Party given as alpha-2 or name, read as alpha-3",
            reference="AEF V2 Party fields use ISO 3166-1 alpha-3 (CN); CAD Trust examples use alpha-2")
    cat.add("CADT.V2.YEAR", severity=E, layer=F, title="Year within 1900-2100",
            reference=f"{V2_REF}: years 1900..2100")
    cat.add("CADT.V2.STRING_LENGTH", severity=E, layer=F, title="String within the dictionary's maximum",
            reference=f"{V2_REF}: string maximum lengths (255 unless stated)")
    cat.add("CADT.V2.QUANTITY_DP", severity=E, layer=F, title="Quantity within its decimal places",
            reference=f"{V2_REF}: quantities at most 2 dp (estimationUnitCount 6 dp)")
    cat.add("CADT.V2.REF", severity=E, layer=X, title="Reference to a record of this document resolves",
            reference=f"{V2_REF}: foreign keys (cadTrust*Id)")
    cat.add("CADT.V2.AEF.NEEDS_T2", severity=E, layer=X, title="T3 actions and T4 holdings have their T2",
            reference=f"{V2_REF}: aef_t3_actions / aef_t4_holdings require cadTrustAefT2AuthorizationsId")
    cat.add("CADT.V2.UNPLACED", severity=W, layer=X, title="Record has a place in the canonical model",
            reference="carbonlink canonical model: v2 records not linked to a project or unit are not carried")
    return cat


RULES_V1 = _v1()
RULES_V2 = _v2()
CATALOGUES = {"v1": RULES_V1, "v2": RULES_V2}
