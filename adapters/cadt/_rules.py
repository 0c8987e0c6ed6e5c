"""The CADT node adapter's constants and rule catalogue."""

from __future__ import annotations

from standards import (
    Layer,
    RuleCatalogue,
    Severity,
)

VERSION_ENV = "CARBONLINK_CADT_VERSION"


REF = "CADT node API and XLSX export (github.com/Chia-Network/cadt, /v1 and /v2 API)"


RULES = RuleCatalogue("cadt")


SHAPE = RULES.add("CADT.NODE.SHAPE", severity=Severity.ERROR, layer=Layer.STRUCTURE,
                  title="Input is a CADT API answer or export",
                  reference=f"{REF}: paged answers {{page, pageCount, data}}, lists, XLSX sheets")


PARTIAL = RULES.add("CADT.NODE.PARTIAL", severity=Severity.WARNING, layer=Layer.STRUCTURE,
                    title="A paged answer holds every page",
                    reference=f"{REF}: page and pageCount of GET /v1/projects, /v2/<resource>")


BACKREF = RULES.add("CADT.XLSX.BACKREF", severity=Severity.ERROR, layer=Layer.CROSS_RECORD,
                    title="A child sheet row points at a parent row",
                    reference=f"{REF}: XLSX child sheets carry the parent's warehouseProjectId in projectId")


SHEET = RULES.add("CADT.XLSX.SHEET", severity=Severity.WARNING, layer=Layer.STRUCTURE,
                  title="Every sheet is a known table",
                  reference=f"{REF}: one sheet per table")


REPEATED = RULES.add("CADT.XLSX.REPEATED_COLUMN", severity=Severity.ERROR, layer=Layer.STRUCTURE,
                     title="A column a sheet repeats holds the same value in every copy",
                     reference=f"{REF}: the v1 units export writes issuanceId twice (equal copies)")


BACK_REFERENCES = ("projectId", "unitId")


V1_PROJECT_CHILDREN = ("projectLocations", "labels", "issuances", "coBenefits", "relatedProjects",
                       "projectRatings", "estimations")
