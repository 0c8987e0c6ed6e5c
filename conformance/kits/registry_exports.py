"""``registry-exports 2026.1``: a registry's native exports translate with quantities and serials conserved.

Each file is read by the adapter its header names (or the one ``format`` names), translated through
:func:`adapters.translate.translate` to the ``through`` format (``canonical`` by default) and read back;
the unit blocks on both sides must hold the same quantities per status and the same serial blocks,
and every block's serial range must be as long as its quantity.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from adapters import default_catalog
from adapters.translate import detect_format, translate
from conformance._messages import message_files, read_message
from conformance._model import Clause, Group, Observation, Progress, Suite, Target, TestResult, TestSpec, Verdict
from standards.errors import CarbonlinkError
from standards.model import CanonicalDocument, UnitBlock

NAME = "registry-exports"
VERSION = "2026.1"
_SERIALS = Clause("Registry serial-number schemes (Verra VCS Registry, Gold Standard Registry, APX): "
                  "a block's serial range names its units", "registry-exports")
TESTS = (
    TestSpec("EXPORT.READABLE", "The export is recognised and read by its registry's adapter",
             Clause("The registry's public export layout (its adapter's page, docs/adapters/)", "registry-exports")),
    TestSpec("EXPORT.VALID", "The export passes its adapter's own rules (no finding of severity error)",
             Clause("The registry's rule catalogue (carbonlink rules --format FORMAT)", "registry-exports")),
    TestSpec("EXPORT.QUANTITY_CONSERVED", "Quantities per unit status are the same after translation",
             Clause("The registry's export: each record's quantity of units (docs/adapters/)", "registry-exports")),
    TestSpec("EXPORT.SERIALS_CONSERVED", "Every serial block is carried unchanged", _SERIALS),
    TestSpec("EXPORT.BLOCK_LENGTH", "A block's serial range is as long as its quantity", _SERIALS),
)
_DEPENDENT = tuple(test.id for test in TESTS[2:])


def _totals(document: CanonicalDocument) -> Counter[str]:
    totals: Counter[str] = Counter()
    for unit in document.units:
        totals[unit.status.value if unit.status else "unstated"] += int(unit.quantity or Decimal(0))
    return totals


def _blocks(units: Sequence[UnitBlock]) -> Counter[tuple[str, int | None, int | None]]:
    return Counter((u.serial or "", u.first_id, u.last_id) for u in units)


@dataclass(frozen=True)
class RegistryExportsKit:
    name: str = NAME
    version: str = VERSION
    description: str = ("Native registry exports (Verra, Gold Standard, APX, ...) translate with quantities "
                        "and serials conserved (options: format, through)")

    @property
    def suite(self) -> Suite:
        return Suite(NAME, "Registry exports", (Group("reading", "Reading", TESTS[:2]),
                                                Group("conservation", "Conservation", TESTS[2:])))

    @property
    def clauses(self) -> Sequence[Clause]:
        return list({test.clause.id: test.clause for test in TESTS}.values())

    def run(self, target: Target, progress: Progress | None = None) -> list[TestResult]:
        files = message_files(target, frozenset({"csv", "json", "xlsx"}))
        results: list[TestResult] = []
        for done, path in enumerate(files, start=1):
            subject = path.name if target.path.is_dir() else str(path)
            results += self._check(path, subject, target)
            if progress is not None:
                progress(done, len(files))
        return results

    def _check(self, path: Path, subject: str, target: Target) -> list[TestResult]:
        started = time.perf_counter()
        through = str(target.options.get("through", "canonical"))
        try:
            data, medium = read_message(path)
            source = str(target.options.get("format") or detect_format(data, medium=medium))
            parsed = default_catalog().get(source).parse(data, medium=medium)
        except CarbonlinkError as exc:
            failed = Observation(exc.code, subject, "an export a registry adapter reads", exc.message, exc.message)
            return [TestResult("EXPORT.READABLE", subject, Verdict.FAIL, (failed,)),
                    *(TestResult(t.id, subject, Verdict.SKIP, reason="the export could not be read")
                      for t in TESTS[1:])]
        errors = tuple(Observation(f.rule, f.location.render(), "no finding of severity error", f.message, f.message)
                       for f in parsed.findings if f.is_error)
        results = [TestResult("EXPORT.READABLE", subject, Verdict.PASS, reason=f"read as {source}",
                              seconds=time.perf_counter() - started),
                   TestResult("EXPORT.VALID", subject, Verdict.FAIL if errors else Verdict.PASS, errors)]
        if errors:
            return results + [TestResult(t, subject, Verdict.SKIP, reason="the export has errors, so it is not "
                                         "translated") for t in _DEPENDENT]
        try:
            back = self._round_trip(data, medium, source, through)
        except CarbonlinkError as exc:
            failed = Observation(exc.code, subject, f"a translation to {through}", exc.message, exc.message)
            return results + [TestResult(t, subject, Verdict.FAIL, (failed,)) for t in _DEPENDENT]
        return results + self._conservation(subject, parsed.document, back)

    @staticmethod
    def _round_trip(data: bytes, medium: object, source: str, through: str) -> CanonicalDocument:
        from standards.codec import Medium

        assert isinstance(medium, Medium)
        out = translate(data, source=source, target=through, source_medium=medium, target_medium=Medium.JSON,
                        accept_losses=True)
        return default_catalog().get(through).parse(out.output.data, medium=Medium.JSON).document

    @staticmethod
    def _conservation(subject: str, before: CanonicalDocument, after: CanonicalDocument) -> list[TestResult]:
        results = []
        totals, totals_after = _totals(before), _totals(after)
        differ = tuple(Observation("EXPORT.QUANTITY_CONSERVED", f"status {status}", str(totals[status]),
                                   str(totals_after[status])) for status in sorted(set(totals) | set(totals_after))
                       if totals[status] != totals_after[status])
        verdict = Verdict.FAIL if differ else Verdict.PASS
        results.append(TestResult("EXPORT.QUANTITY_CONSERVED", subject, verdict, differ))
        lost = _blocks(before.units) - _blocks(after.units)
        gained = _blocks(after.units) - _blocks(before.units)
        changed = tuple(Observation("EXPORT.SERIALS_CONSERVED", serial or f"{first}-{last}", "carried", "missing")
                        for serial, first, last in lost) + tuple(
            Observation("EXPORT.SERIALS_CONSERVED", serial or f"{first}-{last}", "absent", "added")
            for serial, first, last in gained)
        results.append(TestResult("EXPORT.SERIALS_CONSERVED", subject, Verdict.FAIL if changed else Verdict.PASS,
                                  changed[:50]))
        ranged = [u for u in before.units if u.range_length is not None and u.quantity is not None]
        wrong = tuple(Observation("EXPORT.BLOCK_LENGTH", u.serial or f"{u.first_id}-{u.last_id}",
                                  f"{u.range_length} units in the range", f"quantity {u.quantity}")
                      for u in ranged if Decimal(u.range_length or 0) != u.quantity)
        verdict = Verdict.OMIT if not ranged else (Verdict.FAIL if wrong else Verdict.PASS)
        results.append(TestResult("EXPORT.BLOCK_LENGTH", subject, verdict, wrong[:50],
                                  reason="no block states both a serial range and a quantity" if not ranged else ""))
        return results


def kit() -> RegistryExportsKit:
    return RegistryExportsKit()
