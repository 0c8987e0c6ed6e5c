"""Layered validation of AEF V2 tables: structure, code lists, field rules, cross-record rules.

A row that fails a layer skips the later layers (its later findings would only repeat the
first problem); cross-record rules (among them the ITMO ledger replay) run on the rows that
passed every row layer. Without a Table 1 the rules that need it do not run and
``AEF.T1.MISSING`` names them.
"""

from __future__ import annotations

from collections.abc import Mapping

from standards.aef import rules as R
from standards.aef.tables import ROW_TABLES, TABLE_IDS, TABLES, AefTables
from standards.aef.validate._columns import Columns
from standards.aef.validate._layers import Run
from standards.aef.validate._plans import TABLE_RULE_ROWS
from standards.aef.vocab import NOMENCLATURE, Nomenclature
from standards.findings import Finding, Severity

__all__ = ["Run", "validate_run", "validate_tables"]


def validate_tables(tables: AefTables, *, nomenclature: Nomenclature = NOMENCLATURE,
                    severities: Mapping[str, str | Severity] | None = None, lenient: bool = False
                    ) -> tuple[list[Finding], AefTables]:
    """Run every layer; return the findings and the typed rows (``None`` where a row failed).

    ``severities`` overrides the default severity of rules in :data:`standards.aef.rules.CONFIGURABLE`
    (those whose clause leaves the check implicit), e.g. ``{"AEF.LEDGER.NOT_HELD": "warning"}``.
    Strict by default: whole numbers must not be text and aliases of controlled values are errors;
    ``lenient`` reads legacy data (``"1"`` read as 1, aliases normalised with a warning).
    """
    run = validate_run(tables, nomenclature=nomenclature, severities=severities, lenient=lenient)
    return run.findings, run.typed


#: Whether a table without rows skips the row layers (False only in the test that proves the skip changes nothing).
_skips_empty = True
#: Tables of at most this many rows skip the column screens: each row goes through every row check.
ROW_BY_ROW = 4
#: Whether small tables skip the column screens (False only in the test that proves the skip changes nothing).
_row_by_row = True


def validate_run(tables: AefTables, *, nomenclature: Nomenclature = NOMENCLATURE,
                 severities: Mapping[str, str | Severity] | None = None, lenient: bool = False) -> Run:
    """:func:`validate_tables`, returning the whole run (findings, typed rows, rules not run)."""
    run = Run(tables, nomenclature, R.severity_overrides(severities), lenient=lenient)
    for table_id, index, cn, text in tables.instructions:
        label = TABLES[table_id].by_cn[cn].label
        run.findings.append(R.CARP_INSTRUCTION.finding(
            f"'{label}' holds the template's instruction text {text.strip()[:80]!r}; CARP fills this "
            "field, so it is read as blank", tables.location(table_id, index, cn)))
    for table_id in TABLE_IDS:
        if _skips_empty and not tables.table(table_id):  # no rows: nothing for the row layers (a message: one table)
            if table_id == "T1":
                run.typed.submission = None
            else:
                run.typed.rows[table_id] = []
            continue
        typed = run.structure(table_id)
        coded: set[int] | range
        cells: set[int] | range
        conditional: set[int] | range
        ruled: set[int] | None
        suspects: set[int]
        if _row_by_row and len(typed) <= ROW_BY_ROW and not lenient:
            # a table of a few rows (a relayed message: one): every row through every row check, which costs
            # less than screening its columns first (the screens only pick which rows those checks look at).
            # Strict only: a lenient run rewrites aliases in the code-list layer, after the screens looked.
            coded = cells = conditional = range(len(typed))
            ruled, suspects = None, set()
        else:
            # the code-list and cell checks go column by column over the rows that passed the structure layer;
            # the rows they single out are checked one by one
            kept = [i for i, row in enumerate(typed) if row is not None]
            whole = len(kept) == len(typed)
            dense = Columns([row for row in typed if row is not None])
            coded, cells = run.code_list_rows(table_id, dense), run.cell_rule_rows(table_id, dense)
            conditional = run.conditional_rows(table_id, dense)
            ruled = TABLE_RULE_ROWS[table_id](table_id, dense) if table_id in TABLE_RULE_ROWS else None
            if not whole:  # positions among the kept rows -> row numbers
                coded, cells, conditional = ({kept[j] for j in found} for found in (coded, cells, conditional))
                ruled = None if ruled is None else {kept[j] for j in ruled}
            suspects = coded | cells | conditional | (ruled or set())
        for i, row in enumerate(typed):
            if row is None:
                continue
            if (ruled is not None and i not in suspects) or (
                    (i not in coded or run.code_lists(table_id, i, row))
                    and run.field_rules(table_id, i, row, cells=i in cells, conditionals=i in conditional,
                                        table_rules=ruled is None or i in ruled)):
                run.passed[table_id].append(i)
        if table_id == "T1":
            run.typed.submission = typed[0] if typed else None
        else:
            run.typed.rows[table_id] = typed  # type: ignore[assignment]
    run.cross_records()
    if tables.submission is None and any(tables.rows[t] for t in ROW_TABLES):
        run.findings.append(R.T1_MISSING.finding(
            "the input holds no Table 1 (Submission), so it is not a whole submission; these rules could "
            "not run for want of the tables they join: " + ", ".join(rule.id for rule in run.not_run),
            tables.location("T1", 0)))
    return run
