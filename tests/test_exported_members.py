"""The SDK packages export exactly their public names."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("package", ["standards", "adapters"])
def test_all_is_complete_and_importable(package: str) -> None:
    module = importlib.import_module(package)
    exported = module.__all__
    assert len(exported) == len(set(exported))
    for name in exported:
        assert getattr(module, name) is not None
    public = {n for n, v in vars(module).items() if not n.startswith("_") and not isinstance(v, type(module))}
    assert public - {"annotations"} == set(exported)


@pytest.mark.parametrize("package", ["standards", "adapters"])
def test_record_kinds_are_exported_and_message_kind_is_only_a_deprecated_alias(package: str) -> None:
    exported = importlib.import_module(package).__all__
    assert "RecordKind" in exported and "MessageKind" not in exported
