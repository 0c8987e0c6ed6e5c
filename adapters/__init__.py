"""carbonlink adapters: registry formats <-> the canonical model, found through the adapter catalogue.

Together with :mod:`standards`, this is everything an adapter author imports: the contract
(:class:`RegistryAdapter` and the optional :class:`RuleSource` and :class:`StreamingAdapter`), the
catalogue, translation, and the kit the built-in registry-export adapters are made of
(:class:`CsvExportAdapter` with its layouts, row findings and value readers).
"""

import typing as _typing

from adapters._catalog import BUILTIN_ADAPTERS, GROUP, AdapterCatalog, check_adapter, default_catalog
from adapters._options import DEFAULT_OPTIONS, Options, current_options, use_options
from adapters._rules import RuleDeclarer, rule_declarer
from adapters._streams import as_binary_stream, byte_chunks
from adapters.errors import AdapterError, AdapterLoadError, NoSuchAdapter
from adapters.protocol import ByteStream, RecordKind, RegistryAdapter, RuleSource, StreamingAdapter
from adapters.registry_exports import (
    CsvExportAdapter,
    ExportFile,
    Record,
    RowFindings,
    RowMapper,
    check_serial,
    country_from_name,
    country_name,
    declare_common_rules,
    header_key,
    iso_date,
    keep_native,
    max_stream_bytes,
    native_or,
    other_record_losses,
    parse_date,
    parse_quantity,
    read_date,
    render_quantity,
    same_date,
    same_quantity,
)
from adapters.translate import Translation, translate

__all__ = [
    "BUILTIN_ADAPTERS",
    "DEFAULT_OPTIONS",
    "GROUP",
    "AdapterCatalog",
    "AdapterError",
    "AdapterLoadError",
    "ByteStream",
    "CsvExportAdapter",
    "ExportFile",
    "NoSuchAdapter",
    "Options",
    "Record",
    "RecordKind",
    "RegistryAdapter",
    "RowFindings",
    "RowMapper",
    "RuleDeclarer",
    "RuleSource",
    "StreamingAdapter",
    "Translation",
    "as_binary_stream",
    "byte_chunks",
    "check_adapter",
    "check_serial",
    "country_from_name",
    "country_name",
    "current_options",
    "declare_common_rules",
    "default_catalog",
    "header_key",
    "iso_date",
    "keep_native",
    "max_stream_bytes",
    "native_or",
    "other_record_losses",
    "parse_date",
    "parse_quantity",
    "read_date",
    "render_quantity",
    "rule_declarer",
    "same_date",
    "same_quantity",
    "translate",
    "use_options",
]


def __getattr__(name: str) -> _typing.Any:
    """``MessageKind``, the deprecated old name of ``RecordKind`` (see :mod:`standards.codec`)."""
    if name == "MessageKind":
        from standards import codec as _codec

        return _codec.MessageKind
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
