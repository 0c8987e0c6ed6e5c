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
_ATTRIBUTES = ("Vintage", "AuthorizationID", "Metric", "MitigationType")


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


def _event(phase: int, i: int, row: Row) -> Event:
    if phase == 0:
        return Event(False, i, row["ActionDateTime"], "acquired")
    return Event(True, i, row["ActionDateTime"], _CONSUMED.get(row["ActionType"], "transferred away"))


def _disjoint_ledger(events: list[tuple[int, int, Row]]) -> IntervalMap[Event] | None:
    """The ledger of one key straight from its actions when no two of them meet (else ``None``)."""
    by_id = sorted(events, key=lambda e: e[2]["FirstID"])
    firsts = [e[2]["FirstID"] for e in by_id]
    lasts = [e[2]["LastID"] for e in by_id]
    if any(map(int.__le__, firsts[1:], lasts)):  # a block starts at or before the previous one ends
        return None
    return IntervalMap.from_sorted(firsts, lasts, [_event(*e) for e in by_id])


class LedgerRules(RunState):
    """Layer 4: the ledger replay over T3 and its reconciliation with T4."""

    def ledger(self, reporting_party: str | None, reported_year: int | None) -> None:
        twice = self._first_transfers()
        self._attributes()
        # Holding is relative to the reporting Party: without Table 1 there is no holder to follow.
        holder = [self.can_run(rule, "T1") for rule in (R.NOT_HELD, R.SPENT_STILL_HELD, R.ACQUIRED_NOT_HELD,
                                                        R.UNEXPLAINED_HOLDING)]
        if not all(holder):
            return
        groups: dict[BlockKey, list[tuple[int, int, Row]]] = defaultdict(list)
        for phase, i, row in self._replay_order(reporting_party, reported_year):
            groups[block_key(row)].append((phase, i, row))
        ledgers: dict[BlockKey, IntervalMap[Event]] = {}
        for key, events in groups.items():
            disjoint = _disjoint_ledger(events)
            if disjoint is not None:  # no two actions touch the same ITMOs: nothing to replay
                ledgers[key] = disjoint
                continue
            ledger = ledgers[key] = IntervalMap()
            for phase, i, row in events:
                if phase == 0:
                    self._acquire(ledger, i, row)
                else:
                    self._move_out(ledger, i, row, report=i not in twice)
        self._reconcile_holdings(ledgers, reporting_party, reported_year)

    def _replay_order(self, party: str | None, year: int | None) -> list[tuple[int, int, Row]]:
        """The moving actions in date order: acquisitions first at one instant, then moves out."""
        events: list[tuple[datetime, int, int, Row]] = []
        rows = self.typed.rows["T3"]
        for i in self.actions_by_date():  # nearly sorted already: the sort below costs little
            row = rows[i]
            when: datetime = row["ActionDateTime"]
            if year is not None and when.year > year:
                continue
            kind = row["ActionType"]
            if kind == "Acquisition":
                events.append((when, 0, i, row))
            elif kind in _CONSUMED or kind == "Transfer" or self._first_transfer_moves(row, party):
                events.append((when, 1, i, row))
        events.sort(key=lambda e: (e[0], e[1], e[2]))
        return [(phase, i, row) for _, phase, i, row in events]

    @staticmethod
    def _first_transfer_moves(row: Row, party: str | None) -> bool:
        if row["ActionType"] != "First transfer" or row.get("ActionSubtype") in STAYING_SUBTYPES:
            return False
        acquirer = row.get("AcquiringPartyID")
        return isinstance(acquirer, str) and acquirer != "NA" and acquirer != party

    def _acquire(self, ledger: IntervalMap[Event], i: int, row: Row) -> None:
        """Mark the row's ITMOs held; used or cancelled ITMOs cannot come back, so their use came first."""
        when: datetime = row["ActionDateTime"]
        for a, b, event in ledger.overlapping(row["FirstID"], row["LastID"]):
            if event.gone and event.verb != "transferred away":
                self.emit(R.NOT_HELD, "T3", event.row, "FirstID",
                          f"ITMOs {_span(a, b)} were {event.verb} on {event.when.date().isoformat()}, before "
                          f"they were acquired on {when.date().isoformat()} (row {i + 1})")
                break
        ledger.assign(row["FirstID"], row["LastID"], Event(False, i, when, "acquired"))

    def _move_out(self, ledger: IntervalMap[Event], i: int, row: Row, *, report: bool) -> None:
        """Mark the row's ITMOs gone; report them if the ledger shows they were not held then."""
        kind = row["ActionType"]
        first, last = row["FirstID"], row["LastID"]
        when: datetime = row["ActionDateTime"]
        for a, b, event in ledger.overlapping(first, last) if report else ():
            if event.gone or event.when > when:
                state = (f"{event.verb} on {event.when.date().isoformat()} (row {event.row + 1})"
                         if event.gone else f"only acquired later, on {event.when.date().isoformat()} "
                         f"(row {event.row + 1})")
                self.emit(R.NOT_HELD, "T3", i, "FirstID",
                          f"{kind} on {when.date().isoformat()} of ITMOs {_span(a, b)} that were {state}")
                break
        ledger.assign(first, last, _event(1, i, row))

    def _first_transfers(self) -> set[int]:
        """Each ITMO is first-transferred once, whatever the subtype: the rows that repeat one.

        A sweep over the blocks of each key in id order; of two overlapping first transfers the
        later-dated one is the repeat.
        """
        twice: set[int] = set()
        groups: dict[BlockKey, list[tuple[int, int, datetime, int]]] = defaultdict(list)
        rows = self.typed.rows["T3"]
        for i in self.passed["T3"]:
            row = rows[i]
            if row["ActionType"] == "First transfer":
                groups[block_key(row)].append((row["FirstID"], row["LastID"], row["ActionDateTime"], i))
        for blocks in groups.values():
            blocks.sort()
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

    def _reconcile_holdings(self, ledgers: dict[BlockKey, IntervalMap[Event]], party: str | None,
                            year: int | None) -> None:
        held: dict[BlockKey, IntervalMap[int]] = defaultdict(IntervalMap)
        rows = self.typed.rows["T4"]
        for i in self.passed["T4"]:
            row = rows[i]
            key = block_key(row)
            first, last = row["FirstID"], row["LastID"]
            held[key].assign(first, last, i)
            ledger = ledgers.get(key)
            states = ledger.overlapping(first, last) if ledger is not None else []
            spent = next((s for s in states if s[2].gone), None)
            if spent is not None:
                a, b, event = spent
                self.emit(R.SPENT_STILL_HELD, "T4", i, "FirstID",
                          f"ITMOs {_span(a, b)} are held on 31 December but were {event.verb} on "
                          f"{event.when.date().isoformat()} (Table 3 row {event.row + 1})")
            elif (party is not None and year is not None and row["FirstTransferringPartyID"] != party
                  and row["Vintage"] >= year):
                acquired = ledger if ledger is not None else IntervalMap[Event]()
                gap = acquired.gaps(first, last)
                if gap:
                    self.emit(R.UNEXPLAINED_HOLDING, "T4", i, "FirstID",
                              f"ITMOs {_span(*gap[0])} of {row['FirstTransferringPartyID']}, vintage "
                              f"{row['Vintage']}, are held but Table 3 shows no acquisition of them")
        for key, ledger in ledgers.items():
            holdings = held.get(key, IntervalMap[int]())
            reported: set[int] = set()
            for a, b, event in ledger:
                if event.gone or event.row in reported:
                    continue
                gap = holdings.gaps(a, b)
                if gap:
                    reported.add(event.row)
                    self.emit(R.ACQUIRED_NOT_HELD, "T3", event.row, "FirstID",
                              f"ITMOs {_span(*gap[0])} acquired on {event.when.date().isoformat()} and not "
                              "transferred, used or cancelled afterwards are missing from Table 4")

    def _attributes(self) -> None:
        """Overlapping blocks of one approach, registry and first transferring Party must agree."""
        groups: dict[tuple[str, str, str], list[tuple[int, int, str, int]]] = defaultdict(list)
        for table_id in ("T3", "T4"):
            rows = self.typed.rows[table_id]
            for i in self.passed[table_id]:
                row = rows[i]
                groups[block_key(row)[:3]].append((row["FirstID"], row["LastID"], table_id, i))
        for blocks in groups.values():
            if len(blocks) < 2:
                continue
            blocks.sort()
            reach: tuple[int, str, int] | None = None
            for first, last, table_id, i in blocks:
                if reach is not None and first <= reach[0]:
                    self._compare(reach[1], reach[2], table_id, i)
                if reach is None or last > reach[0]:
                    reach = (last, table_id, i)

    def _compare(self, table_a: str, index_a: int, table_b: str, index_b: int) -> None:
        row_a: Any = self.typed.rows[table_a][index_a]
        row_b: Any = self.typed.rows[table_b][index_b]
        for cn in _ATTRIBUTES:
            if row_a.get(cn) != row_b.get(cn):
                self.emit(R.ATTRIBUTES_DIFFER, table_b, index_b, cn,
                          f"{cn} {row_b.get(cn)!r} differs from {row_a.get(cn)!r} in Table {table_a[1]} row "
                          f"{index_a + 1}, whose block overlaps this one")
                return
