"""The state of one validation run: the input, the typed rows, the rows that passed, the findings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from itertools import islice, repeat
from operator import eq
from typing import Any

from standards.aef.tables import TABLE_IDS, AefTables, Row
from standards.aef.vocab import Nomenclature
from standards.findings import Finding, Rule, Severity

#: How far ahead of the validating clock an action may be dated (clock skew between registries).
CLOCK_SKEW = timedelta(days=1)


class RunState:
    """State of one validation run: the input, typed rows and the findings so far."""

    def __init__(self, tables: AefTables, nomenclature: Nomenclature,
                 severities: Mapping[str, Severity] | None = None, *, lenient: bool = False) -> None:
        self.tables = tables
        self.lenient = lenient
        self.severities: Mapping[str, Severity] = severities or {}
        self.nomenclature = nomenclature
        self.findings: list[Finding] = []
        self.typed = AefTables(origins=tables.origins)
        self.passed: dict[str, list[int]] = {t: [] for t in TABLE_IDS}
        self.not_run: list[Rule] = []
        self._not_run_ids: set[str] = set()  # the ids of ``not_run``, to look a rule up without comparing rules
        self._by_date: list[int] | None = None
        #: Actions dated after this are in the future (``AEF.T3.ACTION_IN_FUTURE``).
        self.horizon = datetime.now(UTC) + CLOCK_SKEW

    def actions_by_date(self) -> list[int]:
        """The T3 rows that passed every row layer, in date order; within one instant acquisitions
        come first (units arrive before they can leave), then row order."""
        if self._by_date is None:
            typed = self.typed.rows["T3"]
            rows: list[Row] = typed if None not in typed else [row or {} for row in typed]
            dates: list[Any] = list(map(dict.get, rows, repeat("ActionDateTime")))
            order = sorted(self.passed["T3"], key=dates.__getitem__)
            ordered = list(map(dates.__getitem__, order))
            if any(map(eq, ordered, islice(ordered, 1, None))):  # shared instants: acquisitions first
                order.sort(key=lambda i: (dates[i], rows[i]["ActionType"] != "Acquisition"))
            self._by_date = order
        return self._by_date

    def can_run(self, rule: Rule, *needs: str) -> bool:
        """Whether the input holds the tables ``rule`` joins; if not, the rule is listed as not run.

        A whole submission (one with Table 1) holds every table, even an empty one: an empty
        Table 2 then says there are no authorizations. A partial input (no Table 1) holds only
        the tables it has rows in.
        """
        if self.tables.submission is not None:  # a whole submission holds every table
            return True
        rows = self.tables.rows
        for t in needs:
            if t == "T1" or not rows[t]:
                break
        else:
            return True
        if rule.id not in self._not_run_ids:
            self._not_run_ids.add(rule.id)
            self.not_run.append(rule)
        return False

    def emit(self, rule: Rule, table_id: str, index: int, cn: str | None, message: str,
             cause: object | None = None) -> None:
        self.findings.append(rule.finding(message, self.tables.location(table_id, index, cn), cause=cause,
                                          severity=self.severities.get(rule.id)))
