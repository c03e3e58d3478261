"""The timeline as an SVG picture: one row per claim, its statement, appearances and verdicts
on a date axis. A partial date is drawn as the span it names (`2013-03`: the month as a bar,
`2013`: the year); undated events stand in a column of their own. Drawn here, not by a
program: a date axis needs no layout engine."""

import math
from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from tracker.render.styles import EDGES, FONT, cut, plain
from tracker.render.svg import clean_svg

WIDTH = 1100
LABEL = 340  # the claims' column
UNDATED = 90  # the undated events' column, at the right
ROW = 24
TOP = 56
MAX_ROWS = 300
# A claim's colour and outline by its stance (attribution.stance_kinds): blame red, denial
# green and dashed, a claim of responsibility purple; other claims blue.
CLAIM_STYLE = {
    kind: (EDGES[kind].color, EDGES[kind].line)
    for kind in ("blames", "clears", "denial", "responsibility")
}
PLAIN_CLAIM = ("#2471a3", "solid")


def period(value: str) -> tuple[date, date]:
    """The days a partial date covers: [first, day after last)."""
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 3:
        first = date(*parts)
        return first, first + timedelta(days=1)
    if len(parts) == 2:
        year, month = parts
        after = date(year + month // 12, month % 12 + 1, 1)
        return date(year, month, 1), after
    return date(parts[0], 1, 1), date(parts[0] + 1, 1, 1)


def _ticks(first: date, last: date) -> list[tuple[date, str]]:
    """Axis ticks: years, months or days, whichever gives a handful."""
    days = (last - first).days
    if days > 3 * 366:
        step = max(1, (last.year - first.year) // 10 + 1)
        return [
            (date(y, 1, 1), str(y))
            for y in range(first.year, last.year + 1, step)
            if date(y, 1, 1) >= first
        ]
    if days > 60:
        months = (last.year - first.year) * 12 + last.month - first.month
        step = max(1, months // 10 + 1)
        out = []
        y, m = first.year, first.month
        while date(y, m, 1) <= last:
            if date(y, m, 1) >= first:
                out.append((date(y, m, 1), f"{y}-{m:02d}"))
            m += step
            y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
        return out
    step = max(1, days // 10 + 1)
    return [
        (first + timedelta(days=d), (first + timedelta(days=d)).isoformat())
        for d in range(0, days + 1, step)
    ]


class Axis:
    """Where each day goes across [left, right]: periods with events side by side, each as wide
    as its share of the time (at least MIN_PART), and long empty stretches between them left
    out (a verdict recorded in 2026 on a claim of 2013 would squash everything else)."""

    MIN_PART = 120.0
    BREAK = 30.0  # the width of a left-out stretch

    def __init__(self, periods: list[tuple[date, date]], left: float, right: float) -> None:
        spans = sorted(periods) or [(date.today(), date.today() + timedelta(days=1))]
        whole = max(b for _, b in spans) - spans[0][0]
        gap = max(timedelta(days=366), whole / 5)  # an empty stretch longer than this is cut
        parts: list[list[date]] = []
        for start, end in spans:
            if parts and start - parts[-1][1] <= gap:
                parts[-1][1] = max(parts[-1][1], end)
            else:
                parts.append([start, end])
        for part in parts:
            pad = max(timedelta(days=15), (part[1] - part[0]) / 25)
            part[0], part[1] = part[0] - pad, part[1] + pad
        room = right - left - self.BREAK * (len(parts) - 1)
        days = [max(1, (b - a).days) for a, b in parts]
        widths = [max(self.MIN_PART, room * d / sum(days)) for d in days]
        widths = [w * room / sum(widths) for w in widths]
        self.parts: list[tuple[date, date, float, float]] = []
        position = left
        for (a, b), width in zip(parts, widths, strict=True):
            self.parts.append((a, b, position, width))
            position += width + self.BREAK

    def x(self, day: date) -> float:
        for a, b, position, width in self.parts:
            if day <= b:
                return position + max(0, (day - a).days) * width / max(1, (b - a).days)
        a, b, position, width = self.parts[-1]
        return position + width

    def ticks(self) -> list[tuple[date, str]]:
        out = []
        for number, (a, b, position, width) in enumerate(self.parts):
            found = _ticks(a, b)
            step = max(1, math.ceil(len(found) * 80 / width))  # labels at least ~80 px apart
            # Clear of the break mark before the part.
            out += [t for t in found[::step] if number == 0 or self.x(t[0]) - position > 40]
        return out

    def breaks(self) -> list[float]:
        return [position - self.BREAK / 2 for _a, _b, position, _w in self.parts[1:]]


def _text(x: float, y: float, value: str, **attrs: Any) -> str:
    extra = "".join(f" {k.replace('_', '-')}={quoteattr(str(v))}" for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(plain(value))}</text>'


def _title(value: str) -> str:
    return f"<title>{escape(cut(value, 500))}</title>"


def render_timeline_svg(
    events: Iterable[Mapping[str, Any]], marks: Mapping[int, str] | None = None, title: str = ""
) -> str:
    """`events` (attribution.timeline) as one self-contained SVG document; `marks` gives each
    claim's stance kind (blames, clears, denial, responsibility) to colour it by."""
    marks = marks or {}
    rows: dict[int, list[Mapping[str, Any]]] = {}
    for event in events:
        rows.setdefault(event["claim_id"], []).append(event)
    left_out = max(0, len(rows) - MAX_ROWS)
    claims = list(rows)[:MAX_ROWS]
    dated = [period(e["date"]) for c in claims for e in rows[c] if e["date"]]
    axis = Axis(dated, LABEL + 10, WIDTH - UNDATED - 10)
    x = axis.x
    height = TOP + ROW * max(1, len(claims)) + 70
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family={quoteattr(FONT)} font-size="11">',
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="white"/>',
        _text(WIDTH / 2, 20, title or "Timeline", text_anchor="middle", font_size=14),
    ]
    if left_out:
        note = f"{left_out} more claim(s) not drawn: narrow with --incident, --about or --tag"
        out.append(_text(WIDTH / 2, 36, note, text_anchor="middle", fill="#a04000"))
    bottom = TOP + ROW * max(1, len(claims))
    for day, label in axis.ticks():
        out.append(
            f'<line x1="{x(day):.1f}" y1="{TOP - 6}" x2="{x(day):.1f}" y2="{bottom}" '
            'stroke="#e5e5e5"/>'
        )
        out.append(_text(x(day), bottom + 14, label, text_anchor="middle", fill="#444444"))
    for middle in axis.breaks():
        # Years with nothing in them are left out of the axis, and marked so.
        out.append(_text(middle, bottom + 14, "//", text_anchor="middle", fill="#a04000"))
        out.append(
            f'<line x1="{middle:.1f}" y1="{TOP - 6}" x2="{middle:.1f}" y2="{bottom}" '
            'stroke="#a04000" stroke-dasharray="2 4"/>'
        )
    out.append(_text(WIDTH - UNDATED / 2, TOP - 10, "undated", text_anchor="middle", fill="#777"))
    for number, claim in enumerate(claims):
        y = TOP + ROW * number + ROW / 2
        out += _row(claim, rows[claim], marks.get(claim), y, x)
    out += _legend(bottom + 36)
    out.append("</svg>")
    return clean_svg("\n".join(out))


def _row(
    claim: int,
    events: list[Mapping[str, Any]],
    mark: str | None,
    y: float,
    x: Callable[[date], float],
) -> list[str]:
    color, line = CLAIM_STYLE.get(mark or "", PLAIN_CLAIM)
    stated = next((e for e in events if e["event"] == "claim"), None)
    label = f"#{claim} {stated['who']}: {stated['what']}" if stated else f"#{claim}"
    out = [
        f'<line x1="10" y1="{y + ROW / 2:.1f}" x2="{WIDTH - 10}" y2="{y + ROW / 2:.1f}" '
        'stroke="#f0f0f0"/>',
        f"<g>{_title(label)}{_text(10, y + 4, cut(label, 55))}</g>",
    ]
    for event in events:
        tip = f"{event['date'] or 'undated'} {event['event']}: " + " ".join(
            str(v) for v in (event["who"], event["what"]) if v
        )
        if event["date"]:
            start, end = period(event["date"])
            left, right = x(start), x(end)
        else:
            left = right = WIDTH - UNDATED / 2
        out.append(f"<g>{_title(tip)}{_marker(event['event'], left, right, y, color, line)}")
        if event["event"] == "verdict":
            out.append(_text(right + 6, y - 5, str(event["what"]), font_size=9, fill="#000"))
        out.append("</g>")
    return out


def _marker(kind: str, left: float, right: float, y: float, color: str, line: str) -> str:
    """A dot for a day (or an undated event), a bar for a longer period."""
    dash = ' stroke-dasharray="4 2"' if line == "dashed" else ""
    if kind == "verdict":
        return f'<rect x="{right - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="#000000" />'
    fill, stroke, high = (color, color, 12) if kind == "claim" else ("#bbbbbb", "#777777", 6)
    if right - left < 6:
        radius = 6 if kind == "claim" else 4
        middle = (left + right) / 2
        return (
            f'<circle cx="{middle:.1f}" cy="{y:.1f}" r="{radius}" fill="{fill}" '
            f'fill-opacity="0.8" stroke="{stroke}" stroke-width="2"{dash}/>'
        )
    return (
        f'<rect x="{left:.1f}" y="{y - high / 2:.1f}" width="{right - left:.1f}" '
        f'height="{high}" rx="3" fill="{fill}" fill-opacity="0.5" stroke="{stroke}" '
        f'stroke-width="2"{dash}/>'
    )


def _legend(y: float) -> list[str]:
    entries = [
        ("claim", PLAIN_CLAIM, "claim stated"),
        ("claim", CLAIM_STYLE["blames"], "blames"),
        ("claim", CLAIM_STYLE["denial"], "denial"),
        ("claim", CLAIM_STYLE["responsibility"], "claims responsibility"),
        ("appearance", PLAIN_CLAIM, "appears in a source"),
        ("verdict", PLAIN_CLAIM, "verdict"),
    ]
    out = []
    position = 20.0
    for kind, (color, line), label in entries:
        out.append(_marker(kind, position, position, y, color, line))
        out.append(_text(position + 12, y + 4, label))
        position += 30 + 7 * len(label)
    out.append(_text(position, y + 4, "bars: a month or year (a partial date)", fill="#555555"))
    return out
