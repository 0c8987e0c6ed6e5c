"""The ITMO ledger: T3's actions replayed in date order, block by block, and reconciled with T4.

Every ITMO block is keyed by (cooperative approach, registry, first transferring Party, vintage)
and its id range. Per key an :class:`IntervalMap` records what the report shows about each range:
acquired (and when), or gone (used, cancelled or transferred away, and by which row). Ranges the
report says nothing about are the opening balance, which the AEF does not carry: they are never
held against the Party. T4 is the position on 31 December of the reported year, so actions dated
after it are left out of the replay (``AEF.CROSS.ACTION_OUTSIDE_REPORTED_YEAR`` reports them).
Holding is the reporting Party's: without Table 1 only the holder-free rules run (first
transfers once, overlapping blocks that agree).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from itertools import islice, repeat
from operator import itemgetter
from typing import Any, NamedTuple

from standards.aef import rules as R
from standards.aef.tables import Row
from standards.aef.validate._intervals import IntervalMap
from standards.aef.validate._state import RunState

BlockKey = tuple[str, str, str, int]

#: First-transfer subtypes that do not move ITMOs out of the registry (OIMP first transfer on
#: authorization, issuance, or use or cancellation: 2/CMA.3 annex para 2(b)).
STAYING_SUBTYPES = frozenset({"Authorization", "Issuance", "Use or cancellation"})
_CONSUMED = {"Use": "used", "Cancellation": "cancelled", "Voluntary Cancellation": "cancelled"}
#: The ledger rules that follow the reporting Party's holding (they need Table 1).
HOLDER_RULES = (R.NOT_HELD, R.SPENT_STILL_HELD, R.ACQUIRED_NOT_HELD, R.UNEXPLAINED_HOLDING)
_ATTRIBUTES = ("Vintage", "AuthorizationID", "Metric", "MitigationType")
_attributes_of = itemgetter(*_ATTRIBUTES)


class Event(NamedTuple):
    """What the report says about a range at a date: acquired (``gone`` false) or gone, by row index ``row``."""

    gone: bool
    row: int
    when: datetime
    verb: str


#: The block key of a T3/T4 row: (cooperative approach, registry, first transferring Party, vintage).
block_key: Callable[[Row], BlockKey] = itemgetter("CooperativeApproachID", "PartyITMORegistryID",
                                                  "FirstTransferringPartyID", "Vintage")


def _span(first: int, last: int) -> str:
    return f"{first}" if first == last else f"{first}-{last}"


#: Action types (other than first transfers, which depend on subtype and acquirer) that take ITMOs
#: out of the reporting Party's holding.
MOVING_KINDS = frozenset({*_CONSUMED, "Transfer"})


def _disjoint(firsts: list[int], lasts: list[int]) -> bool:
    """Whether blocks sorted by first id (each first <= last) are pairwise disjoint: with sorted
    firsts it is enough that each block ends before the next one starts."""
    return not any(map(int.__le__, islice(firsts, 1, None), lasts))


def column(rows: list[Any], cn: str) -> list[Any]:
    """One field down a table (0 for a row that failed its layers, which no group holds)."""
    dense = rows if None not in rows else [row or {cn: 0} for row in rows]
    return list(map(dict.__getitem__, dense, repeat(cn)))


class BlockGroups:
    """The passed T3 rows grouped as the ledger needs them, gathered in the single pass over the actions."""

    __slots__ = ("acquisitions", "by_key", "first_transfers", "moves")

    def __init__(self) -> None:
        #: every passed T3 row per block key; ``moves`` the acquisitions and moves out within the
        #: reported year, in replay order; ``first_transfers`` the first transfers.
        self.by_key: dict[BlockKey, list[int]] = defaultdict(list)
        self.moves: dict[BlockKey, list[int]] = defaultdict(list)
        self.first_transfers: dict[BlockKey, list[int]] = defaultdict(list)
        self.acquisitions: set[int] = set()


class LedgerRules(RunState):
    """Layer 4: the ledger replay over T3 and its reconciliation with T4. Ledger values are T3 row
    indexes; what happened to a range (:class:`Event`) is read from that row when a rule needs it."""

    def ledger(self, groups: BlockGroups, holdings: dict[BlockKey, list[int]], reporting_party: str | None,
               reported_year: int | None) -> None:
        """Replay the actions the single pass gathered in ``groups``; ``holdings`` are the passed T4
        rows per block key."""
        rows = self._rows3 = self.typed.rows["T3"]
        self._firsts, self._lasts = column(rows, "FirstID"), column(rows, "LastID")
        self._firsts4, self._lasts4 = column(self.typed.rows["T4"], "FirstID"), column(self.typed.rows["T4"], "LastID")
        twice = self._first_transfers(groups.first_transfers)
        self._attributes(groups.by_key, holdings)
        # Holding is relative to the reporting Party: without Table 1 there is no holder to follow.
        if not all([self.can_run(rule, "T1") for rule in HOLDER_RULES]):
            return
        self._acquisitions = groups.acquisitions
        firsts, lasts = self._firsts, self._lasts
        ledgers: dict[BlockKey, IntervalMap[int]] = {}
        for key, events in groups.moves.items():
            by_id = sorted(events, key=firsts.__getitem__)
            id_firsts, id_lasts = list(map(firsts.__getitem__, by_id)), list(map(lasts.__getitem__, by_id))
            if _disjoint(id_firsts, id_lasts):  # no two actions touch the same ITMOs: nothing to replay
                ledgers[key] = IntervalMap.from_sorted(id_firsts, id_lasts, by_id)
                continue
            ledger = ledgers[key] = IntervalMap()
            for i in events:
                if i in self._acquisitions:
                    self._acquire(ledger, i, rows[i])
                else:
                    self._move_out(ledger, i, rows[i], report=i not in twice)
        self._reconcile_holdings(ledgers, holdings, reporting_party, reported_year)

    def _event(self, i: int) -> Event:
        row = self._rows3[i]
        if i in self._acquisitions:
            return Event(False, i, row["ActionDateTime"], "acquired")
        return Event(True, i, row["ActionDateTime"], _CONSUMED.get(row["ActionType"], "transferred away"))

    def _acquire(self, ledger: IntervalMap[int], i: int, row: Row) -> None:
        """Mark the row's ITMOs held; used or cancelled ITMOs cannot come back, so their use came first."""
        when: datetime = row["ActionDateTime"]
        for a, b, k in ledger.overlapping(row["FirstID"], row["LastID"]):
            event = self._event(k)
            if event.gone and event.verb != "transferred away":
                self.emit(R.NOT_HELD, "T3", event.row, "FirstID",
                          f"ITMOs {_span(a, b)} were {event.verb} on {event.when.date().isoformat()}, before "
                          f"they were acquired on {when.date().isoformat()} (row {i + 1})")
                break
        ledger.assign(row["FirstID"], row["LastID"], i)

    def _move_out(self, ledger: IntervalMap[int], i: int, row: Row, *, report: bool) -> None:
        """Mark the row's ITMOs gone; report them if the ledger shows they were not held then."""
        kind = row["ActionType"]
        first, last = row["FirstID"], row["LastID"]
        when: datetime = row["ActionDateTime"]
        for a, b, k in ledger.overlapping(first, last) if report else ():
            event = self._event(k)
            if event.gone or event.when > when:
                state = (f"{event.verb} on {event.when.date().isoformat()} (row {event.row + 1})"
                         if event.gone else f"only acquired later, on {event.when.date().isoformat()} "
                         f"(row {event.row + 1})")
                self.emit(R.NOT_HELD, "T3", i, "FirstID",
                          f"{kind} on {when.date().isoformat()} of ITMOs {_span(a, b)} that were {state}")
                break
        ledger.assign(first, last, i)

    def _first_transfers(self, groups: dict[BlockKey, list[int]]) -> set[int]:
        """Each ITMO is first-transferred once, whatever the subtype: the rows that repeat one.

        A sweep over the blocks of each key in id order; of two overlapping first transfers the
        later-dated one is the repeat.
        """
        twice: set[int] = set()
        rows, firsts, lasts = self._rows3, self._firsts, self._lasts
        for indexes in groups.values():
            by_id = sorted(indexes, key=firsts.__getitem__)
            if _disjoint(list(map(firsts.__getitem__, by_id)), list(map(lasts.__getitem__, by_id))):
                continue
            blocks = sorted((firsts[i], lasts[i], rows[i]["ActionDateTime"], i) for i in indexes)
            reach = blocks[0]
            for block in blocks[1:]:
                if block[0] <= reach[1]:
                    earlier, later = sorted((reach, block), key=lambda b: (b[2], b[3]))
                    if later[3] not in twice:
                        twice.add(later[3])
                        self.emit(R.FIRST_TRANSFER_TWICE, "T3", later[3], "FirstID",
                                  f"ITMOs {_span(block[0], min(block[1], reach[1]))} were already "
                                  f"first-transferred by row {earlier[3] + 1}")
                if block[1] > reach[1]:
                    reach = block
        return twice

    def _reconcile_holdings(self, ledgers: dict[BlockKey, IntervalMap[int]], holdings: dict[BlockKey, list[int]],
                            party: str | None, year: int | None) -> None:
        held: dict[BlockKey, IntervalMap[int]] = {}
        rows = self.typed.rows["T4"]
        firsts, lasts = self._firsts4, self._lasts4
        acquisitions = self._acquisitions
        for key, indexes in holdings.items():
            by_id = sorted(indexes, key=firsts.__getitem__)
            id_firsts, id_lasts = list(map(firsts.__getitem__, by_id)), list(map(lasts.__getitem__, by_id))
            if _disjoint(id_firsts, id_lasts):
                held[key] = IntervalMap.from_sorted(id_firsts, id_lasts, by_id)
            else:
                held[key] = IntervalMap()
                for i in indexes:
                    held[key].assign(firsts[i], lasts[i], i)
            ledger = ledgers.get(key)
            if ledger is not None and all(map(acquisitions.__contains__, ledger.values())) and (
                    party is None or year is None or all(rows[i]["FirstTransferringPartyID"] == party
                                                         or rows[i]["Vintage"] < year for i in indexes)):
                continue  # nothing in this key was spent, and no holding needs explaining
            for i in indexes:
                row = rows[i]
                first, last = firsts[i], lasts[i]
                states = ledger.overlapping(first, last) if ledger is not None else []
                spent = next((s for s in states if s[2] not in acquisitions), None)
                if spent is not None:
                    a, b, event = spent[0], spent[1], self._event(spent[2])
                    self.emit(R.SPENT_STILL_HELD, "T4", i, "FirstID",
                              f"ITMOs {_span(a, b)} are held on 31 December but were {event.verb} on "
                              f"{event.when.date().isoformat()} (Table 3 row {event.row + 1})")
                elif (party is not None and year is not None and row["FirstTransferringPartyID"] != party
                      and row["Vintage"] >= year):
                    acquired = ledger if ledger is not None else IntervalMap[int]()
                    gap = acquired.gaps(first, last)
                    if gap:
                        self.emit(R.UNEXPLAINED_HOLDING, "T4", i, "FirstID",
                                  f"ITMOs {_span(*gap[0])} of {row['FirstTransferringPartyID']}, vintage "
                                  f"{row['Vintage']}, are held but Table 3 shows no acquisition of them")
        for key, ledger in ledgers.items():
            holding = held.get(key, IntervalMap[int]())
            if holding.covers(ledger) or not any(map(acquisitions.__contains__, ledger.values())):
                continue  # every range of the ledger is held, or none was acquired
            reported: set[int] = set()
            for a, b, k in ledger:
                if k not in acquisitions or k in reported:
                    continue
                gap = holding.gaps(a, b)
                if gap:
                    reported.add(k)
                    event = self._event(k)
                    self.emit(R.ACQUIRED_NOT_HELD, "T3", k, "FirstID",
                              f"ITMOs {_span(*gap[0])} acquired on {event.when.date().isoformat()} and not "
                              "transferred, used or cancelled afterwards are missing from Table 4")

    def _attributes(self, actions: dict[BlockKey, list[int]], holdings: dict[BlockKey, list[int]]) -> None:
        """Overlapping blocks of one approach, registry and first transferring Party must agree.

        T3 row ``i`` is item ``i``, T4 row ``j`` item ``len(T3) + j``; blocks are taken in the order
        (first id, last id, table, row).
        """
        n3 = len(self._rows3)
        firsts, lasts = self._firsts + self._firsts4, self._lasts + self._lasts4
        both = self._rows3 + self.typed.rows["T4"]
        groups: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        for key, indexes in actions.items():
            groups[key[:3]].extend(indexes)
        for key, indexes in holdings.items():
            groups[key[:3]].extend(n3 + j for j in indexes)
        for items in groups.values():
            if len(items) < 2:
                continue
            items.sort()
            items.sort(key=lasts.__getitem__)
            items.sort(key=firsts.__getitem__)
            if _disjoint(list(map(firsts.__getitem__, items)), list(map(lasts.__getitem__, items))):
                continue
            reach: tuple[int, int] | None = None  # (last id, item)
            for item in items:  # (the attributes are required fields, so a passed row holds them)
                if reach is not None and firsts[item] <= reach[0] and (
                        _attributes_of(both[reach[1]]) != _attributes_of(both[item])):
                    self._compare(*self._item(reach[1], n3), *self._item(item, n3))
                if reach is None or lasts[item] > reach[0]:
                    reach = (lasts[item], item)

    @staticmethod
    def _item(item: int, n3: int) -> tuple[str, int]:
        return ("T3", item) if item < n3 else ("T4", item - n3)

    def _compare(self, table_a: str, index_a: int, table_b: str, index_b: int) -> None:
        row_a: Any = self.typed.rows[table_a][index_a]
        row_b: Any = self.typed.rows[table_b][index_b]
        for cn in _ATTRIBUTES:
            if row_a.get(cn) != row_b.get(cn):
                self.emit(R.ATTRIBUTES_DIFFER, table_b, index_b, cn,
                          f"{cn} {row_b.get(cn)!r} differs from {row_a.get(cn)!r} in Table {table_a[1]} row "
                          f"{index_a + 1}, whose block overlaps this one")
                return
