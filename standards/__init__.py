"""carbonlink standards: the canonical model, UNFCCC AEF, CAD Trust and coded validation.

This is the SDK surface adapter authors import; everything listed in ``__all__`` is public: the
canonical model, findings and rule declaration, the codec base, ITMO identifiers, Party codes, registry
serial numbers, safe tabular (CSV/XLSX) reading and writing, safe input helpers, digests and errors.
"""

import typing as _typing

from standards._options import DEFAULT_OPTIONS, Options, OptionsContext, current_options, use_options
from standards.codec import (
    FormatCodec,
    Loss,
    Medium,
    ParseResult,
    RecordKind,
    SerializeResult,
    collect_losses,
    extra_losses,
)
from standards.digests import sha256_hex
from standards.errors import (
    CarbonlinkError,
    InputError,
    InputTooLarge,
    InvalidValue,
    LossyTranslation,
    MalformedInput,
    TranslationError,
    UnknownFormat,
    UnsafeInput,
    UnsupportedEncoding,
    ValidationFailed,
)
from standards.findings import (
    Finding,
    Layer,
    Location,
    Report,
    Rule,
    RuleCatalogue,
    RuleSpec,
    Severity,
    json_pointer,
    summarize,
)
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
from standards.parties import UnknownParty, alpha2_or_none, is_alpha3, party_name, to_alpha2, to_alpha3
from standards.safeio import decode_text, load_json, max_input_bytes, parse_xml, read_bytes
from standards.serials import (
    InvalidSerial,
    Serial,
    SerialBlockError,
    SerialCatalogue,
    SerialLayout,
    SerialLayoutError,
    SerialQuantityMismatch,
    UnknownSerialScheme,
    build_serial,
    default_catalogue,
    parse_serial,
)
from standards.tabular import (
    CsvRecord,
    UnwritableCell,
    XlsxWriter,
    iter_csv_records,
    iter_sheet_rows,
    read_csv_records,
    read_workbook,
    write_csv_bytes,
)

__all__ = [
    "DEFAULT_OPTIONS",
    "Action",
    "ActionType",
    "Authorization",
    "AuthorizedEntity",
    "BlockError",
    "CanonicalDocument",
    "CarbonlinkError",
    "CsvRecord",
    "Finding",
    "FormatCodec",
    "Holding",
    "InputError",
    "InputTooLarge",
    "InvalidItmoId",
    "InvalidSerial",
    "InvalidValue",
    "ItmoBlock",
    "ItmoId",
    "Layer",
    "Location",
    "Loss",
    "LossyTranslation",
    "MalformedInput",
    "Medium",
    "Metric",
    "Options",
    "OptionsContext",
    "ParseResult",
    "Project",
    "RecordKind",
    "Report",
    "Rule",
    "RuleCatalogue",
    "RuleSpec",
    "Serial",
    "SerialBlockError",
    "SerialCatalogue",
    "SerialLayout",
    "SerialLayoutError",
    "SerialQuantityMismatch",
    "SerializeResult",
    "Severity",
    "Submission",
    "TranslationError",
    "UnitBlock",
    "UnitStatus",
    "UnknownFormat",
    "UnknownParty",
    "UnknownSerialScheme",
    "UnsafeInput",
    "UnsupportedEncoding",
    "UnwritableCell",
    "ValidationFailed",
    "XlsxWriter",
    "alpha2_or_none",
    "build_serial",
    "collect_losses",
    "current_options",
    "decode_text",
    "default_catalogue",
    "extra_losses",
    "is_alpha3",
    "iter_csv_records",
    "iter_sheet_rows",
    "json_pointer",
    "load_json",
    "max_input_bytes",
    "parse_serial",
    "parse_xml",
    "party_name",
    "read_bytes",
    "read_csv_records",
    "read_workbook",
    "sha256_hex",
    "summarize",
    "to_alpha2",
    "to_alpha3",
    "use_options",
    "write_csv_bytes",
]


def __getattr__(name: str) -> _typing.Any:
    """``MessageKind``, the deprecated old name of ``RecordKind`` (see :mod:`standards.codec`)."""
    if name == "MessageKind":
        from standards import codec as _codec

        return _codec.MessageKind
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
