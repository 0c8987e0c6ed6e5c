"""Helpers the v1 and v2 mappings share: dates, quantities, countries, statuses, losses."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from standards.cadt.picklists import Picklists
from standards.cadt.validate import Locator, Record, default_locator, parse_date
from standards.findings import Finding, Rule
from standards.model import UnitStatus
from standards.parties import UnknownParty, party_name, to_alpha3

#: CADT unit status spellings -> canonical status, per version (both lists are enforced).
STATUS_V1 = {"Held": UnitStatus.HELD, "Retired": UnitStatus.RETIRED, "Cancelled": UnitStatus.CANCELLED,
             "Expired": UnitStatus.EXPIRED, "Buffer": UnitStatus.BUFFER, "Exported": UnitStatus.TRANSFERRED,
             "Pending Export": UnitStatus.PENDING}
STATUS_V2 = {"Issued": UnitStatus.ISSUED, "Held": UnitStatus.HELD, "Retired": UnitStatus.RETIRED,
             "Cancelled": UnitStatus.CANCELLED, "Expired": UnitStatus.EXPIRED, "Buffer": UnitStatus.BUFFER,
             "Inactive": UnitStatus.INACTIVE, "Rejected": UnitStatus.REJECTED}

#: Fields kept in ``extra`` that moved between v1 and v2 (CADT v1 models against the v2 data dictionary,
#: github.com/Chia-Network/cadt), v1 name -> v2 name.
MOVES_V1_TO_V2: dict[str, dict[str, str]] = {
    "project": {"warehouseProjectId": "cadTrustProjectId", "unitMetric": "projectUnitMetric",
                "program": "projectCreditingProgram"},
    "unit": {"warehouseUnitId": "cadTrustUnitId", "unitBlockStart": "unitStartBlock",
             "unitBlockEnd": "unitEndBlock"},
}
MOVES_V2_TO_V1 = {entity: {v2: v1 for v1, v2 in moves.items()} for entity, moves in MOVES_V1_TO_V2.items()}


def place_extra(extra: dict[str, Any], fields: Any, moves: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The extra values the target entity has a field for (under their own name or the other
    version's), and the keys it has none for."""
    placed: dict[str, Any] = {}
    left: list[str] = []
    for key, value in extra.items():
        if key in fields:
            placed[key] = value
        elif moves.get(key) in fields and moves[key] not in extra:
            placed[moves[key]] = value
        else:
            left.append(key)
    return placed, left


def place_extra_or_lose(extra: dict[str, Any], fields: Any, moves: dict[str, str], losses: LossLog, entity: str,
                        rid: str, reason: str) -> dict[str, Any]:
    """:func:`place_extra`, with every key the target has no field for logged as a loss."""
    placed, left = place_extra(extra, fields, moves)
    for key in left:
        losses.add(f"{entity}.extra.{key}", rid, reason)
    return placed


def put_block_bounds(native: dict[str, Any], first: int | None, last: int | None, first_key: str,
                     last_key: str) -> None:
    """The serial block bounds as text, unless ``extra`` already gave them."""
    if first_key not in native and first is not None:
        native[first_key] = str(first)
    if last_key not in native and last is not None:
        native[last_key] = str(last)


def status_name(status: UnitStatus, names: dict[UnitStatus, str], version: str, losses: LossLog,
                rid: str) -> str | None:
    """The CADT spelling of a canonical status, or None (and a loss) when the version has none."""
    name = names.get(status)
    if name is None:
        losses.add("unit.status", rid, f"{version} unitStatus has no {status.value!r}")
    return name


def in_field_order(record: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """Fields in the data dictionary's order (as the API writes them), nulls left out."""
    get = record.get  # one pass: a missing field and a null one are both left out
    return {k: value for k in fields if (value := get(k)) is not None}


def to_date(value: Any) -> date | None:
    if isinstance(value, str) and value:
        return parse_date(value)
    return None


def to_decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def json_number(value: Decimal | None) -> int | float | None:
    """A Decimal as a JSON number: an int when whole, else a float."""
    if value is None:
        return None
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def country_alpha3(name: Any) -> str | None:
    if not isinstance(name, str) or not name.strip():
        return None
    try:
        return to_alpha3(name)[0]
    except UnknownParty:
        return None


@lru_cache(maxsize=32)
def countries_by_alpha3(spellings: tuple[str, ...]) -> dict[str, str]:
    """alpha-3 -> the first spelling of a country list that names it (one pycountry lookup per spelling, once)."""
    index: dict[str, str] = {}
    for candidate in spellings:
        code = country_alpha3(candidate)
        if code is not None:
            index.setdefault(code, candidate)
    return index


def country_name(alpha3: str | None, picklists: Picklists, list_name: str) -> str | None:
    """The picklist's spelling of a country given as alpha-3 (ISO short name when it has none)."""
    if alpha3 is None:
        return None
    listed = countries_by_alpha3(tuple(picklists.values(list_name) or ())).get(alpha3)
    if listed is not None:
        return listed
    try:
        return party_name(alpha3)
    except UnknownParty:
        return alpha3


def without_none(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if v is not None}


class LossLog:
    """Collects ``{field: [record ids]}`` with one reason per field."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}
        self.reasons: dict[str, str] = {}

    def add(self, name: str, record: str, reason: str) -> None:
        self.fields.setdefault(name, []).append(record)
        self.reasons.setdefault(name, reason)

    def add_many(self, name: str, records: Iterable[str], reason: str) -> None:
        for record in records:
            self.add(name, record, reason)


M = TypeVar("M", bound=BaseModel)


def build_record(model: type[M], findings: list[Finding], rule: Rule, rec: Record,
                 fields: dict[str, Any], locate: Locator = default_locator) -> M | None:
    """A canonical record, or a coded finding when the canonical model cannot hold the values."""
    try:
        return model(**fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ()))
        findings.append(rule.finding(f"{rec.resource} {rec.index} cannot be carried into the canonical model: "
                                     f"{where}: {err.get('msg')}", locate((rec.resource, rec.index))))
        return None


def grown(before: Mapping[str, int], after: Counter[str]) -> tuple[tuple[Counter[str], str, int], ...]:
    """What each count of ``after`` grew by since ``before``, as (``after``, what, by how much)."""
    return tuple((after, what, count - before.get(what, 0)) for what, count in after.items()
                 if count != before.get(what, 0))


Counts = tuple[tuple[Counter[str], str, int], ...]


def less_counts(counts: Counts, once: Counts) -> Counts | None:
    """``counts`` (what a record added to each count, as :func:`grown` gives it) less ``once`` (what of it was
    added once, for a record the next ones share); None when ``once`` is not a part of ``counts``."""
    left = {(id(counter), what): count for counter, what, count in counts}
    for counter, what, count in once:
        if left.get((id(counter), what), 0) < count:
            return None
        left[(id(counter), what)] -= count
    return tuple((counter, what, left[(id(counter), what)]) for counter, what, _ in counts
                 if left[(id(counter), what)])
