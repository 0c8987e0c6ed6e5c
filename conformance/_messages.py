"""Message kits: the rules of a format's catalogue, run over the files a vendor points at.

The checks are the product's own: a message kit calls the adapter's ``validate`` (the same path as
``carbonlink validate``) and turns its coded findings into one verdict per message and rule. A rule
that fired at severity error fails; a warning is kept as a note on a pass; a rule the validation could
not run for that message (its tables are missing, or it checks translation rather than documents) is
omitted. A message that cannot be read at all fails the ``READABLE`` test and skips the rest.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from conformance._model import Clause, Group, Observation, Progress, Suite, Target, TestResult, TestSpec, Verdict
from conformance.errors import TargetUnusable
from standards.codec import Medium
from standards.errors import CarbonlinkError
from standards.findings import Finding, Layer, Rule, RuleCatalogue, Severity

#: The test every message runs first: the file can be read in the kit's format at all.
READABLE = "READABLE"
_LAYER_TITLES = {Layer.STRUCTURE: "Structure", Layer.CODE_LIST: "Code lists", Layer.FIELD: "Field rules",
                 Layer.CROSS_RECORD: "Cross-record rules"}


@dataclass(frozen=True, slots=True)
class Checked:
    """What validating one message gave: its findings and the rules that did not run for it."""

    findings: list[Finding]
    not_run: frozenset[str] = frozenset()


#: Validates one message's bytes in a medium (the adapter's own path).
Checker = Callable[[bytes, Medium], Checked]


def rule_clause(rule: Rule) -> Clause:
    return Clause(rule.reference, rule.format)


def message_suite(kit_id: str, title: str, catalogues: Sequence[RuleCatalogue], reading_clause: Clause,
                  *, not_applicable: Iterable[str] = ()) -> Suite:
    """The tree of a message kit: a reading group, then one group per validation layer, one test per
    rule (its clause is the rule's reference); rules in ``not_applicable`` are left out of the tree."""
    left_out = set(not_applicable)
    reading = Group("reading", "Reading", (TestSpec(READABLE, "The message can be read in the kit's format",
                                                    reading_clause),))
    groups = [reading]
    for layer in Layer:
        tests = tuple(TestSpec(rule.id, rule.title, rule_clause(rule), required=rule.severity is Severity.ERROR)
                      for catalogue in catalogues for rule in catalogue
                      if rule.layer is layer and rule.id not in left_out)
        if tests:
            groups.append(Group(layer.value, _LAYER_TITLES[layer], tests))
    return Suite(kit_id, title, tuple(groups))


def message_files(target: Target, suffixes: frozenset[str]) -> list[Path]:
    """The messages of a target: the file itself, or every file of a folder with a known suffix (a
    sub-folder of CSV files is one message of several tables)."""
    path = target.path
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise TargetUnusable(f"{target.text}: no such file or folder")
    found: list[Path] = []
    for child in sorted(path.iterdir()):
        is_message = child.is_file() and child.suffix.lower().lstrip(".") in suffixes
        if is_message or (child.is_dir() and "csv" in suffixes and any(child.glob("*.csv"))):
            found.append(child)
    if not found:
        raise TargetUnusable(f"{target.text}: the folder holds no message ({', '.join(sorted(suffixes))})")
    return found


def read_message(path: Path) -> tuple[bytes, Medium]:
    from standards.safeio import read_bytes

    if path.is_dir():
        from standards.tabular import pack_csv_directory

        return pack_csv_directory(path), Medium.CSV
    return read_bytes(path), Medium.from_name(path)


def _observation(finding: Finding) -> Observation:
    return Observation(finding.rule, finding.location.render(), "no finding of this rule",
                       finding.message, finding.message)


def judge_message(suite: Suite, subject: str, checked: Checked) -> list[TestResult]:
    """One verdict per test of the suite for one message that could be read."""
    by_rule: dict[str, list[Finding]] = {}
    for finding in checked.findings:
        by_rule.setdefault(finding.rule, []).append(finding)
    results = [TestResult(READABLE, subject, Verdict.PASS)]
    for group, test in suite.tests():
        if group.id == "reading":
            continue
        fired = by_rule.get(test.id, [])
        observations = tuple(_observation(f) for f in fired)
        if any(f.is_error for f in fired):
            results.append(TestResult(test.id, subject, Verdict.FAIL, observations))
        elif test.id in checked.not_run:
            results.append(TestResult(test.id, subject, Verdict.OMIT, reason="the rule could not run on this "
                                      "message (the tables it joins are missing)"))
        else:
            results.append(TestResult(test.id, subject, Verdict.PASS, observations))
    return results


def unreadable(suite: Suite, subject: str, exc: CarbonlinkError) -> list[TestResult]:
    found = Observation(exc.code, subject, "a message the kit's format can read", exc.message, exc.message)
    results = [TestResult(READABLE, subject, Verdict.FAIL, (found,))]
    results += [TestResult(test.id, subject, Verdict.SKIP, reason="the message could not be read")
                for group, test in suite.tests() if group.id != "reading"]
    return results


def run_messages(suite: Suite, target: Target, check: Checker, suffixes: frozenset[str],
                 progress: Progress | None = None) -> list[TestResult]:
    """Check every message of the target; a message's failure never stops the others."""
    files = message_files(target, suffixes)
    results: list[TestResult] = []
    for done, path in enumerate(files, start=1):
        subject = path.name if target.path.is_dir() else str(path)
        started = time.perf_counter()
        try:
            data, medium = read_message(path)
            checked = check(data, medium)
        except CarbonlinkError as exc:
            results += unreadable(suite, subject, exc)
        except Exception as exc:  # the suite itself failed on this message: error, never a traceback
            results += [TestResult(test.id, subject, Verdict.ERROR, reason=f"{type(exc).__name__}: {exc}")
                        for _, test in suite.tests()]
        else:
            elapsed = time.perf_counter() - started
            results += [TestResult(r.test, r.subject, r.verdict, r.observations, r.reason, elapsed)
                        if r.test == READABLE else r for r in judge_message(suite, subject, checked)]
        if progress is not None:
            progress(done, len(files))
    return results
