"""What every ``carbonlink`` command shares: exit codes, consoles, one-line failures, JSON output,
tables that never cut an identifier, and the settings tree the command line reads.

Private to :mod:`gateway.cli`; the command modules import from here instead of repeating it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError
from rich.cells import cell_len
from rich.console import Console
from rich.table import Column, Table

from gateway.settings import CarbonlinkSettings, env_name
from standards.errors import CarbonlinkError

#: Exit codes of every command: success; findings, a refusal or a broken chain; unreadable input or usage.
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2

#: The gateway's embedded evidence log (the data directory defaults to ./.carbonlink).
DEFAULT_EVIDENCE_LOG = "sqlite:///.carbonlink/evidence.sqlite3"

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class CliUsageError(CarbonlinkError):
    """A command line the option parser accepts but carbonlink cannot act on (exit 2)."""

    code = "CLI.USAGE"


def cli_settings() -> CarbonlinkSettings:
    """The settings tree, read from the environment now (never cached: tests change it).

    The one place the command line looks at the environment. The tree checks types only, not the
    gateway's production rules: an auditor's ``carbonlink evidence verify`` must run where no
    gateway is configured (``carbonlink serve`` checks them, through ``gateway.settings.Settings``).
    """
    try:
        return CarbonlinkSettings()
    except ValidationError as exc:  # a malformed CARBONLINK_* value: name the first, on one line
        first = exc.errors()[0]
        raise CliUsageError(f"{env_name(first['loc'])}: {first['msg']}", code="CLI.SETTINGS") from exc
    except SettingsError as exc:  # a structured (JSON) variable that is not JSON
        raise CliUsageError(str(exc).splitlines()[0], code="CLI.SETTINGS") from exc


def evidence_log_url(settings: CarbonlinkSettings) -> str:
    """``CARBONLINK_EVIDENCE_LOG``, else the gateway's embedded log (:data:`DEFAULT_EVIDENCE_LOG`)."""
    return settings.transfers.evidence_log or DEFAULT_EVIDENCE_LOG


def fail(exc: CarbonlinkError, code: int = EXIT_USAGE) -> typer.Exit:
    """Print ``carbonlink: CODE: message`` on stderr; the caller raises the returned exit ``from exc``."""
    err.print(f"carbonlink: {exc.code}: {exc.message}", markup=False)
    return typer.Exit(code)


def usage_error(message: str) -> typer.Exit:
    """A usage problem the option parser cannot see (conflicting options): one line, exit 2."""
    return fail(CliUsageError(message))


def write_json(value: Any, *, indent: int | None = None, stderr: bool = False) -> None:
    """One JSON document and a newline, UTF-8 as is, on stdout (or stderr)."""
    stream = sys.stderr if stderr else sys.stdout
    stream.write(json.dumps(value, ensure_ascii=False, indent=indent) + "\n")
    stream.flush()


@dataclass
class IdentifierColumn(Column):
    """A column of identifiers (names, codes, rule ids, files): each cell is printed whole."""


@dataclass
class ListColumn(Column):
    """A column whose cells list identifiers joined by ``", "``: lines break between items only."""


#: The narrowest a prose column is squeezed to before the table gives way to one block per row.
PROSE_MIN_WIDTH = 12


def identifier(header: str) -> Column:
    """A column of identifiers: never wrapped, never ellipsised (its width is its longest cell)."""
    return IdentifierColumn(header, no_wrap=True, overflow="fold")


def listing(header: str) -> Column:
    """A column of identifier lists: wraps between items, never inside one."""
    return ListColumn(header, overflow="fold")


def text(header: str) -> Column:
    """A column of prose (titles, descriptions, references): wraps at word boundaries."""
    return Column(header, overflow="fold")


def table(columns: Sequence[Column]) -> Table:
    """A table of the given columns, as the commands print them."""
    return Table(*columns, show_lines=False)


def print_table(rendered: Table, console: Console | None = None) -> None:
    """Print ``rendered`` at the terminal's width (80 in a pipe) without ever cutting an identifier.

    Identifier columns are as wide as their longest cell and identifier lists as their longest item;
    prose wraps in what is left. When the width cannot hold that, each row is printed as a block of
    ``header: value`` lines instead, so names, codes and rule ids still appear whole.
    """
    console = console or Console(file=sys.stdout, highlight=False, soft_wrap=True)
    least = {index: _least_width(column) for index, column in enumerate(rendered.columns)}
    borders = 3 * len(rendered.columns) + 1
    if sum(least.values()) + borders > console.width:
        _print_blocks(rendered, console)
        return
    for index, column in enumerate(rendered.columns):
        if isinstance(column, IdentifierColumn | ListColumn):
            column.min_width = least[index]
    console.print(rendered)


def _least_width(column: Column) -> int:
    """The width below which ``column`` would cut an identifier (or squeeze prose unreadably)."""
    cells = [str(cell) for cell in column.cells]
    if isinstance(column, IdentifierColumn):
        return max((cell_len(cell) for cell in (str(column.header), *cells)), default=1)
    if isinstance(column, ListColumn):
        items = [item + "," for cell in cells for item in cell.split(", ")]
        return max((cell_len(item) for item in (str(column.header), *items)), default=1)
    return PROSE_MIN_WIDTH


def _print_blocks(rendered: Table, console: Console) -> None:
    """One block per row, one ``header: value`` line per cell, a blank line between rows.

    Prose wraps to the width; an identifier stays on its line even if the line is then longer.
    """
    for row in range(rendered.row_count):
        if row:
            console.print()
        for column in rendered.columns:
            line = f"{column.header}: {list(column.cells)[row]}"
            if isinstance(column, IdentifierColumn):
                console.print(line, markup=False, highlight=False, soft_wrap=True, overflow="ignore", crop=False)
            else:
                console.print(line, markup=False, highlight=False, soft_wrap=False, overflow="fold")
