"""Damaged Cercarbono, Isometric and CARB exports are a result with the adapter's coded findings or a coded
InputError, never a traceback (hypothesis damages real sample files)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import default_catalog
from tests.adapters.golden import assert_damage_is_coded
from tests.adapters.registry_samples import FIXTURES

SAMPLES = [("cercarbono", "retirements.csv"), ("cercarbono", "projects.csv"), ("isometric", "credit-batches.csv"),
           ("isometric", "projects.csv"), ("carb", "issuance-table.csv")]


@pytest.mark.parametrize(("fmt", "name"), SAMPLES)
@given(data=st.data())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
def test_damaged_exports_never_escape_as_tracebacks(fmt: str, name: str, data: st.DataObject) -> None:
    assert_damage_is_coded(default_catalog().get(fmt), (FIXTURES / fmt / name).read_bytes(), data)


GOLDEN_SAMPLES = [("cercarbono", "projects.csv"), ("cercarbono", "issuances.csv"), ("cercarbono", "retirements.csv"),
                  ("isometric", "projects.csv"), ("isometric", "issuances.csv"), ("isometric", "credit-batches.csv"),
                  ("isometric", "retirements.csv"), ("carb", "issuance-table.csv")]


@pytest.mark.parametrize(("fmt", "name"), GOLDEN_SAMPLES)
def test_golden_canonical_translation(fmt: str, name: str) -> None:
    from tests.adapters.golden import check_golden, translate_or_findings

    stem = name.removesuffix(".csv")
    check_golden(FIXTURES / fmt / "golden" / f"{stem}.canonical.json",
                 translate_or_findings((FIXTURES / fmt / name).read_bytes(), adapter=fmt, target="canonical"))
