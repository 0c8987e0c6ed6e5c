"""Layers 1 to 3, per row: structure (types and patterns), code lists, field rules."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from decimal import Decimal
from itertools import chain, compress, repeat
from operator import add, itemgetter, length_hint, mul, ne
from typing import Any

from pydantic import ValidationError

from standards.aef import rules as R
from standards.aef.mapping import condition_applies
from standards.aef.structure import PLAIN_TEXT_TYPES, row_adapter, screen_adapter
from standards.aef.tables import NA, TABLES, FieldSpec, Row
from standards.aef.validate._columns import Columns
from standards.aef.validate._cross import CrossRecordRules
from standards.aef.validate._plans import LAYOUTS, PLANS, REQUIRED_WHEN, TABLE_RULES, describe_type, needs_value
from standards.parties import is_alpha3


class Run(CrossRecordRules):
    """One validation run: every layer, over the tables of one input."""

    # -- layer 1: structure -------------------------------------------------------------------
    def structure(self, table_id: str) -> list[Row | None]:
        spec = TABLES[table_id]
        rows = self.tables.table(table_id)
        failed: set[int] = set()
        reported: set[tuple[int, str | None]] = set()
        required, names, plain_text = _required_fields(table_id)
        typed, left = self._screened(table_id, rows)
        # the rows with a required value blank or NA are among those the screen left (it refuses them)
        blank = _blank_or_na_rows([rows[i] for i in left], names)
        for i in range(len(rows)) if isinstance(blank, range) else [left[j] for j in blank]:
            self._required(table_id, i, rows[i], required, failed, reported)  # spaces alone: once stripped, below
        for i, checked in zip(left, self._typed_rows(table_id, rows, left, failed, reported), strict=True):
            typed[i] = checked
        for i in failed:  # a row that failed its types: its required cells of spaces alone, then drop it
            self._required(table_id, i, rows[i], required, failed, reported)
            typed[i] = None
        required_names = frozenset(names)
        typed_rows = list(filter(None, typed))  # "" can only be typed in a plain text column: those, one by one
        blank_text = any("" in map(dict.get, typed_rows, repeat(cn)) for cn in plain_text)
        for i, checked in enumerate(typed if blank_text else ()):  # blanks are alike: null, "" and absent
            if checked is not None and "" in checked.values():
                for cn in [cn for cn, value in checked.items() if value == ""]:
                    del checked[cn]
                    if cn in required_names:
                        f = spec.by_cn[cn]
                        self.emit(R.REQUIRED, table_id, i, cn, f"'{f.label}' ({cn}) is required and is blank")
                        typed[i] = None
        return typed

    def _required(self, table_id: str, i: int, row: Row, required: Sequence[tuple[FieldSpec, bool]],
                  failed: set[int], reported: set[tuple[int, str | None]]) -> None:
        """REQUIRED for each blank required cell of one row (and NA where the field is not conditional)."""
        for f, no_na in required:
            value = row.get(f.cn)
            if (i, f.cn) in reported:
                continue
            if value is None or (value.__class__ is str and (not value.strip() or (no_na and value == NA))):
                why = "is NA, which only conditional fields take" if value == NA else "is blank"
                self.emit(R.REQUIRED, table_id, i, f.cn, f"'{f.label}' ({f.cn}) is required and {why}")
                failed.add(i)
                reported.add((i, f.cn))

    def _screened(self, table_id: str, rows: list[Row]) -> tuple[list[Row | None], list[int]]:
        """The rows typed in one call that keeps a failing row's place (:func:`screen_adapter`), and the
        rows left to the row types (:meth:`_typed_rows`, which word the findings): those the screen
        refused (a type error, a required value not filled) or that held a key that is not a field
        (their typed row is shorter)."""
        typed: list[Row | None] = screen_adapter(table_id, not self.lenient).validate_python(rows)
        # a row left to the row types: typed as None (length -1 here) or shorter than the row
        left = list(compress(range(len(rows)), map(ne, map(length_hint, typed, repeat(-1)), map(len, rows))))
        return typed, left

    def _typed_rows(self, table_id: str, rows: list[Row], indexes: list[int], failed: set[int],
                    reported: set[tuple[int, str | None]]) -> list[Row | None]:
        """The rows at ``indexes`` typed by the row types, in order.

        pydantic returns nothing of a list with an error, so the rows are typed in slices of
        :data:`TYPED_SLICE`: a slice with an error is typed again without its failed rows."""
        adapter = row_adapter(table_id, not self.lenient)
        typed: list[Row | None] = []
        for start in range(0, len(indexes), TYPED_SLICE):
            part_indexes = indexes[start:start + TYPED_SLICE]
            part = [rows[i] for i in part_indexes]
            try:
                typed.extend(adapter.validate_python(part))
            except ValidationError as exc:
                typed.extend(self._typed_apart(table_id, adapter, part, part_indexes, exc, failed, reported))
        return typed

    def _typed_apart(self, table_id: str, adapter: Any, part: list[Row], indexes: list[int],
                     exc: ValidationError, failed: set[int], reported: set[tuple[int, str | None]]
                     ) -> list[Row | None]:
        """A slice that failed: a finding per failing cell, the other rows typed again in one call."""
        part_failed: set[int] = set()
        for err in exc.errors(include_url=False):
            loc = err["loc"]
            cell = (indexes[int(loc[0])], str(loc[1]) if len(loc) > 1 else None)
            if cell not in reported:  # one finding per cell: a union type gives one error per member
                reported.add(cell)
                self._structure_error(table_id, {**err, "loc": (cell[0], *loc[1:])})
            part_failed.add(int(loc[0]))
        failed.update(indexes[i] for i in part_failed)
        typed: list[Row | None] = [None] * len(part)
        passed = [i for i in range(len(part)) if i not in part_failed]
        for i, row in zip(passed, adapter.validate_python([part[i] for i in passed]), strict=True):
            typed[i] = row
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
        if err["type"] == "greater_than_equal" and field.type.startswith("decimal"):
            self.emit(R.NEGATIVE, table_id, index, cn, f"'{field.label}' is {value}: a quantity is never negative")
            return
        rule = R.PATTERN_RULES.get(field.type, R.TYPE)
        if (err["type"] in ("string_pattern_mismatch", "greater_than_equal", "less_than_equal",
                           "literal_error") and rule is not R.TYPE) or rule is R.FMT_SERIAL:
            self.emit(rule, table_id, index, cn, f"'{field.label}' is {value!r}: {rule.title.lower()}")
        else:
            self.emit(R.TYPE, table_id, index, cn,
                      f"'{field.label}' is {value!r}, expected {describe_type(field)}", cause=err["msg"])

    # -- layer 2: code lists ------------------------------------------------------------------
    def code_list_rows(self, table_id: str, typed: Columns) -> set[int]:
        """The rows :meth:`code_lists` must look at, found column by column over distinct values
        (a clean column costs one set difference instead of a check per row)."""
        plan = PLANS[table_id]
        suspects: set[int] = set()
        for f, allowed in plan.vocabulary:
            values = typed[f.cn]
            _mark(suspects, values, set(values) - allowed - {None, NA})
        for f in plan.parties:
            values = typed[f.cn]
            _mark(suspects, values, {v for v in set(values) if v is not None and v != NA and not is_alpha3(v)})
        if table_id == "T3":
            pairs = list(zip(typed["ActionSubtype"], typed["ActionType"], strict=True))
            nomenclature = self.nomenclature
            _mark(suspects, pairs, {(subtype, action) for subtype, action in set(pairs)
                                    if subtype and subtype not in nomenclature.subtypes_everywhere
                                    and subtype not in nomenclature.subtypes_by_type.get(str(action), frozenset())})
        return suspects

    def code_lists(self, table_id: str, index: int, row: Row) -> bool:
        ok = True
        plan = PLANS[table_id]
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
            elif part in code_list.aliases and not self.lenient:
                self.emit(R.CODE_VALUE, table_id, index, f.cn,
                          f"'{f.label}' {part!r} is not the nomenclature value: write "
                          f"{code_list.aliases[part]!r} (or read legacy data with --lenient)")
                ok = False
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
    @staticmethod
    def cell_rule_rows(table_id: str, typed: Columns) -> set[int]:
        """The rows whose CARP, text-length or decimal-places cells :meth:`field_rules` must look at,
        found column by column."""
        plan = PLANS[table_id]
        suspects: set[int] = set()
        for f in plan.carp:
            values = typed[f.cn]
            _mark(suspects, values, {v for v in set(values) if v is not None and (v.__class__ is not str or v.strip())})
        for cn in plan.text_names:
            values = typed[cn]
            _mark(suspects, values, {v for v in set(values) if v.__class__ is str and len(v) > 255})
        for f in plan.decimals:
            values = typed[f.cn]
            _mark(suspects, values, {v for v in set(values) if v.__class__ is Decimal and _over_two_places(v)})
        return suspects

    @staticmethod
    def conditional_rows(table_id: str, typed: Columns) -> set[int]:
        """The rows whose conditional fields :meth:`_conditionals` must look at: each field's value
        class (blank, NA, a value) against whether it applies, over the distinct combinations."""
        fields = PLANS[table_id].conditional
        if not fields:
            return set()
        # each row's combination of action type, metric and purpose as one int, built column by column
        base = [0] * len(typed)
        for cn in ("ActionType", "Metric", "PurposeForAuthorization"):
            column = typed[cn]
            number = {value: n for n, value in enumerate(dict.fromkeys(column))}
            base = list(map(add, map(mul, base, repeat(len(number))), map(number.__getitem__, column)))
        first = dict(zip(reversed(base), range(len(base) - 1, -1, -1), strict=True))  # each code's first row
        layouts = {code: _layout(table_id, typed.rows[i], fields) for code, i in first.items()}
        # a row's class per field is 3 x its combination + its value class: one int per row
        base = list(map(mul, base, repeat(3)))
        suspects: set[int] = set()
        for position, f in enumerate(fields):
            required_when = f.cn in REQUIRED_WHEN  # else a blank or NA where the field applies is fine
            classes = list(map(add, base, map(_VALUE_CLASS.get, typed[f.cn], repeat(_VALUE))))
            bad = {code for code in set(classes)
                   if ((required_when and code % 3 != _VALUE) if layouts[code // 3][position][1]
                       else code % 3 != _NA)}
            _mark(suspects, classes, bad)
        return suspects

    def field_rules(self, table_id: str, i: int, row: Row, *, cells: bool = True,
                    conditionals: bool = True, table_rules: bool = True) -> bool:
        """Field rules of one row; ``cells=False`` and ``conditionals=False`` skip the checks that
        :meth:`cell_rule_rows` and :meth:`conditional_rows` cleared column by column."""
        before = len(self.findings)
        plan = PLANS[table_id]
        if cells:
            self._cell_rules(table_id, i, row)
        if plan.conditional and conditionals:
            self._conditionals(table_id, i, row, plan.conditional)
        check = TABLE_RULES.get(table_id)
        if check is not None and table_rules:
            check(self, i, row)
        return len(self.findings) == before or not any(f.is_error for f in self.findings[before:])

    def _cell_rules(self, table_id: str, i: int, row: Row) -> None:
        plan = PLANS[table_id]
        get = row.get
        for f in plan.carp:
            value = get(f.cn)
            if value is not None and (value.__class__ is not str or value.strip()):
                self.emit(R.CARP_FIELD, table_id, i, f.cn,
                          f"'{f.label}' is populated by CARP and must be left blank")
        texts = list(filter(None, map(get, plan.text_names)))  # text fields hold str or None
        if texts and max(map(len, texts)) > 255:
            for cn in plan.text_names:
                value = get(cn)
                if value.__class__ is str and len(value) > 255:
                    f = TABLES[table_id].by_cn[cn]
                    self.emit(R.TOO_LONG, table_id, i, cn, f"'{f.label}' has {len(value)} characters")
        for f in plan.decimals:
            value = get(f.cn)
            if value.__class__ is Decimal and _over_two_places(value):
                self.emit(R.DECIMALS, table_id, i, f.cn, f"'{f.label}' {value} has more than 2 decimals")

    def _conditionals(self, table_id: str, i: int, row: Row, fields: tuple[FieldSpec, ...]) -> None:
        get = row.get
        for f, applies in _layout(table_id, row, fields):
            value = get(f.cn)
            if applies and value is not None and value != NA:
                continue  # a value where one applies: nothing to check
            if not applies and value == NA:
                continue  # NA where none applies: as it should be
            self._conditional(table_id, i, row, f, applies)

    def _conditional(self, table_id: str, i: int, row: Row, f: FieldSpec, applies: bool) -> None:
        value = row.get(f.cn)
        if applies:
            rule = REQUIRED_WHEN.get(f.cn)
            if rule is not None and (value is None or value == NA) and needs_value(f.cn, row):
                self.emit(rule, table_id, i, f.cn, f"'{f.label}' is required here: {rule.title}")
        elif value is None:
            self.emit(R.NA_EXPECTED, table_id, i, f.cn, f"'{f.label}' does not apply here: write NA")
        elif value != NA:
            self.emit(R.NOT_APPLICABLE, table_id, i, f.cn,
                      f"'{f.label}' is {value!r} but does not apply to this record: write NA")


def dense_rows(typed: list[Row | None]) -> list[Row]:
    """The typed rows with an empty row for each that failed, for the column-by-column checks."""
    return typed if None not in typed else [row or {} for row in typed]  # type: ignore[return-value]


def _mark(suspects: set[int], values: list[Any], bad: set[Any]) -> None:
    """Add the positions of ``values`` that hold one of the ``bad`` values."""
    if bad:
        suspects.update(i for i, value in enumerate(values) if value in bad)


def _over_two_places(value: Decimal) -> bool:
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and exponent < -2


@functools.cache
def _required_fields(table_id: str) -> tuple[tuple[tuple[FieldSpec, bool], ...], tuple[str, ...], tuple[str, ...]]:
    """A table's required fields (with whether NA is refused), their names, and its plain text fields' names."""
    fields = TABLES[table_id].fields
    required = tuple((f, not f.accepts_na) for f in fields if f.required == "Y")
    return required, tuple(f.cn for f, _ in required), tuple(f.cn for f in fields if f.type in PLAIN_TEXT_TYPES)


_BLANK_OR_NA = frozenset({None, "", NA})
#: rows typed per pydantic call (see Run._typed)
TYPED_SLICE = 4


def _blank_or_na_rows(rows: list[Row], names: Sequence[str]) -> list[int] | range:
    """The rows with a required field blank or NA, found column by column (all rows if a value is
    unhashable, a JSON array or object, which the row-by-row check then looks at field by field)."""
    try:  # every row holds every required field (the usual case): one pass over all their values
        if len(names) > 1 and _BLANK_OR_NA.isdisjoint(chain.from_iterable(map(itemgetter(*names), rows))):
            return []
    except KeyError:  # an absent field: found below, column by column
        pass
    except TypeError:
        return range(len(rows))
    found: set[int] = set()
    for cn in names:
        values = list(map(dict.get, rows, repeat(cn)))
        try:
            if _BLANK_OR_NA.isdisjoint(values):
                continue
        except TypeError:
            return range(len(rows))
        found.update(i for i, value in enumerate(values) if value is None or value == "" or value == NA)
    return sorted(found)


_BLANK, _NA, _VALUE = 0, 1, 2
#: A conditional field's value class: blank (None), NA, or a value (anything else).
_VALUE_CLASS: dict[Any, int] = {None: _BLANK, NA: _NA}


def _layout(table_id: str, row: Row, fields: tuple[FieldSpec, ...]) -> tuple[tuple[FieldSpec, bool], ...]:
    """Which conditional fields apply to a row: fixed by its action type, metric and purpose."""
    get = row.get
    key = (table_id, get("ActionType"), get("Metric"), get("PurposeForAuthorization"))
    layout = LAYOUTS.get(key)
    if layout is None:
        layout = LAYOUTS[key] = tuple((f, condition_applies(table_id, f.cn, row)) for f in fields)
    return layout
