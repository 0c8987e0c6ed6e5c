"""One word per concept: `--format` names an adapter everywhere; `--standard` is a hidden deprecated alias."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "standards/examples/aef-v2-report.json")
DEPRECATION = "--standard is deprecated; use --format"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "100"})
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("option", ["--format", "-f"])
def test_validate_takes_format(option: str) -> None:
    code, out, err = invoke("validate", EXAMPLE, option, "aef")
    assert code == 0 and "valid as aef" in out
    assert DEPRECATION not in err


@pytest.mark.parametrize("option", ["--standard", "-s"])
def test_validate_still_takes_the_deprecated_standard(option: str) -> None:
    code, out, err = invoke("validate", EXAMPLE, option, "aef")
    assert code == 0 and "valid as aef" in out
    assert DEPRECATION in err


def test_validate_defaults_to_aef() -> None:
    code, out, _ = invoke("validate", EXAMPLE)
    assert code == 0 and "valid as aef" in out


def test_unknown_format_is_a_usage_error_under_either_name() -> None:
    assert invoke("validate", EXAMPLE, "--format", "nope")[0] == 2
    assert invoke("validate", EXAMPLE, "--standard", "nope")[0] == 2


def test_format_and_standard_must_agree() -> None:
    code, _, err = invoke("validate", EXAMPLE, "--format", "aef", "--standard", "cadt-v2")
    assert code == 2 and "CLI.USAGE" in err
    assert invoke("validate", EXAMPLE, "--format", "aef", "--standard", "aef")[0] == 0


def test_rules_format_and_its_deprecated_alias_agree() -> None:
    code, by_format, _ = invoke("rules", "--format", "verra", "--json")
    assert code == 0
    rows = json.loads(by_format)
    assert rows and {r["format"] for r in rows} == {"verra"}
    assert all(r["standard"] == r["format"] for r in rows)  # the old key stays
    code, by_standard, err = invoke("rules", "--standard", "verra", "--json")
    assert code == 0 and json.loads(by_standard) == rows and DEPRECATION in err


@pytest.mark.parametrize("command", [["validate"], ["rules"], ["translate"], ["sandbox"]])
def test_help_says_format_never_standard(command: list[str]) -> None:
    code, out, _ = invoke(*command, "--help")
    assert code == 0
    assert "--standard" not in out and "standard" not in out.lower().replace("gold-standard", "")
    assert "FORMAT" in out
