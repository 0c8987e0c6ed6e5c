"""Layer 4, the cross-record rules: authorizations, entities, quantities, overlapping blocks, dates."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from standards.aef import rules as R
from standards.aef.tables import Row
from standards.aef.validate._auth import AuthorizationRules, split_list
from standards.aef.validate._ledger import STAYING_SUBTYPES, LedgerRules

#: T3 action types whose blocks may not overlap one another; the ledger replay checks the rest
#: (first transfers, uses and cancellations) in date order.
_ONCE_ONLY = ("Authorization",)


def _clean(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class CrossRecordRules(LedgerRules, AuthorizationRules):
    """The rules that need a whole submission; they run on the rows that passed every row layer."""

    def cross_records(self) -> None:
        t2 = [(i, self.typed.rows["T2"][i]) for i in self.passed["T2"]]
        auths: dict[str, Row] = {}
        seen_versions: set[tuple[str, Any]] = set()
        for i, row in t2:
            key = (row["AuthorizationID"], row.get("AuthorizationVersion"))
            if key in seen_versions:
                self.emit(R.AUTH_DUPLICATE, "T2", i, "AuthorizationID",
                          f"authorization {key[0]!r} version {key[1]} is reported twice")
            seen_versions.add(key)
            auths[row["AuthorizationID"]] = row
        approaches = {_clean(row.get("CooperativeApproachID")) for row in self.tables.rows["T2"]}
        entities = {row["AuthorizedEntityID"] for row in self.typed.rows["T5"] if row is not None}
        entities_known = not any(split_list(row.get("AuthorizedEntityIDs")) for _, row in t2) or \
            self.can_run(R.ENTITY_UNKNOWN, "T5")
        for i, row in t2 if entities_known else ():
            for entity in split_list(row.get("AuthorizedEntityIDs")):
                if entity not in entities:
                    self.emit(R.ENTITY_UNKNOWN, "T2", i, "AuthorizedEntityIDs",
                              f"authorized entity {entity!r} is not listed in Table 5")
        for i in self.passed["T5"] if self.can_run(R.T5_CA_UNKNOWN, "T2") else ():
            ca = self.typed.rows["T5"][i]["CooperativeApproachID"]
            if ca not in approaches:
                self.emit(R.T5_CA_UNKNOWN, "T5", i, "CooperativeApproachID",
                          f"cooperative approach {ca} has no authorization in Table 2")
        # A T2 row that failed its own checks is still listed: actions using it are not "not in Table 2".
        listed = {(_clean(r.get("AuthorizationID")), _clean(r.get("CooperativeApproachID")))
                  for r in self.tables.rows["T2"]}
        joined = not (self.passed["T3"] or self.passed["T4"]) or self.can_run(R.AUTH_UNKNOWN, "T2")
        for table_id in ("T3", "T4") if joined else ():
            for i in self.passed[table_id]:
                row = self.typed.rows[table_id][i]
                if (row["AuthorizationID"], row["CooperativeApproachID"]) not in listed:
                    self.emit(R.AUTH_UNKNOWN, table_id, i, "AuthorizationID",
                              f"authorization {row['AuthorizationID']!r} for {row['CooperativeApproachID']} "
                              "is not in Table 2")
        submission = self.typed.submission
        party = submission.get("ParticipatingParty") if submission is not None else None
        year = submission.get("ReportedYear") if submission is not None else None
        if joined:
            self.authorized_actions(self.authorization_versions(), year, party)
        else:
            for rule in (R.AUTH_QUANTITY, R.BEFORE_AUTHORIZATION, R.METRIC_MISMATCH, R.TIMEFRAME_VINTAGE,
                         R.TIMEFRAME_ACTION, R.PARTY_NOT_AUTHORIZED):
                self.can_run(rule, "T2")
        self._overlaps()
        self.ledger(party, year)
        self._reported_year()
        if all([self.can_run(rule, "T1") for rule in (R.OTHER_PARTYS_ITMOS, R.FIRST_TRANSFER_TO_SELF,
                                                      R.ACQUISITION_FROM_SELF, R.NDC_YEAR_OUTSIDE)]):
            self._party_roles(party, submission)

    def _party_roles(self, party: str | None, submission: Row | None) -> None:
        """First transfers, acquisitions and NDC uses against the reporting Party of Table 1."""
        if party is None or submission is None:
            return
        start, end = submission.get("FirstYearOfNDCPeriod"), submission.get("LastYearOfNDCPeriod")
        rows = self.typed.rows["T3"]
        for i in self.passed["T3"]:
            row = rows[i]
            kind = row["ActionType"]
            if kind == "First transfer":
                if row["FirstTransferringPartyID"] != party:
                    self.emit(R.OTHER_PARTYS_ITMOS, "T3", i, "FirstTransferringPartyID",
                              f"{party} first-transfers ITMOs first transferred by "
                              f"{row['FirstTransferringPartyID']}: only that Party can first-transfer them")
                elif row.get("AcquiringPartyID") == party and row.get("ActionSubtype") not in STAYING_SUBTYPES:
                    self.emit(R.FIRST_TRANSFER_TO_SELF, "T3", i, "AcquiringPartyID",
                              f"a first transfer by {party} to itself")
            elif kind == "Acquisition" and row.get("TransferringPartyID") == party:
                self.emit(R.ACQUISITION_FROM_SELF, "T3", i, "TransferringPartyID",
                          f"an acquisition by {party} from itself")
            used_for = row.get("YearITMOUsedTowardsNDC")
            if (isinstance(used_for, int) and isinstance(start, int) and isinstance(end, int)
                    and not start <= used_for <= end):
                self.emit(R.NDC_YEAR_OUTSIDE, "T3", i, "YearITMOUsedTowardsNDC",
                          f"used towards the NDC for {used_for}, outside the NDC period {start}-{end}")

    def _overlaps(self) -> None:
        groups: dict[tuple[Any, ...], list[tuple[int, int, str, int]]] = defaultdict(list)
        for table_id in ("T3", "T4"):
            for i in self.passed[table_id]:
                row = self.typed.rows[table_id][i]
                kind = row.get("ActionType", "holding")
                if table_id == "T3" and kind not in _ONCE_ONLY:
                    continue
                series = (table_id, kind, row["CooperativeApproachID"], row["PartyITMORegistryID"],
                          row["FirstTransferringPartyID"], row["Vintage"])
                groups[series].append((row["FirstID"], row["LastID"], table_id, i))
        for blocks in groups.values():
            blocks.sort()
            reach, reach_row = 0, -1
            for first, last, table_id, i in blocks:
                if first <= reach:
                    self.emit(R.OVERLAP, table_id, i, "FirstID",
                              f"block {first}-{last} overlaps another block in this submission "
                              f"(row {reach_row + 1} of the same table reaches {reach})")
                if last > reach:
                    reach, reach_row = last, i

    def _reported_year(self) -> None:
        submission = self.typed.submission
        if not self.can_run(R.REPORTED_YEAR, "T1") or submission is None:
            return
        year = submission.get("ReportedYear")
        for i in self.passed["T3"]:
            when: datetime = self.typed.rows["T3"][i]["ActionDateTime"]
            if year is not None and when.year != year:
                self.emit(R.REPORTED_YEAR, "T3", i, "ActionDateTime",
                          f"action dated {when.date().isoformat()} is outside the reported year {year}")
