"""The kit model and catalogue: built-ins through entry points, versions, trees and traceability."""

from __future__ import annotations

import pytest

from conformance import GROUP, KitCatalog, default_kits, traceability
from conformance.errors import UnknownKit

BUILT_INS = {"aef-messages", "cadt-v1-messages", "cadt-v2-messages", "registry-exports"}


def test_built_in_kits_are_registered_as_entry_points() -> None:
    from importlib.metadata import entry_points

    declared = {entry.name for entry in entry_points(group=GROUP)}
    assert declared >= BUILT_INS
    catalog = default_kits()
    assert {kit.name for kit in catalog} >= BUILT_INS
    assert not catalog.problems


def test_kit_by_name_and_version() -> None:
    catalog = default_kits()
    assert catalog.get("aef-messages").version == "2026.1"
    assert catalog.get("aef-messages@2026.1").name == "aef-messages"
    with pytest.raises(UnknownKit, match="no version"):
        catalog.get("aef-messages@1999.1")
    with pytest.raises(UnknownKit, match="no conformance kit named"):
        catalog.get("no-such-kit")


def test_a_broken_plugin_is_reported_by_name_and_the_others_load() -> None:
    catalog = KitCatalog()
    catalog.add("broken", "conformance.kits.no_such_module:kit")
    catalog.add("not-a-kit", "conformance.kits.aef_messages:NAME")
    catalog.add("aef-messages", "conformance.kits.aef_messages:kit")
    assert [kit.name for kit in catalog] == ["aef-messages"]
    messages = " ".join(p.message for p in catalog.problems)
    assert "'broken'" in messages and "'not-a-kit'" in messages


def test_every_test_traces_to_a_clause_and_ids_are_unique() -> None:
    for kit in default_kits():
        ids = [test.id for _, test in kit.suite.tests()]
        assert len(ids) == len(set(ids)), kit.name
        assert all(test.clause.id for _, test in kit.suite.tests()), kit.name


def test_traceability_lists_covered_and_uncovered_clauses() -> None:
    report = traceability(default_kits().get("aef-messages"))
    covered = {row["clause"]: row["tests"] for row in report["covered"]}
    assert sum("AEF.FORMAT.PARTY" in tests for tests in covered.values()) == 1
    assert [row["clause"] for row in report["notCovered"]] == [
        "Decision 2/CMA.3, annex, paragraph 23 (annual information) - narrative sections"]


def test_the_endpoint_kits_trace_rfc_8705_as_covered() -> None:
    for name, tests in (("registry-endpoint", {"REG.MTLS.OTHER_CERT", "REG.MTLS.NO_CERT"}),
                        ("gateway-peer", {"GW.MTLS.BOUND", "GW.MTLS.OTHER_CERT", "GW.MTLS.NO_CERT"})):
        report = traceability(default_kits().get(name))
        covered = {row["clause"]: set(row["tests"]) for row in report["covered"]}
        assert covered["RFC 8705 section 3"] == tests, name
        assert not any("8705" in row["clause"] for row in report["notCovered"]), name
