"""Output profiles: the key spellings and picklist values one CAD Trust target expects.

Canonical values use the UNFCCC Common Nomenclature (``GHG``, ``First transfer``,
``Authorisation``); a CADT node validates against its own lists (``GHC``, ``First Transfer``,
``Authorization``). A :class:`Profile` holds, per picklist, the CN -> CADT value map, the
fallbacks for CN values the target lacks (``Voluntary Cancellation`` -> ``Cancellation``, or
``null`` to leave the field empty), the legacy input keys it accepts and the keys it writes.

Bundled profiles live in ``data/profiles/``; the default for v2 is ``cadt-v2.0.2``.
:attr:`standards.Options.cadt_profile` (``CARBONLINK_CADT_PROFILE`` at the edge) names another
bundled profile or a JSON file of the same shape.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from standards._options import current_options
from standards.cadt.errors import PicklistError
from standards.cadt.spec import DATA, Version
from standards.errors import InputError
from standards.safeio import load_json, read_bytes

#: The variable the edge reads into :attr:`standards.Options.cadt_profile`.
ENV_VAR = "CARBONLINK_CADT_PROFILE"
DEFAULT_PROFILES: dict[Version, str] = {"v1": "cadt-v1.7.24", "v2": "cadt-v2.0.2"}
_MISSING = object()


class ProfileError(PicklistError):
    code = "CADT.PROFILE"


@dataclass(frozen=True)
class Profile:
    name: str
    version: Version
    description: str = ""
    input_key_aliases: Mapping[str, str] = field(default_factory=dict)
    output_keys: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    reported_input_values: Mapping[str, frozenset[str]] = field(default_factory=dict)
    fallbacks: Mapping[str, Mapping[str, str | None]] = field(default_factory=dict)
    #: Fields the data dictionary requires but this profile's target does not (entity -> field names):
    #: where the dictionary and the node's code disagree, a profile says which one to follow.
    optional: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def to_cadt(self, picklist: str, canonical: str) -> str:
        """The spelling the target writes for a CN value (unchanged when the profile has none)."""
        return self.values.get(picklist, {}).get(canonical, canonical)

    def to_canonical(self, picklist: str, cadt: str) -> str:
        """The CN value for a CADT spelling (unchanged when the profile has none)."""
        for cn, spelled in self.values.get(picklist, {}).items():
            if spelled == cadt:
                return cn
        return cadt

    def fallback(self, picklist: str, canonical: str) -> tuple[bool, str | None]:
        """``(True, value)`` when the profile says what to write for a value the target lacks."""
        table = self.fallbacks.get(picklist, {})
        value = table.get(canonical, _MISSING)
        if value is _MISSING:
            return False, None
        return True, value if isinstance(value, str) else None

    def output_key(self, key: str) -> str:
        return self.output_keys.get(key, key)


def _build(raw: Any, what: str) -> Profile:
    if not isinstance(raw, dict) or raw.get("version") not in ("v1", "v2") or not raw.get("name"):
        raise ProfileError(f"{what} is not a CAD Trust profile (needs name and version v1|v2)")
    base: dict[str, Any] = {}
    if raw.get("extends"):
        parent = load_profile(str(raw["extends"]))
        base = {"keys": {"input_aliases": dict(parent.input_key_aliases), "output": dict(parent.output_keys)},
                "values": {k: dict(v) for k, v in parent.values.items()},
                "reported_input_values": {k: sorted(v) for k, v in parent.reported_input_values.items()},
                "fallbacks": {k: dict(v) for k, v in parent.fallbacks.items()},
                "optional": {k: sorted(v) for k, v in parent.optional.items()}}
    keys = {**base.get("keys", {}).get("input_aliases", {}), **raw.get("keys", {}).get("input_aliases", {})}
    out_keys = {**base.get("keys", {}).get("output", {}), **raw.get("keys", {}).get("output", {})}
    values = {**base.get("values", {}), **raw.get("values", {})}
    reported = {**base.get("reported_input_values", {}), **raw.get("reported_input_values", {})}
    fallbacks = {**base.get("fallbacks", {}), **raw.get("fallbacks", {})}
    optional = {**base.get("optional", {}), **raw.get("optional", {})}
    try:
        return Profile(
            name=str(raw["name"]), version=raw["version"], description=str(raw.get("description", "")),
            input_key_aliases={str(k): str(v) for k, v in keys.items()},
            output_keys={str(k): str(v) for k, v in out_keys.items()},
            values={str(p): {str(k): str(v) for k, v in m.items()} for p, m in values.items()},
            reported_input_values={str(p): frozenset(map(str, v)) for p, v in reported.items()},
            fallbacks={str(p): {str(k): (None if v is None else str(v)) for k, v in m.items()}
                       for p, m in fallbacks.items()},
            optional={str(e): frozenset(map(str, names)) for e, names in optional.items()},
        )
    except (AttributeError, TypeError) as exc:
        raise ProfileError(f"{what} is malformed: {exc}") from exc


@cache
def load_profile(name_or_path: str) -> Profile:
    """A bundled profile by name (``cadt-v2.0.2``) or a profile JSON file by path."""
    bundled = DATA / "profiles" / f"{name_or_path}.json"
    if bundled.is_file():
        return _build(json.loads(bundled.read_text(encoding="utf-8")), f"profile {name_or_path}")
    path = Path(name_or_path)
    if not path.is_file():
        known = ", ".join(sorted(p.name.removesuffix(".json") for p in (DATA / "profiles").iterdir()))
        raise ProfileError(f"no CAD Trust profile {name_or_path!r} (bundled: {known}; or give a file path)")
    try:
        raw = load_json(read_bytes(path, limit=1024 * 1024), what=f"profile file {path}")
    except InputError as exc:
        raise ProfileError(exc.message) from exc
    return _build(raw, f"profile file {path}")


def default_profile(version: Version) -> Profile:
    """The configured profile (:attr:`standards.Options.cadt_profile`) when it targets this version,
    else the bundled default."""
    chosen = (current_options().cadt_profile or "").strip()
    if chosen:
        profile = load_profile(chosen)
        if profile.version == version:
            return profile
    return load_profile(DEFAULT_PROFILES[version])
