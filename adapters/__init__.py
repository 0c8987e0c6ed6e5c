"""carbonlink adapters: registry formats <-> the canonical model, found through entry points."""

from adapters.errors import AdapterError, AdapterLoadError, NoSuchAdapter
from adapters.protocol import MessageKind, RegistryAdapter, StreamingAdapter
from adapters.registry import GROUP, AdapterRegistry, check_adapter, default_registry
from adapters.translate import Translation, translate

__all__ = [
    "GROUP",
    "AdapterError",
    "AdapterLoadError",
    "AdapterRegistry",
    "MessageKind",
    "NoSuchAdapter",
    "RegistryAdapter",
    "StreamingAdapter",
    "Translation",
    "check_adapter",
    "default_registry",
    "translate",
]
