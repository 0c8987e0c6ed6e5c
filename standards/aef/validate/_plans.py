"""What the row layers look at per table, the conditional-field rules, and the per-table row rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import compress, repeat
from operator import add, and_, attrgetter, eq, gt, is_not, lt, ne, or_, sub
from typing import Any

from standards.aef import rules as R
from standards.aef.tables import NA, TABLES, FieldSpec, Row
from standards.aef.validate._auth import split_list
from standards.aef.validate._columns import Columns
from standards.aef.validate._ledger import STAYING_SUBTYPES
from standards.aef.validate._state import CLOCK_SKEW, RunState
from standards.aef.vocab import NOMENCLATURE
from standards.parties import is_alpha3

_PARTY_TYPES = ("party", "party_or_na")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass(frozen=True)
class Plan:
    """The fields each field-layer check looks at, per table (computed once)."""

    carp: tuple[FieldSpec, ...]
    vocabulary: tuple[tuple[FieldSpec, frozenset[str]], ...]
    parties: tuple[FieldSpec, ...]
    text_names: tuple[str, ...]
    decimals: tuple[FieldSpec, ...]
    conditional: tuple[FieldSpec, ...]


PLANS = {
    table_id: Plan(
        carp=tuple(f for f in spec.fields if f.required == "CARP"),
        vocabulary=tuple((f, NOMENCLATURE.lists[f.vocabulary].values) for f in spec.fields if f.vocabulary),
        parties=tuple(f for f in spec.fields if f.type in _PARTY_TYPES),
        text_names=tuple(f.cn for f in spec.fields
                         if f.required != "CARP" and f.type.startswith(("text", "party_list"))),
        decimals=tuple(f for f in spec.fields if f.type.startswith("decimal")),
        conditional=tuple(f for f in spec.fields if f.required == "COND"),
    )
    for table_id, spec in TABLES.items()
}


#: Which conditional fields apply, by (table, action type, metric, purpose): computed once per combination.
LAYOUTS: dict[tuple[Any, ...], tuple[tuple[FieldSpec, bool], ...]] = {}


def describe_type(field: FieldSpec) -> str:
    return {
        "year": "a year (YYYY)", "year_or_na": "a year or NA", "integer": "a whole number",
        "integer_or_na": "a whole number or NA", "decimal": "a number", "decimal_or_na": "a number or NA",
        "date": "a date (dd/mm/yyyy or yyyy-mm-dd)", "datetime": "a date and time (ISO 8601)",
        "serial": "a positive whole number",
    }.get(field.type, "text")


def needs_value(cn: str, row: Row) -> bool:
    """Extra conditions beyond the applicability test (e.g. a Use for OIMP needs no NDC year)."""
    if cn == "YearITMOUsedTowardsNDC":
        return _blank(row.get("PurposeITMOUsedForOIMP")) or row.get("PurposeITMOUsedForOIMP") == NA
    return cn in REQUIRED_WHEN


REQUIRED_WHEN = {
    "TransferringPartyID": R.TRANSFERRING,
    "AcquiringPartyID": R.ACQUIRING,
    "YearITMOUsedTowardsNDC": R.NDC_YEAR,
    "Non-GHGMetric": R.NON_GHG_METRIC,
    "QuantityNon-GHG": R.NON_GHG_QUANTITY,
    "OIMPAuthorized": R.OIMP_AUTHORIZED,
    "FirstTransferDefnForOIMP": R.FIRST_TRANSFER_DEF,
}


def _t1_rules(run: RunState, i: int, row: Row) -> None:
    year, submitted = row.get("ReportedYear"), row.get("DateOfSubmission")
    if isinstance(year, int) and submitted is not None and submitted.year <= year:
        run.emit(R.SUBMISSION_DATE, "T1", i, "DateOfSubmission",
                 f"submitted on {submitted.isoformat()}, before the reported year {year} had ended")
    first, last = row.get("FirstYearOfNDCPeriod"), row.get("LastYearOfNDCPeriod")
    if first is not None and last is not None and first > last:
        run.emit(R.NDC_PERIOD, "T1", i, "FirstYearOfNDCPeriod",
                 f"the NDC period runs from {first} to {last}: the first year is after the last")


def _t2_rules(run: RunState, i: int, row: Row) -> None:
    for party in split_list(row.get("AuthorizedPartyIDs")):
        if not is_alpha3(party):
            run.emit(R.PARTY_LIST, "T2", i, "AuthorizedPartyIDs",
                     f"{party!r} in 'Authorized Party(ies) ID' is not an ISO 3166-1 alpha-3 code")


def _block_rules(run: RunState, table_id: str, i: int, row: Row) -> None:
    if row["Vintage"] < 2021:
        run.emit(R.VINTAGE_2021, table_id, i, "Vintage", f"vintage {row['Vintage']} is before 2021")
    first, last = row["FirstID"], row["LastID"]
    if first > last:
        run.emit(R.BLOCK_RANGE, table_id, i, "FirstID", f"First ID {first} is greater than Last ID {last}")
    elif row["Metric"] == "GHG" and row["QuantityCO2"] != last - first + 1:
        run.emit(R.BLOCK_QUANTITY, table_id, i, "QuantityCO2",
                 f"quantity {row['QuantityCO2']} t CO2 eq but the block {first}-{last} holds "
                 f"{last - first + 1} ITMOs")
    u_first, u_last = row.get("UnderlyingUnitFirstUnitID"), row.get("UnderlyingUnitLastUnitID")
    if isinstance(u_first, int) and isinstance(u_last, int) and u_first > u_last:
        run.emit(R.UNIT_RANGE, table_id, i, "UnderlyingUnitFirstUnitID",
                 f"First unit ID {u_first} is greater than Last unit ID {u_last}")


def first_transfer_to_self(row: Row) -> bool:
    """A first transfer to another Party whose acquirer is its own first transferring Party
    (``AEF.PARTY.FIRST_TRANSFER_TO_SELF``; subtypes that stay with the Party are not transfers)."""
    return (row.get("ActionType") == "First transfer" and row.get("ActionSubtype") not in STAYING_SUBTYPES
            and isinstance(row.get("AcquiringPartyID"), str) and row["AcquiringPartyID"] != NA
            and row["AcquiringPartyID"] == row.get("FirstTransferringPartyID"))


def same_party(row: Row) -> bool:
    """A transfer or acquisition that names one Party as transferring and acquiring Party
    (``AEF.T3.SAME_PARTY``)."""
    transferring = row.get("TransferringPartyID")
    return (row.get("ActionType") in ("Transfer", "Acquisition") and isinstance(transferring, str)
            and transferring != NA and transferring == row.get("AcquiringPartyID"))


def _t3_rules(run: RunState, i: int, row: Row) -> None:
    _block_rules(run, "T3", i, row)
    when: datetime = row["ActionDateTime"]
    if row["Vintage"] > when.year:
        run.emit(R.VINTAGE, "T3", i, "Vintage",
                 f"vintage {row['Vintage']} is after the action date {when.date().isoformat()}")
    if (when if when.tzinfo is not None else when.replace(tzinfo=UTC)) > run.horizon:  # naive reads as UTC
        run.emit(R.ACTION_IN_FUTURE, "T3", i, "ActionDateTime",
                 f"the action is dated {when.isoformat()}, after the moment of validation")
    if first_transfer_to_self(row):
        run.emit(R.FIRST_TRANSFER_TO_SELF, "T3", i, "AcquiringPartyID",
                 f"a first transfer by {row['FirstTransferringPartyID']} to itself")
    elif same_party(row):
        run.emit(R.SAME_PARTY, "T3", i, "AcquiringPartyID",
                 f"a {row['ActionType'].lower()} from {row['TransferringPartyID']} to {row['AcquiringPartyID']}: "
                 "the same Party on both sides")


def _block_rule_rows(table_id: str, columns: Columns) -> set[int] | None:
    """The rows :func:`_block_rules` (and for T3 the vintage-after-action rule) could flag, found
    column by column; ``None`` (look at every row) where a column holds a value of another type. Rows
    that failed an earlier layer (empty) get no table rules: the columns of the others are looked at."""
    rows = columns.rows
    if not all(rows):
        kept = [i for i, row in enumerate(rows) if row]
        found = _block_rule_rows(table_id, Columns([rows[i] for i in kept]))
        return None if found is None else {kept[j] for j in found}
    vintages, firsts, lasts = columns["Vintage"], columns["FirstID"], columns["LastID"]
    try:
        flags = list(map(or_, map(lt, vintages, repeat(2021)), map(gt, firsts, lasts)))
        sizes = map(add, map(sub, lasts, firsts), repeat(1))
        ghg = map(eq, columns["Metric"], repeat("GHG"))
        flags = list(map(or_, flags, map(and_, ghg, map(ne, columns["QuantityCO2"], sizes))))
        if table_id == "T3":
            moments = columns["ActionDateTime"]
            flags = list(map(or_, flags, map(gt, vintages, map(attrgetter("year"), moments))))
            horizon = datetime.now(UTC) + CLOCK_SKEW
            zones = set(map(attrgetter("tzinfo"), moments))
            zone = zones.pop() if len(zones) == 1 else None
            if zone is not None and zone.utcoffset(None) is not None:  # one fixed offset: local times compare
                horizon = horizon.astimezone(zone)
            flags = list(map(or_, flags, map(gt, moments, repeat(horizon))))
            # the same Party on both sides: only where the acquiring Party is a value (not NA, not blank)
            acquiring = columns["AcquiringPartyID"]
            same = map(or_, map(eq, columns["TransferringPartyID"], acquiring),
                       map(eq, columns["FirstTransferringPartyID"], acquiring))
            named = map(and_, map(ne, acquiring, repeat(NA)), map(is_not, acquiring, repeat(None)))
            flags = list(map(or_, flags, map(and_, same, named)))
    except (TypeError, AttributeError):  # a failed row (no values) among them
        return None
    suspects = set(compress(range(len(flags)), flags))
    u_firsts, u_lasts = columns["UnderlyingUnitFirstUnitID"], columns["UnderlyingUnitLastUnitID"]
    if set(map(type, u_firsts)) == {int} == set(map(type, u_lasts)):  # whole numbers throughout
        suspects.update(compress(range(len(flags)), map(gt, u_firsts, u_lasts)))
    else:
        units = zip(u_firsts, u_lasts, strict=True)
        suspects.update(i for i, (a, b) in enumerate(units) if a.__class__ is int and b.__class__ is int and a > b)
    return suspects


#: Per table, the rows whose :data:`TABLE_RULES` must run, found column by column (tables without
#: one run their rules on every row).
TABLE_RULE_ROWS: dict[str, Callable[[str, Columns], set[int] | None]] = {
    "T3": _block_rule_rows,
    "T4": _block_rule_rows,
}

TABLE_RULES: dict[str, Callable[[RunState, int, Row], None]] = {
    "T1": _t1_rules,
    "T2": _t2_rules,
    "T3": _t3_rules,
    "T4": lambda run, i, row: _block_rules(run, "T4", i, row),
}
