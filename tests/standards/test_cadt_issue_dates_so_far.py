"""IssueDatesSoFar: the issuance dates the unit streams give undated blocks, from the blocks read so far, as the
rule states them (one date per registry, project and vintage; several dates answer nothing; a later block
that changes an answer already given refuses the stream)."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from standards.cadt._stream_rows import IssueDatesSoFar, NotStreamable


class _Rule:
    """The rule, with no shortcut: every dated block noted, every answer remembered."""

    def __init__(self) -> None:
        self.dates: dict[Any, set[date]] = {}
        self.answered: dict[Any, date | None] = {}

    def note(self, registry: str, project: str, vintage: int, issued: date | None) -> bool:
        """False when the block changes an answer already given."""
        if issued is None or not project:
            return True
        key = (registry, project, vintage)
        self.dates.setdefault(key, set()).add(issued)
        return key not in self.answered or self.answered[key] == self.get(key, record=False)

    def get(self, key: Any, record: bool = True) -> date | None:
        found = self.dates.get(key, set())
        answer = next(iter(found)) if len(found) == 1 else None
        if record:
            self.answered.setdefault(key, answer)
        return answer


_KEYS = st.tuples(st.sampled_from(["verra", "gold"]), st.sampled_from(["", "P1", "P2"]), st.sampled_from([2019, 2020]))
_DATES = st.one_of(st.none(), st.sampled_from([date(2021, 1, 5), date(2021, 3, 1)]))


@given(st.lists(st.tuples(st.booleans(), _KEYS, _DATES), max_size=40))
def test_dates_so_far_follow_the_rule(steps: list[tuple[bool, tuple[str, str, int], date | None]]) -> None:
    dates, rule = IssueDatesSoFar(), _Rule()
    for asks, key, issued in steps:
        if asks:
            assert dates.get(key) == rule.get(key)
            continue
        if not rule.note(*key, issued):
            try:
                dates.note(*key, issued)
            except NotStreamable:
                return
            raise AssertionError("a block that changes an answer given was taken")
        dates.note(*key, issued)


def test_a_repeated_block_after_a_second_date_keeps_several() -> None:
    dates = IssueDatesSoFar()
    first, second = date(2021, 1, 5), date(2021, 3, 1)
    for issued in (first, first, second, second, first, first):
        dates.note("verra", "P1", 2020, issued)
    assert dates.get(("verra", "P1", 2020)) is None
    other = IssueDatesSoFar()
    other.note("verra", "P1", 2020, first)
    other.note("verra", "P1", 2020, first)
    assert other.get(("verra", "P1", 2020)) == first
