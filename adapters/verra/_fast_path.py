"""The compiled transactions reader: clean rows built straight into UnitBlocks (see the note below)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from functools import lru_cache
from operator import itemgetter
from typing import Any, TypeVar

from adapters.registry_exports import (
    PendingBlock,
    RowFindings,
    RowMapper,
    country_from_name,
    country_name,
    read_date,
)
from adapters.verra._layout import (
    _ISSUED,
    _RETIRED,
    _UNIT_EXTRAS,
    PROJECT_URL,
    REGISTRY,
    RULES,
    TRANSACTIONS,
    _ddmmyyyy,
)
from standards import (
    Finding,
    UnitBlock,
)
from standards.serials import MAX_SERIAL_LENGTH, default_catalogue

# --- the compiled transactions reader (fast path)
#
# It takes a row only when the full path (``VerraAdapter._unit``) would give no finding at all, and then
# builds the very same UnitBlock; anything else (a 12-token or odd serial, a quantity that disagrees,
# an unknown ID or country, dates or vintages the serial does not reproduce ...) returns None and goes
# the full way, which reports the findings. tests/adapters/test_verra_fastpath.py holds the two equal.
# Values that repeat across rows (dates, the serial's series part with the columns it is checked
# against) are cached by their text in bounded LRU caches; a cached answer depends on that text alone.

_T = TypeVar("_T")
_ALPHA3 = re.compile(r"[A-Z]{3}", re.ASCII).fullmatch


_UNIT_COLUMNS = ("ID", "Quantity Issued", "Serial Number", "Issuance Date", "Retirement/Cancellation Date",
                 "Vintage Start", "Vintage End", "Country/Area", "Name", "Retirement Beneficiary",
                 "Retirement Reason")


#: The serial parts the series check needs (see :func:`_series`).
_SERIES_PARTS = ("unit_type", "country", "project", "vintage_start", "vintage_end")


#: The fields the full path passes to ``UnitBlock(...)``: the ``model_fields_set`` of every block read.
_SET_FIELDS = frozenset({"registry", "serial", "first_id", "last_id", "quantity", "vintage", "unit_type",
                         "status", "status_date", "status_reason", "beneficiary", "project_id", "project_name",
                         "country", "issuance_date", "link", "extra"})


def _verra13() -> Any:
    """The layout the full path tries first for Verra serials, when it is the built-in 13-token one
    starting ``{batch}-{first}-{last}-`` with digit runs (what the series split relies on); else None."""
    layout = default_catalogue().layouts("verra")[0]
    if layout.variant != "verra-13" or not layout.template.startswith("{batch}-{first}-{last}-") \
            or any(layout.fields[name] != r"\d+" for name in ("batch", "first", "last")) \
            or not set(_SERIES_PARTS) <= set(layout.names):
        return None
    return layout


@lru_cache(maxsize=4096)
def _date_cell(raw: str) -> tuple[date | None, bool] | None:
    """A non-empty date cell as ``read_date`` reads it: (value, native spelling kept in ``extra``), or
    None when it gives a finding."""
    found: list[Finding] = []
    kept: dict[str, Any] = {}
    value = read_date(RowFindings(RULES, 0, found), kept, raw, "Issuance Date", "VERRA", "dmy")
    return None if found else (value, bool(kept))


@lru_cache(maxsize=16384)
def _series(tail: str, raw_start: str, raw_end: str, raw_country: str,
            project_id: str) -> tuple[str, int, str | None, bool, str] | None:
    """What the full path derives from a 13-token serial's part after ``batch-first-last-`` and the
    columns it is checked against, when none of that gives a finding or keeps a column:
    (unit type, vintage, country alpha-3 or None, Country/Area kept in extra, project URL); else None.

    The caller has checked that batch, first and last are ASCII digit runs, so the whole serial has
    the layout exactly when ``0-0-0-<tail>`` has it, with the same parts."""
    layout = _verra13()
    m = layout.regex.match("0-0-0-" + tail) if layout is not None else None
    if m is None:
        return None
    unit_type, serial_country, serial_project, token_start, token_end = m.group(*_SERIES_PARTS)
    # Vintage Start/End: not kept only when they are the serial's own dates (VerraAdapter._vintage)
    if raw_start != _ddmmyyyy(token_start) or raw_end != _ddmmyyyy(token_end):
        return None
    vintage = int(token_end[4:])
    if not 1900 <= vintage <= 2100:
        return None
    number = project_id[3:]  # VerraAdapter._cross_check
    if serial_project != number and serial_project.lstrip("0") != number.lstrip("0"):
        return None
    country: str | None = None  # VerraAdapter._unit, then _cross_check
    kept = False
    if raw_country.strip():
        country = country_from_name(raw_country)
        if country is None or not _ALPHA3(country):
            return None  # the full path reports it (or pydantic refuses the code, as it always did)
        alpha3 = country_from_name(serial_country)
        if alpha3 is not None and alpha3 != country:
            return None
        kept = raw_country != country_name(country)
    return unit_type, vintage, country, kept, PROJECT_URL.format(id=number)


def _construct(values: dict[str, Any]) -> UnitBlock:
    """A UnitBlock from values that already have their validated types, without re-validation: a copy of
    an all-defaults block (pydantic's public ``model_copy``) updated with the fields the full path sets,
    so the fields set, the field order and every value are those of full validation. ``model_copy``
    copies one dict where ``model_construct`` walks every field, about half the cost per block. Used
    only after :func:`_unit_builder` saw it equal full validation."""
    return _BLANK.model_copy(update={name: values[name] for name in _SET_FIELDS})


#: A block with every field at its default and no field set; never handed out, only copied.
_BLANK = UnitBlock.model_construct(set())


def _validate(values: dict[str, Any]) -> UnitBlock:
    """Full validation of the fields the full path sets (the same ``model_fields_set``)."""
    return UnitBlock.model_validate({name: values[name] for name in _SET_FIELDS})


def _unit_values(**values: Any) -> dict[str, Any]:
    """All UnitBlock fields in declaration order: ``values``, the defaults (None) for the rest."""
    return {name: values.get(name) for name in UnitBlock.model_fields}


@lru_cache(maxsize=1)
def _unit_builder() -> Callable[[dict[str, Any]], UnitBlock]:
    """:func:`_construct` if, on this pydantic, it gives what ``model_validate`` gives (same field
    values, order, fields set, extras, private state, dump), else full validation (:func:`_validate`)."""
    model = UnitBlock
    plain = (model.__pydantic_post_init__ is None and not model.__private_attributes__
             and model.model_config.get("extra") != "allow"
             and set(model.__slots__) >= {"__dict__", "__pydantic_fields_set__"})
    samples = [
        _unit_values(registry=REGISTRY, serial="19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-"
                     "31122020-1", first_id=941467007, last_id=941467431, quantity=Decimal(425),
                     vintage=2020, unit_type="VCU", status=_RETIRED, status_date=date(2026, 4, 10),
                     status_reason="Environmental Benefit", beneficiary="Example Ltd", project_id="VCS1340",
                     project_name="Bale", country="ETH", issuance_date=date(2026, 4, 3),
                     link=PROJECT_URL.format(id="1340"), extra={"Methodology": "VM0015", "x": "1"}),
        _unit_values(registry=REGISTRY, serial="1-0-0-VCS-VCU-1-VER-ET-1-1-01012020-31122020-0", first_id=0,
                     last_id=0, quantity=Decimal(1), vintage=1900, unit_type="VCU", status=_ISSUED,
                     project_id="VCS1", link=PROJECT_URL.format(id="1"), extra={}),
    ]
    for values in samples:
        if not plain:
            break
        validated = model.model_validate({k: v for k, v in values.items() if k in _SET_FIELDS})
        built = _construct(dict(values))
        plain = (built == validated and list(built.__dict__.items()) == list(validated.__dict__.items())
                 and built.model_fields_set == validated.model_fields_set
                 and built.__pydantic_extra__ == validated.__pydantic_extra__
                 and built.__pydantic_private__ == validated.__pydantic_private__
                 and built.model_dump_json() == validated.model_dump_json() and repr(built) == repr(validated))
    return _construct if plain else _validate


def _quantity_cell(raw_qty: str) -> tuple[int, bool] | None:
    """Quantity Issued as (count, native spelling kept in ``extra``) when it is ASCII digits (kept as the
    full path keeps them) or grouped exactly as Verra writes it; anything else goes the full way (None)."""
    if "," not in raw_qty:
        if not (raw_qty.isdigit() and raw_qty.isascii()):
            return None
        # kept unless it is how f"{count:,}" writes the count: digits alone are, only up to 999 and with no
        # leading zero (no comma needed), that is exactly when they are at most 3
        return int(raw_qty), len(raw_qty) > 3
    digits = raw_qty.replace(",", "")
    if not (digits.isdigit() and digits.isascii()) or raw_qty[0] == "0":
        return None
    # f"{count:,}" of the digits (no leading zero): a comma before each group of three from the right, no other
    commas = len(raw_qty) - len(digits)
    if commas != (len(digits) - 1) // 3 or raw_qty[-4::-4] != "," * commas:
        return None
    return int(digits), False


_NO_DATE: tuple[date | None, bool] = (None, False)


def _usable(mapper: RowMapper) -> bool:
    """Whether the header and the serial catalogue let the compiled reader stand in for the full path."""
    if _verra13() is None:
        return False  # e.g. a configured layout that would change which variant matches first
    # a repeated header: its extra value would collide with the adapter's own keys
    return not any(name in TRANSACTIONS.columns for name, _ in mapper.unknown)


def _unit_reader(mapper: RowMapper, ids: dict[str, str]) -> Callable[[Sequence[str]], UnitBlock | None] | None:
    """A function from one transactions row's cells to its UnitBlock, or to None when the row needs
    the full path. None (no fast path at all) when the header or the serial catalogue is unusual."""
    build = _unit_builder()
    return _values_reader(mapper, ids, lambda values, _group: build(values))


def _pending_reader(mapper: RowMapper, ids: dict[str, str]) -> Callable[[Sequence[str]], PendingBlock | None] | None:
    """:func:`_unit_reader` handing out the block's values unbuilt (:class:`PendingBlock`), when the block
    built from them holds exactly those values (the builder is :func:`_construct`, whose ``__dict__`` is
    the values it is given); else None (the caller builds every block)."""
    build = _unit_builder()
    if build is not _construct:
        return None
    return _values_reader(mapper, ids, lambda values, group: PendingBlock(values, build, group))


def _values_reader(mapper: RowMapper, ids: dict[str, str],
                   hand: Callable[[dict[str, Any], Any], _T]) -> Callable[[Sequence[str]], _T | None] | None:
    """A function from one transactions row's cells to ``hand(values, group)``, ``values`` the field values of
    its UnitBlock (every field, in declaration order, with validated types) and ``group`` the mark of its group
    (see :class:`PendingBlock`; None: none), or to None when the row needs the full path. None (no fast path
    at all) when the header or the serial catalogue is unusual."""
    if not _usable(mapper):
        return None
    width = len(mapper.header)
    index = mapper.index
    pad = any(column not in index for column in _UNIT_COLUMNS)  # a missing optional column reads as ""
    pick = itemgetter(*(index.get(column, width) for column in _UNIT_COLUMNS))
    unknown = mapper.unknown
    kept_columns = tuple((column, index[column]) for column in _UNIT_EXTRAS if column in index)
    return _row_reader(pick, pad, ids, unknown, kept_columns, hand)


#: Transactions columns kept in ``extra`` that may vary from block to block of an issuance (a retirement's
#: details; the vintage's total, as some exports write it per row): these and the kept columns after them are
#: read from each row (see :func:`_row_reader`).
_ROW_EXTRAS = frozenset({"Total Vintage Quantity", "Retirement Details"})
#: Groups a reader keeps (see :func:`_row_reader`); beyond that they are forgotten and kept anew.
MAX_GROUPS = 4096


#: What a row takes from its group's cells (see :func:`_row_reader`): the block's values with those set, the
#: ``extra`` they keep (the issuance date and country as written, when kept, in their place), and the issuance
#: date's and the country's spelling when kept ("" when not), and the group's number (see :data:`_NUMBERS`).
_Group = tuple[dict[str, Any], dict[str, Any], str, str, int]
#: The numbers of the groups the readers keep, each another (a group's mark names it by its number).
_NUMBERS = itertools.count()


def _group_reader(ids: dict[str, str], unknown: Sequence[tuple[str, int]],
                  group_columns: tuple[tuple[str, int], ...]) -> Callable[..., _Group | None]:
    """The function from a row's group cells to its :data:`_Group`, or to None when the full path must read
    the row."""
    series_of, date_cell, no_date = _series, _date_cell, _NO_DATE
    blank = _unit_values(registry=REGISTRY)  # every field in declaration order (see _construct)

    def group_of(raw_id: str, tail: str, raw_issued: str, raw_start: str, raw_end: str, raw_country: str,
                 name: str, cells: Sequence[str]) -> _Group | None:
        project_id = ids.get(raw_id)  # only IDs the full path has read without a finding
        if project_id is None:
            return None
        series = series_of(tail, raw_start, raw_end, raw_country, project_id)
        issued_cell = date_cell(raw_issued) if raw_issued else no_date
        if series is None or issued_cell is None:
            return None
        unit_type, vintage, country, keep_country, link = series
        issued, keep_issued = issued_cell
        values = blank.copy()  # a copy of a dict with the same keys is quicker than a dict display
        values["vintage"] = vintage
        values["unit_type"] = unit_type
        values["project_id"] = project_id
        values["project_name"] = name or None
        values["country"] = country
        values["issuance_date"] = issued
        values["link"] = link
        kept_issued, kept_country = raw_issued if keep_issued else "", raw_country if keep_country else ""
        return values, _extra(cells, unknown, group_columns, "", kept_issued, "", kept_country), kept_issued, \
            kept_country, next(_NUMBERS)

    return group_of


def _extra(cells: Sequence[str], unknown: Sequence[tuple[str, int]], columns: tuple[tuple[str, int], ...],
           quantity: str, issued: str, retired: str, country: str) -> dict[str, Any]:
    """A row's ``extra`` as the full path orders it: the unknown columns' cells, the spellings kept ("": not
    kept) of the quantity, issuance date, retirement date and country, then the kept ``columns``' cells."""
    extra: dict[str, Any] = {column: cells[i] for column, i in unknown if cells[i] != ""} if unknown else {}
    if quantity:
        extra["Quantity Issued"] = quantity
    if issued:
        extra["Issuance Date"] = issued
    if retired:
        extra["Retirement/Cancellation Date"] = retired
    if country:
        extra["Country/Area"] = country
    for column, i in columns:
        raw = cells[i]
        if raw:
            extra[column] = raw
    return extra


def _row_reader(pick: Callable[[Sequence[str]], tuple[str, ...]], pad: bool, ids: dict[str, str],
                unknown: Sequence[tuple[str, int]], kept_columns: tuple[tuple[str, int], ...],
                hand: Callable[[dict[str, Any], Any], _T]) -> Callable[[Sequence[str]], _T | None]:
    """The reader :func:`_values_reader` answers, for one header's layout.

    A row's *group* is the raw text of every cell it reads but the block's own ones (Quantity Issued, the
    serial's ``batch-first-last-``, the retirement's date, beneficiary, reason, and the kept columns from the
    first of :data:`_ROW_EXTRAS` on): its ID, the serial's tail, the vintage dates, country, name, issuance
    date and the other cells kept in ``extra``. What the row's values take from those cells is read from them
    alone (``ids`` only grows, each ID with the one value the full path gives it), so the values of a group
    the reader has read once are kept, by those texts, and a later row of the group converts its own cells
    only. At most :data:`MAX_GROUPS` are kept (then all are forgotten and kept anew).

    The block of a known group is marked (:class:`PendingBlock`) with the group's number, whether its status
    date, reason and beneficiary are None, its serial's batch and the lengths of its bounds, and which of the
    columns read per row it keeps (a bit each, then their names); unmarked when a bound has a leading zero or
    when ``extra`` keeps its quantity or retirement date as written."""
    date_cell, no_date, quantity_cell = _date_cell, _NO_DATE, _quantity_cell
    retired_status, issued_status = _RETIRED, _ISSUED
    max_serial = MAX_SERIAL_LENGTH
    # the kept columns read per group (those before the first that may vary per block) and per row (the rest)
    split = next((n for n, (column, _i) in enumerate(kept_columns) if column in _ROW_EXTRAS), len(kept_columns))
    group_columns, row_columns = kept_columns[:split], kept_columns[split:]
    group_cells = itemgetter(*(i for _c, i in (*unknown, *group_columns)), 0, 0)  # (two more: always a tuple)
    group_of = _group_reader(ids, unknown, group_columns)
    row_names = tuple(column for column, _i in row_columns)
    row_bits = tuple((1 << n, column, i) for n, (column, i) in enumerate(row_columns))
    groups: dict[tuple[Any, ...], _Group] = {}
    limit = MAX_GROUPS  # (0: none kept)

    def learn(key: tuple[Any, ...], cells: Sequence[str]) -> _Group | None:
        group = group_of(*key[:7], cells)
        if group is not None and limit:
            if len(groups) >= limit:
                groups.clear()
            groups[key] = group
        return group

    def read(cells: Sequence[str]) -> _T | None:
        # one row, few calls: the serial's batch-first-last- tokens and optional dates are read inline
        if pad:
            cells = (*cells, "")
        (raw_id, raw_qty, serial_text, raw_issued, raw_retired, raw_start, raw_end, raw_country, name,
         beneficiary, reason) = pick(cells)
        if len(serial_text) > max_serial or not serial_text.isascii():
            return None
        tokens = serial_text.split("-", 3)
        if len(tokens) != 4:
            return None
        batch, first_text, last_text, tail = tokens
        if not (batch.isdigit() and first_text.isdigit() and last_text.isdigit()):
            return None
        key = (raw_id, tail, raw_issued, raw_start, raw_end, raw_country, name, group_cells(cells))
        group = groups.get(key) or learn(key, cells)
        quantity = quantity_cell(raw_qty)
        if group is None or quantity is None:
            return None
        count, keep_qty = quantity
        first, last = int(first_text), int(last_text)
        if not count or last - first + 1 != count:
            return None  # a range that disagrees, or runs backwards (last = first - 1 with a zero quantity)
        retired_cell = date_cell(raw_retired) if raw_retired else no_date
        if retired_cell is None:
            return None
        retired, keep_retired = retired_cell
        base, kept, kept_issued, kept_country, number = group
        if keep_qty or keep_retired:  # kept between the group's own: the whole ``extra`` in its order
            extra = _extra(cells, unknown, group_columns, raw_qty if keep_qty else "", kept_issued,
                           raw_retired if keep_retired else "", kept_country)
            number = -1
        else:
            extra = kept.copy()
        given = 0  # the row columns kept, a bit each
        for bit, column, i in row_bits:
            raw = cells[i]
            if raw:
                extra[column] = raw
                given |= bit
        mark = (number, retired is None, not reason, not beneficiary, batch, len(first_text), len(last_text), given,
                row_names) if number >= 0 and first_text[0] != "0" and last_text[0] != "0" else None
        # each value has its validated type: ints from ASCII digits (>= 0), a Decimal, a year in
        # 1900-2100, dates, an [A-Z]{3} code, a UnitStatus member, text
        values = base.copy()
        values["extra"] = extra
        values["serial"] = serial_text
        values["first_id"] = first
        values["last_id"] = last
        values["quantity"] = Decimal(count)
        values["status"] = retired_status if retired is not None else issued_status
        values["status_date"] = retired
        values["status_reason"] = reason or None
        values["beneficiary"] = beneficiary or None
        return hand(values, mark)

    return read
