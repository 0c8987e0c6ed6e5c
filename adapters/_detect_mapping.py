"""Recognising a spreadsheet register by the mappings carbonlink ships, not only the configured one.

``carbonlink validate FILE`` without ``--format`` asks every adapter (:func:`adapters.translate.detect_format`);
the ``spreadsheet`` adapter answers for its configured mapping only. When no format recognises the input, each
bundled mapping (``adapters/mappings/*.yaml``) is tried the same way: the one whose validation counts records
with the fewest errors is chosen (then name order), and the caller is told which mapping it was.
"""

from __future__ import annotations

from adapters.spreadsheet import SpreadsheetAdapter
from adapters.spreadsheet_mapping import builtin_mappings
from standards import CarbonlinkError, InputError, Medium


def detect_spreadsheet_mapping(data: bytes, *, medium: Medium) -> SpreadsheetAdapter | None:
    """The spreadsheet adapter of the bundled mapping that recognises ``data``, or None."""
    ranked: list[tuple[int, str, SpreadsheetAdapter]] = []
    for name in builtin_mappings():
        adapter = SpreadsheetAdapter(name)
        if medium not in adapter.media:
            continue
        try:
            report = adapter.validate(data, medium=medium)
        except (InputError, CarbonlinkError):
            continue
        if report.records:
            ranked.append((sum(1 for f in report.findings if f.is_error), name, adapter))
    return min(ranked, key=lambda r: (r[0], r[1]))[2] if ranked else None
