"""ITMO holdings at the end of a year, reconstructed from the Article 6 actions a Party's registries report.

AEF Table 4 is the position on 31 December of the reported year. The view keeps each registry's current
records, not its past, so the position is replayed from the actions dated up to the end of that year, in date
order, per registry the action was tracked in (``PartyITMORegistryID``) and ITMO series (cooperative approach,
first transferring Party, vintage):

- ``Authorization`` and ``Acquisition`` bring the block into the registry's holdings;
- ``Use``, ``Cancellation`` and ``Voluntary Cancellation`` take it out;
- ``First transfer`` and ``Transfer`` take it out when they name an acquiring Party other than the reporting
  Party (a transfer to the Party itself, or a first transfer without an acquiring Party, such as one defined
  at authorization for other international mitigation purposes, leaves the ITMOs where they are).

Removals apply to the ITMO numbers they cover, whatever the adding action's other fields; a block added twice
is held once. One ITMO is one unit of the block's quantity: a held part of a block carries the share of the
adding action's quantity its numbers make up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from standards.model import Action, ActionType, Holding

_ADDS = frozenset({ActionType.AUTHORIZATION, ActionType.ACQUISITION})
_ENDS = frozenset({ActionType.USE, ActionType.CANCELLATION, ActionType.VOLUNTARY_CANCELLATION})
_MOVES = frozenset({ActionType.FIRST_TRANSFER, ActionType.TRANSFER})

Series = tuple[str, str, str, int]  # registry, cooperative approach, first transferring Party, vintage


@dataclass(frozen=True, slots=True)
class _Part:
    first: int
    last: int
    source: Action


def _effect(action: Action, party: str) -> int:
    """+1 adds the block, -1 removes it, 0 leaves the holdings as they are."""
    if action.action_type in _ADDS:
        return 1
    if action.action_type in _ENDS:
        return -1
    if action.action_type in _MOVES and action.acquiring_party and action.acquiring_party != party:
        return -1
    return 0


def _series(action: Action) -> Series | None:
    if None in (action.registry, action.cooperative_approach, action.first_transferring_party, action.vintage,
                action.first_id, action.last_id):
        return None
    return (str(action.registry), str(action.cooperative_approach), str(action.first_transferring_party),
            int(action.vintage or 0))


def _without(parts: list[_Part], first: int, last: int) -> list[_Part]:
    out = []
    for part in parts:
        if part.last < first or part.first > last:
            out.append(part)
            continue
        if part.first < first:
            out.append(_Part(part.first, first - 1, part.source))
        if part.last > last:
            out.append(_Part(last + 1, part.last, part.source))
    return out


def year_end_holdings(actions: Iterable[Action], party: str) -> list[Holding]:
    """The holdings ``actions`` (those dated up to the end of the year) leave, in series and number order."""
    held: dict[Series, list[_Part]] = {}
    ordered = sorted(((a.date, -_effect(a, party), n, a) for n, a in enumerate(actions)), key=lambda t: t[:3])
    for _, _, _, action in ordered:  # on the same instant, blocks arrive before they leave
        series, effect = _series(action), _effect(action, party)
        if series is None or effect == 0:
            continue
        first, last = int(action.first_id or 0), int(action.last_id or 0)
        parts = _without(held.get(series, []), first, last)
        if effect > 0:
            parts.append(_Part(first, last, action))
        held[series] = parts
    out = []
    for series in sorted(held):
        for part in sorted(held[series], key=lambda p: p.first):
            out.append(_holding(series, part))
    return out


def _holding(series: Series, part: _Part) -> Holding:
    source = part.source
    count = part.last - part.first + 1
    whole = int(source.last_id or 0) - int(source.first_id or 0) + 1
    quantity = (source.quantity * count / whole) if source.quantity is not None and whole > 0 else Decimal(count)
    registry, approach, ftp, vintage = series
    return Holding(cooperative_approach=approach, authorization_id=source.authorization_id,
                   first_transferring_party=ftp, registry=registry, first_id=part.first, last_id=part.last,
                   metric=source.metric, gwp_values=source.gwp_values, non_ghg_metric=source.non_ghg_metric,
                   quantity=quantity.to_integral_value() if quantity == quantity.to_integral_value() else quantity,
                   mitigation_type=source.mitigation_type, vintage=vintage)


__all__ = ["year_end_holdings"]
