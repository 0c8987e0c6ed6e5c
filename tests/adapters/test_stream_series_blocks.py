"""The streamed overlap check (adapters.stream_translate.SeriesBlocks) against a plain reference: every block of
a series is compared with every earlier block of that series that was not itself refused."""

from __future__ import annotations

import random

import pytest

from adapters.stream_translate import SeriesBlocks
from adapters.verra import adapter
from standards.serials import InvalidSerial, parse_serial

_TAILS = ["VCS-VCU-1507-VER-ET-14-1340-01012015-31122015-1", "VCS-VCU-1507-VER-ET-14-1340-01012016-31122016-1",
          "VCS-VCU-263-VER-ID-14-4821-01012019-31122019-0"]


def _reference(blocks: list[tuple[str | None, int | None, int | None]]) -> list[int]:
    """Indices of the blocks that overlap an earlier accepted block of their series."""
    accepted: dict[tuple[object, ...], list[tuple[int, int]]] = {}
    refused = []
    for index, (serial, _first, _last) in enumerate(blocks):
        if serial is None:
            continue
        try:
            parsed = parse_serial(serial, adapter.serial_schemes)
        except InvalidSerial:
            continue
        earlier = accepted.setdefault(parsed.series, [])
        if any(a <= parsed.last and parsed.first <= b for a, b in earlier):
            refused.append(index)
        else:
            earlier.append((parsed.first, parsed.last))
    return refused


def _block(rnd: random.Random, batch: int) -> tuple[str | None, int | None, int | None]:
    first = rnd.randrange(0, 400)
    last = first + rnd.randrange(0, 30)
    tail = rnd.choice(_TAILS)
    kind = rnd.random()
    if kind < 0.05:
        return None, None, None
    if kind < 0.1:  # not a serial the layouts read
        return f"-{first}-{last}-", first, last
    if kind < 0.15:  # the range written twice: parsed, not known by its text
        return f"{batch}-{first}-{last}-{tail}-{first}-{last}-x", first, last
    if kind < 0.2:  # the block's own range not given
        return f"{batch}-{first}-{last}-{tail}", None, None
    return f"{batch}-{first}-{last}-{tail}", first, last


@pytest.mark.parametrize("seed", range(8))
def test_overlaps_found_as_blocks_arrive_are_those_of_the_plain_comparison(seed: int) -> None:
    rnd = random.Random(seed)
    batches = [15000 + n for n in range(3)]
    blocks = [_block(rnd, rnd.choice(batches)) for _ in range(400)]
    series = SeriesBlocks(adapter)
    for serial, first, last in blocks:
        series.add_block(serial, first, last)
    found = [int(f.location.pointer.split("/")[2]) for f in series.findings]
    assert found == _reference(blocks)
    assert found, "no overlap: the case proves nothing"
    assert series.count == len(blocks)


def test_serials_the_layouts_do_not_read_are_never_compared_even_first() -> None:
    blocks: list[tuple[str | None, int | None, int | None]] = [("-1-5-", 1, 5), ("-3-4-", 3, 4), ("-1-5-", 1, 5),
                                                               (f"7-1-5-{_TAILS[0]}", 1, 5), ("-1-5-", 1, 5)]
    series = SeriesBlocks(adapter)
    for serial, first, last in blocks:
        series.add_block(serial, first, last)
    assert series.findings == [] == _reference(blocks)
