"""Reports of a run: JSON (``conformance/schema/result.schema.json``), JUnit XML for a vendor's CI, and a
self-contained HTML page for a person (summary first, failures first)."""

from __future__ import annotations

from pathlib import Path

from conformance._results import RunResult
from conformance.errors import ConformanceError
from conformance.reports._html import html_report
from conformance.reports._json import json_report, result_schema
from conformance.reports._junit import junit_report

__all__ = ["FORMATS", "html_report", "json_report", "junit_report", "result_schema", "write_reports"]

#: report format -> (file name, writer)
FORMATS = {"json": ("results.json", json_report), "junit": ("junit.xml", junit_report),
           "html": ("report.html", html_report)}


def write_reports(run: RunResult, folder: Path, formats: list[str]) -> list[Path]:
    """Write each named report into ``folder`` (created); returns the files written."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ConformanceError(f"unknown report format {', '.join(unknown)} (json, junit, html)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name in formats:
            filename, writer = FORMATS[name]
            path = folder / filename
            path.write_bytes(writer(run))
            written.append(path)
    except OSError as exc:
        raise ConformanceError(f"cannot write reports into {folder}: {exc}") from exc
    return written
