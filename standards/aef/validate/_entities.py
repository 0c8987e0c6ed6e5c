"""Layer 4, authorized entities and purposes: T3's using or cancelling entities against T5 and the
authorization in force, T2's entities against T5's cooperative approaches, and the actions'
purposes (NDC use, OIMP use, OIMP first transfers) against the purposes of the authorization."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from standards.aef import rules as R
from standards.aef.tables import NA, Row
from standards.aef.validate._auth import split_list
from standards.aef.validate._state import RunState

#: The T3 first-transfer subtypes of an OIMP first transfer (2/CMA.3 annex para 2(b)), as the T2
#: first transfer definition (Common Nomenclature Table 22(b)) writes each, case and spelling aside.
OIMP_FIRST_TRANSFERS = {"Authorization": "authorization", "Issuance": "issuance",
                        "Use or cancellation": "use or cancellation"}


def _definition(value: Any) -> str | None:
    return value.strip().casefold().replace("authorisation", "authorization") if isinstance(value, str) else None


def _given(value: Any) -> bool:
    return value is not None and value != NA and (not isinstance(value, str) or bool(value.strip()))


class EntityRules(RunState):
    """The entity and purpose rules; :meth:`start_entities` first, then per row in the action sweep."""

    def start_entities(self) -> None:
        """Index T5 (entity -> cooperative approach -> earliest date of authorization) and check T2's
        authorized entities against the approaches T5 lists them for."""
        self._entities: dict[str, dict[str, date]] = {}
        self._purpose_terms: dict[int, tuple[list[str], bool, bool, str, str | None]] = {}
        rows = self.typed.rows["T5"]
        for i in self.passed["T5"]:
            row = rows[i]
            approaches = self._entities.setdefault(row["AuthorizedEntityID"], {})
            when = row["DateOfAuthorization"]
            ca = row["CooperativeApproachID"]
            if ca not in approaches or when < approaches[ca]:
                approaches[ca] = when
        self._entities_known = self.can_run(R.ENTITY_NOT_LISTED, "T5")
        t2 = self.typed.rows["T2"]
        for i in self.passed["T2"]:
            row = t2[i]
            for entity in split_list(row.get("AuthorizedEntityIDs")):
                listed = self._entities.get(entity)
                if listed and row["CooperativeApproachID"] not in listed:
                    self.emit(R.ENTITY_APPROACH, "T2", i, "AuthorizedEntityIDs",
                              f"entity {entity!r} is authorized in T5 for {', '.join(sorted(listed))}, "
                              f"not for {row['CooperativeApproachID']}")

    def using_entity(self, i: int, row: Row, when: datetime) -> None:
        """A use or cancellation by an authorized entity against T5."""
        entity = row.get("Using/cancellingEntityID")
        if not isinstance(entity, str) or not _given(entity):
            return
        approaches = self._entities.get(entity)
        ca = row["CooperativeApproachID"]
        if approaches is None:
            if self._entities_known:
                self.emit(R.ENTITY_NOT_LISTED, "T3", i, "Using/cancellingEntityID",
                          f"entity {entity!r} is not listed in Table 5 (authorized entities)")
        elif ca not in approaches:
            self.emit(R.ENTITY_APPROACH, "T3", i, "Using/cancellingEntityID",
                      f"entity {entity!r} is authorized in T5 for {', '.join(sorted(approaches))}, not for {ca}")
        elif approaches[ca] > when.date():
            self.emit(R.ENTITY_BEFORE_AUTHORIZATION, "T3", i, "ActionDateTime",
                      f"{row['ActionType']} by {entity!r} on {when.date().isoformat()}, before T5 dates its "
                      f"authorization for {ca} ({approaches[ca].isoformat()})")

    def against_purposes(self, i: int, row: Row, auth: Row) -> None:
        """One action against the entities and purposes of the authorization version in force."""
        terms = self._purpose_terms.get(id(auth))
        if terms is None:
            purpose = auth.get("PurposeForAuthorization")
            terms = self._purpose_terms[id(auth)] = (
                split_list(auth.get("AuthorizedEntityIDs")),
                not isinstance(purpose, str) or "NDC" in purpose.split(" and "),
                not isinstance(purpose, str) or purpose != "NDC",
                str(purpose), _definition(auth.get("FirstTransferDefnForOIMP")))
        named, for_ndc, for_oimp, purpose, definition = terms
        entity = row.get("Using/cancellingEntityID")
        if named and _given(entity) and entity not in named:
            self.emit(R.ENTITY_NOT_IN_AUTHORIZATION, "T3", i, "Using/cancellingEntityID",
                      f"entity {entity!r} is not among the entities authorization {row['AuthorizationID']!r} "
                      f"names ({', '.join(named)})")
        if not for_ndc and row.get("YearITMOUsedTowardsNDC").__class__ is int:
            self.emit(R.NDC_USE_NOT_AUTHORIZED, "T3", i, "YearITMOUsedTowardsNDC",
                      f"used towards the NDC, but authorization {row['AuthorizationID']!r} is for {purpose} only")
        if not for_oimp and _given(row.get("PurposeITMOUsedForOIMP")):
            self.emit(R.OIMP_USE_NOT_AUTHORIZED, "T3", i, "PurposeITMOUsedForOIMP",
                      f"{row['ActionType']} for {row['PurposeITMOUsedForOIMP']!r}, but authorization "
                      f"{row['AuthorizationID']!r} is for NDC use only")
        subtype = row.get("ActionSubtype")
        if row["ActionType"] == "First transfer" and subtype in OIMP_FIRST_TRANSFERS:
            if not for_oimp:
                self.emit(R.FIRST_TRANSFER_DEFINITION, "T3", i, "ActionSubtype",
                          f"an OIMP first transfer ({subtype}) under authorization {row['AuthorizationID']!r}, "
                          "which is for NDC use only (its first transfer is the first international transfer)")
            elif definition not in (None, "na") and definition != OIMP_FIRST_TRANSFERS[subtype]:
                self.emit(R.FIRST_TRANSFER_DEFINITION, "T3", i, "ActionSubtype",
                          f"first transfer on {subtype.lower()}, but authorization {row['AuthorizationID']!r} "
                          f"defines the first transfer as {auth.get('FirstTransferDefnForOIMP')!r}")
