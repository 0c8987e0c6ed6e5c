"""Plots as server-rendered SVG: no script, no inline style (colours are CSS classes of console.css), every
text escaped. Each plot is an ``<svg role="img">`` with a title and a description, and the page shows its
numbers as a table too (for screen readers and for copying)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape

from gateway.console._reader import WindowRow

OUTCOMES = ("accepted", "rejected", "fault")
PERCENTILES = (50, 90, 95, 99)
_WIDTH, _HEIGHT, _LEFT, _BOTTOM, _TOP = 640, 220, 48, 28, 12


@dataclass(frozen=True, slots=True)
class Plot:
    title: str
    svg: Markup
    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def _svg(title: str, desc: str, body: Iterable[str], height: int = _HEIGHT) -> Markup:
    ident = "plot-" + "".join(c if c.isalnum() else "-" for c in title.lower())
    parts = [f'<svg class="plot" viewBox="0 0 {_WIDTH} {height}" role="img" aria-labelledby="{ident}-t {ident}-d" '
             f'xmlns="http://www.w3.org/2000/svg"><title id="{ident}-t">{escape(title)}</title>'
             f'<desc id="{ident}-d">{escape(desc)}</desc>', *body, "</svg>"]
    return Markup("".join(parts))


def _text(x: float, y: float, value: object, cls: str = "axis", anchor: str = "middle") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" class="{cls}" text-anchor="{anchor}">{escape(str(value))}</text>'


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 4.0, 8.0, 10.0):  # a quarter of each is a round grid step
        if value <= step * magnitude:
            return step * magnitude
    return 10.0 * magnitude


def _grid(top: float) -> list[str]:
    out = []
    plot_h = _HEIGHT - _TOP - _BOTTOM
    for i in range(5):
        y = _HEIGHT - _BOTTOM - plot_h * i / 4
        value = top * i / 4
        label = f"{value:,.0f}" if top >= 4 else f"{value:.2g}"
        out.append(f'<line x1="{_LEFT}" x2="{_WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        out.append(_text(_LEFT - 6, y + 4, label, anchor="end"))
    return out


def per_day(rows: Sequence[WindowRow]) -> Plot:
    """Messages per day, stacked by outcome."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        if row.outcome != "delivering":  # an intent is closed by its message's receipt or fault
            counts[row.day][row.outcome if row.outcome in OUTCOMES else "fault"] += row.count
    days = sorted(counts)
    top = _nice_max(max((sum(c.values()) for c in counts.values()), default=0))
    plot_w, plot_h = _WIDTH - _LEFT - 8, _HEIGHT - _TOP - _BOTTOM
    slot = plot_w / max(1, len(days))
    body = _grid(top)
    for index, day in enumerate(days):
        x, base = _LEFT + index * slot + slot * 0.15, float(_HEIGHT - _BOTTOM)
        for outcome in OUTCOMES:
            n = counts[day][outcome]
            if not n:
                continue
            h = plot_h * n / top
            base -= h
            body.append(f'<rect x="{x:.1f}" y="{base:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                        f'class="o-{outcome}"><title>{escape(f"{day}: {n} {outcome}")}</title></rect>')
        if len(days) <= 16 or index % math.ceil(len(days) / 16) == 0:
            body.append(_text(x + slot * 0.35, _HEIGHT - 10, day[5:]))
    total = sum(sum(c.values()) for c in counts.values())
    desc = f"{total} messages over {len(days)} days, stacked by outcome: " + ", ".join(
        f"{o} {sum(c[o] for c in counts.values())}" for o in OUTCOMES)
    table = tuple((day, *(str(counts[day][o]) for o in OUTCOMES)) for day in days)
    title = "Messages per day by outcome"
    return Plot(title, _svg(title, desc, body), desc, ("day", *OUTCOMES), table)


def _seconds(start: str, end: str) -> float | None:
    try:
        return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    except ValueError:
        return None


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def latency(times: Sequence[tuple[str, str]]) -> Plot:
    """Percentiles of the time from receiving a message to the receiver's answer (``(received_at, answered_at)``
    of receipts)."""
    values = sorted(s * 1000 for start, end in times if (s := _seconds(start, end)) is not None)
    marks = [(p, percentile(values, p)) for p in PERCENTILES] if values else []
    top = _nice_max(max((v for _, v in marks), default=0))
    plot_w, plot_h = _WIDTH - _LEFT - 8, _HEIGHT - _TOP - _BOTTOM
    slot = plot_w / len(PERCENTILES)
    body = _grid(top)
    for index, (p, value) in enumerate(marks):
        h = plot_h * value / top
        x = _LEFT + index * slot + slot * 0.25
        body.append(f'<rect x="{x:.1f}" y="{_HEIGHT - _BOTTOM - h:.1f}" width="{slot * 0.5:.1f}" height="{h:.1f}" '
                    f'class="o-latency"><title>{escape(f"p{p}: {value:.1f} ms")}</title></rect>')
        body.append(_text(x + slot * 0.25, _HEIGHT - _BOTTOM - h - 4, f"{value:.0f} ms", cls="value"))
        body.append(_text(x + slot * 0.25, _HEIGHT - 10, f"p{p}"))
    desc = (f"time from receipt to the receiver's answer over {len(values)} receipted messages: "
            + ", ".join(f"p{p} {v:.1f} ms" for p, v in marks) if marks else "no receipted messages in the window")
    return Plot("Latency percentiles", _svg("Latency percentiles", desc, body), desc, ("percentile", "milliseconds"),
                tuple((f"p{p}", f"{v:.1f}") for p, v in marks))


def faults(rows: Sequence[WindowRow], registry: str | None) -> Plot:
    """Faults (failed deliveries) by counterpart: the receiver, or for an operator of one registry, the other side."""
    counts: Counter[str] = Counter()
    for row in rows:
        if row.outcome == "fault":
            other = row.receiver if row.sender == registry or registry is None else row.sender
            counts[other] += row.count
    ranked = counts.most_common(8)
    height = _TOP + 30 * max(1, len(ranked)) + 8
    top = _nice_max(max((n for _, n in ranked), default=0))
    label_w, plot_w = 180, _WIDTH - 180 - 60
    body = []
    for index, (who, n) in enumerate(ranked):
        y = _TOP + index * 30
        w = plot_w * n / top
        body.append(_text(label_w - 8, y + 17, who, anchor="end"))
        body.append(f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="18" class="o-fault">'
                    f'<title>{escape(f"{who}: {n} faults")}</title></rect>')
        body.append(_text(label_w + w + 6, y + 17, n, cls="value", anchor="start"))
    if not ranked:
        body.append(_text(_WIDTH / 2, _TOP + 20, "no faults in the window"))
    desc = ("faults by counterpart: " + ", ".join(f"{who} {n}" for who, n in ranked)) if ranked else \
        "no faults in the window"
    title = "Faults by counterpart"
    return Plot(title, _svg(title, desc, body, height=height), desc, ("counterpart", "faults"),
                tuple((who, str(n)) for who, n in ranked))
