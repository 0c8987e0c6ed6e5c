"""The operator profile: values a registry operator states once for the CAD Trust records it publishes.

A registry export does not carry every value a CAD Trust node requires: whether units need a
corresponding adjustment, whether a project is covered by the host Party's NDC, how issuances were
verified. carbonlink derives what a fact of the source supports (see :mod:`standards.cadt.linking`)
and takes the rest from this profile, never from a guess. The file is YAML or JSON:

.. code-block:: yaml

    project:
      coveredByNDC: Unknown                  # picklist coveredByNDC
    unit:
      correspondingAdjustmentDeclaration: Unknown    # picklist correspondingAdjustmentDeclaration
      correspondingAdjustmentStatus: Not Started     # picklist correspondingAdjustmentStatus
    issuance:
      verificationApproach: Verified under the VCS Program
      verificationReportDate: issuance date  # "issuance date" (use the unit's issuance date) or YYYY-MM-DD
      period: vintage year                   # only where the export gives no monitoring period

Each section holds CAD Trust v1 field names of that record; a value applies to every record of
the section that has no value of its own. A few keys map values of the export instead (``PROFILE_MAPS``):
``project.projectTypeV2`` maps a project's methodology or project type, as the export writes it, to a
CAD Trust v2 ``project_type`` value the operator chooses where carbonlink's vocabulary has none (the v2
list has no carbon-removal type: ``biochar: Agriculture``); the linker checks each value against the v2
list and notes every record that took one. Keys are checked when the profile is loaded: an
unknown section or field, a value outside the field's picklist or a malformed date is a
:class:`OperatorProfileError` naming the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from standards.cadt.picklists import Picklists
from standards.errors import InputError
from standards.safeio import load_json, read_bytes

#: The fields a profile may give, per section, with the picklist each must come from (None: free text).
PROFILE_FIELDS: dict[str, dict[str, str | None]] = {
    "project": {"coveredByNDC": "coveredByNDC", "ndcInformation": None, "projectDeveloper": None,
                "sector": "projectSector", "projectStatus": "projectStatusValues", "projectStatusDate": None,
                "unitMetric": "unitMetric", "validationBody": None, "program": None, "projectLink": None},
    "unit": {"correspondingAdjustmentDeclaration": "correspondingAdjustmentDeclaration",
             "correspondingAdjustmentStatus": "correspondingAdjustmentStatus",
             "countryJurisdictionOfOwner": "countries", "unitOwner": None, "unitStatusReason": None},
    "issuance": {"verificationApproach": None, "verificationBody": None, "verificationReportDate": None,
                 "period": None},
}
#: Keys whose value maps the export's values (text -> text), with the v2 picklist each value must come from
#: (checked by the v2 linker: the profile is read with the v1 picklists).
PROFILE_MAPS: dict[str, dict[str, str]] = {"project": {"projectTypeV2": "project_type"}}
#: The profile value that tells carbonlink to use each unit's own issuance date as the report date.
ISSUANCE_DATE = "issuance date"
#: The only ``issuance.period`` value: a unit whose export gives no monitoring period is issued for the
#: calendar year of its vintage (the operator states that this holds for the registry).
VINTAGE_YEAR = "vintage year"
_DATE_FIELDS = frozenset({"projectStatusDate", "verificationReportDate"})
_LIMIT = 256 * 1024


class OperatorProfileError(InputError):
    code = "CADT.OPERATOR_PROFILE"


@dataclass(frozen=True)
class OperatorProfile:
    """The operator's values, per section (``project``, ``unit``, ``issuance``), and where they came from."""

    source: str
    sections: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: The mapping keys (``PROFILE_MAPS``), per section and name: the export's value -> the operator's.
    maps: Mapping[str, Mapping[str, Mapping[str, str]]] = field(default_factory=dict)

    def value(self, section: str, name: str) -> str | None:
        return self.sections.get(section, {}).get(name)

    def mapped(self, section: str, name: str, value: str | None) -> str | None:
        """``value`` through the mapping key ``section.name`` (exact, then case-insensitive, spaces trimmed)."""
        table = self.maps.get(section, {}).get(name)
        if not table or value is None or not value.strip():
            return None
        text = value.strip()
        found = table.get(text)
        if found is None:
            found = next((v for k, v in table.items() if k.casefold() == text.casefold()), None)
        return found

    @staticmethod
    def key(section: str, name: str) -> str:
        """How a value is named in findings and docs: ``unit.correspondingAdjustmentStatus``."""
        return f"{section}.{name}"


def _text(data: bytes, what: str) -> Any:
    stripped = data.lstrip()
    if stripped.startswith((b"{", b"[")):
        return load_json(data, what=what)
    try:
        return yaml.safe_load(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise OperatorProfileError(f"{what} is neither JSON nor YAML: {exc}") from exc


def _checked(section: str, name: str, value: Any, picklists: Picklists | None, what: str) -> str:
    if isinstance(value, date):
        value = value.isoformat()
    if not isinstance(value, str | int | float) or isinstance(value, bool) or str(value).strip() == "":
        raise OperatorProfileError(f"{what}: {section}.{name} must be a non-empty text value")
    text = str(value).strip()
    if name in _DATE_FIELDS and not (name == "verificationReportDate" and text == ISSUANCE_DATE):
        try:
            date.fromisoformat(text)
        except ValueError as exc:
            extra = f" or {ISSUANCE_DATE!r}" if name == "verificationReportDate" else ""
            raise OperatorProfileError(f"{what}: {section}.{name} {text!r} is not a date (YYYY-MM-DD){extra}") \
                from exc
    if name == "period" and text != VINTAGE_YEAR:
        raise OperatorProfileError(f"{what}: {section}.{name} {text!r} is not {VINTAGE_YEAR!r}, the only value")
    if name == "projectLink" and not text.startswith(("https://", "http://")):
        raise OperatorProfileError(f"{what}: {section}.{name} {text!r} is not an http(s) URL template "
                                   "({projectId} and {number} are replaced)")
    picklist = PROFILE_FIELDS[section][name]
    allowed = picklists.values(picklist) if picklist and picklists is not None else None
    if allowed is not None and text not in allowed:
        raise OperatorProfileError(f"{what}: {section}.{name} {text!r} is not in the CAD Trust picklist "
                                   f"{picklist} ({', '.join(allowed[:8])}{', ...' if len(allowed) > 8 else ''})")
    return text


def operator_profile_from(raw: Any, what: str, picklists: Picklists | None = None) -> OperatorProfile:
    """An :class:`OperatorProfile` from decoded YAML/JSON, every key and value checked."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise OperatorProfileError(f"{what} must be a mapping of sections (project, unit, issuance)")
    sections: dict[str, dict[str, str]] = {}
    maps: dict[str, dict[str, dict[str, str]]] = {}
    for section, values in raw.items():
        if section not in PROFILE_FIELDS:
            raise OperatorProfileError(f"{what}: unknown section {section!r} "
                                       f"(known: {', '.join(PROFILE_FIELDS)})")
        if not isinstance(values, dict):
            raise OperatorProfileError(f"{what}: section {section!r} must be a mapping of field names to values")
        for name, value in values.items():
            if name in PROFILE_MAPS.get(section, {}):
                maps.setdefault(section, {})[str(name)] = _checked_map(section, str(name), value, what)
                continue
            if name not in PROFILE_FIELDS[section]:
                known = (*PROFILE_FIELDS[section], *PROFILE_MAPS.get(section, {}))
                raise OperatorProfileError(f"{what}: {section}.{name} is not a field an operator profile sets "
                                           f"(known: {', '.join(known)})")
            sections.setdefault(section, {})[str(name)] = _checked(section, str(name), value, picklists, what)
    return OperatorProfile(source=what, sections=sections, maps=maps)


def _checked_map(section: str, name: str, value: Any, what: str) -> dict[str, str]:
    """A mapping key's value: export values -> the operator's values, every one non-empty text."""
    if not isinstance(value, dict) or not value:
        raise OperatorProfileError(f"{what}: {section}.{name} must map the export's values to CAD Trust values "
                                   "(e.g. biochar: Agriculture)")
    table: dict[str, str] = {}
    for key, mapped in value.items():
        if not isinstance(key, str) or not key.strip() or not isinstance(mapped, str) or not mapped.strip():
            raise OperatorProfileError(f"{what}: {section}.{name} maps {key!r} to {mapped!r}; both must be "
                                       "non-empty text")
        table[key.strip()] = mapped.strip()
    return table


def load_operator_profile(path: str | Path, picklists: Picklists | None = None) -> OperatorProfile:
    """Read and check an operator profile file (YAML or JSON)."""
    location = Path(path)
    what = f"operator profile {location}"
    try:
        data = read_bytes(location, limit=_LIMIT)
    except InputError as exc:
        raise OperatorProfileError(exc.message) from exc
    return operator_profile_from(_text(data, what), what, picklists)
