"""Rules of the ``undp-ncr-mrv`` adapter and the UNDP sectoral scopes it maps to Common Nomenclature sectors."""

from __future__ import annotations

from collections.abc import Sequence

from standards.findings import Finding, Layer, Location, RuleCatalogue, RuleSpec, Severity, json_pointer

FORMAT = "undp-ncr-mrv"
_SRC = ("UNDP National Carbon Registry v2, monitoring report form (github.com/undp/undp-national-carbon-registry: "
        "web/src/Components/MonitoringReport, backend document-management.service.ts)")
E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO  # noqa: E741
S, F = Layer.STRUCTURE, Layer.FIELD

_SPECS: Sequence[RuleSpec] = (
    ("UNDP-MRV.SHAPE", E, S, "The input is a UNDP NCR monitoring report document (documentType MONITORING)", _SRC),
    ("UNDP-MRV.NOT_READ", W, S, "Documents other than monitoring reports are not read", _SRC),
    ("UNDP-MRV.SECTOR", E, F, "The sectoral scope maps to a Common Nomenclature sector", _SRC),
    ("UNDP-MRV.PERIOD", E, F, "The monitoring period is stated (bi_duration) or follows from the vintages", _SRC),
    ("UNDP-MRV.PERIOD_FROM_VINTAGES", W, F, "The monitoring period was taken from the vintages", _SRC),
    ("UNDP-MRV.DATE", E, F, "The report's completion date (bi_completionDate, Unix seconds) is a date", _SRC),
    ("UNDP-MRV.METHODOLOGY", E, F, "The applied methodology (bi_appliedMethodologies) is stated", _SRC),
    ("UNDP-MRV.METHODOLOGY_VERSION", W, F, "The applied methodology names its version", _SRC),
    ("UNDP-MRV.PARAMETER", E, F, "A data/parameter has a name, a numeric value and a unit", _SRC),
    ("UNDP-MRV.TOTALS", E, F, "The total net emission reductions equal the sum of the yearly ones", _SRC),
    ("UNDP-MRV.EVIDENCE_UNHASHED", I, F, "Uploaded documents are links without digests (upload them as evidence)",
     _SRC),
)

RULES = RuleCatalogue(FORMAT)
RULES.declare_all(_SPECS)

#: UNDP NCR sectoral scopes (INF_SECTORAL_SCOPE keys) -> Common Nomenclature sectors. Scopes with no clear
#: counterpart (ENERGY_DEMAND, WASTE_FROM_FUELS) are left out: the profile's ``sector`` names them.
SECTORS = {
    "ENERGY_INDUSTRIES": "Energy generation",
    "ENERGY_DISTRIBUTION": "Energy generation",
    "AGRICULTURE": "Agriculture",
    "AFFORESTATION_AND_REFORESTATION": "Forestry and land use",
    "MANUFACTURING_INDUSTRIES": "Industrial processes",
    "CHEMICAL_INDUSTRIES": "Industrial processes",
    "METAL_PRODUCTION": "Industrial processes",
    "MINING_MINERAL_PRODUCTION": "Industrial processes",
    "FUGITIVE_EMISSIONS_PRODUCTION": "Industrial processes",
    "SOLVENT_USE": "Industrial processes",
    "TRANSPORT": "Transportation",
    "WASTE_HANDLING_AND_DISPOSAL": "Waste management",
    "CONSTRUCTION": "Building and construction",
}


def finding(rule_id: str, path: Sequence[str | int], message: str, *, cause: object | None = None) -> Finding:
    return RULES[rule_id].finding(message, Location(pointer=json_pointer(path)), cause=cause)
