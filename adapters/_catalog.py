"""The adapter catalogue: formats by name, found through the ``carbonlink.adapters`` entry point group.

Built-in and third-party adapters load the same way. A plugin that fails to import, has the
wrong shape or reuses a name is reported with its name and left out; the others still load.
carbonlink's own adapters are also listed in code (:data:`BUILTIN_ADAPTERS`), so a plain source
checkout without installed entry points has them too; a built-in already found through an entry
point is not added twice. :attr:`adapters.Options.names` (``CARBONLINK_ADAPTERS=a,b`` at the edge)
limits which are loaded.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points

from adapters._options import Options, current_options
from adapters.errors import AdapterLoadError, NoSuchAdapter
from adapters.protocol import RegistryAdapter

GROUP = "carbonlink.adapters"
#: carbonlink's own adapters (entry name -> ``module:attribute``), as declared in pyproject.toml.
BUILTIN_ADAPTERS: tuple[tuple[str, str], ...] = (
    ("aef", "adapters.standard_formats:aef"),
    ("aef-draft", "adapters.standard_formats:aef_draft"),
    ("apx", "adapters.apx:adapter"),
    ("cadt", "adapters.cadt:adapter"),
    ("cadt-v1", "adapters.standard_formats:cadt_v1"),
    ("cadt-v2", "adapters.standard_formats:cadt_v2"),
    ("canonical", "adapters.standard_formats:canonical"),
    ("carb", "adapters.carb:adapter"),
    ("cercarbono", "adapters.cercarbono:adapter"),
    ("des-xml", "adapters.des_xml:adapter"),
    ("gold-standard", "adapters.gold_standard:adapter"),
    ("isometric", "adapters.isometric:adapter"),
    ("mrv", "adapters.mrv:adapter"),
    ("spreadsheet", "adapters.spreadsheet:adapter"),
    ("undp-ncr", "adapters.undp_ncr:adapter"),
    ("undp-ncr-mrv", "adapters.undp_ncr_mrv:adapter"),
    ("verra", "adapters.verra:adapter"),
)
BUILTIN_DISTRIBUTION = "carbonlink"
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
class AdapterCatalog:
    """Adapters by name, plus the problems met while loading them.

    ``names``: load only entry points with these names (None: all); default
    :attr:`adapters.Options.names` of the options in force.
    """

    names: frozenset[str] | None = field(default_factory=lambda: current_options().names)
    adapters: dict[str, RegistryAdapter] = field(default_factory=dict)
    distributions: dict[str, str] = field(default_factory=dict)
    problems: list[AdapterLoadError] = field(default_factory=list)

    def register(self, adapter: RegistryAdapter, *, distribution: str = "", entry_name: str = "") -> None:
        checked = check_adapter(adapter, entry_name or getattr(adapter, "name", "?"))
        if checked.name in self.adapters:
            raise AdapterLoadError(entry_name or checked.name, f"duplicate adapter name {checked.name!r}")
        self.adapters[checked.name] = checked
        self.distributions[checked.name] = distribution

    def load_entry_points(self, eps: Iterable[EntryPoint], *, distribution: str = "") -> set[str]:
        """Load each entry point (in name order); returns the entry names seen, loaded or not."""
        wanted = self.names
        seen: set[str] = set()
        for ep in sorted(eps, key=lambda e: e.name):
            if wanted is not None and ep.name not in wanted:
                continue
            seen.add(ep.name)
            dist = ep.dist.name if ep.dist is not None else distribution
            try:
                obj = ep.load()
                self.register(obj, distribution=dist, entry_name=ep.name)
            except AdapterLoadError as exc:
                self.problems.append(exc)
            except Exception as exc:  # a broken plugin must not take the others down
                self.problems.append(AdapterLoadError(ep.name, f"failed to load: {type(exc).__name__}: {exc}"))
        return seen

    def load_builtins(self, *, skip: Iterable[str] = ()) -> None:
        """Add carbonlink's own adapters from :data:`BUILTIN_ADAPTERS`, except the entry names in
        ``skip`` (already met as installed entry points) and adapters whose name is already taken."""
        skipped = set(skip)
        builtins = [EntryPoint(name, value, GROUP) for name, value in BUILTIN_ADAPTERS
                    if name not in skipped and name not in self.adapters]
        self.load_entry_points(builtins, distribution=BUILTIN_DISTRIBUTION)

    def get(self, name: str) -> RegistryAdapter:
        try:
            return self.adapters[name]
        except KeyError as exc:
            known = ", ".join(sorted(self.adapters))
            raise NoSuchAdapter(f"no format named {name!r} (known: {known})") from exc

    def __iter__(self) -> Iterator[RegistryAdapter]:
        return iter(self.adapters[n] for n in sorted(self.adapters))

    def __contains__(self, name: object) -> bool:
        return name in self.adapters


def default_catalog(options: Options | None = None) -> AdapterCatalog:
    """The process-wide catalogue for ``options`` (default: the options in force), loaded once per
    adapter filter: installed entry points, then the built-ins they lack."""
    return _catalog((options or current_options()).names)


@lru_cache(maxsize=8)
def _catalog(names: frozenset[str] | None) -> AdapterCatalog:
    catalog = AdapterCatalog(names=names)
    seen = catalog.load_entry_points(entry_points(group=GROUP))
    catalog.load_builtins(skip=seen)
    return catalog
