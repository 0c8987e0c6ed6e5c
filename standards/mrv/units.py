"""Units of measured parameters, read and converted by pint (never by hand).

A unit string is parsed by pint's unit registry (with decimal magnitudes, so conversions of
decimal measurements stay decimal) extended with the carbon-market mass units ``tCO2e``,
``kgCO2e`` and ``tCO2``. Strings longer than :data:`~standards.mrv.model.MAX_UNIT_LENGTH`, with
characters outside a unit expression's alphabet, with a scaling factor, with an exponent beyond
:data:`MAX_EXPONENT` or that pint cannot read are refused as :class:`UnknownUnit`. Parsed units
are cached, so validating many reports that use the same units parses each once.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import pint

from standards.errors import InvalidValue
from standards.mrv.model import MAX_UNIT_LENGTH

#: Largest absolute exponent of a dimension a unit may have (``m**3`` yes, ``m**99999999`` no).
MAX_EXPONENT = 12
_ALPHABET = re.compile(r"^[A-Za-z0-9_ .*/^()%µ°·²³\-]+$")
_EXTRA_DEFINITIONS = (
    "tCO2e = metric_ton = tCO2eq = t_CO2e",
    "kgCO2e = kilogram = kgCO2eq = kg_CO2e",
    "tCO2 = metric_ton",
)


class UnknownUnit(InvalidValue):
    """A unit string pint cannot read (or one refused before it is read)."""

    code = "MRV.UNIT_UNKNOWN"


class IncompatibleUnits(InvalidValue):
    """A conversion between units of different dimensions (energy to volume...)."""

    code = "MRV.UNIT_DIMENSION"


@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry[Any]:
    """The process-wide unit registry (decimal magnitudes; built once, on first use)."""
    reg: pint.UnitRegistry[Any] = pint.UnitRegistry(non_int_type=Decimal, cache_folder=None)
    for line in _EXTRA_DEFINITIONS:
        reg.define(line)
    return reg


@lru_cache(maxsize=4096)
def _parse(text: str) -> pint.Unit | str:
    """The parsed unit, or why it is refused (a string; failures are cached too)."""
    if not text.strip() or len(text) > MAX_UNIT_LENGTH:
        return f"a unit is 1 to {MAX_UNIT_LENGTH} characters"
    if not _ALPHABET.match(text):
        return "characters outside a unit expression"
    try:
        unit = registry().parse_units(text)
    except Exception as exc:  # pint raises many kinds (tokenizer, assertion, decimal, recursion)
        return f"pint cannot read it ({type(exc).__name__})"
    if any(abs(power) > MAX_EXPONENT for power in unit.dimensionality.values()):
        return f"an exponent beyond {MAX_EXPONENT}"
    return unit


def parse_unit(text: str) -> pint.Unit:
    """The pint unit ``text`` names; :class:`UnknownUnit` when it names none."""
    result = _parse(text)
    if isinstance(result, str):
        raise UnknownUnit(f"unknown unit {text[:MAX_UNIT_LENGTH]!r}: {result}")
    return result


def unit_problem(text: str) -> str | None:
    """Why ``text`` is not a unit, or None when it is one."""
    result = _parse(text)
    return result if isinstance(result, str) else None


def same_dimension(unit: str, other: str) -> bool:
    """True when both are units and a value in one converts to the other."""
    return bool(parse_unit(unit).dimensionality == parse_unit(other).dimensionality)


def convert(value: Decimal, unit: str, target: str) -> Decimal:
    """``value`` in ``unit`` expressed in ``target`` (pint; offset units such as ``degC`` included)."""
    source, goal = parse_unit(unit), parse_unit(target)
    if source.dimensionality != goal.dimensionality:
        raise IncompatibleUnits(f"cannot convert {unit!r} ({source.dimensionality}) to {target!r} "
                                f"({goal.dimensionality})")
    try:
        magnitude = registry().Quantity(value, source).to(goal).magnitude
        return magnitude if isinstance(magnitude, Decimal) else Decimal(str(magnitude))
    except (InvalidOperation, ArithmeticError, pint.PintError) as exc:
        raise IncompatibleUnits(f"cannot convert {value} {unit} to {target}: {type(exc).__name__}") from exc
