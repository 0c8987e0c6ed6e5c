"""Units a v2 stream writes from their group's template (standards/cadt/_unit_templates.py) are exactly what
the whole way (mapping, linking, validation of every unit) writes, and a unit the whole way would refuse is
never written from a template.

Each case runs the same units through two streams: one that uses templates, one that builds every unit
the whole way (``use_templates = False``). The document bytes, the findings, the losses and their counts
must be equal, and the templated stream must really have used templates (else the case proves nothing).
The units come from the real sample exports (the bundled fixture, the public Verra sample, the benchmark's
generated export) and from hostile variants of their blocks placed after clean blocks of the same group.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from adapters._catalog import default_catalog
from adapters.registry_exports import PendingBlock
from adapters.verra import adapter
from bench import bench_verra as bv
from bench.verra_sample import write as write_sample
from gateway.cli.translation import configured_catalog
from standards.cadt import _unit_templates
from standards.cadt.codec import CadtV2Codec
from standards.cadt.stream_v2 import NotStreamable, V2UnitStream
from standards.codec import Medium
from standards.model import UnitBlock, UnitStatus

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "verra" / "transactions.csv"


def _codec(profile: Path | None) -> CadtV2Codec:
    catalog = configured_catalog("verra", "cadt-v2", profile, False, None, False) or default_catalog()
    codec = catalog.get("cadt-v2")
    assert isinstance(codec, CadtV2Codec)
    return codec


def _units(path: Path) -> list[UnitBlock]:
    with path.open("rb") as handle:
        units = [u for u in adapter.iter_records(handle, medium=Medium.CSV, findings=[]) if isinstance(u, UnitBlock)]
    assert units
    return units


def _run(units: Iterable[UnitBlock], codec: CadtV2Codec, templates: bool,
         values: bool = False) -> tuple[tuple[Any, ...], int]:
    """The stream's outcome; ``values``: each unit handed over as its field values
    (:meth:`V2UnitStream.add_values`, as the Verra reader hands clean rows over), built only when needed."""
    stream = V2UnitStream(codec)
    stream.use_templates = templates
    try:
        try:
            for unit in units:
                if values:
                    stream.add_values(dict(unit.__dict__), lambda _values, block=unit: block)
                else:
                    stream.add(unit)
        except NotStreamable as exc:  # a block the whole document must be known for: both streams stop there
            return ("not streamable", str(exc), stream.units), 0
        stream.finish()
        out = io.BytesIO()
        stream.write(out)
        outcome = (out.getvalue(), [repr(f) for f in stream.findings], stream.losses.as_losses(),
                   dict(stream.losses.counts), stream.units, stream.valid)
        return outcome, stream.templated
    finally:
        stream.close()


def assert_same(units: list[UnitBlock], codec: CadtV2Codec) -> tuple[Any, ...]:
    """The two streams agree; the templated one used templates. Its outcome."""
    templated, used = _run(units, codec, True)
    whole, none = _run(units, codec, False)
    assert none == 0
    assert templated == whole
    if whole[0] == "not streamable":
        return whole
    assert used > 0, "no unit was written from a template: the case proves nothing"
    assert _run(units, codec, True, values=True) == (templated, used)  # from field values: the same
    return templated


def _sample(tmp: Path) -> Path:
    return write_sample(tmp / "sample")[0]


def _generated(tmp: Path) -> Path:
    path = tmp / "generated.csv"
    bv.generate(path, 700, per_issuance=9)
    return path


SOURCES: list[Callable[[Path], Path]] = [lambda _tmp: FIXTURE, _sample, _generated]


@pytest.mark.parametrize("profile", [bv.PROFILE_V2, None], ids=["profile", "no-profile"])
@pytest.mark.parametrize("make", SOURCES, ids=["fixture", "public-sample", "generated"])
def test_real_exports_give_the_same_document_and_findings(tmp_path: Path, make: Callable[[Path], Path],
                                                          profile: Path | None) -> None:
    read = _units(make(tmp_path))
    # the export as it is, then its blocks again further along their series (the later blocks of each group,
    # as a real export has them when retirements split its issuances): the small exports hold few of those
    units = read + [_shifted(u, 10**11 * (n + 1)) for n in range(3) for u in read]
    templated, used = _run(units, _codec(profile), True)
    whole, _ = _run(units, _codec(profile), False)
    assert templated == whole
    assert _run(units, _codec(profile), True, values=True) == (templated, used)
    if profile is not None:  # without the profile every unit has a finding, so none is a template
        assert used >= len(read)


def _shifted(unit: UnitBlock, by: int) -> UnitBlock:
    """The same block moved ``by`` units along its series (a later block of the same group)."""
    first, last = unit.first_id, unit.last_id
    assert first is not None and last is not None and unit.serial is not None
    serial = unit.serial.replace(f"-{first}-{last}-", f"-{first + by}-{last + by}-", 1)
    return unit.model_copy(update={"serial": serial, "first_id": first + by, "last_id": last + by})


def _blocks(base: UnitBlock, count: int, start: int) -> list[UnitBlock]:
    return [_shifted(base, start + 10**6 * n) for n in range(count)]


# each turns a clean block into one the checks must judge: (name, change)
HOSTILE: list[tuple[str, Callable[[UnitBlock], UnitBlock]]] = [
    ("beneficiary over 255 characters", lambda u: u.model_copy(update={"beneficiary": "B" * 256})),
    ("beneficiary of 255 characters", lambda u: u.model_copy(update={"beneficiary": "B" * 255})),
    ("empty beneficiary", lambda u: u.model_copy(update={"beneficiary": ""})),
    ("owner over 255 characters", lambda u: u.model_copy(update={"owner": "O" * 300})),
    ("status reason", lambda u: u.model_copy(update={"status_reason": "x" * 5000})),
    ("quantity that disagrees with the range", lambda u: u.model_copy(update={"quantity": u.quantity + 1})),
    ("fractional quantity", lambda u: u.model_copy(update={"quantity": Decimal("1.5")})),
    ("no quantity", lambda u: u.model_copy(update={"quantity": None})),
    ("range that runs backwards", lambda u: u.model_copy(update={
        "serial": str(u.serial).replace(f"-{u.first_id}-{u.last_id}-", f"-{u.last_id}-{u.first_id}-"),
        "first_id": u.last_id, "last_id": u.first_id})),
    ("bounds longer than their field", lambda u: _widened(u)),
    ("serial over 255 characters", lambda u: u.model_copy(update={"serial": str(u.serial) + "-" + "9" * 260})),
    ("serial naming its range twice", lambda u: u.model_copy(update={
        "serial": f"{u.serial}-{u.first_id}-{u.last_id}-x"})),
    ("no serial", lambda u: u.model_copy(update={"serial": None})),
    ("no vintage", lambda u: u.model_copy(update={"vintage": None})),
    ("vintage out of range", lambda u: u.model_copy(update={"vintage": 1800})),
    ("status v2 has no name for", lambda u: u.model_copy(update={"status": UnitStatus.TRANSFERRED})),
    ("cancelled with a date", lambda u: u.model_copy(update={"status": UnitStatus.CANCELLED,
                                                             "status_date": u.issuance_date})),
    ("no status", lambda u: u.model_copy(update={"status": None})),
    ("unknown methodology", lambda u: u.model_copy(update={"extra": {**u.extra, "Methodology": "XX0000"}})),
    ("v2 field in extra", lambda u: u.model_copy(update={"extra": {**u.extra, "unitType": "Removal - nature"}})),
    ("unhashable column", lambda u: u.model_copy(update={"extra": {**u.extra, "Methodology": ["VM0015"]}})),
    ("resource in extra", lambda u: u.model_copy(update={"extra": {**u.extra, "label": []}})),
    ("no project", lambda u: u.model_copy(update={"project_id": None})),
    ("another registry", lambda u: u.model_copy(update={"registry": "nowhere"})),
    ("no issuance date", lambda u: u.model_copy(update={"issuance_date": None})),
    # the layouts a template keeps per set of optional values (UnitTemplate.memo)
    ("beneficiary with per cent signs", lambda u: u.model_copy(update={"beneficiary": "100% %s %b %% Ltd"})),
    ("beneficiary that is a str subclass", lambda u: u.model_copy(update={  # equal to its group's own
        "beneficiary": _Text(u.beneficiary or "Example Ltd")})),
    ("status date with a time", lambda u: u.model_copy(update={
        "status_date": datetime(2020, 6, 30, 12, 0) if u.status_date else None})),
    ("beneficiary with quotes and a newline", lambda u: u.model_copy(update={"beneficiary": 'A "B"\n\\ \u00e9'})),
]


class _Text(str):
    """A str subclass: equal to its text, but not of the type the validator's checks accept."""


def _widened(unit: UnitBlock) -> UnitBlock:
    first = 10**300
    last = first + int(unit.quantity or 1) - 1
    serial = str(unit.serial).replace(f"-{unit.first_id}-{unit.last_id}-", f"-{first}-{last}-")
    return unit.model_copy(update={"serial": serial, "first_id": first, "last_id": last})


@pytest.mark.parametrize(("name", "change"), HOSTILE, ids=[name for name, _ in HOSTILE])
@pytest.mark.parametrize("retired", [False, True], ids=["issued", "retired"])
def test_a_hostile_block_after_its_group_is_judged_as_the_whole_way_judges_it(
        tmp_path: Path, name: str, change: Callable[[UnitBlock], UnitBlock], retired: bool) -> None:
    units = _units(_generated(tmp_path))
    base = next(u for u in units if (u.status is UnitStatus.RETIRED) is retired)
    clean = _blocks(base, 4, 10**9)
    hostile = change(_shifted(base, 10**9 + 10**6 * 10))
    assert_same([*units[:20], *clean, hostile, *_blocks(base, 2, 10**9 + 10**6 * 20)], _codec(bv.PROFILE_V2))


def test_values_the_validator_refuses_are_reported_not_written(tmp_path: Path) -> None:
    units = _units(_generated(tmp_path))
    base = next(u for u in units if u.status is UnitStatus.RETIRED)
    hostile = _shifted(base, 10**9 + 10**7).model_copy(update={"beneficiary": "B" * 256})
    outcome = assert_same([*_blocks(base, 3, 10**9), hostile], _codec(bv.PROFILE_V2))
    findings, valid = outcome[1], outcome[5]
    assert not valid
    assert [f for f in findings if "STRING_LENGTH" in f and "/unit/3/unitRetirementBeneficiary" in f]


def test_random_mixtures_of_clean_and_hostile_blocks(tmp_path: Path) -> None:
    units = _units(_generated(tmp_path))
    codec = _codec(bv.PROFILE_V2)
    streamed = 0
    for seed in range(6):
        rnd = random.Random(seed)
        mixed: list[UnitBlock] = []
        for n, unit in enumerate(units[:150]):
            moved = _shifted(unit, 10**9 + n)
            mixed.append(rnd.choice(HOSTILE)[1](moved) if rnd.random() < 0.15 else moved)
        # an undated block takes its project's one issuance date of its vintage; a later block that gives that
        # key another date stops the stream (the whole-file path then translates): both streams stop alike
        streamed += assert_same(mixed, codec)[0] != "not streamable"
    assert streamed >= 3, "most mixtures stream to the end"


def test_the_group_changes_with_every_field_the_whole_way_reads(tmp_path: Path) -> None:
    """Every UnitBlock field is either part of the group or a block's own value (a new field disables
    templates until it is placed), and blocks that differ outside their own values are in different groups."""
    assert _unit_templates.KNOWN_MODEL
    units = _units(_generated(tmp_path))
    stream = V2UnitStream(_codec(bv.PROFILE_V2))
    try:
        base = units[0]
        vocab = None
        from standards.cadt.linking_v2 import _v2_vocabulary

        vocab = _v2_vocabulary(base.registry)
        key = stream.templates.key(base, vocab)
        assert key is not None
        assert stream.templates.key(_shifted(base, 10**6), vocab) == key
        for update in ({"project_name": "other"}, {"vintage": 2001}, {"country": "PER"}, {"link": "x"},
                       {"issuance_date": None}, {"status_reason": "r"}, {"account": "a"},
                       {"extra": {**base.extra, "Methodology": "VM0007"}},
                       {"extra": {**base.extra, "Unheard Of": "1"}}):
            assert stream.templates.key(base.model_copy(update=update), vocab) != key, update
        # a column the linker does not read is lost by its name alone: its value does not split the group
        varied = base.model_copy(update={"extra": {**base.extra, "Total Vintage Quantity": "1"}})
        assert stream.templates.key(varied, vocab) == key
    finally:
        stream.close()


def test_a_template_is_not_used_after_its_project_learnt_what_its_blocks_fall_back_on(tmp_path: Path) -> None:
    """A block without its own methodology or project type takes its project's; a template is used only while
    the project's are what they were when it was made, else the block goes the whole way."""
    units = _units(_generated(tmp_path))
    base = next(u for u in units if u.status is UnitStatus.ISSUED)
    stream = V2UnitStream(_codec(bv.PROFILE_V2))
    try:
        for unit in _blocks(base, 3, 10**9):
            stream.add(unit)
        assert stream.templated == 2  # the first block, which built the issuance, is the template
        slot = next(iter(stream._slots.values()))
        learnt = slot.project_type
        slot.project_type = "Energy demand"  # as if a later block of another group had set it
        stream.add(_shifted(base, 10**9 + 10**8))
        assert stream.templated == 2
        slot.project_type = learnt  # the template made meanwhile holds "Energy demand": this one goes whole, anew
        stream.add(_shifted(base, 10**9 + 2 * 10**8))
        assert stream.templated == 2
        stream.add(_shifted(base, 10**9 + 3 * 10**8))
        assert stream.templated == 3
    finally:
        stream.close()


@pytest.mark.parametrize("make", SOURCES, ids=["fixture", "public-sample", "generated"])
def test_the_verra_reader_hands_over_the_values_of_the_very_block_it_reads(tmp_path: Path,
                                                                          make: Callable[[Path], Path]) -> None:
    """``iter_pending`` hands clean rows over unbuilt: each one's values are its block's ``__dict__`` (the
    stream reads its group and own values from them) and its block is the one ``iter_records`` gives; rows
    the compiled reader does not take come built, as ever."""
    path = make(tmp_path)
    with path.open("rb") as handle:
        built = list(type(adapter)().iter_records(handle, medium=Medium.CSV, findings=[]))
    found: list[Any] = []
    with path.open("rb") as handle:
        pending = list(type(adapter)().iter_pending(handle, found))
    assert len(pending) == len(built) and not any(f.is_error for f in found)
    handed = 0
    for record, block in zip(pending, built, strict=True):
        if isinstance(record, PendingBlock):
            handed += 1
            made = record.block()
            assert list(record.values.items()) == list(made.__dict__.items())
            assert made == block and made.model_fields_set == block.model_fields_set
        else:
            assert record == block
    assert handed > 0


def test_a_streamed_export_builds_only_the_blocks_that_go_the_whole_way(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the command's path, the blocks a template writes are never built; the document is the
    whole-file path's."""
    from adapters.stream_translate import stream_translation
    from adapters.translate import translate
    from adapters.verra import _fast_path

    source = _generated(tmp_path)
    built = 0
    construct = _fast_path._construct

    def counting(values: dict[str, Any]) -> UnitBlock:
        nonlocal built
        built += 1
        return construct(values)

    monkeypatch.setattr(_fast_path, "_construct", counting)
    monkeypatch.setattr(_fast_path, "_unit_builder", lambda: counting)
    catalog = configured_catalog("verra", "cadt-v2", bv.PROFILE_V2, False, None, False)
    streamed = stream_translation([source], tmp_path / "out.json", source="verra", target="cadt-v2",
                                  source_medium=Medium.CSV, target_medium=Medium.JSON, catalog=catalog)
    assert streamed is not None
    streamed.write(tmp_path / "out.json")
    assert streamed.stream.templated > 0
    assert 0 < built <= streamed.records_read - streamed.stream.templated  # none of the templated ones
    monkeypatch.undo()
    whole = translate(source.read_bytes(), source="verra", target="cadt-v2", source_medium=Medium.CSV,
                      target_medium=Medium.JSON,
                      catalog=configured_catalog("verra", "cadt-v2", bv.PROFILE_V2, False, None, False))
    assert (tmp_path / "out.json").read_bytes() == whole.output.data



@pytest.mark.parametrize("kept", [1, 3])
def test_losses_and_counts_of_templated_units_added_in_bulk_equal_the_whole_way(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kept: int) -> None:
    """Once a template's loss fields name no more record ids (LOSS_IDS_KEPT reached), its units' losses and the
    linker's counts are added in bulk (V2UnitStream.settle): the same document, findings, losses and counts
    as unit by unit, with whole-way units and hostile blocks in between."""
    from standards.cadt import stream_v2
    monkeypatch.setattr(stream_v2, "LOSS_IDS_KEPT", kept)
    units = _units(_generated(tmp_path))
    codec = _codec(bv.PROFILE_V2)
    rnd = random.Random(kept)
    mixed = []
    for n, unit in enumerate(units[:300]):
        moved = _shifted(unit, 10**9 + n)
        mixed.append(rnd.choice(HOSTILE)[1](moved) if rnd.random() < 0.05 else moved)
    outcome = assert_same(mixed, codec)
    losses, counts = outcome[2], outcome[3]
    assert any(counts[loss.field] > len(loss.records) for loss in losses), "no loss field was saturated"


def test_a_template_keeps_few_layouts_and_judges_each_new_set_of_optional_values(tmp_path: Path) -> None:
    """Blocks of one group with many different optional values (more than a template keeps layouts for),
    some refused, some repeated after a refused one: the same outcome as the whole way."""
    units = _units(_generated(tmp_path))
    base = next(u for u in units if u.status is UnitStatus.RETIRED)
    blocks = []
    for n in range(_unit_templates.MEMO_SIZE * 2 + 5):
        name = "B" * (250 + n % 10)  # lengths 256-259 are over the limit
        blocks.append(_shifted(base, 10**9 + 10**6 * n).model_copy(update={"beneficiary": f"{name[:250]}{n % 7}"
                                                                            if n % 3 else name}))
    outcome = assert_same(blocks, _codec(bv.PROFILE_V2))
    assert not outcome[5]


@pytest.mark.parametrize("registry", ["verra", "gold-standard", "r\u00e9gistre"])
def test_unit_ids_are_the_uuid5_of_registry_kind_and_serial_call_after_call(registry: str) -> None:
    """``id_maker`` (the templates' cadTrustUnitId) hashes the fixed start once: each id is still the
    UUIDv5 ``stable_id`` gives, whatever the ids made before it, and its head is the id's first 64 bits."""
    import uuid

    from standards.cadt._record_ids import ID_NAMESPACE, id_maker, stable_id
    make = id_maker(registry, "unit")
    serials = ["1-2-3-VCS-VCU", "", "1-2-3-VCS-VCU", "\u00e9-9", *(f"{n}-{n}-{n + 5}-X" for n in range(50))]
    for serial in serials:
        unit_id, head = make(serial)
        expected = str(uuid.uuid5(ID_NAMESPACE, f"{registry}\x1funit\x1f{serial}"))
        assert unit_id == stable_id(registry, "unit", serial) == expected
        assert head == uuid.UUID(unit_id).int >> 64


@pytest.mark.parametrize("beneficiary", ["100% %s %b %% Ltd", 'A "B"\n\\ \u00e9', "%"])
def test_a_layout_made_for_repeated_values_writes_them_as_the_whole_way(tmp_path: Path, beneficiary: str) -> None:
    """A set of optional values seen twice gets its own layout (UnitTemplate.memo): values that look like format
    directives or need escaping are written as the whole way writes them, block after block."""
    units = _units(_generated(tmp_path))
    base = next(u for u in units if u.status is UnitStatus.RETIRED)
    blocks = [_shifted(base, 10**9 + 10**6 * n).model_copy(update={"beneficiary": beneficiary}) for n in range(6)]
    _outcome = assert_same([base, *blocks], _codec(bv.PROFILE_V2))


def test_the_block_that_builds_its_issuance_is_its_groups_template(tmp_path: Path) -> None:
    """Only the first block of each group (an issuance's blocks of one status) goes the whole way, the one that
    builds the issuance included: the blocks after it, linked to the issuance it built, are written from it."""
    units = _units(_generated(tmp_path))
    groups = {(str(u.serial).split("-", 1)[0], u.status, u.status_date is None) for u in units}
    assert len(groups) < len(units) / 2
    outcome = assert_same(units, _codec(bv.PROFILE_V2))
    _, templated = _run(units, _codec(bv.PROFILE_V2), True)
    assert outcome[-1] is True
    assert templated == len(units) - len(groups)


def test_what_building_an_issuance_counts_once_is_not_counted_again_for_its_blocks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A methodology whose export column holds its title is counted once, when the first issuance naming it is
    built (a DERIVED finding with that count): the blocks written from the template of the block that built
    it do not count it again; every other count (issuance ids, profile values) is counted per block."""
    from standards.cadt.vocab import registry_vocabulary
    vocab = registry_vocabulary("verra")
    assert vocab is not None
    v2 = vocab.table("v2")
    assert isinstance(v2, dict)
    monkeypatch.setitem(v2, "methodologyTitles", True)
    monkeypatch.setitem(v2, "methodologyNames", {})
    units = _units(_generated(tmp_path))
    outcome = assert_same(units, _codec(bv.PROFILE_V2))
    methodologies = {u.extra.get("Methodology") for u in units}
    once = [f for f in outcome[1] if "methodologyName" in f and "DERIVED" in f]
    assert len(once) == 1 and f"'{len(methodologies)} record(s)" in once[0].split("message=")[1][:20]
    per_block = [f for f in outcome[1] if "issuance ids" in f]
    assert len(per_block) == 1 and f"'{len(units)} record(s)" in per_block[0].split("message=")[1][:20]
