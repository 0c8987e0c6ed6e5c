"""Kits by name and version, found through the ``carbonlink.conformance_kits`` entry-point group.

Built-in and third-party kits load the same way (as adapters do, :mod:`adapters._catalog`); the
built-ins are also listed in code so a source checkout without installed entry points has them. A
plugin that fails to load or lacks the kit shape is reported by its entry name; the others still load.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import import_module
from importlib.metadata import EntryPoint, entry_points

from conformance._model import Kit
from conformance.errors import KitLoadError, UnknownKit

GROUP = "carbonlink.conformance_kits"
#: carbonlink's own kits (entry name -> ``module:factory``), as declared in pyproject.toml.
BUILTIN_KITS: tuple[tuple[str, str], ...] = (
    ("aef-messages", "conformance.kits.aef_messages:kit"),
    ("cadt-v1-messages", "conformance.kits.cadt_messages:v1_kit"),
    ("cadt-v2-messages", "conformance.kits.cadt_messages:v2_kit"),
    ("registry-exports", "conformance.kits.registry_exports:kit"),
    ("registry-endpoint", "conformance.kits.registry_endpoint:kit"),
    ("gateway-peer", "conformance.kits.gateway_peer:kit"),
)


def _resolve(value: str) -> object:
    module, _, attribute = value.partition(":")
    return getattr(import_module(module), attribute)


def _as_kit(entry_name: str, loaded: object) -> Kit:
    obj = loaded() if callable(loaded) and not isinstance(loaded, Kit) else loaded
    if not isinstance(obj, Kit):
        raise KitLoadError(f"conformance kit {entry_name!r} does not have the kit shape "
                           "(name, version, description, suite, clauses, run)")
    return obj


@dataclass
class KitCatalog:
    """Every loadable kit, keyed ``(name, version)``, plus the load problems met."""

    kits: dict[tuple[str, str], Kit] = field(default_factory=dict)
    problems: list[KitLoadError] = field(default_factory=list)

    def add(self, entry_name: str, loader: EntryPoint | str) -> None:
        try:
            loaded = loader.load() if isinstance(loader, EntryPoint) else _resolve(loader)
            kit = _as_kit(entry_name, loaded)
        except KitLoadError as exc:
            self.problems.append(exc)
            return
        except Exception as exc:  # a broken plugin is reported by name and left out
            self.problems.append(KitLoadError(f"conformance kit {entry_name!r} failed to load: "
                                              f"{type(exc).__name__}: {exc}"))
            return
        self.kits.setdefault((kit.name, kit.version), kit)

    def __iter__(self) -> Iterator[Kit]:
        return iter(sorted(self.kits.values(), key=lambda k: (k.name, k.version)))

    def get(self, spec: str) -> Kit:
        """``NAME`` (the newest version) or ``NAME@VERSION``."""
        name, _, version = spec.partition("@")
        versions = sorted((v for n, v in self.kits if n == name), key=_version_key)
        if not versions:
            known = ", ".join(sorted({n for n, _ in self.kits})) or "none"
            raise UnknownKit(f"no conformance kit named {name!r} (installed: {known})")
        if version and version not in versions:
            raise UnknownKit(f"kit {name!r} has no version {version!r} (installed: {', '.join(versions)})")
        return self.kits[(name, version or versions[-1])]


def _version_key(version: str) -> tuple[tuple[int, str], ...]:
    return tuple((int(part), "") if part.isdigit() else (-1, part) for part in version.split("."))


@lru_cache(maxsize=1)
def default_kits() -> KitCatalog:
    """Every kit the installed distributions declare, then the built-ins not already found."""
    catalog = KitCatalog()
    for entry in entry_points(group=GROUP):
        catalog.add(entry.name, entry)
    names = {name for name, _ in catalog.kits}
    for entry_name, value in BUILTIN_KITS:
        if entry_name not in names:
            catalog.add(entry_name, value)
    return catalog
