"""carbonlink standards: the canonical model, UNFCCC AEF, CAD Trust and coded validation.

This is the SDK surface adapter authors import; everything listed in ``__all__`` is public.
"""

from standards.codec import FormatCodec, Loss, Medium, MessageKind, ParseResult, SerializeResult
from standards.errors import (
    CarbonlinkError,
    InputError,
    InputTooLarge,
    LossyTranslation,
    MalformedInput,
    TranslationError,
    UnknownFormat,
    UnsafeInput,
    UnsupportedEncoding,
    ValidationFailed,
)
from standards.findings import Finding, Layer, Location, Report, Rule, RuleCatalogue, Severity
from standards.itmo import BlockError, InvalidItmoId, ItmoBlock, ItmoId
from standards.model import (
    Action,
    ActionType,
    Authorization,
    AuthorizedEntity,
    CanonicalDocument,
    Holding,
    Metric,
    Project,
    Submission,
    UnitBlock,
    UnitStatus,
)
from standards.parties import UnknownParty, to_alpha2, to_alpha3

__all__ = [
    "Action",
    "ActionType",
    "Authorization",
    "AuthorizedEntity",
    "BlockError",
    "CanonicalDocument",
    "CarbonlinkError",
    "Finding",
    "FormatCodec",
    "Holding",
    "InputError",
    "InputTooLarge",
    "InvalidItmoId",
    "ItmoBlock",
    "ItmoId",
    "Layer",
    "Location",
    "Loss",
    "LossyTranslation",
    "MalformedInput",
    "Medium",
    "MessageKind",
    "Metric",
    "ParseResult",
    "Project",
    "Report",
    "Rule",
    "RuleCatalogue",
    "SerializeResult",
    "Severity",
    "Submission",
    "TranslationError",
    "UnitBlock",
    "UnitStatus",
    "UnknownFormat",
    "UnknownParty",
    "UnsafeInput",
    "UnsupportedEncoding",
    "ValidationFailed",
    "to_alpha2",
    "to_alpha3",
]
