"""Case files: the suite's own evidence that each rule's check fires when it must and only then.

As in the JSON-Schema-Test-Suite, cases are data: a ``*.cases.json`` file names its kit and a base
document, and each case edits the base with an RFC 6902 JSON Patch (or gives a whole ``document``)
and says whether its rule must fire (``fail``) or must not (``pass``). Files are checked against the
committed case schema (``conformance/schema/case.schema.json``) and linted: ids unique across a kit,
rules known to the kit's catalogues, and every catalogued rule with at least one passing and one
failing case. ``conformance.pytest_plugin`` collects every case as a pytest item.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonpatch
from jsonschema import Draft202012Validator

from conformance.errors import CaseFileInvalid

__all__ = ["CASES_ROOT", "Case", "CaseRunner", "case_files", "case_schema", "lint_cases", "load_case_file"]

#: Where the built-in kits keep their case files (one folder per kit).
CASES_ROOT = Path(__file__).resolve().parent / "cases"
#: Given a built document and the case's mode, the rule ids the kit's checks fire.
CaseRunner = Callable[[Any, str], set[str]]


@dataclass(frozen=True, slots=True)
class Case:
    """One case, with the file it came from and its base document resolved."""

    id: str
    rule: str
    expect: str
    description: str
    mode: str
    file: Path
    base: Path
    patch: tuple[dict[str, Any], ...] | None
    document: Any = None

    def build(self) -> Any:
        """The document the case checks: the base with the patch applied, or the case's own document."""
        if self.patch is None:
            return self.document
        return jsonpatch.apply_patch(_base(self.base), list(self.patch))

    def holds(self, runner: CaseRunner) -> tuple[bool, set[str]]:
        """Whether the kit's checks behave as the case expects, with the rules that fired."""
        fired = runner(self.build(), self.mode)
        return (self.rule in fired) == (self.expect == "fail"), fired


@lru_cache(maxsize=32)
def _base_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _base(path: Path) -> Any:
    return json.loads(_base_text(path))


@lru_cache(maxsize=1)
def case_schema() -> dict[str, Any]:
    """The committed JSON Schema every case file is valid against."""
    text = resources.files("conformance").joinpath("schema/case.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def case_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.cases.json"))


def load_case_file(path: Path) -> list[Case]:
    """Read a case file; refuse one that is not valid against the case schema (with every error)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CaseFileInvalid(f"{path}: not readable as JSON: {exc}") from exc
    errors = sorted(Draft202012Validator(case_schema()).iter_errors(data),
                    key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        listed = "; ".join(f"/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:10])
        raise CaseFileInvalid(f"{path}: not valid against the case schema: {listed}")
    base = (path.parent / data["base"]).resolve()
    if not base.is_file():
        raise CaseFileInvalid(f"{path}: its base document {data['base']} does not exist")
    return [Case(c["id"], c["rule"], c["expect"], c["description"], c.get("mode", "strict"), path, base,
                 tuple(c["patch"]) if "patch" in c else None, c.get("document")) for c in data["cases"]]


def kit_cases(folder: Path) -> Iterator[Case]:
    for path in case_files(folder):
        yield from load_case_file(path)


def lint_cases(cases: Iterable[Case], rule_ids: Iterable[str]) -> list[str]:
    """The lint rules of a kit's cases; each problem is one line (an empty list: clean).

    ids unique across the kit; every case's rule is in the kit's catalogues; every rule has at least
    one passing and one failing case.
    """
    known = set(rule_ids)
    problems: list[str] = []
    seen: dict[str, Path] = {}
    covered: dict[str, set[str]] = {}
    for case in cases:
        if case.id in seen:
            problems.append(f"{case.file.name}: case id {case.id!r} already used in {seen[case.id].name}")
        seen.setdefault(case.id, case.file)
        if case.rule not in known:
            problems.append(f"{case.file.name}: case {case.id!r} names {case.rule}, which the kit does not check")
        covered.setdefault(case.rule, set()).add(case.expect)
    for rule in sorted(known):
        for expect in ("pass", "fail"):
            if expect not in covered.get(rule, set()):
                problems.append(f"rule {rule} has no {'passing' if expect == 'pass' else 'failing'} case")
    return problems
