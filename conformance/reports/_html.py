"""A self-contained HTML page a person reads: summary first, then failures first (each with its rule,
location, expected vs found and clause), then every test's verdicts. No script, no outside resource."""

from __future__ import annotations

from html import escape

from conformance._model import TestResult, Verdict
from conformance._results import RunResult, ordered_failures

_SHOWN = 20  # observations shown per failed result; the JSON report has them all
_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1b1b;max-width:70rem}
h1{font-size:1.5rem}table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
th{background:#f2f2f2}.verdict{font-weight:bold;text-transform:uppercase}
.pass{color:#17663a}.fail,.error{color:#b3261e}.skip{color:#8a5a00}.omit{color:#555}
.banner{padding:1rem;border-radius:.4rem;margin-bottom:1rem;font-size:1.1rem}
.banner.ok{background:#e5f4ea}.banner.ko{background:#fbe9e7}code{font-size:.85rem}
"""


def _verdict(v: Verdict) -> str:
    return f'<span class="verdict {v.value}">{v.value}</span>'


def _summary(run: RunResult) -> str:
    counts = run.counts()
    ok = run.passed
    state = "every required test passed" if ok else f"{len(run.blocking())} required results did not pass"
    cells = "".join(f"<td>{_verdict(Verdict(k))} {n}</td>" for k, n in counts.items())
    return (f'<div id="summary" class="banner {"ok" if ok else "ko"}"><strong>{"PASSED" if ok else "NOT PASSED"}'
            f"</strong>: {escape(state)}</div>"
            f"<table><tr><th>kit</th><td>{escape(run.kit.name)} {escape(run.kit.version)}</td></tr>"
            f"<tr><th>target</th><td><code>{escape(run.target)}</code></td></tr>"
            f"<tr><th>run</th><td>{escape(run.started)} to {escape(run.finished)}</td></tr>"
            f"<tr><th>subjects</th><td>{len(run.subjects())}</td></tr>"
            f"<tr><th>digest</th><td><code>{escape(run.digest())}</code></td></tr></table>"
            "<table><tr><th>pass</th><th>fail</th><th>skip</th><th>omit</th><th>error</th></tr>"
            f"<tr>{cells}</tr></table>")


def _failure_rows(run: RunResult, result: TestResult) -> str:
    spec = run.kit.suite.test(result.test)
    head = (f"<td>{_verdict(result.verdict)}{'' if spec.required else ' (optional)'}</td>"
            f"<td><code>{escape(result.test)}</code><br>{escape(spec.title)}</td>"
            f"<td>{escape(result.subject)}</td>")
    clause = f"<td>{escape(spec.clause.id)}</td>"
    if not result.observations:
        return f"<tr>{head}<td colspan=3>{escape(result.reason)}</td>{clause}</tr>"
    rows = []
    for o in result.observations[:_SHOWN]:
        rows.append(f"<tr>{head}<td><code>{escape(o.location)}</code></td><td>{escape(o.expected)}</td>"
                    f"<td>{escape(o.found)}</td>{clause}</tr>")
    more = len(result.observations) - _SHOWN
    if more > 0:
        rows.append(f"<tr>{head}<td colspan=4>and {more} more (see results.json)</td></tr>")
    return "".join(rows)


def _failures(run: RunResult) -> str:
    picked = ordered_failures(run)
    if not picked:
        return '<h2 id="failures">Failures</h2><p>None.</p>'
    rows = "".join(_failure_rows(run, r) for r in picked)
    return ('<h2 id="failures">Failures</h2><table><tr><th>verdict</th><th>rule</th><th>message</th>'
            f"<th>location</th><th>expected</th><th>found</th><th>clause</th></tr>{rows}</table>")


def _deviations(run: RunResult) -> str:
    if not run.deviations:
        return ""
    rows = "".join(f"<tr><td><code>{escape(d['test'])}</code></td><td>{escape(d['subject'] or 'every subject')}</td>"
                   f"<td>{escape(d['status'])}</td><td>{escape(d['reason'])}</td></tr>" for d in run.deviations)
    return ('<h2 id="deviations">Expected deviations</h2><table><tr><th>test</th><th>subject</th><th>status</th>'
            f"<th>reason</th></tr>{rows}</table>")


def _tests(run: RunResult) -> str:
    verdicts: dict[str, dict[str, int]] = {}
    for r in run.results:
        verdicts.setdefault(r.test, {}).setdefault(r.verdict.value, 0)
        verdicts[r.test][r.verdict.value] += 1
    parts = ['<h2 id="tests">Every test</h2>']
    for group in run.kit.suite.groups:
        rows = "".join(
            f"<tr><td><code>{escape(t.id)}</code></td><td>{escape(t.title)}</td><td>{'yes' if t.required else 'no'}"
            f"</td><td>{', '.join(f'{_verdict(Verdict(k))} {n}' for k, n in sorted(verdicts.get(t.id, {}).items()))}"
            f"</td><td>{escape(t.clause.id)}</td></tr>" for t in group.tests)
        parts.append(f"<h3>{escape(group.title)}</h3><table><tr><th>test</th><th>title</th><th>required</th>"
                     f"<th>verdicts</th><th>clause</th></tr>{rows}</table>")
    return "".join(parts)


def html_report(run: RunResult) -> bytes:
    title = f"Conformance: {run.kit.name} {run.kit.version}"
    page = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>{_summary(run)}{_failures(run)}"
            f"{_deviations(run)}{_tests(run)}</body></html>\n")
    return page.encode("utf-8")
