"""The draft AEF's columns (A-Z) and heading labels, and the header error."""

from __future__ import annotations

from standards.aef.cells import draft_header_key
from standards.errors import MalformedInput
from standards.findings import Layer, RuleCatalogue, Severity

REFERENCE = "decision 6/CMA.4, annex VII (draft AEF)"

#: Draft column keys in template order (A ... Z) with their header text.
DRAFT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("record_id", "Article 6 database record ID"),
    ("cooperative_approach", "Cooperative approach"),
    ("first_uid", "First unique identifier"),
    ("last_uid", "Last unique identifier"),
    ("unit_first", "Underlying unit block start ID"),
    ("unit_last", "Underlying unit block last ID"),
    ("metric", "Metric"),
    ("quantity_metric", "Quantity (expressed in metric)"),
    ("quantity_co2", "Quantity (t CO2 eq)"),
    ("conversion_factor", "Conversion factor (reporting Party)"),
    ("first_transferring_party", "First transferring participating Party"),
    ("vintage", "Vintage"),
    ("sectors", "Sector(s)"),
    ("activity_types", "Activity type(s)"),
    ("authorization_date", "Date of authorization"),
    ("authorization_id", "Authorization ID"),
    ("purposes", "Purposes for authorization"),
    ("oimp_authorized", "OIMP authorized by the Party"),
    ("first_transfer_definition", "First transfer definition"),
    ("action_date", "Action date"),
    ("action_type", "Action type"),
    ("transferring_party", "Transferring participating Party"),
    ("acquiring_party", "Acquiring participating Party"),
    ("cancellation_purpose", "Purposes for cancellation"),
    ("using", "Using participating Party or authorized entity or entities"),
    ("first_transfer", "First transfer"),
)
HOLDINGS_COLUMNS = tuple(key for key, _ in DRAFT_COLUMNS[:19])
ACTIONS_COLUMNS = tuple(key for key, _ in DRAFT_COLUMNS)
BY_HEADER = {draft_header_key(text): key for key, text in DRAFT_COLUMNS}
LABEL = dict(DRAFT_COLUMNS)
HEADING = {"party": "ParticipatingParty", "reported year": "ReportedYear"}
HEADER_SEARCH_ROWS = 30


class DraftHeaderError(MalformedInput):
    code = "AEF.DRAFT_HEADER"


#: Findings of reading the draft AEF itself (not AEF V2 rules).
DRAFT_CATALOGUE = RuleCatalogue("aef-draft")
COLUMN_LOST = DRAFT_CATALOGUE.declare(
    "AEF.DRAFT.COLUMN_LOST", Severity.WARNING, Layer.STRUCTURE,
    "A draft AEF value that no AEF V2 field holds is not carried (a holding's record ID or conversion factor)",
    f"{REFERENCE}; decision 4/CMA.6 annex II (Table 4 has no notes field)")
