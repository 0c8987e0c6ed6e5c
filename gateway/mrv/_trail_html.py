"""The trail of an issued block as one self-contained HTML page (inline style, no scripts, nothing fetched)."""

from __future__ import annotations

from html import escape
from typing import Any

_STYLE = ("body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1b1b}table{border-collapse:collapse;"
          "margin:1rem 0}th,td{border:1px solid #999;padding:.3rem .5rem;text-align:left;vertical-align:top}"
          "code{font-size:.85em;word-break:break-all}.ok{color:#0a6b2f}.bad{color:#a4000f;font-weight:bold}")


def _check(check: dict[str, Any]) -> str:
    mark = '<span class="ok">verified</span>' if check.get("ok") else '<span class="bad">FAILED</span>'
    who = check.get("signer") or check.get("kid") or ""
    reason = f" ({escape(str(check['reason']))})" if check.get("reason") else ""
    return f"{escape(str(check.get('signature')))}: {mark} {escape(str(who))}{reason}"


def page(trail: dict[str, Any]) -> str:
    verdict = ('<p class="ok">Every signature and digest of the chain verifies.</p>' if trail["verified"] else
               '<p class="bad">The chain does NOT verify: see the findings below.</p>')
    rows = "".join(
        f"<tr><td>{escape(link['kind'])}</td><td>{escape(link['id'])}</td><td><code>{escape(link['digest'])}</code>"
        f"</td><td>{escape(link['sender'])} &rarr; {escape(link['receiver'])}</td>"
        f"<td>{'<br>'.join(_check(c) for c in link['checks'])}</td></tr>" for link in trail["links"])
    files = "".join(
        f"<tr><td>{escape(e['name'])}</td><td><code>{escape(e['sha256'])}</code></td><td>{e['size']}</td>"
        f"<td>{escape(str((e.get('attested_by') or {}).get('participant', 'not attested')))}</td>"
        f"<td>{escape(str(e['bytes']))}</td></tr>" for e in trail["evidence"])
    findings = "".join(f"<li><code>{escape(f['rule'])}</code> at <code>{escape(f['location']['pointer'] or '/')}"
                       f"</code>: {escape(f['message'])}</li>" for f in trail["findings"])
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>MRV trail of '
            f'{escape(trail["block"])}</title><style>{_STYLE}</style></head><body>'
            f'<h1>MRV trail of block <code>{escape(trail["block"])}</code></h1>{verdict}'
            f'<h2>Chain</h2><table><tr><th>document</th><th>id</th><th>digest (SHA-256 of JCS)</th><th>from &rarr; to'
            f'</th><th>signatures</th></tr>{rows}</table>'
            f'<h2>Evidence files</h2><table><tr><th>name</th><th>SHA-256</th><th>bytes</th><th>attested for</th>'
            f'<th>content</th></tr>{files}</table>'
            f'<h2>Findings</h2>{"<ul>" + findings + "</ul>" if findings else "<p>None.</p>"}</body></html>\n')
