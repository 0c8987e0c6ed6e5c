"""Layer 4, the cross-record rules: authorizations, entities, quantities, overlapping blocks, dates."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from standards.aef import rules as R
from standards.aef.tables import NA, Row
from standards.aef.validate._auth import AuthorizationRules, split_list
from standards.aef.validate._entities import OIMP_FIRST_TRANSFERS, EntityRules
from standards.aef.validate._ledger import (
    HOLDER_RULES,
    MOVING_KINDS,
    STAYING_SUBTYPES,
    BlockGroups,
    BlockKey,
    LedgerRules,
    block_key,
    column,
)
from standards.aef.validate._plans import same_party

#: T3 action types whose blocks may not overlap one another; the ledger replay checks the rest
#: (first transfers, uses and cancellations) in date order.
_ONCE_ONLY = ("Authorization",)


#: Stands for a JSON array or object where an ID belongs (a row that failed its types): it matches no ID.
_NOT_AN_ID = object()


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    return _NOT_AN_ID if value.__class__ in (list, dict) else value


class CrossRecordRules(LedgerRules, AuthorizationRules, EntityRules):
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
        if not joined:
            for rule in (R.AUTH_QUANTITY, R.BEFORE_AUTHORIZATION, R.METRIC_MISMATCH, R.TIMEFRAME_VINTAGE,
                         R.TIMEFRAME_ACTION, R.PARTY_NOT_AUTHORIZED):
                self.can_run(rule, "T2")
        submission = self.typed.submission
        party = submission.get("ParticipatingParty") if submission is not None else None
        year = submission.get("ReportedYear") if submission is not None else None
        self.start_authorizations(self.authorization_versions() if joined else {}, party)
        for rule in HOLDER_RULES:  # listed in the order the report names rules that could not run
            self.can_run(rule, "T1")
        in_year = self.can_run(R.REPORTED_YEAR, "T1") and submission is not None and year is not None
        roles = all([self.can_run(rule, "T1") for rule in (R.OTHER_PARTYS_ITMOS, R.ACQUISITION_FROM_SELF,
                                                           R.NDC_YEAR_OUTSIDE)])
        self.start_entities()
        groups = self._sweep_actions(listed if joined else None, party if roles and submission else None,
                                     year if in_year else None, year)
        holdings = self._sweep_holdings(listed if joined else None, year)
        self._overlaps(groups.by_key, holdings)
        self.ledger(groups, holdings, party, year)

    def _sweep_actions(self, listed: set[tuple[Any, Any]] | None, roles_of: str | None, year_of_actions: int | None,
                       replay_year: int | None) -> BlockGroups:
        """The one pass over the actions, in date order: the reported year, the authorization joins,
        the Party roles, and the ledger's groups (each ITMO block's actions in replay order)."""
        groups = BlockGroups()
        by_key, moves, first_transfers = groups.by_key, groups.moves, groups.first_transfers
        submission = self.typed.submission or {}
        ndc = (submission.get("FirstYearOfNDCPeriod"), submission.get("LastYearOfNDCPeriod"))
        rows = self.typed.rows["T3"]
        authorize, purposes, party = self.authorize_action, self.against_purposes, roles_of
        for i in self.actions_by_date():
            row = rows[i]
            kind, when, key = row["ActionType"], row["ActionDateTime"], block_key(row)
            if year_of_actions is not None and when.year != year_of_actions:
                self.emit(R.REPORTED_YEAR, "T3", i, "ActionDateTime",
                          f"action dated {when.date().isoformat()} is outside the reported year {year_of_actions}")
            if listed is not None:
                if (row["AuthorizationID"], row["CooperativeApproachID"]) not in listed:
                    self.emit(R.AUTH_UNKNOWN, "T3", i, "AuthorizationID",
                              f"authorization {row['AuthorizationID']!r} for {row['CooperativeApproachID']} "
                              "is not in Table 2")
                auth = authorize(i, row, when)
                # (an acquisition names no entity, NDC year or OIMP purpose: the conditional fields say NA)
                if auth is not None and kind != "Acquisition" and (
                        kind != "First transfer" or row["ActionSubtype"] in OIMP_FIRST_TRANSFERS):
                    purposes(i, row, auth)
            by_key[key].append(i)
            ndc_use = row.get("YearITMOUsedTowardsNDC").__class__ is int
            if kind == "First transfer":
                first_transfers[key].append(i)
                acquirer = row.get("AcquiringPartyID")
                if party is not None and (ndc_use or row["FirstTransferringPartyID"] != party or acquirer == party):
                    self._party_roles(i, row, party, ndc)
                moving = (row.get("ActionSubtype") not in STAYING_SUBTYPES and isinstance(acquirer, str)
                          and acquirer != NA and acquirer != party)
            elif kind == "Acquisition":
                if party is not None and (ndc_use or row.get("TransferringPartyID") == party):
                    self._party_roles(i, row, party, ndc)
                moving = True
            else:
                self.using_entity(i, row, when)
                if party is not None and ndc_use:
                    self._party_roles(i, row, party, ndc)
                moving = kind in MOVING_KINDS
            if not moving or (replay_year is not None and when.year > replay_year):
                continue
            if kind == "Acquisition":
                groups.acquisitions.add(i)
            moves[key].append(i)
        return groups

    def _sweep_holdings(self, listed: set[tuple[Any, Any]] | None, year: int | None) -> dict[BlockKey, list[int]]:
        """The one pass over the holdings: the authorization joins; the rows per block key."""
        rows = self.typed.rows["T4"]
        year_end = date(year, 12, 31) if year is not None else date.max
        holdings: dict[BlockKey, list[int]] = defaultdict(list)
        for i in self.passed["T4"]:
            row = rows[i]
            if listed is not None:
                if (row["AuthorizationID"], row["CooperativeApproachID"]) not in listed:
                    self.emit(R.AUTH_UNKNOWN, "T4", i, "AuthorizationID",
                              f"authorization {row['AuthorizationID']!r} for {row['CooperativeApproachID']} "
                              "is not in Table 2")
                self.authorize_holding(i, row, year_end)
            holdings[block_key(row)].append(i)
        return holdings

    def _party_roles(self, i: int, row: Row, party: str, ndc: tuple[Any, Any]) -> None:
        """First transfers, acquisitions and NDC uses against the reporting Party of Table 1."""
        kind = row["ActionType"]
        if kind == "First transfer":
            if row["FirstTransferringPartyID"] != party:
                self.emit(R.OTHER_PARTYS_ITMOS, "T3", i, "FirstTransferringPartyID",
                          f"{party} first-transfers ITMOs first transferred by "
                          f"{row['FirstTransferringPartyID']}: only that Party can first-transfer them")
        elif kind == "Acquisition" and row.get("TransferringPartyID") == party and not same_party(row):
            self.emit(R.ACQUISITION_FROM_SELF, "T3", i, "TransferringPartyID",
                      f"an acquisition by {party} from itself")
        used_for = row.get("YearITMOUsedTowardsNDC")
        start, end = ndc
        if (isinstance(used_for, int) and isinstance(start, int) and isinstance(end, int)
                and not start <= used_for <= end):
            self.emit(R.NDC_YEAR_OUTSIDE, "T3", i, "YearITMOUsedTowardsNDC",
                      f"used towards the NDC for {used_for}, outside the NDC period {start}-{end}")

    def _overlaps(self, actions: dict[BlockKey, list[int]], holdings: dict[BlockKey, list[int]]) -> None:
        """Blocks of one series (table, action type, block key) that may not overlap: T3's
        authorizations and T4's holdings."""
        kinds = column(self.typed.rows["T3"], "ActionType")
        for indexes in actions.values():
            once = [i for i in indexes if kinds[i] in _ONCE_ONLY]
            by_kind: dict[str, list[int]] = defaultdict(list)
            for i in once:
                by_kind[kinds[i]].append(i)
            for series in by_kind.values():
                self._series_overlaps("T3", sorted(series))
        for indexes in holdings.values():
            self._series_overlaps("T4", indexes)

    def _series_overlaps(self, table_id: str, indexes: list[int]) -> None:
        rows = self.typed.rows[table_id]
        blocks = sorted((rows[i]["FirstID"], rows[i]["LastID"], i) for i in indexes)
        if not any(map(int.__le__, [b[0] for b in blocks[1:]], [b[1] for b in blocks])):
            return  # each block ends before the next starts
        reach, reach_row = 0, -1
        for first, last, i in blocks:
            if first <= reach:
                self.emit(R.OVERLAP, table_id, i, "FirstID",
                          f"block {first}-{last} overlaps another block in this submission "
                          f"(row {reach_row + 1} of the same table reaches {reach})")
            if last > reach:
                reach, reach_row = last, i
