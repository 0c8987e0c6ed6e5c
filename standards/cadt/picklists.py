"""CAD Trust picklists: the bundled snapshot, a file override, or a live node's answer.

A CADT node validates enforced fields against the picklists its governance body publishes
(``GET /v{1,2}/governance/meta/pickList``), which may differ from the data dictionary. The
bundled snapshots (``data/picklists-v1-1.7.24.json``, ``data/picklists-v2-2.0.2.json``) are the
default; :attr:`standards.Options.cadt_picklists` (``CARBONLINK_CADT_PICKLISTS`` at the edge) names a
JSON file, or the base URL of a CADT node, whose lists replace the bundled ones list by list (lists
it does not name keep the snapshot values).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from standards._options import current_options
from standards.cadt.errors import CadtNodeUnavailable, PicklistError
from standards.cadt.spec import DATA, RELEASES, Version, load_spec
from standards.errors import InputError
from standards.safeio import load_json, read_bytes

#: The variable the edge reads into :attr:`standards.Options.cadt_picklists`.
ENV_VAR = "CARBONLINK_CADT_PICKLISTS"
PICKLIST_PATH = "/{version}/governance/meta/pickList"
#: A picklist answer bigger than this is refused (the full v1 stub is about 20 kB).
MAX_ANSWER_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Picklists:
    """The picklists one CAD Trust version validates against, and where each list came from."""

    version: Version
    lists: Mapping[str, tuple[str, ...]]
    origins: Mapping[str, str] = field(default_factory=dict)

    def values(self, name: str) -> tuple[str, ...] | None:
        return self.lists.get(name)

    def origin(self, name: str) -> str:
        return self.origins.get(name, "bundled")

    def merged(self, overrides: Mapping[str, tuple[str, ...]], origin: str) -> Picklists:
        """A copy in which ``overrides`` replace the lists they name."""
        lists = dict(self.lists)
        origins = dict(self.origins)
        for name, values in overrides.items():
            key = _list_name(self.version, name, lists)
            lists[key] = values
            origins[key] = origin
        return Picklists(self.version, lists, origins)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _list_name(version: Version, name: str, known: Mapping[str, Any]) -> str:
    """Map a list name as a node spells it (snake_case, camelCase or a field name) to ours."""
    if name in known:
        return name
    snake = _snake(name)
    if snake in known:
        return snake
    spec = load_spec(version)
    for entity in spec.entities.values():
        f = entity.by_name.get(name)
        if f is not None and f.picklist:
            return f.picklist
    return name


def bundled(version: Version) -> Picklists:
    """The snapshot shipped with carbonlink."""
    return _bundled(version)


@cache
def _bundled(version: Version) -> Picklists:
    raw = json.loads((DATA / f"picklists-{version}-{RELEASES[version]}.json").read_text(encoding="utf-8"))
    lists = {name: tuple(values) for name, values in raw["lists"].items()}
    origin = f"bundled {version} {raw['release']} snapshot"
    return Picklists(version, lists, {name: origin for name in lists})


def parse_lists(raw: Any, version: Version, *, what: str) -> dict[str, tuple[str, ...]]:
    """Read lists from a node answer (``{name: [values]}``), our file format or a per-version file."""
    if isinstance(raw, dict) and isinstance(raw.get(version), dict):
        raw = raw[version]
    if isinstance(raw, dict) and isinstance(raw.get("lists"), dict):
        declared = raw.get("version")
        if declared is not None and declared != version:
            raise PicklistError(f"{what} holds {declared} picklists, not {version}")
        raw = raw["lists"]
    if not isinstance(raw, dict):
        raise PicklistError(f"{what} is not a JSON object of picklists ({{name: [values]}})")
    lists: dict[str, tuple[str, ...]] = {}
    for name, values in raw.items():
        if not isinstance(values, list):
            continue  # free-text markers such as "label_name": "free text"
        bad = [v for v in values if not isinstance(v, str)]
        if bad:
            raise PicklistError(f"{what}: picklist {name!r} holds a non-text value {bad[0]!r}")
        lists[str(name)] = tuple(values)
    if not lists:
        raise PicklistError(f"{what} contains no picklists")
    return lists


def from_file(path: str | Path, version: Version) -> Picklists:
    """The bundled lists with those of a JSON file laid over them."""
    try:
        data = read_bytes(Path(path), limit=MAX_ANSWER_BYTES)
        raw = load_json(data, what=f"picklist file {path}")
    except PicklistError:
        raise
    except InputError as exc:
        raise PicklistError(exc.message) from exc
    return bundled(version).merged(parse_lists(raw, version, what=f"picklist file {path}"), f"file {path}")


def fetch_live(base_url: str, version: Version, *, api_key: str | None = None, timeout: float = 10.0,
               client: httpx.Client | None = None) -> Picklists:
    """The bundled lists with a CADT node's ``GET /v{1,2}/governance/meta/pickList`` laid over them."""
    url = base_url.rstrip("/") + PICKLIST_PATH.format(version=version)
    headers = {"accept": "application/json"}
    if api_key:
        headers["x-api-key"] = api_key
    own = client is None
    http = client or httpx.Client(timeout=timeout)
    try:
        response = http.get(url, headers=headers)
    except httpx.HTTPError as exc:
        raise CadtNodeUnavailable(f"CADT node at {base_url} did not answer {url}: {type(exc).__name__}") from exc
    finally:
        if own:
            http.close()
    if response.status_code != 200:
        raise CadtNodeUnavailable(f"CADT node answered {url} with HTTP {response.status_code}")
    if len(response.content) > MAX_ANSWER_BYTES:
        raise PicklistError(f"picklist answer from {url} is over {MAX_ANSWER_BYTES} bytes")
    try:
        raw = load_json(response.content, what=f"picklist answer from {url}")
    except InputError as exc:
        raise PicklistError(exc.message) from exc
    return bundled(version).merged(parse_lists(raw, version, what=f"picklist answer from {url}"),
                                   f"node {url}")


def resolve(version: Version, override: str | None = None) -> Picklists:
    """Picklists per the override (a path or an ``http(s)://`` node URL), else the options in force
    (:attr:`standards.Options.cadt_picklists`, with :attr:`~standards.Options.cadt_api_key`)."""
    options = current_options()
    return _resolve(version, override if override is not None else options.cadt_picklists, options.cadt_api_key)


def configured_picklists(version: Version) -> Picklists:
    """:func:`resolve` on the options in force, once per process for each source (a node is asked once)."""
    options = current_options()
    return _configured(version, options.cadt_picklists, options.cadt_api_key)


@cache
def _configured(version: Version, source: str | None, api_key: SecretStr | None) -> Picklists:
    return _resolve(version, source, api_key)


def _resolve(version: Version, source: str | None, api_key: SecretStr | None) -> Picklists:
    source = (source or "").strip()
    if not source:
        return bundled(version)
    if source.startswith(("http://", "https://")):
        key = api_key.get_secret_value() if api_key is not None else None
        return fetch_live(source, version, api_key=key or None)
    return from_file(source, version)
