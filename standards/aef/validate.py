"""Layered validation of AEF V2 tables: structure, code lists, field rules, cross-record rules.

A row that fails a layer skips the later layers (its later findings would only repeat the
first problem); cross-record rules run on the rows that passed every row layer, and only
when the input holds a Table 1, i.e. is a whole submission.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from standards.aef import rules as R
from standards.aef.mapping import condition_applies
from standards.aef.structure import row_adapter
from standards.aef.tables import NA, ROW_TABLES, TABLE_IDS, TABLES, AefTables, FieldSpec, Row
from standards.aef.vocab import NOMENCLATURE, Nomenclature
from standards.findings import Finding, Rule
from standards.parties import is_alpha3

_PARTY_TYPES = ("party", "party_or_na")
_ONCE_ONLY = ("Authorization", "First transfer", "Use", "Cancellation", "Voluntary Cancellation")
_OIMP = ("OIMP", "IMP", "OP", "NDC and OIMP", "NDC and IMP", "NDC and OP")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class _Run:
    """State of one validation run: the input, typed rows and the findings so far."""

    def __init__(self, tables: AefTables, nomenclature: Nomenclature) -> None:
        self.tables = tables
        self.nomenclature = nomenclature
        self.findings: list[Finding] = []
        self.typed = AefTables(origins=tables.origins)
        self.passed: dict[str, list[int]] = {t: [] for t in TABLE_IDS}

    def emit(self, rule: Rule, table_id: str, index: int, cn: str | None, message: str,
             cause: object | None = None) -> None:
        self.findings.append(rule.finding(message, self.tables.location(table_id, index, cn), cause=cause))

    # -- layer 1: structure -------------------------------------------------------------------
    def structure(self, table_id: str) -> list[Row | None]:
        spec = TABLES[table_id]
        rows = self.tables.table(table_id)
        failed: set[int] = set()
        required = [f for f in spec.fields if f.required == "Y"]
        for i, row in enumerate(rows):
            for f in required:
                value = row.get(f.cn)
                if value is None or (value.__class__ is str and not value.strip()):
                    self.emit(R.REQUIRED, table_id, i, f.cn, f"'{f.label}' ({f.cn}) is required and is blank")
                    failed.add(i)
        adapter = row_adapter(table_id)
        try:
            typed: list[Row | None] = list(adapter.validate_python(rows))
        except ValidationError as exc:
            typed = [None] * len(rows)
            for err in exc.errors(include_url=False):
                self._structure_error(table_id, err)
                failed.add(int(err["loc"][0]))
            for i, row in enumerate(rows):
                if i not in failed:
                    typed[i] = adapter.validate_python([row])[0]
        for i in failed:
            typed[i] = None
        return typed

    def _structure_error(self, table_id: str, err: Any) -> None:
        spec = TABLES[table_id]
        loc = err["loc"]
        index, cn = int(loc[0]), str(loc[1]) if len(loc) > 1 else None
        field = spec.by_cn.get(cn) if cn else None
        value = err.get("input")
        if err["type"] == "extra_forbidden" or field is None:
            self.emit(R.UNKNOWN_FIELD, table_id, index, cn,
                      f"'{cn}' is not a field of {spec.id} {spec.key}")
            return
        rule = R.PATTERN_RULES.get(field.type, R.TYPE)
        if (err["type"] in ("string_pattern_mismatch", "greater_than_equal", "less_than_equal",
                           "literal_error") and rule is not R.TYPE) or rule is R.FMT_SERIAL:
            self.emit(rule, table_id, index, cn, f"'{field.label}' is {value!r}: {rule.title.lower()}")
        else:
            self.emit(R.TYPE, table_id, index, cn,
                      f"'{field.label}' is {value!r}, expected {_describe(field)}", cause=err["msg"])

    # -- layer 2: code lists ------------------------------------------------------------------
    def code_lists(self, table_id: str, index: int, row: Row) -> bool:
        ok = True
        plan = _PLANS[table_id]
        for f, values in plan.vocabulary:
            value = row.get(f.cn)
            if value is None or value in values or value == NA:
                continue
            ok &= self._check_vocabulary(table_id, index, row, f, str(value))
        for f in plan.parties:
            value = row.get(f.cn)
            if value is not None and value != NA and not is_alpha3(value):
                self.emit(R.CODE_PARTY, table_id, index, f.cn,
                          f"'{f.label}' is {value!r}, which is not an ISO 3166-1 alpha-3 Party code")
                ok = False
        if table_id == "T3" and ok:
            subtype, action = row.get("ActionSubtype"), row.get("ActionType")
            if subtype and subtype not in self.nomenclature.subtypes_everywhere:
                allowed = self.nomenclature.subtypes_by_type.get(str(action), frozenset())
                if subtype not in allowed:
                    self.emit(R.SUBTYPE, table_id, index, "ActionSubtype",
                              f"subtype {subtype!r} does not belong to action type {action!r}")
        return ok

    def _check_vocabulary(self, table_id: str, index: int, row: Row, f: FieldSpec, value: str) -> bool:
        code_list = self.nomenclature.lists[f.vocabulary or ""]
        multi = f.vocabulary in ("Sectors", "ActivityType")
        parts = [p.strip() for p in value.replace(";", ",").split(",")] if multi else [value]
        normalised = []
        ok = True
        for part in parts:
            if part in code_list.values:
                normalised.append(part)
            elif part in code_list.aliases:
                target = code_list.aliases[part]
                self.emit(R.CODE_SPELLING, table_id, index, f.cn,
                          f"'{f.label}' {part!r} was read as the nomenclature value {target!r}")
                normalised.append(target)
            else:
                reference = self.nomenclature.reference(f.vocabulary or "")
                self.emit(R.CODE_VALUE, table_id, index, f.cn,
                          f"'{f.label}' {part!r} is not in the list ({reference})")
                ok = False
        if ok and normalised != parts:
            row[f.cn] = ", ".join(normalised)
        return ok

    # -- layer 3: field rules -----------------------------------------------------------------
    def field_rules(self, table_id: str, i: int, row: Row) -> bool:
        before = len(self.findings)
        plan = _PLANS[table_id]
        get = row.get
        for f in plan.carp:
            value = get(f.cn)
            if value is not None and (value.__class__ is not str or value.strip()):
                self.emit(R.CARP_FIELD, table_id, i, f.cn,
                          f"'{f.label}' is populated by CARP and must be left blank")
        for cn in plan.text_names:
            value = get(cn)
            if value.__class__ is str and len(value) > 255:
                f = TABLES[table_id].by_cn[cn]
                self.emit(R.TOO_LONG, table_id, i, cn, f"'{f.label}' has {len(value)} characters")
        for f in plan.decimals:
            value = get(f.cn)
            if value.__class__ is Decimal:
                exponent = value.as_tuple().exponent
                if isinstance(exponent, int) and exponent < -2:
                    self.emit(R.DECIMALS, table_id, i, f.cn, f"'{f.label}' {value} has more than 2 decimals")
        if plan.conditional:
            key = (table_id, get("ActionType"), get("Metric"), get("PurposeForAuthorization"))
            layout = _LAYOUTS.get(key)
            if layout is None:
                layout = _LAYOUTS[key] = tuple((f, condition_applies(table_id, f.cn, row))
                                               for f in plan.conditional)
            for f, applies in layout:
                if not applies and get(f.cn) == NA:
                    continue
                self._conditional(table_id, i, row, f, applies)
        check = _TABLE_RULES.get(table_id)
        if check is not None:
            check(self, i, row)
        return len(self.findings) == before or not any(f.is_error for f in self.findings[before:])

    def _conditional(self, table_id: str, i: int, row: Row, f: FieldSpec, applies: bool) -> None:
        value = row.get(f.cn)
        if applies:
            rule = _REQUIRED_WHEN.get(f.cn)
            if rule is not None and (value is None or value == NA) and _needs(f.cn, row):
                self.emit(rule, table_id, i, f.cn, f"'{f.label}' is required here: {rule.title}")
        elif value is None:
            self.emit(R.NA_EXPECTED, table_id, i, f.cn, f"'{f.label}' does not apply here: write NA")
        elif value != NA:
            self.emit(R.NOT_APPLICABLE, table_id, i, f.cn,
                      f"'{f.label}' is {value!r} but does not apply to this record: write NA")

    # -- layer 4: cross-record rules ----------------------------------------------------------
    def cross_records(self) -> None:
        t2 = [(i, self.typed.rows["T2"][i]) for i in self.passed["T2"]]
        auths: dict[str, Row] = {}
        seen_versions: set[tuple[str, Any]] = set()
        for i, row in t2:
            key = (row["AuthorizationID"], row.get("AuthorizationVersion"))
            if key in seen_versions:
                self.emit(R.AUTH_DUPLICATE, "T2", i, "AuthorizationID",
                          f"authorization {key[0]!r} version {key[1]} is reported twice")
            seen_versions.add(key)
            auths[row["AuthorizationID"]] = row
        approaches = {row["CooperativeApproachID"] for _, row in t2}
        entities = {row["AuthorizedEntityID"] for row in self.typed.rows["T5"] if row is not None}
        for i, row in t2:
            for entity in _split(row.get("AuthorizedEntityIDs")):
                if entity not in entities:
                    self.emit(R.ENTITY_UNKNOWN, "T2", i, "AuthorizedEntityIDs",
                              f"authorized entity {entity!r} is not listed in Table 5")
        for i in self.passed["T5"]:
            ca = self.typed.rows["T5"][i]["CooperativeApproachID"]
            if ca not in approaches:
                self.emit(R.T5_CA_UNKNOWN, "T5", i, "CooperativeApproachID",
                          f"cooperative approach {ca} has no authorization in Table 2")
        for table_id in ("T3", "T4"):
            for i in self.passed[table_id]:
                row = self.typed.rows[table_id][i]
                auth = auths.get(row["AuthorizationID"])
                if auth is None or auth["CooperativeApproachID"] != row["CooperativeApproachID"]:
                    self.emit(R.AUTH_UNKNOWN, table_id, i, "AuthorizationID",
                              f"authorization {row['AuthorizationID']!r} for {row['CooperativeApproachID']} "
                              "is not in Table 2")
        self._authorized_quantities(auths)
        self._overlaps()
        self._reported_year()

    def _authorized_quantities(self, auths: dict[str, Row]) -> None:
        used: dict[str, Decimal] = defaultdict(Decimal)
        last_row: dict[str, int] = {}
        for i in self.passed["T3"]:
            row = self.typed.rows["T3"][i]
            if row["ActionType"] == "First transfer":
                used[row["AuthorizationID"]] += row["QuantityCO2"]
                last_row[row["AuthorizationID"]] = i
        for auth_id, total in used.items():
            cap = auths.get(auth_id, {}).get("AuthorizedQuantity")
            if cap is not None and total > cap:
                self.emit(R.AUTH_QUANTITY, "T3", last_row[auth_id], "QuantityCO2",
                          f"first transfers under {auth_id!r} total {total}, over the authorized {cap}")

    def _overlaps(self) -> None:
        groups: dict[tuple[Any, ...], list[tuple[int, int, str, int]]] = defaultdict(list)
        for table_id in ("T3", "T4"):
            for i in self.passed[table_id]:
                row = self.typed.rows[table_id][i]
                kind = row.get("ActionType", "holding")
                if table_id == "T3" and kind not in _ONCE_ONLY:
                    continue
                series = (table_id, kind, row["CooperativeApproachID"], row["PartyITMORegistryID"],
                          row["FirstTransferringPartyID"], row["Vintage"])
                groups[series].append((row["FirstID"], row["LastID"], table_id, i))
        for blocks in groups.values():
            blocks.sort()
            reach, reach_row = 0, -1
            for first, last, table_id, i in blocks:
                if first <= reach:
                    self.emit(R.OVERLAP, table_id, i, "FirstID",
                              f"block {first}-{last} overlaps another block in this submission "
                              f"(row {reach_row + 1} of the same table reaches {reach})")
                if last > reach:
                    reach, reach_row = last, i

    def _reported_year(self) -> None:
        submission = self.typed.submission
        if submission is None:
            return
        year = submission.get("ReportedYear")
        for i in self.passed["T3"]:
            when: datetime = self.typed.rows["T3"][i]["ActionDateTime"]
            if year is not None and when.year != year:
                self.emit(R.REPORTED_YEAR, "T3", i, "ActionDateTime",
                          f"action dated {when.date().isoformat()} is outside the reported year {year}")


@dataclass(frozen=True)
class _Plan:
    """The fields each field-layer check looks at, per table (computed once)."""

    carp: tuple[FieldSpec, ...]
    vocabulary: tuple[tuple[FieldSpec, frozenset[str]], ...]
    parties: tuple[FieldSpec, ...]
    text_names: tuple[str, ...]
    decimals: tuple[FieldSpec, ...]
    conditional: tuple[FieldSpec, ...]


_PLANS = {
    table_id: _Plan(
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
_LAYOUTS: dict[tuple[Any, ...], tuple[tuple[FieldSpec, bool], ...]] = {}


def _describe(field: FieldSpec) -> str:
    return {
        "year": "a year (YYYY)", "year_or_na": "a year or NA", "integer": "a whole number",
        "integer_or_na": "a whole number or NA", "decimal": "a number", "decimal_or_na": "a number or NA",
        "date": "a date (dd/mm/yyyy or yyyy-mm-dd)", "datetime": "a date and time (ISO 8601)",
        "serial": "a positive whole number",
    }.get(field.type, "text")


def _split(value: Any) -> list[str]:
    if value is None or value == NA:
        return []
    return [p.strip() for p in str(value).split(",") if p.strip()]


def _needs(cn: str, row: Row) -> bool:
    """Extra conditions beyond the applicability test (e.g. a Use for OIMP needs no NDC year)."""
    if cn == "YearITMOUsedTowardsNDC":
        return _blank(row.get("PurposeITMOUsedForOIMP")) or row.get("PurposeITMOUsedForOIMP") == NA
    return cn in _REQUIRED_WHEN


_REQUIRED_WHEN = {
    "TransferringPartyID": R.TRANSFERRING,
    "AcquiringPartyID": R.ACQUIRING,
    "YearITMOUsedTowardsNDC": R.NDC_YEAR,
    "Non-GHGMetric": R.NON_GHG_METRIC,
    "QuantityNon-GHG": R.NON_GHG_QUANTITY,
    "OIMPAuthorized": R.OIMP_AUTHORIZED,
    "FirstTransferDefnForOIMP": R.FIRST_TRANSFER_DEF,
}


def _t1_rules(run: _Run, i: int, row: Row) -> None:
    first, last = row.get("FirstYearOfNDCPeriod"), row.get("LastYearOfNDCPeriod")
    if first is not None and last is not None and first > last:
        run.emit(R.NDC_PERIOD, "T1", i, "FirstYearOfNDCPeriod",
                 f"the NDC period runs from {first} to {last}: the first year is after the last")


def _t2_rules(run: _Run, i: int, row: Row) -> None:
    for party in _split(row.get("AuthorizedPartyIDs")):
        if not is_alpha3(party):
            run.emit(R.PARTY_LIST, "T2", i, "AuthorizedPartyIDs",
                     f"{party!r} in 'Authorized Party(ies) ID' is not an ISO 3166-1 alpha-3 code")


def _block_rules(run: _Run, table_id: str, i: int, row: Row) -> None:
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


def _t3_rules(run: _Run, i: int, row: Row) -> None:
    _block_rules(run, "T3", i, row)
    when: datetime = row["ActionDateTime"]
    if row["Vintage"] > when.year:
        run.emit(R.VINTAGE, "T3", i, "Vintage",
                 f"vintage {row['Vintage']} is after the action date {when.date().isoformat()}")


_TABLE_RULES: dict[str, Callable[[_Run, int, Row], None]] = {
    "T1": _t1_rules,
    "T2": _t2_rules,
    "T3": _t3_rules,
    "T4": lambda run, i, row: _block_rules(run, "T4", i, row),
}


def validate_tables(tables: AefTables, *, nomenclature: Nomenclature = NOMENCLATURE
                    ) -> tuple[list[Finding], AefTables]:
    """Run every layer; return the findings and the typed rows (``None`` where a row failed)."""
    run = _Run(tables, nomenclature)
    for table_id in TABLE_IDS:
        typed = run.structure(table_id)
        for i, row in enumerate(typed):
            if row is None:
                continue
            if run.code_lists(table_id, i, row) and run.field_rules(table_id, i, row):
                run.passed[table_id].append(i)
        if table_id == "T1":
            run.typed.submission = typed[0] if typed else None
        else:
            run.typed.rows[table_id] = typed  # type: ignore[assignment]
    if tables.submission is None:
        if any(tables.rows[t] for t in ROW_TABLES):
            run.findings.append(R.T1_MISSING.finding(
                "the input holds no Table 1 (Submission): cross-table rules were not run",
                tables.location("T1", 0)))
    else:
        run.cross_records()
    return run.findings, run.typed
