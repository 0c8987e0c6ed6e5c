"""A pytest plugin: every case of every installed message kit is a first-class pytest item.

Loaded from the root ``tests/conftest.py`` (``pytest_plugins``). It collects each kit's
``*.cases.json`` files under ``conformance/cases/<kit>/`` (``testpaths`` names ``conformance``):
one item per case (``<file>::<case id>``) that fails when the kit's checks do not behave as the
case says, and one ``lint`` item per kit folder (the case schema, unique ids, a passing and a failing
case for every rule of the catalogue).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.cases import Case, kit_cases, lint_cases, load_case_file


def _kit_for(folder: Path) -> Any:
    from conformance._catalog import default_kits

    for kit in default_kits():
        if getattr(kit, "cases_dir", None) == folder:
            return kit
    return None


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.name.endswith(".cases.json") and _kit_for(file_path.parent) is not None:
        return CaseFile.from_parent(parent, path=file_path)
    return None


class CaseFile(pytest.File):
    """One case file: its cases, then (for the kit's first file) the kit's lint."""

    def collect(self) -> Iterator[pytest.Item]:
        kit = _kit_for(self.path.parent)
        for case in load_case_file(self.path):
            yield CaseItem.from_parent(self, name=case.id, case=case, kit=kit)
        first = sorted(self.path.parent.glob("*.cases.json"))[0]
        if self.path == first:
            yield LintItem.from_parent(self, name=f"lint[{kit.name}]", kit=kit)


class CaseItem(pytest.Item):
    def __init__(self, *, case: Case, kit: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.kit = kit

    def runtest(self) -> None:
        holds, fired = self.case.holds(self.kit.fire)
        if not holds:
            verb = "did not fire" if self.case.expect == "fail" else "fired on a passing case"
            raise CaseFailed(f"{self.case.rule} {verb} ({self.case.description}); fired: {sorted(fired)}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CaseFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.kit.name}: {self.case.id}"


class LintItem(pytest.Item):
    def __init__(self, *, kit: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kit = kit

    def runtest(self) -> None:
        problems = lint_cases(list(kit_cases(self.kit.cases_dir)), self.kit.rule_ids)
        if problems:
            raise CaseFailed("\n".join(problems))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return str(excinfo.value) if isinstance(excinfo.value, CaseFailed) else str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"lint of {self.kit.name}'s cases"


class CaseFailed(AssertionError):
    """A case whose rule did not behave as the case says."""
