"""Finding adapters through the ``carbonlink.adapters`` entry point group.

Built-in and third-party adapters load the same way. A plugin that fails to import, has the
wrong shape or reuses a name is reported with its name and left out; the others still load.
``CARBONLINK_ADAPTERS=a,b`` limits which are loaded.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points

from adapters.errors import AdapterLoadError, NoSuchAdapter
from adapters.protocol import RegistryAdapter

GROUP = "carbonlink.adapters"
_METHODS = ("parse", "serialize", "validate")
_ATTRIBUTES = ("name", "version", "description", "reads", "writes", "media")


def check_adapter(obj: object, entry_name: str) -> RegistryAdapter:
    """Validate a loaded object against the :class:`RegistryAdapter` contract."""
    missing = [a for a in _ATTRIBUTES + _METHODS if not hasattr(obj, a)]
    if missing:
        raise AdapterLoadError(entry_name, f"missing {', '.join(missing)}")
    for method in _METHODS:
        func = getattr(obj, method)
        if not callable(func):
            raise AdapterLoadError(entry_name, f"{method} is not callable")
        try:
            sig = inspect.signature(func)
        except (TypeError, ValueError):
            continue
        params = list(sig.parameters.values())
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        if len(positional) != 1 or "medium" not in sig.parameters:
            raise AdapterLoadError(entry_name,
                                   f"{method}{sig} does not match {method}(data, *, medium)")
    name: object = getattr(obj, "name", None)
    if not isinstance(name, str) or not name:
        raise AdapterLoadError(entry_name, "name must be a non-empty string")
    assert isinstance(obj, RegistryAdapter)
    return obj


@dataclass
class AdapterRegistry:
    """Adapters by name, plus the problems met while loading them."""

    adapters: dict[str, RegistryAdapter] = field(default_factory=dict)
    distributions: dict[str, str] = field(default_factory=dict)
    problems: list[AdapterLoadError] = field(default_factory=list)

    def register(self, adapter: RegistryAdapter, *, distribution: str = "", entry_name: str = "") -> None:
        checked = check_adapter(adapter, entry_name or getattr(adapter, "name", "?"))
        if checked.name in self.adapters:
            raise AdapterLoadError(entry_name or checked.name, f"duplicate adapter name {checked.name!r}")
        self.adapters[checked.name] = checked
        self.distributions[checked.name] = distribution

    def load_entry_points(self, eps: Iterable[EntryPoint]) -> None:
        wanted = _wanted()
        for ep in sorted(eps, key=lambda e: e.name):
            if wanted is not None and ep.name not in wanted:
                continue
            dist = ep.dist.name if ep.dist is not None else ""
            try:
                obj = ep.load()
                self.register(obj, distribution=dist, entry_name=ep.name)
            except AdapterLoadError as exc:
                self.problems.append(exc)
            except Exception as exc:  # a broken plugin must not take the others down
                self.problems.append(AdapterLoadError(ep.name, f"failed to load: {type(exc).__name__}: {exc}"))

    def get(self, name: str) -> RegistryAdapter:
        try:
            return self.adapters[name]
        except KeyError:
            known = ", ".join(sorted(self.adapters))
            raise NoSuchAdapter(f"no format named {name!r} (known: {known})") from None

    def __iter__(self) -> Iterator[RegistryAdapter]:
        return iter(self.adapters[n] for n in sorted(self.adapters))

    def __contains__(self, name: object) -> bool:
        return name in self.adapters


def _wanted() -> set[str] | None:
    raw = os.environ.get("CARBONLINK_ADAPTERS")
    if not raw:
        return None
    return {n.strip() for n in raw.split(",") if n.strip()}


@lru_cache(maxsize=1)
def default_registry() -> AdapterRegistry:
    """The process-wide registry, loaded once from installed entry points."""
    registry = AdapterRegistry()
    registry.load_entry_points(entry_points(group=GROUP))
    return registry
