"""Reading a registry export's own cells for the v1 linker: dates in the registry's order, monitoring
periods, and columns a vocabulary names (one column, or several across a registry's export layouts).

The order of day and month in slash dates is a fact of each registry's exports that a vocabulary
file states (``dateOrder``, with its basis); for the APX registries (ACR, CAR, ART TREES) the
deployment may override it (:attr:`standards.Options.apx_date_order`, ``CARBONLINK_APX_DATE_ORDER``),
the same option the APX adapter reads its own date columns with.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache

from standards._options import current_options
from standards.cadt.validate import parse_date
from standards.cadt.vocab import Vocabulary
from standards.model import UnitBlock

#: The order a registry without a stated ``dateOrder`` is read in (Verra: day first).
DEFAULT_ORDER = "dmy"


def date_order(vocab: Vocabulary) -> str:
    """``mdy`` or ``dmy``: the deployment's APX override, else the vocabulary's stated order."""
    if vocab.fact("platform") == "apx":
        chosen = current_options().apx_date_order
        if chosen is not None:
            return chosen
    return vocab.fact("dateOrder") or DEFAULT_ORDER


def read_date(text: str | None, order: str = DEFAULT_ORDER) -> date | None:
    """ISO (optionally with a time), or a slash/dot date with day and month in ``order``; None otherwise."""
    if not text:
        return None
    return _read_date(text, order)


@lru_cache(maxsize=4096)
def _read_date(text: str, order: str) -> date | None:
    parsed = parse_date(text)
    if parsed is not None:
        return parsed
    head = text.strip().split(" ")[0]
    parts = head.replace(".", "/").split("/")
    if len(parts) == 3 and all(p.isdigit() for p in parts) and len(parts[2]) == 4:
        first, second = int(parts[0]), int(parts[1])
        day, month = (first, second) if order == "dmy" else (second, first)
        try:
            return date(int(parts[2]), month, day)
        except ValueError:
            return None
    return None


def column_value(unit: UnitBlock, vocab: Vocabulary, key: str) -> str | None:
    """The first non-empty cell of the columns ``unitColumns.<key>`` names (a name or a list of names)."""
    extra = unit.extra
    for name in _column_names(vocab, key):
        value = extra.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


@lru_cache(maxsize=256)
def _column_names(vocab: Vocabulary, key: str) -> tuple[str, ...]:
    names = vocab.table("unitColumns").get(key)
    if isinstance(names, str):
        return (names,)
    return tuple(n for n in names if isinstance(n, str)) if isinstance(names, list) else ()


def ddmmyyyy(token: str | None) -> date | None:
    """A serial's ``DDMMYYYY`` date token (Verra), or None."""
    if token is None or len(token) != 8 or not token.isdigit():
        return None
    try:
        return date(int(token[4:]), int(token[2:4]), int(token[:2]))
    except ValueError:
        return None


def vintage_year(unit: UnitBlock) -> tuple[date, date] | None:
    """The calendar year of the unit's vintage, as a period (used only when the operator profile says so)."""
    if unit.vintage is None:
        return None
    return date(unit.vintage, 1, 1), date(unit.vintage, 12, 31)


#: Why a unit without an issuance date of its own gets one (reported once, with the count).
ONLY_ISSUANCE_BASIS = ("a unit row without an issuance date (CAR and ART retirements and cancellations) takes the "
                       "date of the one issuance the export lists for its project and vintage; with none, or "
                       "several, it keeps none")


def issue_dates(units: Iterable[UnitBlock]) -> dict[tuple[str | None, str | None, int | None], date]:
    """(registry, project, vintage) -> the issuance date, where the export's rows give exactly one date for it."""
    seen: dict[tuple[str | None, str | None, int | None], set[date]] = {}
    for unit in units:
        if unit.issuance_date is not None and unit.project_id and unit.vintage is not None:
            seen.setdefault((unit.registry, unit.project_id, unit.vintage), set()).add(unit.issuance_date)
    return {key: next(iter(dates)) for key, dates in seen.items() if len(dates) == 1}
