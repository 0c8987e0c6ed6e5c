"""What a unit stream (:mod:`standards.cadt.stream_v2`, :mod:`standards.cadt.stream_v1`) needs to give, one
record at a time, what the whole-document mapping gives after seeing every record.

* Issuance-report rows (:mod:`standards.cadt._issuance_rows`) are left out of the units, so the units after
  them are numbered without them: :func:`place_unit_findings` renumbers the pointers of the linker's findings
  about one record read, or drops them / makes them pointer-less for a row, exactly as
  :func:`~standards.cadt._issuance_rows.split_issuance_rows` does for the whole document.
* A block without an issuance date takes the date of the one issuance the export lists for its project and
  vintage (:func:`standards.cadt._periods.issue_dates`, computed over the whole export). :class:`IssueDatesSoFar`
  answers from the blocks read so far and refuses (:class:`NotStreamable`) as soon as a later block would
  change an answer already given; the caller then translates the file whole.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from standards.cadt._issuance_rows import ISSUANCE_ROW_PREFIX
from standards.findings import Finding, Location

IssueKey = tuple[str | None, str | None, int | None]
_SEVERAL = date.min  # a key whose blocks give more than one issuance date


class NotStreamable(Exception):
    """This document cannot be built one unit at a time; translate it whole."""


class IssueDatesSoFar(dict[IssueKey, date]):
    """:func:`standards.cadt._periods.issue_dates` of the blocks read so far, as the linkers read it (``get``).

    Memory: one entry per (registry, project, vintage) with a dated block, and one per key a block without a
    date asked about."""

    def __init__(self) -> None:
        super().__init__()
        self._dates: dict[IssueKey, date] = {}
        self._answered: set[IssueKey] = set()
        self._last: tuple[Any, ...] = (None, None, None, None)  # the values last noted

    def note(self, registry: str | None, project_id: str | None, vintage: int | None, issued: date | None) -> None:
        """The next block read: its issuance date counts for its key (raises :class:`NotStreamable` when that
        changes the date an earlier block without one was given)."""
        if issued is None or not project_id or vintage is None:
            return
        last = self._last
        if issued == last[3] and project_id == last[1] and vintage == last[2] and registry == last[0]:
            return  # as the block before (the blocks of an issuance): its key holds this date or several
        self._last = (registry, project_id, vintage, issued)
        key = (registry, project_id, vintage)
        known = self._dates.get(key)
        if known is None:
            self._dates[key] = issued
        elif known != issued and known is not _SEVERAL:
            self._dates[key] = _SEVERAL
        else:
            return
        if key in self._answered:
            raise NotStreamable("a block without an issuance date took the date of its project's one issuance "
                                "of its vintage, and a later row gives that issuance another date")

    def get(self, key: IssueKey, default: Any = None) -> Any:
        self._answered.add(key)
        known = self._dates.get(key)
        return default if known is None or known is _SEVERAL else known


def place_unit_findings(findings: list[Finding], start: int, resource: str, index: int, written: int | None,
                        linked: bool) -> None:
    """The findings from ``start`` on (the linker's, about the ``index``-th record read), as the whole document
    numbers them: pointers at that record point at the ``written``-th unit of the output; for an issuance-report
    row (``written`` None) they are dropped when the row was ``linked`` as its project's issuance, else its
    errors are kept without a pointer, their message naming the row."""
    head = f"/{resource}/{index}"
    kept: list[Finding] = []
    for finding in findings[start:]:
        pointer = finding.location.pointer or ""
        if pointer != head and not pointer.startswith(head + "/"):
            kept.append(finding)
        elif written is not None:
            moved = f"/{resource}/{written}{pointer[len(head):]}"
            kept.append(finding if written == index else replace(finding, location=replace(finding.location,
                                                                                             pointer=moved)))
        elif not linked and finding.is_error:
            kept.append(replace(finding, location=Location(pointer=""),
                                message=f"{ISSUANCE_ROW_PREFIX}{index}: {finding.message}"))
    findings[start:] = kept
