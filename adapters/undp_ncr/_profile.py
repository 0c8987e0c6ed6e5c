"""The deployment profile: settings a registry's data does not carry, given or from the adapter options."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from adapters._options import Options, current_options

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
    def from_options(cls, options: Options | None = None) -> UndpProfile:
        """The profile of ``options`` (default: the options in force; ``CARBONLINK_UNDP_*`` at the edge)."""
        options = options or current_options()
        return cls(options.undp_registry_suffix, options.undp_mitigation_type, options.undp_authorization_version)

    def sector(self, native: str | None) -> str | None:
        """The CN sector for the registry's sector label (the label itself when no mapping is set)."""
        return None if native is None else self.sectors.get(native, native)

    def activity_type(self, native: str | None) -> str | None:
        return None if native is None else self.activity_types.get(native, native)

    def registry_id(self, party: str | None) -> str | None:
        return None if self.registry_suffix is None or party is None else party + self.registry_suffix
