"""The deployment profile: settings a registry's data does not carry, read from the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from adapters.undp_ncr._rules import AUTHORIZATION_VERSION_ENV, MITIGATION_TYPE_ENV, REGISTRY_SUFFIX_ENV

# ------------------------------------------------------------------------------------ the adapter

@dataclass(frozen=True, slots=True)
class UndpProfile:
    """What one registry deployment knows but its exports do not say (all unset by default).

    ``registry_suffix``: the two digits of the Party ITMO registry ID (``VUT`` + ``01``);
    ``mitigation_type``: the CN mitigation type of every action (e.g. ``Emission reductions``);
    ``authorization_version``: the version given to authorizations read from the AEF export;
    ``sectors`` / ``activity_types``: the registry's labels -> Common Nomenclature names.
    """

    registry_suffix: str | None = None
    mitigation_type: str | None = None
    authorization_version: int | None = None
    sectors: Mapping[str, str] = field(default_factory=dict)
    activity_types: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.registry_suffix is not None and re.fullmatch(r"\d{2}", self.registry_suffix) is None:
            raise ValueError(f"registry_suffix must be two digits, not {self.registry_suffix!r}")

    @classmethod
    def from_env(cls) -> UndpProfile:
        suffix = os.environ.get(REGISTRY_SUFFIX_ENV) or None
        version = os.environ.get(AUTHORIZATION_VERSION_ENV) or None
        return cls(suffix if suffix and re.fullmatch(r"\d{2}", suffix) else None,
                   os.environ.get(MITIGATION_TYPE_ENV) or None,
                   int(version) if version and version.isdigit() else None)

    def sector(self, native: str | None) -> str | None:
        """The CN sector for the registry's sector label (the label itself when no mapping is set)."""
        return None if native is None else self.sectors.get(native, native)

    def activity_type(self, native: str | None) -> str | None:
        return None if native is None else self.activity_types.get(native, native)

    def registry_id(self, party: str | None) -> str | None:
        return None if self.registry_suffix is None or party is None else party + self.registry_suffix
