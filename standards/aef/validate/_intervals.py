"""Interval arithmetic on ITMO id ranges: a sorted map of disjoint, closed ``[first, last]`` ranges.

The ledger replay keeps one :class:`IntervalMap` per block key and assigns a state to whole
ranges at once, so a block of a million ITMOs costs what a block of one does.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

V = TypeVar("V")


class IntervalMap(Generic[V]):
    """Disjoint closed integer ranges, each with a value, kept sorted by their first id."""

    __slots__ = ("_firsts", "_lasts", "_values")

    def __init__(self) -> None:
        self._firsts: list[int] = []
        self._lasts: list[int] = []
        self._values: list[V] = []

    @classmethod
    def from_sorted(cls, firsts: list[int], lasts: list[int], values: list[V]) -> IntervalMap[V]:
        """A map of ranges already sorted and disjoint (the caller checked)."""
        made = cls()
        made._firsts, made._lasts, made._values = firsts, lasts, values
        return made

    def __len__(self) -> int:
        return len(self._firsts)

    def __iter__(self) -> Iterator[tuple[int, int, V]]:
        return iter(zip(self._firsts, self._lasts, self._values, strict=True))

    def _span(self, first: int, last: int) -> tuple[int, int]:
        """Indexes ``[lo, hi)`` of the stored ranges that meet ``[first, last]``."""
        lo = bisect_left(self._lasts, first)
        firsts = self._firsts
        if lo == len(firsts) or firsts[lo] > last:
            return lo, lo
        return lo, bisect_right(firsts, last, lo)

    def overlapping(self, first: int, last: int) -> list[tuple[int, int, V]]:
        """The stored ranges that meet ``[first, last]``, clipped to it, in id order."""
        lo, hi = self._span(first, last)
        if lo == hi:
            return []
        return [(max(self._firsts[k], first), min(self._lasts[k], last), self._values[k]) for k in range(lo, hi)]

    def values(self) -> list[V]:
        """The values of the stored ranges, in id order."""
        return self._values

    def covers(self, other: IntervalMap[Any]) -> bool:
        """Whether every range of ``other`` is covered here; a quick test, true when both hold the same
        ranges or this map holds one range spanning all of ``other`` (else it may be a false no)."""
        if not other._firsts:
            return True
        if self._firsts == other._firsts and self._lasts == other._lasts:
            return True
        return len(self._firsts) == 1 and self._firsts[0] <= other._firsts[0] and other._lasts[-1] <= self._lasts[0]

    def gaps(self, first: int, last: int) -> list[tuple[int, int]]:
        """The parts of ``[first, last]`` that no stored range covers."""
        out: list[tuple[int, int]] = []
        cursor = first
        for a, b, _ in self.overlapping(first, last):
            if a > cursor:
                out.append((cursor, a - 1))
            cursor = b + 1
        if cursor <= last:
            out.append((cursor, last))
        return out

    def assign(self, first: int, last: int, value: V) -> None:
        """Give ``[first, last]`` the value ``value``, trimming or splitting the ranges it meets."""
        lo, hi = self._span(first, last)
        if lo == hi:  # nothing met: insert (an append when ranges come in id order)
            self._firsts.insert(lo, first)
            self._lasts.insert(lo, last)
            self._values.insert(lo, value)
            return
        firsts: list[int] = [first]
        lasts: list[int] = [last]
        values: list[V] = [value]
        if self._firsts[lo] < first:
            firsts.insert(0, self._firsts[lo])
            lasts.insert(0, first - 1)
            values.insert(0, self._values[lo])
        if self._lasts[hi - 1] > last:
            firsts.append(last + 1)
            lasts.append(self._lasts[hi - 1])
            values.append(self._values[hi - 1])
        self._firsts[lo:hi] = firsts
        self._lasts[lo:hi] = lasts
        self._values[lo:hi] = values
