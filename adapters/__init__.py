"""carbonlink adapters: registry formats <-> the canonical model, found through the adapter catalogue."""

from adapters._catalog import BUILTIN_ADAPTERS, GROUP, AdapterCatalog, check_adapter, default_catalog
from adapters.errors import AdapterError, AdapterLoadError, NoSuchAdapter
from adapters.protocol import ByteStream, MessageKind, RegistryAdapter, RuleSource, StreamingAdapter
from adapters.translate import Translation, translate

__all__ = [
    "BUILTIN_ADAPTERS",
    "GROUP",
    "AdapterCatalog",
    "AdapterError",
    "AdapterLoadError",
    "ByteStream",
    "MessageKind",
    "NoSuchAdapter",
    "RegistryAdapter",
    "RuleSource",
    "StreamingAdapter",
    "Translation",
    "check_adapter",
    "default_catalog",
    "translate",
]
