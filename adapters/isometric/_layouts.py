"""Isometric's registry exports (flattened API objects, dotted column names), their roles and rules."""

from __future__ import annotations

from adapters.registry_exports import declare_common_rules
from adapters.role_exports import RoleLayout
from standards import Layer, RuleCatalogue, Severity, UnitStatus

REGISTRY = "isometric"
PREFIX = "ISOMETRIC"
REFERENCE = ("Isometric registry exports (registry.isometric.com; flattened API objects, columns as in "
             "github.com/carbonplan/offsets-db-data, tests/data/isometric)")
ISSUANCE_URL = "https://registry.isometric.com/issuance/{id}"

_SUPPLIER = ("supplier.id", "supplier.short_description", "supplier.long_description", "supplier.organisation.id",
             "supplier.organisation.name", "supplier.organisation.domain", "supplier.location")
_SUPPLIER_LOCATION = ("supplier.location.country_code", "supplier.location.country_name",
                      "supplier.location.latitude", "supplier.location.longitude", "supplier.location.description")

PROJECTS = RoleLayout(
    "projects", "projects",
    ("id", "name", "status", "short_code", "url", "process_key", "pathway", "protocol_slug", "country_code",
     "validator_name", "current_verifier_name", "crediting_period_start", "crediting_period_end", *_SUPPLIER,
     "issued_credits_total.credits", "issued_credits_total.credit_kgs", "retired_credits_total.credits",
     "retired_credits_total.credit_kgs", "issued_buffer_pool_credits_total.credits",
     "issued_buffer_pool_credits_total.credit_kgs", "retired_buffer_pool_credits_total.credits",
     "retired_buffer_pool_credits_total.credit_kgs", "location.country_code", "location.country_name",
     "location.latitude", "location.longitude", "location.description", "location", *_SUPPLIER_LOCATION),
    {"project_id": "id", "name": "name", "status": "status", "link": "url",
     "developer": "supplier.organisation.name", "methodology": "protocol_slug", "project_type": "pathway",
     "country": "country_code"},
    ("id", "name", "status", "short_code", "protocol_slug"), description="project list")

ISSUANCES = RoleLayout(
    "issuances", "units",
    ("id", "issued_at", "project_id", *_SUPPLIER, "supplier_credit_batch_size_total.credits",
     "supplier_credit_batch_size_total.credit_kgs", "buffer_pool_credit_batch_size_total.credits",
     "buffer_pool_credit_batch_size_total.credit_kgs", "credit_batch_size_total.credits",
     "credit_batch_size_total.credit_kgs", *_SUPPLIER_LOCATION),
    {"project_id": "project_id", "quantity": "credit_batch_size_total.credits", "issued": "issued_at",
     "kgs": "credit_batch_size_total.credit_kgs"},
    ("id", "issued_at", "project_id", "credit_batch_size_total.credits"), UnitStatus.ISSUED,
    "issuances (credits in tonnes, fractional; the buffer pool's share included)")

CREDIT_BATCHES = RoleLayout(
    "credit-batches", "units",
    ("id", "serial_number", "status", "issued_at", "retired_at", "delivered_at", "sequestered_on",
     "country_of_issue", "supplier_id", "parent_id", "left_child_id", "right_child_id", "issuance_id", "delivery_id",
     "retirement_id", "removal_id", "project_id", "ccp_approved", "size.credits", "size.credit_kgs",
     "beneficiary.id", "beneficiary.name", "beneficiary.domain", "owner.id", "owner.name", "owner.domain",
     "carbon_removal_data.gross_carbon_removed_kg", "carbon_removal_data.net_carbon_removed_kg",
     "carbon_removal_data.emissions_kg", "carbon_removal_data.counterfactuals_kg",
     "carbon_removal_data.losses_kg"),
    {"project_id": "project_id", "serial": "serial_number", "quantity": "size.credits", "kgs": "size.credit_kgs",
     "issued": "issued_at", "status_date": "retired_at", "beneficiary": "beneficiary.name", "owner": "owner.name",
     "country": "country_of_issue", "state": "status"},
    ("id", "serial_number", "status", "project_id", "size.credits"), None,
    "credit batches (one serial-numbered batch per row, its status as of the export)")

RETIREMENTS = RoleLayout(
    "retirements", "units",
    ("retirement_id", "retired_at", "purposes", "url", "notes", "beneficiary.id", "beneficiary.name",
     "beneficiary.domain", "owner.id", "owner.name", "owner.domain", "credit_batch_size_total.credits",
     "credit_batch_size_total.credit_kgs", "project_id", "sequestered_on"),
    {"project_id": "project_id", "quantity": "credit_batch_size_total.credits",
     "kgs": "credit_batch_size_total.credit_kgs", "status_date": "retired_at", "beneficiary": "beneficiary.name",
     "account": "owner.name", "reason": "purposes", "link": "url"},
    ("retirement_id", "retired_at", "project_id", "credit_batch_size_total.credits"), UnitStatus.RETIRED,
    "retirements (one row per retirement, no serials)")

LAYOUTS = (PROJECTS, ISSUANCES, CREDIT_BATCHES, RETIREMENTS)

#: Credit batch ``status`` values -> canonical statuses.
BATCH_STATUS = {"issued": UnitStatus.ISSUED, "delivered": UnitStatus.HELD, "retired": UnitStatus.RETIRED,
                "cancelled": UnitStatus.CANCELLED, "canceled": UnitStatus.CANCELLED, "buffer": UnitStatus.BUFFER}


def _rules() -> RuleCatalogue:
    rules = RuleCatalogue("isometric")
    declare_common_rules(rules, PREFIX, REFERENCE)
    rules.add(f"{PREFIX}.ID_PREFIX", severity=Severity.ERROR, layer=Layer.FIELD,
              title="ids carry Isometric's typed prefixes (prj_, iss_, ctb_, ret_)", reference=REFERENCE)
    rules.add(f"{PREFIX}.STATUS_UNKNOWN", severity=Severity.ERROR, layer=Layer.CODE_LIST,
              title="a credit batch status is one carbonlink knows (issued, delivered, retired, cancelled)",
              reference=REFERENCE)
    rules.add(f"{PREFIX}.KG_MISMATCH", severity=Severity.ERROR, layer=Layer.CROSS_RECORD,
              title="credits (tonnes) and credit_kgs state the same amount", reference=REFERENCE)
    return rules


RULES = _rules()
