"""The dry run's timeline as a picture: ``followup simulate --format svg``.

A timeline read line by line hides its shape: how long an application sits in each
state, how reminders bunch after the interview and thin out, where weekends and holidays
fall. This draws the months of one simulated application as a strip: days along the
bottom (weekends and the owner's holidays shaded), the states as coloured bands, each
reminder a mark on its lane with a line to its deadline, and each event or move a tick.

Plain SVG written here (no drawing library): every timeline entry is one ``<g>`` with
``class="entry"`` and its index in ``data-index``, and carries a ``<title>`` that a
browser shows on hover, so a test can check that nothing was left out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from xml.sax.saxutils import escape, quoteattr

from followup.runtime.simulate import Simulation, TimelineEntry
from followup.timing.calendar import WorkCalendar

__all__ = ["timeline_svg"]

_LEFT, _RIGHT, _TOP = 90, 20, 30
_BAND = 26  # the states' strip
_LANE = 22  # one lane of marks
_LANES = ("notify", "event", "transition", "cancel", "start")
_COLOURS = ("#cfe3f7", "#d7f0d2", "#fbe7c6", "#e9d7f5", "#f7d0d0", "#d0f0ef", "#eeeeee",
            "#f5f0c8", "#dde3ea")
_Place = Callable[[datetime], float]  # an instant's x in the drawing
_MARKS = {"notify": "#1f6fb2", "event": "#2e7d32", "transition": "#8e44ad",
          "cancel": "#b03a2e", "start": "#333333", "added": "#333333",
          "fact": "#2e7d32", "contact": "#2e7d32"}
# Facts and contacts are recorded by the person, as events are: on the events' lane.
_LANE_OF = {"fact": "event", "contact": "event", "added": "start"}


def timeline_svg(sim: Simulation, *, title: str = "followup simulate") -> str:
    """The timeline of ``sim`` as an SVG document (text)."""
    cal = sim.calendar
    entries = list(sim.timeline)
    if not entries:
        raise ValueError("an empty timeline has nothing to draw")
    first = cal.local(entries[0].at).date()
    ends = [cal.local(e.due).date() for e in entries if e.due is not None]
    last = max([cal.local(entries[-1].at).date(), *ends])
    days = (last - first).days + 1
    scale = max(3.0, min(36.0, 1100 / days))  # pixels per day
    width = int(_LEFT + days * scale + _RIGHT)
    height = _TOP + _BAND + _LANE * len(_LANES) + 40

    def x(instant: datetime) -> float:
        local = cal.local(instant)
        since = local.date() - first
        return _LEFT + (since.days + (local.hour * 60 + local.minute) / 1440) * scale

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="10">',
             f"<title>{escape(title)}</title>"]
    parts += _days(cal, first, days, scale, height)
    parts += _bands(cal, entries, x, scale, last)
    for i, lane in enumerate(_LANES):
        y = _TOP + _BAND + _LANE * i + _LANE / 2
        parts.append(f'<text x="4" y="{y + 3:.1f}" fill="#555">{lane}</text>')
    for index, entry in enumerate(entries):
        parts.append(_entry(cal, index, entry, x))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _days(cal: WorkCalendar, first: date, days: int, scale: float, height: int) -> list[str]:
    """Non-working days shaded (a holiday named in its title); each month's first day
    labelled along the bottom."""
    out = ['<g class="days">']
    for n in range(days):
        day = first + timedelta(days=n)
        left = _LEFT + n * scale
        if not cal.is_working_day(day):
            name = cal.holiday_name(day) or day.strftime("%A")
            out.append(f'<rect class="off" x="{left:.1f}" y="{_TOP}" width="{scale:.1f}" '
                       f'height="{height - _TOP - 30}" fill="#f0f0f0">'
                       f"<title>{escape(f'{day.isoformat()}: {name}')}</title></rect>")
        if day.day == 1 or n == 0:
            out.append(f'<text x="{left:.1f}" y="{height - 12}" fill="#555">'
                       f"{escape(day.strftime('%d %b %Y'))}</text>")
    out.append("</g>")
    return out


def _bands(cal: WorkCalendar, entries: Sequence[TimelineEntry], x: _Place, scale: float,
           last: date) -> list[str]:
    """The application's states as bands: each from the entry that entered it to the next
    change (the last to the end of the drawing)."""
    spans: list[tuple[str, datetime]] = []
    for e in entries:
        if not spans or spans[-1][0] != e.state:
            spans.append((e.state, e.at))
    names = list(dict.fromkeys(s for s, _ in spans))
    end = _LEFT + ((last - cal.local(entries[0].at).date()).days + 1) * scale
    out = ['<g class="states">']
    for i, (state, start) in enumerate(spans):
        left = x(start)
        right = x(spans[i + 1][1]) if i + 1 < len(spans) else end
        colour = _COLOURS[names.index(state) % len(_COLOURS)]
        out.append(f'<rect class="state" x="{left:.1f}" y="{_TOP}" '
                   f'width="{max(right - left, 1):.1f}" height="{_BAND - 4}" fill="{colour}">'
                   f"<title>{escape(state)}</title></rect>")
        out.append(f'<text x="{left + 3:.1f}" y="{_TOP + 15}">{escape(state)}</text>')
    out.append("</g>")
    return out


def _entry(cal: WorkCalendar, index: int, e: TimelineEntry, x: _Place) -> str:
    action = _LANE_OF.get(e.action, e.action)
    lane = _LANES.index(action) if action in _LANES else len(_LANES) - 1
    y = _TOP + _BAND + _LANE * lane + _LANE / 2
    at = x(e.at)
    colour = _MARKS.get(e.action, "#333333")
    facts = None if e.facts is None else ", ".join(
        f"{k}={'' if v is None else v}" for k, v in e.facts.items())
    what = " ".join(filter(None, [cal.local(e.at).strftime("%a %Y-%m-%d %H:%M"), e.action,
                                  e.rule or e.event or facts or e.role, e.contact]))
    if e.due is not None:
        what += f", due {cal.local(e.due).strftime('%a %Y-%m-%d %H:%M')}"
    if e.subject:
        what += f": {e.subject}"
    shapes = []
    if e.due is not None:
        shapes.append(f'<line x1="{at:.1f}" y1="{y:.1f}" x2="{x(e.due):.1f}" y2="{y:.1f}" '
                      f'stroke="{colour}" stroke-width="2" opacity="0.5"/>')
        shapes.append(f'<line x1="{x(e.due):.1f}" y1="{y - 5:.1f}" x2="{x(e.due):.1f}" '
                      f'y2="{y + 5:.1f}" stroke="{colour}" stroke-width="2"/>')
    if e.action == "notify":
        shapes.append(f'<circle cx="{at:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>')
    else:
        shapes.append(f'<rect x="{at - 2:.1f}" y="{y - 6:.1f}" width="4" height="12" '
                      f'fill="{colour}"/>')
    return (f'<g class="entry" data-index="{index}" data-action={quoteattr(e.action)}>'
            f"<title>{escape(what)}</title>{''.join(shapes)}</g>")
