"""No table the CLI prints cuts an identifier: `carbonlink formats` and `carbonlink rules` at any width."""

from __future__ import annotations

import io
import json
import re

import pytest
from rich.console import Console
from typer.testing import CliRunner

from gateway.cli import app
from gateway.cli._common import identifier, listing, print_table, table, text

ELLIPSIS = "\u2026"


def whole(name: str, output: str) -> bool:
    """``name`` appears in ``output`` as one token (not folded, not cut, not part of a longer id)."""
    return re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])", output) is not None


def invoke(*args: str, columns: int) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.stdout


def format_names() -> list[str]:
    listed = json.loads(invoke("formats", "--json", columns=80))
    return [f["name"] for f in listed["formats"]]


def rule_ids() -> list[str]:
    return [r["rule"] for r in json.loads(invoke("rules", "--json", columns=80))]


@pytest.mark.parametrize("columns", [40, 80, 200])
def test_formats_prints_every_name_whole(columns: int) -> None:
    names = format_names()
    assert "gold-standard" in names
    output = invoke("formats", columns=columns)
    assert ELLIPSIS not in output
    assert [name for name in names if not whole(name, output)] == []


@pytest.mark.parametrize("columns", [40, 80, 200])
def test_rules_prints_every_rule_id_whole(columns: int) -> None:
    ids = rule_ids()
    output = invoke("rules", columns=columns)  # (titles may hold an ellipsis of their own: "ACR…")
    assert [rule for rule in ids if not whole(rule, output)] == []
    assert f"{len(ids)} rules" in output


def test_rules_of_one_format_at_40_columns() -> None:
    output = invoke("rules", "--format", "gold-standard", columns=40)
    assert whole("GOLD_STANDARD.SERIAL_OVERLAP", output) and not whole("VERRA.SERIAL_OVERLAP", output)


def render(width: int, *, terminal: bool) -> str:
    sample = table([identifier("format"), identifier("version"), listing("reads"), text("description")])
    sample.add_row("gold-standard", "1.0.0", "actions, authorized-entities, unit-blocks",
                   "Gold Standard registry exports and API JSON " * 3)
    sample.add_row("a-rather-long-plugin-format-name", "12.4.0", "holdings", "short")
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=terminal, color_system=None, soft_wrap=True)
    print_table(sample, console)
    return buffer.getvalue()


@pytest.mark.parametrize("terminal", [True, False])
@pytest.mark.parametrize("width", [30, 40, 60, 80, 120, 200])
def test_print_table_keeps_identifiers_whole_at_any_width(width: int, terminal: bool) -> None:
    output = render(width, terminal=terminal)
    assert ELLIPSIS not in output
    for name in ("gold-standard", "a-rather-long-plugin-format-name", "1.0.0", "12.4.0", "actions",
                 "authorized-entities", "unit-blocks", "holdings"):
        assert whole(name, output), (name, output)
    longer = [line for line in output.splitlines() if len(line) > width]
    assert all("a-rather-long-plugin-format-name" in line for line in longer), longer


def test_print_table_is_a_table_when_it_fits_and_blocks_when_not() -> None:
    assert "\u2503" in render(120, terminal=True)  # the table's heavy header rule
    narrow = render(40, terminal=True)
    assert "format: gold-standard" in narrow and "version: 12.4.0" in narrow
    assert "\u2503" not in narrow
