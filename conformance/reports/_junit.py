"""JUnit XML: one ``testsuite`` per group, one ``testcase`` per test and subject."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from conformance._model import Verdict
from conformance._results import RunResult


def junit_report(run: RunResult) -> bytes:
    counts = run.counts()
    root = ET.Element("testsuites", name=f"{run.kit.name} {run.kit.version}",
                      tests=str(len(run.results)), failures=str(counts["fail"]), errors=str(counts["error"]),
                      skipped=str(counts["skip"] + counts["omit"]))
    by_test: dict[str, list[int]] = {}
    for index, result in enumerate(run.results):
        by_test.setdefault(result.test, []).append(index)
    for group in run.kit.suite.groups:
        indices = [i for test in group.tests for i in by_test.get(test.id, [])]
        results = [run.results[i] for i in indices]
        suite = ET.SubElement(root, "testsuite", name=f"{run.kit.suite.id}.{group.id}", tests=str(len(results)),
                              failures=str(sum(r.verdict is Verdict.FAIL for r in results)),
                              errors=str(sum(r.verdict is Verdict.ERROR for r in results)),
                              skipped=str(sum(r.verdict in (Verdict.SKIP, Verdict.OMIT) for r in results)))
        specs = {test.id: test for test in group.tests}
        for result in results:
            spec = specs[result.test]
            case = ET.SubElement(suite, "testcase", classname=f"{group.id}.{result.subject}", name=result.test,
                                 time=f"{result.seconds:.3f}")
            ET.SubElement(ET.SubElement(case, "properties"), "property", name="clause", value=spec.clause.id)
            detail = "\n".join(f"{o.location}: expected {o.expected}; found {o.found}"
                               for o in result.observations) or result.reason
            if result.verdict is Verdict.FAIL:
                ET.SubElement(case, "failure", message=f"{result.test} failed ({spec.clause.id})").text = detail
            elif result.verdict is Verdict.ERROR:
                ET.SubElement(case, "error", message=result.reason or "the suite failed").text = detail
            elif result.verdict in (Verdict.SKIP, Verdict.OMIT):
                ET.SubElement(case, "skipped", message=f"{result.verdict.value}: {result.reason}")
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body + b"\n"
