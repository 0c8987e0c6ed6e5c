"""The v1 linker's quick paths give what the plain computations give: ids equal to ``uuid.uuid5``, picklist
membership that holds for any value, field order with nulls left out."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from standards.cadt._values import is_listed
from standards.cadt.common import in_field_order
from standards.cadt.linking import ID_NAMESPACE, V1Linker, bare_methodology, stable_id
from standards.cadt.picklists import bundled
from standards.cadt.vocab import registry_vocabulary

KEYS = [("1340",), ("15001-900000000-900021222-VCS-VCU-1507-VER-ET-14-1340-01012015-31122015-1",),
        ("VCS1340", "2015-01-01", "2015-12-31", "2016-03-15"), ("", ""), ("Société Générale", "中文", "\x1f")]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("kind", ["project", "unit", "issuance"])
def test_stable_id_is_the_uuid5_of_registry_kind_and_key(kind: str, key: tuple[str, ...]) -> None:
    expected = uuid.uuid5(ID_NAMESPACE, "\x1f".join(("verra", kind, *key)))
    got = stable_id("verra", kind, *key)
    assert got == str(expected)
    assert uuid.UUID(got).version == 5 and uuid.UUID(got).variant == uuid.RFC_4122


def test_membership_of_an_unhashable_value_is_false_not_an_error() -> None:
    listed = frozenset({"Reduction - nature", "Removal - nature"})
    assert is_listed("Reduction - nature", listed)
    assert not is_listed("VCU", listed)
    assert not is_listed(["Reduction - nature"], listed) and not is_listed({"a": 1}, listed)
    assert not is_listed(None, listed)


def test_unit_types_are_looked_up_once_per_pair_and_agree_with_the_vocabulary() -> None:
    vocab = registry_vocabulary("verra")
    assert vocab is not None
    linker = V1Linker(bundled("v1"), None)
    pairs: list[tuple[Any, Any]] = [("VM0015", None), ("VCS - VM0047", "x"), (None, "Transport"), ("VM9999", None)]
    for methodology, project_type in pairs * 2:
        plain = vocab.lookup("unitTypeByMethodology", bare_methodology(methodology, vocab))
        assert linker._mapped_unit_type(vocab, methodology, project_type) == \
            (plain or vocab.lookup("unitTypeByProjectType", project_type))
    assert linker._mapped_unit_type(vocab, "VM0015", None) == "Reduction - nature"
    assert linker._mapped_unit_type(vocab, None, "Transport") == "Reduction - technical"
    assert len(linker._unit_types) == 4  # one lookup per pair


def test_in_field_order_keeps_the_dictionary_order_and_drops_nulls_and_unknown_keys() -> None:
    fields = {"a": 1, "b": 2, "c": 3, "d": 4}
    record = {"d": 0, "x": 1, "b": None, "a": "", "c": False}
    assert list(in_field_order(record, fields).items()) == [("a", ""), ("c", False), ("d", 0)]
