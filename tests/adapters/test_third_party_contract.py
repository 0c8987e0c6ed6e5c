"""A third-party adapter needs nothing but the public ``standards`` and ``adapters`` packages.

``third_party/acme_export.py`` is written as an outside author would write one: the test checks
(with ``ast``) that it imports no other carbonlink module, then loads it through the catalogue as
an entry point and parses, validates, streams, serializes and translates with it.
"""

from __future__ import annotations

import ast
import io
import json
from decimal import Decimal
from importlib.metadata import EntryPoint
from pathlib import Path

from adapters import GROUP, AdapterCatalog, RegistryAdapter, RuleSource, StreamingAdapter, default_catalog, translate
from standards import Medium, UnitStatus

MODULE = Path(__file__).parent / "third_party" / "acme_export.py"
CARBONLINK_PACKAGES = {"standards", "adapters", "gateway", "conformance"}
CSV = Medium.CSV

EXPORT = (
    b"Project,Country,Vintage,Quantity,Status,Retired On,Note\r\n"
    b"ACME-12,Ghana,2021,\"1,500\",Issued,,first batch\r\n"
    b"ACME-12,GHA,2021,250,Retired,03/04/2024,\r\n"
)


def _catalog() -> AdapterCatalog:
    catalog = AdapterCatalog()
    catalog.load_entry_points([EntryPoint("acme-export", "tests.adapters.third_party.acme_export:adapter", GROUP)])
    for name in ("canonical",):
        catalog.register(default_catalog().get(name))
    return catalog


def test_the_adapter_imports_only_the_public_packages() -> None:
    tree = ast.parse(MODULE.read_text())
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            assert node.level == 0
            imported.add(node.module)
    from_carbonlink = {name for name in imported if name.split(".")[0] in CARBONLINK_PACKAGES}
    assert from_carbonlink == {"standards", "adapters"}


def test_it_loads_through_the_catalogue_and_meets_the_contract() -> None:
    catalog = _catalog()
    assert not catalog.problems
    adapter = catalog.get("acme-export")
    assert isinstance(adapter, RegistryAdapter)
    assert isinstance(adapter, RuleSource) and isinstance(adapter, StreamingAdapter)
    assert "ACME.STATUS" in {rule.id for rule in adapter.rules}


def test_it_parses_validates_and_streams() -> None:
    adapter = _catalog().get("acme-export")
    parsed = adapter.parse(EXPORT, medium=CSV)
    assert parsed.valid, parsed.findings
    first, second = parsed.document.units
    assert (first.project_id, first.country, first.quantity, first.status) == ("ACME-12", "GHA", Decimal(1500),
                                                                               UnitStatus.ISSUED)
    assert second.status is UnitStatus.RETIRED and second.status_date is not None
    assert second.status_date.isoformat() == "2024-04-03"
    bad = EXPORT + b"ACME-13,Ghana,2021,10,Lost,,\r\n"
    report = adapter.validate(bad, medium=CSV)
    assert [f.rule for f in report.findings if f.is_error] == ["ACME.STATUS"]
    assert isinstance(adapter, StreamingAdapter)
    findings: list[object] = []
    streamed = list(adapter.iter_records(io.BytesIO(bad), medium=CSV, findings=findings))  # type: ignore[arg-type]
    assert len(streamed) == 2 and len(findings) == 1


def test_it_round_trips_and_translates() -> None:
    catalog = _catalog()
    adapter = catalog.get("acme-export")
    document = adapter.parse(EXPORT, medium=CSV).document
    assert adapter.serialize(document, medium=CSV).data == EXPORT
    result = translate(EXPORT, source="acme-export", target="canonical", source_medium=CSV,
                       target_medium=Medium.JSON, catalog=catalog)
    units = json.loads(result.output.data)["units"]
    assert [u["quantity"] for u in units] == ["1500", "250"]
