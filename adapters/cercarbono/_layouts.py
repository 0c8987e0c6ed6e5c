"""Cercarbono's export files (as published on its EcoRegistry platform), their roles and the rule catalogue."""

from __future__ import annotations

from adapters.registry_exports import declare_common_rules
from adapters.role_exports import RoleLayout
from standards import Layer, RuleCatalogue, Severity, UnitStatus

REGISTRY = "cercarbono"
PREFIX = "CERCARBONO"
REFERENCE = ("Cercarbono exports on the EcoRegistry platform (ecoregistry.io; columns as in "
             "github.com/carbonplan/offsets-db-data, tests/data/cercarbono)")
PROJECT_URL = "https://www.ecoregistry.io/projects/{id}"

PROJECTS = RoleLayout(
    "projects", "projects",
    ("id", "code", "is_public", "owner", "owner_id", "developer", "developer_id", "validator", "verifier",
     "credits_type", "name", "description", "standard", "sector", "evaluation_criteria", "quantification_method",
     "stage", "locations", "serials", "annualEstimated"),
    {"project_id": "id", "name": "name", "developer": "developer", "methodology": "quantification_method",
     "status": "stage", "description": "description"},
    ("id", "code", "name", "stage"), description="project list")

ISSUANCES = RoleLayout(
    "issuances", "units",
    ("verification", "serial", "issued_quantity", "issuance_date", "year", "is_buffer", "vintage_of_credits",
     "global_goals", "elegible"),
    {"serial": "serial", "quantity": "issued_quantity", "issued": "issuance_date", "vintage": "year"},
    ("serial", "issued_quantity", "issuance_date", "vintage_of_credits"), UnitStatus.ISSUED,
    "issuances (one row per issuance serial; is_buffer marks the buffer's share)")

RETIREMENTS = RoleLayout(
    "retirements", "units",
    ("project_name", "project_id", "serial", "vintage", "certificate_destination", "end_user", "passive_subject",
     "date", "quantity", "public_consult", "from", "to", "industry"),
    {"project_id": "project_id", "serial": "serial", "vintage": "vintage", "quantity": "quantity",
     "status_date": "date", "beneficiary": "end_user", "reason": "certificate_destination", "name": "project_name",
     "link": "public_consult", "first": "from", "last": "to"},
    ("project_id", "serial", "quantity", "date", "from", "to"), UnitStatus.RETIRED,
    "retirements (the unit range from/to inside an issuance serial)")

LAYOUTS = (PROJECTS, ISSUANCES, RETIREMENTS)


def _rules() -> RuleCatalogue:
    rules = RuleCatalogue("cercarbono")
    declare_common_rules(rules, PREFIX, REFERENCE)
    rules.add(f"{PREFIX}.LIST_INVALID", severity=Severity.WARNING, layer=Layer.FIELD,
              title="list cells (locations, sector) are the platform's list literals", reference=REFERENCE)
    rules.add(f"{PREFIX}.PROJECT_ID", severity=Severity.ERROR, layer=Layer.FIELD,
              title="the project id is the platform's numeric id (also token 1 of the issuance serial)",
              reference=REFERENCE)
    return rules


RULES = _rules()
