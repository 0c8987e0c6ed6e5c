"""The field-rule layer: dates, ranges, lengths, decimal places, Party codes and serial blocks."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from standards.cadt.spec import DATA, EntitySpec, FieldSpec
from standards.cadt.validate._base import (
    BLOCK_FIELDS,
    PARTY_FIELDS,
    PARTY_LIST_FIELDS,
    Path,
    ValidatorBase,
    _decimal_places,
    as_block_int,
    parse_date,
)
from standards.parties import UnknownParty, to_alpha3

_TEXT_KINDS = frozenset({"string", "text", "string|number"})


@cache
def _allow_empty() -> dict[str, frozenset[str]]:
    """v1 fields whose Joi schema allows the empty string (``data/v1-empty-strings.json``), per entity."""
    raw = json.loads((DATA / "v1-empty-strings.json").read_text(encoding="utf-8"))
    return {entity: frozenset(names) for entity, names in raw["allow_empty"].items()}


class FieldRules(ValidatorBase):
    """Checks each value of a record that passed the structure and code-list layers."""

    def _field_rules(self, entity: EntitySpec, data: dict[str, Any], path: Path) -> bool:
        before = len(self._findings)
        for child_entity, child, child_path in self._children(entity, data, path):
            self._field_rules(child_entity, child, child_path)
        dates: dict[str, date] = {}
        for f in self._plan(entity).checked:
            value = data.get(f.name)
            if value is not None:
                self._check_field(entity, f, value, data, (*path, f.name), dates)
        self._date_order(entity, data, path, dates)
        if self.version == "v1":
            self._empty_strings(entity, data, path)
        if entity.name == "unit":
            self._serial_range(data, path)
        return not any(x.is_error for x in self._findings[before:])

    def _check_field(self, entity: EntitySpec, f: FieldSpec, value: Any, data: dict[str, Any], where: Path,
                     dates: dict[str, date]) -> None:
        """Every rule that applies to one present value; a parsed date is kept in ``dates``."""
        if self.request and self._server_owned(entity, f):
            self._add(f"{self._p}.SERVER_KEY", where, f"{f.name} is set by CADT itself; remove it from the "
                      "request body (send it only to update or delete an existing record)")
        if f.kind in ("date", "datetime") and isinstance(value, str):
            self._check_date(f, value, where, dates)
        self._check_range(f, value, where)
        if f.max_length is not None and isinstance(value, str) and len(value) > f.max_length:
            self._add(f"{self._p}.STRING_LENGTH", where,
                      f"{f.name} is {len(value)} characters long; CAD Trust allows {f.max_length}")
        self._check_decimal_places(f, value, where)
        if f.non_empty and value == "":
            self._add(f"{self._p}.MARKETPLACE_ID", where, f"{f.name} must not be an empty string "
                      "(leave it out or send null when there is none)")
        if self.version == "v2" and f.name in PARTY_FIELDS | PARTY_LIST_FIELDS and isinstance(value, str):
            data[f.name] = self._widen_parties(f.name, value, where)

    def _empty_strings(self, entity: EntitySpec, data: dict[str, Any], path: Path) -> None:
        """An empty text value, which a v1 node refuses unless its schema allows it."""
        allowed = _allow_empty().get(entity.name, frozenset())
        for name, value in data.items():
            if value != "" or name in allowed:
                continue
            f = entity.by_name.get(name)
            if f is not None and f.kind in _TEXT_KINDS and not f.non_empty:
                self._add("CADT.V1.EMPTY_STRING", (*path, name), f"{name} is an empty string, which CAD Trust "
                          "refuses for this field (leave it out or send null when there is none)")

    def _check_date(self, f: FieldSpec, value: str, where: Path, dates: dict[str, date]) -> None:
        parsed = parse_date(value)
        if parsed is None:
            self._add(f"{self._p}.DATE", where, f"{f.name} {value!r} is not an ISO 8601 date (YYYY-MM-DD)")
        else:
            dates[f.name] = parsed

    def _check_range(self, f: FieldSpec, value: Any, where: Path) -> None:
        if f.range is None or not isinstance(value, int | float) or isinstance(value, bool):
            return
        lo, hi = f.range
        if not lo <= value <= hi:
            rule = "CADT.V1.VINTAGE" if self.version == "v1" else "CADT.V2.YEAR"
            self._add(rule, where, f"{f.name} {value} is outside {lo}-{hi}")

    def _check_decimal_places(self, f: FieldSpec, value: Any, where: Path) -> None:
        if f.decimal_places is None or self.version != "v2":
            return
        places = _decimal_places(value)
        if places is not None and places > f.decimal_places:
            self._add("CADT.V2.QUANTITY_DP", where, f"{f.name} {value} has {places} decimal places; "
                      f"CAD Trust allows at most {f.decimal_places}")

    def _date_order(self, entity: EntitySpec, data: dict[str, Any], path: Path, dates: dict[str, date]) -> None:
        """Each date that must fall on or after another date of the same record."""
        p = self._p
        for f in self._plan(entity).ordered:
            if f.after and f.after not in dates and isinstance(data.get(f.after), str):
                parsed_start = parse_date(data[f.after])  # validityPeriodStartDate is typed as text
                if parsed_start is not None:
                    dates[f.after] = parsed_start
            if f.after and f.name in dates and f.after in dates:
                end, start = dates[f.name], dates[f.after]
                if end < start or (f.strictly_after and end == start):
                    word = "after" if f.strictly_after else "on or after"
                    self._add(f"{p}.DATE_ORDER", (*path, f.name),
                              f"{f.name} {end.isoformat()} must be {word} {f.after} {start.isoformat()}")

    def _widen_parties(self, name: str, value: str, where: Path) -> str:
        parts = [p.strip() for p in value.split(",")] if name in PARTY_LIST_FIELDS else [value.strip()]
        widened = []
        for part in parts:
            if part.upper() == "NA" or (len(part) == 3 and part.isupper()):
                widened.append(part)
                continue
            try:
                code, _form = to_alpha3(part)
            except UnknownParty:
                widened.append(part)
                continue
            widened.append(code)
            self._add("CADT.V2.PARTY_CODE", where, f"{name} {part!r} read as the ISO alpha-3 code {code!r}")
        return ", ".join(widened) if name in PARTY_LIST_FIELDS else widened[0]

    def _serial_range(self, data: dict[str, Any], path: Path) -> None:
        start_key, end_key, count_key = BLOCK_FIELDS[self.version]
        start, end = as_block_int(data.get(start_key)), as_block_int(data.get(end_key))
        if start is None or end is None:
            return
        rule = f"{self._p}.UNIT.SERIAL_RANGE"
        if end < start:
            self._add(rule, (*path, end_key), f"serial block ends ({end}) before it starts ({start})")
            return
        count = data.get(count_key)
        try:
            quantity = Decimal(str(count)) if count is not None else None
        except InvalidOperation:
            quantity = None
        if quantity is not None and quantity != end - start + 1:
            self._add(rule, (*path, count_key), f"unitCount {count} does not match the serial block "
                      f"{start}-{end}, which holds {end - start + 1} units")

