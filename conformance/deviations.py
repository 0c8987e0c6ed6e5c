"""Expected-deviation files: the failures a vendor knows of and tracks.

A file (YAML or JSON) names its kit and lists deviations, each a ``test`` id, optionally the
``subject`` (message file name; every subject when absent) and a ``reason``::

    kit: aef-messages
    deviations:
      - test: AEF.FORMAT.PARTY
        subject: 2025-report.json
        reason: our registry still writes alpha-2 Party codes (ticket REG-123)

A deviation matches the failing results of its test; one that matches no failure any more is
flagged ``no-longer-fails`` (the vendor fixed it: the file should drop it). Deviations never turn a
failure into a pass, so a certificate still needs every required test passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from conformance._model import TestResult, Verdict
from conformance.errors import DeviationFileInvalid

_FAILING = frozenset({Verdict.FAIL, Verdict.ERROR, Verdict.SKIP})


@dataclass(frozen=True, slots=True)
class Deviation:
    test: str
    subject: str | None
    reason: str

    def matches(self, result: TestResult) -> bool:
        return result.test == self.test and (self.subject is None or self.subject == result.subject)


def load_deviations(path: Path, kit_name: str) -> list[Deviation]:
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DeviationFileInvalid(f"{path}: not readable as YAML or JSON: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("deviations"), list):
        raise DeviationFileInvalid(f"{path}: expected a mapping with a 'deviations' list")
    if raw.get("kit") not in (None, kit_name):
        raise DeviationFileInvalid(f"{path}: the file is for kit {raw.get('kit')!r}, not {kit_name!r}")
    out = []
    for index, item in enumerate(raw["deviations"]):
        if not isinstance(item, dict) or not isinstance(item.get("test"), str):
            raise DeviationFileInvalid(f"{path}: deviation {index} has no 'test' id")
        subject = item.get("subject")
        out.append(Deviation(item["test"], str(subject) if subject is not None else None,
                             str(item.get("reason", ""))))
    return out


def apply_deviations(deviations: Sequence[Deviation], results: Sequence[TestResult]) -> list[dict[str, Any]]:
    """Each deviation with the failures it covers, ``expected`` while it still fails, else
    ``no-longer-fails``."""
    report = []
    for deviation in deviations:
        covered = [r.subject for r in results if deviation.matches(r) and r.verdict in _FAILING]
        report.append({"test": deviation.test, "subject": deviation.subject, "reason": deviation.reason,
                       "status": "expected" if covered else "no-longer-fails", "subjects": covered})
    return report


def unexpected(deviations: Sequence[Deviation], failures: Sequence[TestResult]) -> list[TestResult]:
    """The failures no deviation covers."""
    return [r for r in failures if not any(d.matches(r) for d in deviations)]
