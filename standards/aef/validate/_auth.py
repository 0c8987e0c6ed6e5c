"""Layer 4, authorizations over their versions: the T2 version in force at each action's date.

An authorization may be reported in several versions (``AuthorizationVersion``, each with its
``DateOfAuthorization``). An action is judged against the latest version dated on or before the
action, whatever order the T2 rows come in: its quantity cap, authorized timeframe, authorized
Parties and metric.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from standards.aef import rules as R
from standards.aef.tables import NA, Row
from standards.aef.validate._state import RunState
from standards.parties import is_alpha3

_TIMEFRAME = re.compile(r"^\s*(\d{4})\s*-\s*(\d{4})\s*$")


def split_list(value: Any) -> list[str]:
    """The items of a comma-separated list field (none for blank or NA)."""
    if value is None or value == NA:
        return []
    return [p.strip() for p in str(value).split(",") if p.strip()]


def timeframe(value: Any) -> tuple[int, int] | None:
    """The years of an authorized timeframe ``YYYY - YYYY`` (Common Nomenclature Table 20), if it is one."""
    m = _TIMEFRAME.match(value) if isinstance(value, str) else None
    return (int(m[1]), int(m[2])) if m else None


class Versions:
    """The versions of one authorization, by date of authorization then version number."""

    def __init__(self, rows: list[tuple[date, Any, Row]]) -> None:
        rows.sort(key=lambda r: (r[0], r[1] if isinstance(r[1], int) else 0))
        self.dates = [d for d, _, _ in rows]
        self.rows = [row for _, _, row in rows]
        self.approach = self.rows[0]["CooperativeApproachID"]
        #: whether a version caps the quantity (else first transfers need not be added up)
        self.capped = any(isinstance(row.get("AuthorizedQuantity"), Decimal | int) for row in self.rows)

    def in_force(self, when: date) -> Row | None:
        """The latest version dated on or before ``when`` (``None`` before the first one)."""
        if len(self.dates) == 1:
            return self.rows[0] if when >= self.dates[0] else None
        k = bisect_right(self.dates, when)
        return self.rows[k - 1] if k else None


class AuthorizationRules(RunState):
    """The rules that follow each action to the authorization version in force at its date."""

    def authorization_versions(self) -> dict[str, Versions]:
        grouped: dict[str, list[tuple[date, Any, Row]]] = defaultdict(list)
        for i in self.passed["T2"]:
            row = self.typed.rows["T2"][i]
            grouped[row["AuthorizationID"]].append(
                (row["DateOfAuthorization"], row.get("AuthorizationVersion"), row))
        return {auth_id: Versions(rows) for auth_id, rows in grouped.items()}

    def start_authorizations(self, versions: dict[str, Versions], reporting_party: str | None) -> None:
        """Ready :meth:`authorize_action` and :meth:`authorize_holding` for one run."""
        self._versions = versions
        self._reporting_party = reporting_party
        self._terms: dict[int, tuple[tuple[int, int] | None, list[str]]] = {}
        self._used: dict[str, Decimal] = defaultdict(Decimal)
        self._over: set[int] = set()

    def authorize_action(self, i: int, row: Row, when: datetime) -> Row | None:
        """One T3 row against its authorization's version in force (called in date order, so the
        quantity first-transferred under each authorization adds up as it happened; a first
        transfer to the reporting Party itself is left to ``AEF.PARTY.FIRST_TRANSFER_TO_SELF``)."""
        history = self._versions.get(row["AuthorizationID"])
        if history is None or history.approach != row["CooperativeApproachID"]:
            return None
        auth = history.in_force(when.date())
        if auth is None:
            self.emit(R.BEFORE_AUTHORIZATION, "T3", i, "ActionDateTime",
                      f"{row['ActionType']} on {when.date().isoformat()} is before authorization "
                      f"{row['AuthorizationID']!r} was given on {history.dates[0].isoformat()}")
            return None
        self._against_version("T3", i, row, auth, when, self._reporting_party)
        if history.capped and row["ActionType"] == "First transfer":
            cap = auth.get("AuthorizedQuantity")
            total = self._used[row["AuthorizationID"]] = self._used[row["AuthorizationID"]] + row["QuantityCO2"]
            if isinstance(cap, Decimal | int) and total > cap and id(auth) not in self._over:
                self._over.add(id(auth))
                self.emit(R.AUTH_QUANTITY, "T3", i, "QuantityCO2",
                          f"first transfers under {row['AuthorizationID']!r} reach {total} on "
                          f"{when.date().isoformat()}, over the {cap} of version "
                          f"{auth.get('AuthorizationVersion')} in force then")
        return auth

    def authorize_holding(self, i: int, row: Row, year_end: date) -> None:
        """One T4 row against its authorization's version in force on 31 December."""
        history = self._versions.get(row["AuthorizationID"])
        auth = history.in_force(year_end) if history is not None else None
        if auth is not None and auth["CooperativeApproachID"] == row["CooperativeApproachID"]:
            self._against_version("T4", i, row, auth, None, None)

    def _against_version(self, table_id: str, i: int, row: Row, auth: Row, when: datetime | None,
                         reporting_party: str | None) -> None:
        terms = self._terms.get(id(auth))
        if terms is None:
            terms = self._terms[id(auth)] = (timeframe(auth.get("AuthorizedTimeframe")),
                                             split_list(auth.get("AuthorizedPartyIDs")))
        years, parties = terms
        if years is not None and years[0] <= row["Vintage"] <= years[1] and row["Metric"] == auth["Metric"] and (
                when is None or years[0] <= when.year <= years[1]) and (
                not parties or row.get("ActionType") != "First transfer" or row.get("AcquiringPartyID") in parties):
            return  # the common case: everything within the authorization
        if row["Metric"] != auth["Metric"]:
            self.emit(R.METRIC_MISMATCH, table_id, i, "Metric",
                      f"metric {row['Metric']!r} but authorization {row['AuthorizationID']!r} "
                      f"(version {auth.get('AuthorizationVersion')}) authorizes {auth['Metric']!r}")
        if years is not None:
            if not years[0] <= row["Vintage"] <= years[1]:
                self.emit(R.TIMEFRAME_VINTAGE, table_id, i, "Vintage",
                          f"vintage {row['Vintage']} is outside the authorized timeframe {years[0]}-{years[1]}")
            elif when is not None and not years[0] <= when.year <= years[1]:
                self.emit(R.TIMEFRAME_ACTION, table_id, i, "ActionDateTime",
                          f"action dated {when.date().isoformat()} is outside the authorized timeframe "
                          f"{years[0]}-{years[1]}")
        if table_id == "T3" and row["ActionType"] == "First transfer":
            acquirer = row.get("AcquiringPartyID")
            if (parties and isinstance(acquirer, str) and is_alpha3(acquirer) and acquirer not in parties
                    and acquirer != reporting_party):
                self.emit(R.PARTY_NOT_AUTHORIZED, "T3", i, "AcquiringPartyID",
                          f"first transfer to {acquirer}, but authorization {row['AuthorizationID']!r} "
                          f"names only {', '.join(parties)}")
