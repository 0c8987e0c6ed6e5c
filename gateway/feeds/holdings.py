"""ITMO holdings at the end of a year: the holdings now, with the Article 6 actions dated after the year undone.

AEF Table 4 is the position on 31 December of the reported year. The view keeps each registry's current
records, not its past; a registry's action history may also begin after ITMOs were already held (a registry
that joined later). So the position starts from what the Party's registries hold now (their ITMO unit blocks
held or pending) and undoes, latest first, every action dated after the year's end, per registry the action
was tracked in (``PartyITMORegistryID``) and ITMO series (cooperative approach, first transferring Party,
vintage):

- ``Authorization`` and ``Acquisition`` brought the block in later: it is taken out;
- ``Use``, ``Cancellation`` and ``Voluntary Cancellation`` took it out later: it is put back, with the fields of
  the action that took it out;
- ``First transfer`` and ``Transfer`` took it out later when they name an acquiring Party other than the
  reporting Party: it is put back (a transfer to the Party itself, or a first transfer without an acquiring
  Party, such as one defined at authorization for other international mitigation purposes, left the ITMOs
  where they were).

Undoing applies to the ITMO numbers an action covers, whatever the held block's other fields; a block put
back is held once. One ITMO is one unit of the block's quantity: a held part of a block carries the share of
its record's quantity its numbers make up.
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
    source: Action | Holding


def _effect(action: Action, party: str) -> int:
    """+1 adds the block, -1 removes it, 0 leaves the holdings as they are."""
    if action.action_type in _ADDS:
        return 1
    if action.action_type in _ENDS:
        return -1
    if action.action_type in _MOVES and action.acquiring_party and action.acquiring_party != party:
        return -1
    return 0


def _series(record: Action | Holding) -> Series | None:
    if None in (record.registry, record.cooperative_approach, record.first_transferring_party, record.vintage,
                record.first_id, record.last_id):
        return None
    return (str(record.registry), str(record.cooperative_approach), str(record.first_transferring_party),
            int(record.vintage or 0))


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


def year_end_holdings(now: Iterable[Holding], later: Iterable[Action], party: str) -> list[Holding]:
    """The holdings at the end of a year: ``now`` with ``later`` (the actions dated after it) undone; in series
    and number order."""
    held: dict[Series, list[_Part]] = {}
    for holding in now:
        series = _series(holding)
        if series is not None:
            first, last = int(holding.first_id or 0), int(holding.last_id or 0)
            held[series] = [*_without(held.get(series, []), first, last), _Part(first, last, holding)]
    ordered = sorted(((a.date, -_effect(a, party), n, a) for n, a in enumerate(later)), key=lambda t: t[:3])
    for _, _, _, action in reversed(ordered):  # latest first; on one instant, blocks arrived before they left
        series, effect = _series(action), _effect(action, party)
        if series is None or effect == 0:
            continue
        first, last = int(action.first_id or 0), int(action.last_id or 0)
        parts = _without(held.get(series, []), first, last)
        if effect < 0:
            parts.append(_Part(first, last, action))
        held[series] = parts
    return [_holding(series, part) for series in sorted(held) for part in sorted(held[series], key=lambda p: p.first)]


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
