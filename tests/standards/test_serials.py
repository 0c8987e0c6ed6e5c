"""Serial numbers: exact round trips, range arithmetic, quantity checks, configured layouts."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.settings import CarbonlinkSettings
from standards import Options, use_options
from standards.errors import CarbonlinkError, InputError
from standards.serials import (
    InvalidSerial,
    Serial,
    SerialBlockError,
    SerialCatalogue,
    SerialLayout,
    SerialLayoutError,
    SerialQuantityMismatch,
    UnknownSerialScheme,
    build_serial,
    default_catalogue,
    layouts_from_json,
    load_layouts,
    parse_serial,
)

LAYOUTS = list(default_catalogue())

# (text, scheme, variant, first, last, a few parts): the public examples each layout cites (docs/serials.md)
KNOWN = [
    ("19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1", "verra", "verra-13",
     941467007, 941467431, {"batch": "19385", "country": "ET", "scope": "14", "project": "1340"}),
    ("8040-449402275-449402275-VCU-042-MER-PE-14-1360-01072013-30062014-1", "verra", "verra-12-no-program",
     449402275, 449402275, {"system": "MER", "project": "1360"}),
    ("19902-1139690318-1139925921-VCS-VCU-500-VER-US-3352-01012024-31122024-0", "verra", "verra-12-no-scope",
     1139690318, 1139925921, {"project": "3352", "certified": "0"}),
    ("0001-000001-000100-VCS-VCU-003-VER-US-0003-01012020-31122020-1", "verra", "verra-12-no-scope",
     1, 100, {"project": "0003"}),
    ("GS1-1-UG-GS11236-16-2024-30307-1-19149", "gold-standard", "gold-standard-9", 1, 19149,
     {"project": "11236", "type_code": "16", "vintage": "2024", "batch": "30307"}),
    ("GS1-1-KE-GS7495-16-2025-30645-608-30350", "gold-standard", "gold-standard-9", 608, 30350, {}),
    ("RW-5-1463953-2-2-0-7014 - RW-5-1467609-2-2-0-7014", "kyoto", "kyoto-range", 1463953, 1467609,
     {"country": "RW", "unit_type": "5", "project": "7014"}),
    ("ACR-FR-1129-2025-2917-30932 to 35143", "acr", "acr-to", 30932, 35143,
     {"country": "FR", "project": "1129", "batch": "2917"}),
    ("ACR-US-192-2010-203-1-5000", "acr", "acr-dash", 1, 5000, {"vintage": "2010"}),
    ("CAR-1-US-1335-31-983-KS-2025-9205-1 to 5000", "car", "car-to", 1, 5000,
     {"unit_type": "1", "type_code": "31", "developer": "983", "state": "KS"}),
    ("CAR-ROC-US-2056-129-2283-WV-2025-8969-1 to 260294", "car", "car-to", 1, 260294, {"unit_type": "ROC"}),
    ("ART-GY-102-2021-11-2759599 to 2760598", "art", "art-to", 2759599, 2760598, {"program": "ART"}),
    ("FCPF-CI-130-2023-20-1 to 46404", "art", "art-to", 1, 46404, {"program": "FCPF"}),
    ("CA0004-VU-CH-356-3001-5000-2024", "undp-v2", "undp-v2", 3001, 5000,
     {"cooperative_approach": "CA0004", "originating_party": "VU", "first_transferring_party": "CH"}),
    ("VU-ITMO-11-356-2022-0-27-35", "undp-v1", "undp-v1", 27, 35, {"unit": "ITMO", "year": "2022"}),
]


@pytest.mark.parametrize(("text", "scheme", "variant", "first", "last", "parts"), KNOWN)
def test_reference_examples_parse_into_parts_and_range(
        text: str, scheme: str, variant: str, first: int, last: int, parts: dict[str, str]) -> None:
    serial = parse_serial(text)
    assert (serial.scheme, serial.variant, serial.first, serial.last) == (scheme, variant, first, last)
    assert serial.quantity == last - first + 1
    for name, value in parts.items():
        assert serial.part(name) == value
    assert serial.format() == text
    assert parse_serial(text, scheme) == serial


def test_quantities_of_the_worked_examples() -> None:
    # the quantities published beside those examples: 425, 19149, 3657, 4212, 1000
    assert parse_serial(KNOWN[0][0], quantity=425).quantity == 425
    assert parse_serial(KNOWN[4][0], quantity="19,149").quantity == 19149
    assert parse_serial(KNOWN[6][0], quantity=Decimal(3657)).quantity == 3657
    assert parse_serial(KNOWN[7][0], quantity=4212).quantity == 4212
    assert parse_serial(KNOWN[11][0], quantity=1000).quantity == 1000


def test_vintage_comes_from_the_vintage_token_or_the_verra_end_date() -> None:
    assert parse_serial(KNOWN[0][0]).vintage == 2020
    assert parse_serial(KNOWN[1][0]).vintage == 2014
    assert parse_serial("ACR-US-192-2010-203-1-5000").vintage == 2010
    assert parse_serial(KNOWN[6][0]).vintage is None


def test_a_positional_twelve_token_guess_would_misread_the_scope_less_form() -> None:
    serial = parse_serial("19902-1139690318-1139925921-VCS-VCU-500-VER-US-3352-01012024-31122024-0")
    assert serial.part("program") == "VCS"
    assert serial.part("scope") is None
    assert serial.part("unit_type") == "VCU"


def test_quantity_disagreeing_with_range_is_rejected_with_a_code() -> None:
    with pytest.raises(SerialQuantityMismatch) as info:
        parse_serial("ACR-FR-1129-2025-2917-30932 to 35143", quantity=4211)
    assert info.value.code == "SERIAL.QUANTITY"
    assert "4212" in info.value.message and "4211" in info.value.message
    with pytest.raises(SerialQuantityMismatch):
        parse_serial("ACR-FR-1129-2025-2917-30932 to 35143", quantity="4212.5")
    with pytest.raises(SerialQuantityMismatch):
        parse_serial("ACR-FR-1129-2025-2917-30932 to 35143", quantity="lots")


def test_undp_v1_ranges_are_not_block_sizes_so_quantity_is_not_checked() -> None:
    serial = parse_serial("VU-ITMO-11-356-2022-0-27-35", quantity=1000)
    assert serial.quantity == 9


HOSTILE = [
    "", " ", "ACR-US-192-2010-203-5000", "acr-us-192-2010-203-1 to 5000",
    " ACR-US-192-2010-203-1 to 5000", "ACR-US-192-2010-203-1 to 5000 ", "ACR-US-192-2010-203-1 to 5000\n",
    "ACR-US-192-2010-203-١-٥٠٠٠",  # Arabic-Indic digits
    "RW-5-1463953-2-2-0-7014 - RW-5-1467609-2-2-0-7015",  # the two identifiers disagree
    "GS1-1-UG-GS-16-2024-30307-1-19149", "CA0004-VU-CH-356-3001-5000-24",
    "19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-0101202-31122020-1",
    "1" * 100_000, "-" * 5000, "1-" * 2000,
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_gets_a_coded_input_error(text: str) -> None:
    with pytest.raises(InvalidSerial) as info:
        parse_serial(text)
    assert isinstance(info.value, InputError)
    assert info.value.code == "SERIAL.INVALID"


def test_a_range_running_backwards_is_refused() -> None:
    with pytest.raises(InvalidSerial, match="runs backwards"):
        parse_serial("ACR-FR-1129-2025-2917-35143 to 30932")


def test_a_serial_of_another_scheme_is_refused_when_the_scheme_is_given() -> None:
    with pytest.raises(InvalidSerial, match="not a verra serial"):
        parse_serial("ACR-US-192-2010-203-1-5000", "verra")
    assert parse_serial("ACR-US-192-2010-203-1-5000", ["verra", "acr"]).scheme == "acr"


def test_unknown_scheme_is_a_coded_unknown_format() -> None:
    with pytest.raises(UnknownSerialScheme) as info:
        parse_serial("ACR-US-192-2010-203-1-5000", "a64er")
    assert info.value.code == "SERIAL.UNKNOWN_SCHEME"
    assert "acr" in info.value.message


def test_split_keeps_zero_padding_and_the_lower_range_first() -> None:
    serial = parse_serial("0001-000001-000100-VCS-VCU-003-VER-US-0003-01012020-31122020-1")
    low, high = serial.split(5)
    assert str(low) == "0001-000001-000005-VCS-VCU-003-VER-US-0003-01012020-31122020-1"
    assert str(high) == "0001-000006-000100-VCS-VCU-003-VER-US-0003-01012020-31122020-1"
    assert low.merge(high) == serial
    assert high.merge(low) == serial


def test_undp_transfer_example_splits_like_the_registry() -> None:
    # UNDP National Carbon Registry v2: owner1 keeps 1-2000, owner2 gets 2001-3000
    owner1, owner2 = parse_serial("CA0004-VU-CH-356-1-3000-2023").split(2000)
    assert (str(owner1), str(owner2)) == ("CA0004-VU-CH-356-1-2000-2023", "CA0004-VU-CH-356-2001-3000-2023")


def test_kyoto_range_split_rewrites_both_identifiers() -> None:
    low, high = parse_serial("RW-5-1463953-2-2-0-7014 - RW-5-1467609-2-2-0-7014").split(47)
    assert str(low) == "RW-5-1463953-2-2-0-7014 - RW-5-1463999-2-2-0-7014"
    assert str(high) == "RW-5-1464000-2-2-0-7014 - RW-5-1467609-2-2-0-7014"


def test_block_errors() -> None:
    serial = parse_serial("ACR-US-192-2010-203-1-5000")
    for bad in (0, 5000, -1, 6000):
        with pytest.raises(SerialBlockError) as info:
            serial.split(bad)
        assert info.value.code == "SERIAL.BLOCK"
    other_batch = parse_serial("ACR-US-192-2010-204-5001-6000")
    with pytest.raises(SerialBlockError, match="same series"):
        serial.merge(other_batch)
    with pytest.raises(SerialBlockError, match="not adjacent"):
        serial.merge(parse_serial("ACR-US-192-2010-203-5002-6000"))
    # a different spelling of the range is a different series: merging would change the text
    with pytest.raises(SerialBlockError):
        serial.merge(parse_serial("ACR-US-192-2010-203-5001 to 6000"))
    with pytest.raises(SerialBlockError):
        serial.with_range(10, 9)
    with pytest.raises(SerialBlockError, match="one unit"):
        parse_serial("RW-5-1463953-2-2-0-7014").with_range(1, 2)


def test_overlap_and_containment() -> None:
    a = parse_serial("ART-GY-102-2021-11-1 to 100")
    b = parse_serial("ART-GY-102-2021-11-100 to 200")
    c = parse_serial("ART-GY-102-2021-11-101 to 200")
    assert a.overlaps(b) and not a.overlaps(c)
    assert b.contains(c) and not c.contains(b)
    assert not a.overlaps(parse_serial("ART-GY-102-2022-11-1 to 100"))


# --- property tests -------------------------------------------------------------------------------------

def _field_strategy(layout: SerialLayout, name: str) -> st.SearchStrategy[str]:
    return st.from_regex(re.compile(layout.fields[name], re.ASCII), fullmatch=True)


@st.composite
def serials(draw: st.DrawFn, layout: SerialLayout | None = None) -> Serial:
    chosen = layout if layout is not None else draw(st.sampled_from(LAYOUTS))
    first = draw(st.integers(min_value=0, max_value=10**12))
    last = draw(st.integers(min_value=first, max_value=first + 10**9)) if chosen.has_range else first
    parts: dict[str, object] = {"first": first, "last": last}
    for name in chosen.names:
        if name not in parts:
            parts[name] = draw(_field_strategy(chosen, name))
    return build_serial(chosen, parts)


@given(serials())
@settings(max_examples=400)
def test_format_parse_round_trip_is_exact_and_the_layout_is_unambiguous(serial: Serial) -> None:
    text = serial.format()
    parsed = parse_serial(text)
    assert parsed.variant == serial.variant
    assert parsed.format() == text
    assert parsed == serial


@given(serials(), st.data())
@settings(max_examples=300)
def test_split_then_merge_is_the_identity(serial: Serial, data: st.DataObject) -> None:
    if serial.quantity < 2:
        with pytest.raises(SerialBlockError):
            serial.split(1)
        return
    cut = data.draw(st.integers(min_value=1, max_value=serial.quantity - 1))
    low, high = serial.split(cut)
    assert low.quantity == cut and low.quantity + high.quantity == serial.quantity
    assert low.last + 1 == high.first
    assert parse_serial(str(low)) == low and parse_serial(str(high)) == high
    assert low.merge(high) == serial
    assert not low.overlaps(high) and serial.contains(low) and serial.contains(high)


@given(serials(), st.integers(min_value=-5, max_value=5))
def test_length_check_accepts_only_the_range_length(serial: Serial, delta: int) -> None:
    if not serial.layout.quantity_checked:
        serial.check_quantity(serial.quantity + delta)
        return
    if delta == 0:
        serial.check_quantity(serial.quantity)
        serial.check_quantity(f"{serial.quantity:,}")
    else:
        with pytest.raises(SerialQuantityMismatch):
            parse_serial(str(serial), serial.scheme, quantity=serial.quantity + delta)


# --- configured layouts (A6.4ER and other unpublished schemes) -----------------------------------------

A64_CONFIG = {
    "layouts": [{
        "scheme": "a64er", "variant": "a64er-example",
        "template": "A64-{host}-{activity}-{vintage}-{first}-{last}",
        "fields": {"host": "[A-Z]{3}", "activity": "\\d+", "vintage": "\\d{4}",
                   "first": "\\d+", "last": "\\d+"},
        "example": "A64-GHA-1002-2025-1-500",
        "description": "made-up test layout; the real A6.4ER format is not published",
    }]
}


def test_layouts_load_from_a_json_file(tmp_path: Path) -> None:
    path = tmp_path / "layouts.json"
    path.write_text(json.dumps(A64_CONFIG))
    catalogue = SerialCatalogue(list(default_catalogue()) + load_layouts(path))
    serial = catalogue.parse("A64-GHA-1002-2025-1001-1500", "a64er", quantity=500)
    assert (serial.part("host"), serial.vintage, serial.first, serial.last) == ("GHA", 2025, 1001, 1500)
    assert "a64er" in catalogue.schemes()


def test_layouts_from_the_options(tmp_path: Path) -> None:
    path = tmp_path / "layouts.json"
    path.write_text(json.dumps(A64_CONFIG))
    with use_options(Options(serial_layouts=path)):
        assert parse_serial("A64-GHA-1002-2025-1-500").scheme == "a64er"
    with pytest.raises(InvalidSerial):
        parse_serial("A64-GHA-1002-2025-1-500")  # the defaults again: no such layout


def test_layouts_from_the_environment_variable(tmp_path: Path) -> None:
    path = tmp_path / "layouts.json"
    path.write_text(json.dumps(A64_CONFIG))
    settings = CarbonlinkSettings.from_environ({"CARBONLINK_SERIAL_LAYOUTS": str(path)})
    with settings.translation.in_force():  # what the CLI and the gateway app do with the variable set
        assert parse_serial("A64-GHA-1002-2025-1-500").scheme == "a64er"


BAD_LAYOUTS = [
    ({"layouts": "x"}, "'layouts' list"),
    ({"layouts": [{"scheme": "x"}]}, "missing 'fields'"),
    ({"layouts": [{"scheme": "x", "template": "{a}-{last}", "fields": {"a": "\\d", "last": "\\d"},
                   "example": "1-2"}]}, "no {first}"),
    ({"layouts": [{"scheme": "x", "template": "{first}-{b}", "fields": {"first": "\\d"},
                   "example": "1-2"}]}, "no pattern"),
    ({"layouts": [{"scheme": "x", "template": "{first}-{last}", "fields": {"first": "(\\d)", "last": "\\d"},
                   "example": "1-2"}]}, "capture"),
    ({"layouts": [{"scheme": "x", "template": "{first}-{last}", "fields": {"first": "[", "last": "\\d"},
                   "example": "1-2"}]}, "bad field pattern"),
    ({"layouts": [{"scheme": "x", "template": "{first}-{last}", "fields": {"first": "\\d", "last": "\\d"},
                   "example": "12-3"}]}, "round-trip"),
    ({"layouts": [{"scheme": "x", "template": "{first}", "fields": {"first": 5}, "example": "1"}]},
     "regular expressions"),
]


@pytest.mark.parametrize(("config", "message"), BAD_LAYOUTS)
def test_bad_layout_configuration_is_a_coded_error(config: object, message: str) -> None:
    with pytest.raises(SerialLayoutError, match=re.escape(message)) as info:
        layouts_from_json(config)
    assert isinstance(info.value, CarbonlinkError) and info.value.code == "SERIAL.LAYOUT"


def test_duplicate_variant_is_refused() -> None:
    catalogue = SerialCatalogue(default_catalogue())
    with pytest.raises(SerialLayoutError, match="twice"):
        catalogue.add(catalogue.variant("acr-to"))


def test_unreadable_layout_file_is_a_coded_input_error(tmp_path: Path) -> None:
    path = tmp_path / "layouts.json"
    path.write_text("{not json")
    with pytest.raises(InputError) as info:
        load_layouts(path)
    assert info.value.code == "INPUT.JSON"


def test_build_serial_needs_every_part_and_valid_values() -> None:
    layout = default_catalogue().variant("acr-to")
    with pytest.raises(InvalidSerial, match="needs"):
        build_serial(layout, {"first": 1, "last": 2})
    with pytest.raises(InvalidSerial, match="not a valid"):
        build_serial(layout, {"country": "usa", "project": 1, "vintage": 2020, "batch": 1,
                              "first": 1, "last": 2})
