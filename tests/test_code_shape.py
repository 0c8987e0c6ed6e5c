"""The shape rules of CONTRIBUTING.md that a linter does not check: small modules in the packages."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("standards", "adapters", "gateway", "conformance")
MAX_LINES = 500


def _modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("module", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_source_module_is_over_500_lines(module: Path) -> None:
    lines = module.read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{module.relative_to(ROOT)} has {lines} lines: split it by concern"
