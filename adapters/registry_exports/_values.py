"""Cell values of registry exports: quantities, dates, countries, serials, and native spellings kept for round trips."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from adapters.registry_exports._layout import RowFindings
from standards import (
    InvalidSerial,
    Serial,
    SerialQuantityMismatch,
    UnknownParty,
    parse_serial,
    party_name,
    to_alpha3,
)

_QUANTITY = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")


_SLASH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T].*)?")


_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T].*)?")


# ---------------------------------------------------------------------------------------- values


def parse_quantity(text: str) -> Decimal:
    """``"1,454,054"`` or ``425`` or ``12.5`` as a Decimal; raises ValueError otherwise."""
    if text.isdigit() and text.isascii():
        return Decimal(int(text))
    raw = text.strip()
    if not _QUANTITY.fullmatch(raw):
        raise ValueError(f"{text!r} is not a quantity")
    try:
        return Decimal(raw.replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only decimal digits
        raise ValueError(f"{text!r} is not a quantity") from exc


def render_quantity(value: Decimal, *, grouped: bool = False) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if grouped and "." not in text:
        return f"{int(text):,}"
    return text


def parse_date(text: str, *, order: str) -> date:
    """ISO (optionally with a time) or ``d/m/yyyy`` (``order="dmy"``) / ``m/d/yyyy`` (``"mdy"``)."""
    raw = text.strip()
    m = _ISO_DATE.fullmatch(raw)
    if m is not None:
        return date(int(m[1]), int(m[2]), int(m[3]))
    m = _SLASH_DATE.fullmatch(raw)
    if m is not None:
        a, b = int(m[1]), int(m[2])
        day, month = (a, b) if order == "dmy" else (b, a)
        return date(int(m[3]), month, day)
    raise ValueError(f"{text!r} is not a date")


def read_date(row: RowFindings, extra: dict[str, Any], raw: str, column: str, prefix: str,
              order: str) -> date | None:
    """A date cell: None when empty; a ``<PREFIX>.DATE_INVALID`` finding when unreadable; the native
    spelling kept in ``extra`` when it is not ISO."""
    if not raw:
        return None
    if len(raw) == 10 and raw[4] == "-" and raw[7] == "-":
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    elif not raw.strip():
        return None
    try:
        value = parse_date(raw, order=order)
    except ValueError:
        shown = "YYYY-MM-DD or " + ("DD/MM/YYYY" if order == "dmy" else "MM/DD/YYYY")
        row.add(f"{prefix}.DATE_INVALID", column, f"{column} {raw!r} is not a date ({shown})")
        return None
    keep_native(extra, column, raw, value.isoformat())
    return value


_COUNTRIES: dict[str, str | None] = {}


def country_from_name(text: str) -> str | None:
    """Alpha-3 for a country name or code; None when it cannot be resolved."""
    found = _COUNTRIES.get(text, "")
    if found != "":
        return found
    try:
        found = to_alpha3(text)[0]
    except UnknownParty:
        found = None
    if len(_COUNTRIES) < 4096:
        _COUNTRIES[text] = found
    return found


def country_name(alpha3: str | None) -> str:
    if alpha3 is None:
        return ""
    try:
        return party_name(alpha3)
    except UnknownParty:
        return alpha3


def iso_date(value: date | None) -> str:
    """A date as ISO text; empty when absent."""
    return value.isoformat() if value is not None else ""


def same_date(value: date | None, order: str) -> Callable[[str], bool]:
    """A test for :func:`native_or`: does a native date cell (``order`` "dmy" or "mdy") mean ``value``?"""
    def same(raw: str) -> bool:
        try:
            return parse_date(raw, order=order) == value
        except ValueError:
            return False
    return same


def same_quantity(value: Decimal | None) -> Callable[[str], bool]:
    """A test for :func:`native_or`: does a native quantity cell mean ``value``?"""
    def same(raw: str) -> bool:
        try:
            return parse_quantity(raw) == value
        except ValueError:
            return False
    return same


def keep_native(extra: dict[str, Any], column: str, raw: str, rendered: str) -> None:
    """Remember the registry's own spelling when the canonical value would be written differently."""
    if raw != rendered:
        extra[column] = raw


def native_or(extra: Mapping[str, Any], column: str, rendered: str,
              same: Callable[[str], bool]) -> str:
    """The remembered native spelling if it still means the canonical value, else ``rendered``."""
    raw = extra.get(column)
    if isinstance(raw, str) and same(raw):
        return raw
    return rendered


def check_serial(row: RowFindings, prefix: str, column: str, text: str, schemes: str | Sequence[str],
                 quantity: Decimal | None) -> Serial | None:
    """Parse a serial, reporting ``<PREFIX>.SERIAL_INVALID`` / ``<PREFIX>.SERIAL_QUANTITY`` findings."""
    try:
        serial = parse_serial(text, schemes)
    except InvalidSerial as exc:
        row.add(f"{prefix}.SERIAL_INVALID", column, exc.message)
        return None
    if quantity is not None:
        try:
            serial.check_quantity(quantity)
        except SerialQuantityMismatch as exc:
            row.add(f"{prefix}.SERIAL_QUANTITY", column, exc.message)
    return serial
