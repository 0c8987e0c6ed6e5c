from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from standards.itmo import BlockError, InvalidItmoId, ItmoBlock, ItmoId
from standards.parties import UnknownParty, is_alpha3, party_name, to_alpha2, to_alpha3

ids = st.builds(
    ItmoId,
    st.from_regex(r"CA\d{4}", fullmatch=True),
    st.from_regex(r"[A-Z]{3}\d{2}", fullmatch=True),
    st.from_regex(r"[A-Z]{3}", fullmatch=True),
    st.integers(min_value=1, max_value=10**12),
    st.integers(min_value=1900, max_value=2100),
)


@given(ids)
def test_itmo_id_round_trips(itmo: ItmoId) -> None:
    assert ItmoId.parse(str(itmo)) == itmo


def test_itmo_id_parses_the_decision_example_and_thousands_separators() -> None:
    itmo = ItmoId.parse("CA0001-CHE01-GHA-1000-2023")
    assert (itmo.cooperative_approach, itmo.registry, itmo.first_transferring_party, itmo.serial, itmo.vintage) == (
        "CA0001", "CHE01", "GHA", 1000, 2023)
    assert ItmoId.parse("CA0001-CHE01-GHA-1,000,000-2023").serial == 1_000_000


@pytest.mark.parametrize("text", ["CA001-CHE01-GHA-1-2023", "CA0001-CH01-GHA-1-2023", "CA0001-CHE01-GH-1-2023",
                                  "CA0001-CHE01-GHA-0-2023", "CA0001-CHE01-GHA-1-23", "CA0004-VU-CH-356-1-3000-2023",
                                  "CA0001-CHE01-GHA-1,00-2023"])
def test_invalid_itmo_ids_are_refused(text: str) -> None:
    with pytest.raises(InvalidItmoId):
        ItmoId.parse(text)


@given(st.integers(1, 10**9), st.integers(0, 10**6), st.data())
def test_block_split_then_merge_is_identity(first: int, extra: int, data: st.DataObject) -> None:
    block = ItmoBlock("CA0001", "GHA01", "GHA", 2023, first, first + extra + 1)
    cut = data.draw(st.integers(1, block.quantity - 1))
    head, tail = block.split(cut)
    assert head.quantity == cut and head.quantity + tail.quantity == block.quantity
    assert head.merge(tail) == block == tail.merge(head)
    assert block.contains(head) and block.overlaps(tail) and not head.overlaps(tail)


def test_block_errors() -> None:
    with pytest.raises(BlockError):
        ItmoBlock("CA0001", "GHA01", "GHA", 2023, 10, 9)
    a = ItmoBlock("CA0001", "GHA01", "GHA", 2023, 1, 10)
    with pytest.raises(BlockError):
        a.merge(ItmoBlock("CA0001", "GHA01", "GHA", 2023, 12, 20))
    with pytest.raises(BlockError):
        a.merge(ItmoBlock("CA0001", "GHA01", "GHA", 2024, 11, 20))
    with pytest.raises(BlockError):
        a.split(10)
    assert not a.overlaps(ItmoBlock("CA0001", "GHA01", "GHA", 2024, 1, 10))
    assert ItmoBlock.from_ids("CA0001-GHA01-GHA-1-2023", "CA0001-GHA01-GHA-10-2023") == a
    with pytest.raises(BlockError):
        ItmoBlock.from_ids("CA0001-GHA01-GHA-1-2023", "CA0002-GHA01-GHA-10-2023")


@pytest.mark.parametrize(("value", "expected", "form"), [
    ("CHE", "CHE", "alpha-3"), ("ch", "CHE", "alpha-2"), ("Switzerland", "CHE", "name"),
    ("Viet Nam", "VNM", "name"), ("United Republic of Tanzania", "TZA", "name"), ("EUE", "EUE", "alpha-3"),
    ("EU", "EUE", "alpha-2"), ("European Union", "EUE", "name"), ("Bolivia (Plurinational State of)", "BOL", "name"),
    ("Antigua and Barduba", "ATG", "name"),
])
def test_party_conversion(value: str, expected: str, form: str) -> None:
    assert to_alpha3(value) == (expected, form)


@pytest.mark.parametrize("value", ["", "XX", "XYZ", "Atlantis", "C1"])
def test_unknown_parties(value: str) -> None:
    with pytest.raises(UnknownParty):
        to_alpha3(value)


def test_party_helpers() -> None:
    assert is_alpha3("GHA") and is_alpha3("EUE") and not is_alpha3("gha") and not is_alpha3("XYZ")
    assert to_alpha2("GHA") == "GH" and to_alpha2("EUE") == "EU"
    assert party_name("EUE") == "European Union" and party_name("CHE") == "Switzerland"
