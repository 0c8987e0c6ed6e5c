"""Layered validation of AEF V2 tables: structure, code lists, field rules, cross-record rules.

A row that fails a layer skips the later layers (its later findings would only repeat the
first problem); cross-record rules run on the rows that passed every row layer, and only
when the input holds a Table 1, i.e. is a whole submission.
"""

from __future__ import annotations

from standards.aef import rules as R
from standards.aef.tables import ROW_TABLES, TABLE_IDS, AefTables
from standards.aef.validate._layers import Run
from standards.aef.vocab import NOMENCLATURE, Nomenclature
from standards.findings import Finding

__all__ = ["validate_tables"]


def validate_tables(tables: AefTables, *, nomenclature: Nomenclature = NOMENCLATURE
                    ) -> tuple[list[Finding], AefTables]:
    """Run every layer; return the findings and the typed rows (``None`` where a row failed)."""
    run = Run(tables, nomenclature)
    for table_id in TABLE_IDS:
        typed = run.structure(table_id)
        for i, row in enumerate(typed):
            if row is None:
                continue
            if run.code_lists(table_id, i, row) and run.field_rules(table_id, i, row):
                run.passed[table_id].append(i)
        if table_id == "T1":
            run.typed.submission = typed[0] if typed else None
        else:
            run.typed.rows[table_id] = typed  # type: ignore[assignment]
    if tables.submission is None:
        if any(tables.rows[t] for t in ROW_TABLES):
            run.findings.append(R.T1_MISSING.finding(
                "the input holds no Table 1 (Submission): cross-table rules were not run",
                tables.location("T1", 0)))
    else:
        run.cross_records()
    return run.findings, run.typed
