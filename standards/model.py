"""The canonical model: the carbon-market facts every format shares.

Every adapter translates to and from these classes (hub and spoke). Field meanings follow the
UNFCCC Common Nomenclature (CN) for Article 6.2 reporting; controlled values use the CN
spellings (``First transfer``, ``NDC and OIMP``), so AEF maps one-to-one and other formats map
through versioned vocabulary files. ``None`` means "not applicable" (the AEF's ``NA``) or
"not stated". Quantities are :class:`~decimal.Decimal`, serials integers where the format
allows, Parties ISO 3166-1 alpha-3.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from standards.itmo import ItmoBlock


class ActionType(StrEnum):
    """Actions reported under Article 6.2 (CN 25(b)), plus crediting-programme events."""

    AUTHORIZATION = "Authorization"
    FIRST_TRANSFER = "First transfer"
    TRANSFER = "Transfer"
    ACQUISITION = "Acquisition"
    USE = "Use"
    CANCELLATION = "Cancellation"
    VOLUNTARY_CANCELLATION = "Voluntary Cancellation"
    ISSUANCE = "Issuance"
    RETIREMENT = "Retirement"

    @property
    def is_article6(self) -> bool:
        return self not in (ActionType.ISSUANCE, ActionType.RETIREMENT)


class Metric(StrEnum):
    GHG = "GHG"
    NON_GHG = "non-GHG"


class UnitStatus(StrEnum):
    """Lifecycle status of a unit block across registries."""

    ISSUED = "issued"
    HELD = "held"
    PENDING = "pending"
    TRANSFERRED = "transferred"
    RETIRED = "retired"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    BUFFER = "buffer"
    INACTIVE = "inactive"
    REJECTED = "rejected"


Year = Annotated[int, Field(ge=1900, le=2100)]
Party = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
NonEmpty = Annotated[str, Field(min_length=1)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False, use_enum_values=False)

    #: Native fields the canonical model has no place for, kept so nothing is dropped silently.
    extra: dict[str, Any] = Field(default_factory=dict)


#: Block bounds under the names canonical JSON used before ``first_id``/``last_id``: still read.
_OLD_BOUND_NAMES = {"serial_first": "first_id", "serial_last": "last_id"}


def _old_bound_names(schema: dict[str, Any]) -> None:
    """List the old block-bound names in the JSON Schema too (deprecated), so old documents validate."""
    properties = schema.get("properties", {})
    for old, new in _OLD_BOUND_NAMES.items():
        if new in properties:
            properties[old] = {**properties[new], "title": f"{old} (old name of {new})", "deprecated": True}


class UnitBlock(_Record):
    """A block of serial-numbered units in one registry (a credit block or an ITMO's underlying units)."""

    model_config = ConfigDict(json_schema_extra=_old_bound_names)

    registry: str | None = None
    serial: str | None = None
    #: Block bounds: the first and last unit serial number of the block (AEF "First ID"/"Last ID").
    #: Documents written before the rename (``serial_first``/``serial_last``) are still read.
    first_id: int | None = Field(default=None, ge=0, validation_alias=AliasChoices("first_id", "serial_first"))
    last_id: int | None = Field(default=None, ge=0, validation_alias=AliasChoices("last_id", "serial_last"))
    quantity: Decimal | None = None
    vintage: Year | None = None
    unit_type: str | None = None
    status: UnitStatus | None = None
    status_date: date | None = None
    status_reason: str | None = None
    project_id: str | None = None
    project_name: str | None = None
    country: Party | None = None
    owner: str | None = None
    account: str | None = None
    beneficiary: str | None = None
    issuance_date: date | None = None
    itmo_reference: str | None = None
    corresponding_adjustment: str | None = None
    link: str | None = None

    @property
    def range_length(self) -> int | None:
        if self.first_id is None or self.last_id is None:
            return None
        return self.last_id - self.first_id + 1


class _ItmoHolding(_Record):
    """Fields shared by AEF T3 actions and T4 holdings."""

    cooperative_approach: str | None = None
    authorization_id: str | None = None
    first_transferring_party: str | None = None
    registry: str | None = None
    first_id: int | None = None
    last_id: int | None = None
    units: UnitBlock | None = None
    metric: Metric | None = None
    gwp_values: str | None = None
    non_ghg_metric: str | None = None
    quantity: Decimal | None = None
    quantity_non_ghg: Decimal | None = None
    mitigation_type: str | None = None
    vintage: int | None = None

    def itmo_block(self) -> ItmoBlock | None:
        """The ITMO block this record covers, when every identifier element is present."""
        if None in (self.cooperative_approach, self.registry, self.first_transferring_party,
                    self.vintage, self.first_id, self.last_id):
            return None
        return ItmoBlock(str(self.cooperative_approach), str(self.registry),
                         str(self.first_transferring_party), int(self.vintage or 0),
                         int(self.first_id or 0), int(self.last_id or 0))


class Action(_ItmoHolding):
    """One action on one block: an AEF T3 row, or a crediting-programme issuance/transfer/retirement."""

    action_type: ActionType
    subtype: str | None = None
    date: datetime
    transferring_party: str | None = None
    acquiring_party: str | None = None
    oimp_purpose: str | None = None
    using_party: str | None = None
    using_entity: str | None = None
    ndc_year: int | None = None
    consistency_check_result: str | None = None
    additional_information: str | None = None
    message_id: str | None = None


class Holding(_ItmoHolding):
    """ITMOs held on 31 December of the reported year (AEF T4)."""


class Authorization(_Record):
    """An authorization by the first transferring Party (AEF T2)."""

    authorization_id: NonEmpty
    date: date
    cooperative_approach: str
    version: int | None = None
    authorized_quantity: Decimal | None = None
    metric: Metric | None = None
    gwp_values: str | None = None
    non_ghg_metric: str | None = None
    sectors: str | None = None
    activity_types: str | None = None
    purposes: str | None = None
    authorized_parties: list[str] = Field(default_factory=list)
    authorized_entities: list[str] = Field(default_factory=list)
    oimp_authorized: str | None = None
    timeframe: str | None = None
    terms: str | None = None
    documentation: str | None = None
    first_transfer_definition: str | None = None
    additional_information: str | None = None


class AuthorizedEntity(_Record):
    """An entity a Party authorized to use or transfer ITMOs (AEF T5)."""

    authorization_date: date
    name: NonEmpty
    #: Country of incorporation (AEF T5), ISO 3166-1 alpha-3.
    country: Party | None = None
    entity_id: NonEmpty
    cooperative_approach: str
    conditions: str | None = None
    change_conditions: str | None = None
    additional_information: str | None = None


class Submission(_Record):
    """The reporting Party's submission header (AEF T1)."""

    party: str
    version: str = "1.0"
    reported_year: int
    submission_date: date
    review_status: str | None = None
    consistency_check_result: str | None = None
    ndc_first_year: int | None = None
    ndc_last_year: int | None = None
    ter_report_reference: str | None = None


class Project(_Record):
    """A mitigation project or activity as a crediting programme or registry records it."""

    registry: str | None = None
    project_id: NonEmpty
    name: str | None = None
    #: Host country, ISO 3166-1 alpha-3 (adapters read names through :mod:`standards.parties`).
    country: Party | None = None
    developer: str | None = None
    sector: str | None = None
    project_type: str | None = None
    methodology: str | None = None
    status: str | None = None
    status_date: date | None = None
    link: str | None = None
    description: str | None = None
    origin_registry: str | None = None
    origin_project_id: str | None = None


class CanonicalDocument(BaseModel):
    """Everything one input carried, in canonical form."""

    model_config = ConfigDict(extra="forbid")

    submission: Submission | None = None
    authorizations: list[Authorization] = Field(default_factory=list)
    actions: list[Action] = Field(default_factory=list)
    holdings: list[Holding] = Field(default_factory=list)
    authorized_entities: list[AuthorizedEntity] = Field(default_factory=list)
    projects: list[Project] = Field(default_factory=list)
    units: list[UnitBlock] = Field(default_factory=list)

    def record_count(self) -> int:
        return (int(self.submission is not None) + len(self.authorizations) + len(self.actions)
                + len(self.holdings) + len(self.authorized_entities) + len(self.projects)
                + len(self.units))

    def is_empty(self) -> bool:
        return self.record_count() == 0
