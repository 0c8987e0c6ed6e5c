"""The adapter contract matches the built-in adapters, and the built-ins exist without installation.

The assignments below are checked by mypy (``mypy tests/adapters/test_protocol_conformance.py``):
each built-in adapter is assigned to the protocol types it claims, so a signature that drifts
from :class:`adapters.StreamingAdapter` fails the type check, and the runtime checks compare the
signatures too.
"""

from __future__ import annotations

import inspect
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from adapters import (
    BUILTIN_ADAPTERS,
    GROUP,
    AdapterCatalog,
    RegistryAdapter,
    RuleSource,
    StreamingAdapter,
)
from adapters.apx import adapter as apx
from adapters.cadt import adapter as cadt
from adapters.des_xml import adapter as des_xml
from adapters.gold_standard import adapter as gold_standard
from adapters.spreadsheet import adapter as spreadsheet
from adapters.undp_ncr import adapter as undp_ncr
from adapters.verra import adapter as verra
from tests.support.edge import EdgeEnvironment

ROOT = Path(__file__).resolve().parents[2]

STREAMING: dict[str, StreamingAdapter] = {
    "apx": apx, "gold-standard": gold_standard, "spreadsheet": spreadsheet, "undp-ncr": undp_ncr, "verra": verra,
}
RULE_SOURCES: dict[str, RuleSource] = {
    "apx": apx, "cadt": cadt, "des-xml": des_xml, "gold-standard": gold_standard, "spreadsheet": spreadsheet,
    "undp-ncr": undp_ncr, "verra": verra,
}
ADAPTERS: dict[str, RegistryAdapter] = {
    "apx": apx, "cadt": cadt, "des-xml": des_xml, "gold-standard": gold_standard, "spreadsheet": spreadsheet,
    "undp-ncr": undp_ncr, "verra": verra,
}


def _signature(function: object) -> list[tuple[str, object, object]]:
    params = list(inspect.signature(function).parameters.values())  # type: ignore[arg-type]
    return [(p.name, p.kind, p.default) for p in params if p.name != "self"]


@pytest.mark.parametrize("name", sorted(STREAMING))
def test_iter_records_matches_the_protocol(name: str) -> None:
    adapter = STREAMING[name]
    assert isinstance(adapter, StreamingAdapter)
    assert _signature(type(adapter).iter_records) == _signature(StreamingAdapter.iter_records)


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_builtins_are_adapters_and_rule_sources(name: str) -> None:
    assert isinstance(ADAPTERS[name], RegistryAdapter)
    assert isinstance(ADAPTERS[name], RuleSource) is (name in RULE_SOURCES)


def test_the_builtin_table_is_the_entry_point_table() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"][GROUP]
    assert dict(BUILTIN_ADAPTERS) == declared


def test_builtins_load_without_installed_entry_points() -> None:
    catalog = AdapterCatalog()
    catalog.load_builtins(skip=catalog.load_entry_points([]))
    assert not catalog.problems
    assert {a.name for a in catalog} >= {"aef", "canonical", "verra", "undp-ncr", "spreadsheet"}
    assert set(catalog.distributions.values()) == {"carbonlink"}


def test_installed_entry_points_and_builtins_give_no_duplicates() -> None:
    catalog = AdapterCatalog()
    catalog.load_builtins(skip=catalog.load_entry_points(entry_points(group=GROUP)))
    assert not catalog.problems
    alone = AdapterCatalog()
    alone.load_builtins()
    assert sorted(catalog.adapters) == sorted(alone.adapters)


def test_carbonlink_adapters_filters_the_builtins_too(edge_env: EdgeEnvironment) -> None:
    edge_env.setenv("CARBONLINK_ADAPTERS", "verra,aef")
    catalog = AdapterCatalog()
    catalog.load_builtins(skip=catalog.load_entry_points([]))
    assert sorted(catalog.adapters) == ["aef", "verra"]
