"""Pictures of a rule pack without Graphviz: an SVG drawn here, byte for byte the same on
every machine, and the DOT text that Graphviz turns into PNG (or its own SVG) where it is
installed.

The SVG is a simple layered drawing. The states are placed in rows: a state's row is
the longest chain of forward moves from the initial state to it (a move back, such as
``reopened``, does not count), and within a row the states keep the pack's order. Each
state's box lists the reminders armed in it; forward moves are straight arrows, moves
back or sideways curve around the left. Under each reminder stands its timing, the
same words the Mermaid text gives it (``timing_parts``). The rules over all of an owner's applications
are listed in a box below. The text is measured by a fixed estimate, not by a font, so
the drawing depends on the pack only.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from followup.interop.graph import timing_parts
from followup.language.pack import Rule, RulePack

__all__ = ["Move", "moves", "to_dot", "to_svg"]

_CHAR = 7.0  # estimated width of one character at the body font size, in pixels
_LINE = 15  # height of one line of text
_PAD = 10
_ROW_GAP = 70
_COL_GAP = 40
_MARGIN = 20
_INDENT = "    "  # a timing line under its reminder


@dataclass(frozen=True)
class Move:
    """An arrow: from a state to another, with the events and own moves that take it."""

    source: str
    dest: str
    label: str


def moves(pack: RulePack) -> list[Move]:
    """The arrows of the pack's machine, one per pair of states, in the pack's order."""
    labels: dict[tuple[str, str], list[str]] = {}
    for event in pack.events.values():
        if event.dest is None:
            continue
        for source in event.sources or pack.states:
            if source != event.dest:
                labels.setdefault((source, event.dest), []).append(event.name)
    for auto in pack.transitions:
        why = f"after {auto.after.text}" if auto.after is not None else "on its own"
        for source in auto.sources:
            labels.setdefault((source, auto.dest), []).append(f"{auto.name} ({why})")
    return [Move(s, d, ", ".join(names)) for (s, d), names in labels.items()]


def _armed(pack: RulePack, state: str) -> list[Rule]:
    return [r for r in pack.application_rules if r.states is None or state in r.states]


def _reminder(rule: Rule) -> str:
    return rule.name + (f" (each {rule.for_each})" if rule.for_each else "")


def _reminders(pack: RulePack, state: str) -> list[str]:
    """The lines a state's box lists: each reminder armed in it, then its timing (as
    the Mermaid text gives it), a part a line, indented."""
    lines = []
    for rule in _armed(pack, state):
        lines.append("⏰ " + _reminder(rule))
        lines += [_INDENT + part for part in timing_parts(rule)]
    return lines


def _rows(pack: RulePack, arrows: list[Move]) -> dict[str, int]:
    """Each state's row: the longest forward chain from the initial state."""
    out_edges: dict[str, list[str]] = {s: [] for s in pack.states}
    for m in arrows:
        out_edges[m.source].append(m.dest)
    # Forward edges are those of a depth-first walk from the initial state that do not
    # close a cycle; what is unreachable starts a row of its own at 0.
    order: list[str] = []
    state_of: dict[str, int] = {}  # 1: on the walk's path, 2: done
    back: set[tuple[str, str]] = set()

    def walk(s: str) -> None:
        state_of[s] = 1
        for d in out_edges[s]:
            if state_of.get(d) == 1:
                back.add((s, d))
            elif d not in state_of:
                walk(d)
        state_of[s] = 2
        order.append(s)

    for s in (pack.initial, *pack.states):
        if s not in state_of:
            walk(s)
    row = dict.fromkeys(pack.states, 0)
    for s in reversed(order):  # a topological order of the forward edges
        for d in out_edges[s]:
            if (s, d) not in back:
                row[d] = max(row[d], row[s] + 1)
    return row


def _text(x: float, y: float, text: str, *, size: int = 12, weight: str = "normal",
          anchor: str = "start", fill: str = "#222") -> str:
    return (f'<text x="{x:.0f}" y="{y:.0f}" font-size="{size}" font-weight="{weight}" '
            f'text-anchor="{anchor}" fill="{fill}">{escape(text)}</text>')


Box = tuple[float, float, float, float]  # x, y, width, height


def to_svg(pack: RulePack) -> str:
    """The pack's states, moves and reminders as an SVG document."""
    arrows = moves(pack)
    layer = _rows(pack, arrows)
    order = sorted(pack.states, key=lambda s: (layer[s], pack.states.index(s)))
    row = {s: i for i, s in enumerate(order)}
    # One state a row, so that an arrow never has to cross a box: to the next row it
    # goes straight down; further down, through a channel on the right; back up,
    # through a channel on the left. Each side of a box has a slot per arrow there.
    right = [m for m in arrows if row[m.dest] > row[m.source] + 1]
    left = [m for m in arrows if row[m.dest] < row[m.source]]
    slots: dict[tuple[str, str], int] = {}
    for side, group in (("r", right), ("l", left)):
        for m in group:
            for s in (m.source, m.dest):
                slots[(side, s)] = slots.get((side, s), 0) + 1
    left_room = (max((len(m.label) * 6.0 for m in left), default=0.0) + 24
                 + 16 * len(left))
    x0 = _MARGIN + max(left_room, 40.0)
    boxes: dict[str, Box] = {}
    y = float(_MARGIN + 30)
    for s in order:
        lines = _reminders(pack, s)
        width = max([len(s) * 8.5] + [len(t) * _CHAR for t in lines]) + 2 * _PAD
        content = 28 + _LINE * len(lines) + (_PAD if lines else 0)
        side_slots = max(slots.get(("r", s), 0), slots.get(("l", s), 0))
        boxes[s] = (x0, y, width, max(content, 14 + 13 * side_slots + 6))
        y += boxes[s][3] + _ROW_GAP
    widest = max(x + w for x, _, w, _ in boxes.values())
    label_room = max((len(m.label) * 6.0 for m in right), default=0.0)
    body = _arrows(arrows, row, boxes, x0, widest + label_room + 24, right, left)
    for s in order:
        x, top, w, h = boxes[s]
        initial = s == pack.initial
        body.append(f'<g class="state" id="state-{escape(s)}">')
        body.append(f'<rect x="{x:.0f}" y="{top:.0f}" width="{w:.0f}" height="{h:.0f}" '
                    f'rx="8" fill="{"#e8f0fe" if initial else "#f7f7f7"}" stroke="#445" '
                    f'stroke-width="{2 if initial else 1}"/>')
        body.append(_text(x + _PAD, top + 19, s, size=14, weight="bold"))
        i = 0
        for rule in _armed(pack, s):
            body.append(f'<g class="reminder" data-rule={quoteattr(rule.name)}>')
            body.append(_text(x + _PAD, top + 40 + i * _LINE, "⏰ " + _reminder(rule),
                              size=11, fill="#555"))
            for part in timing_parts(rule):
                i += 1
                body.append(_text(x + _PAD + 4 * _CHAR, top + 40 + i * _LINE, part,
                                  size=10, fill="#777"))
            body.append("</g>")
            i += 1
        body.append("</g>")
    ix, iy = boxes[pack.initial][0] + 30, boxes[pack.initial][1]
    body.insert(0, f'<circle cx="{ix:.0f}" cy="{iy - 22:.0f}" r="6" fill="#222"/>'
                   f'<line x1="{ix:.0f}" y1="{iy - 16:.0f}" x2="{ix:.0f}" y2="{iy:.0f}" '
                   'stroke="#222" marker-end="url(#arrow)"/>')
    width = widest + label_room + 24 + 14 * len(right) + _MARGIN
    owner_rules = pack.owner_rules
    if owner_rules:
        lines = ["over all applications:"] + [
            f"⏰ {r.name}" + (f" every {r.every.text}" if r.every else "")
            + (f" while {r.condition.source}" if r.condition is not None else "")
            for r in owner_rules]
        w = max(len(t) for t in lines) * _CHAR + 2 * _PAD
        h = _LINE * len(lines) + _PAD
        body.append(f'<rect x="{x0:.0f}" y="{y:.0f}" width="{w:.0f}" height="{h:.0f}" '
                    'rx="4" fill="#fffbe6" stroke="#cc9" stroke-dasharray="4 3"/>')
        for i, line in enumerate(lines):
            body.append(_text(x0 + _PAD, y + 16 + i * _LINE, line, size=11))
        width = max(width, x0 + w + _MARGIN)
        y += h + _ROW_GAP
    height = y - _ROW_GAP + _MARGIN
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
            f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
            'font-family="Helvetica, Arial, sans-serif">\n'
            f"<title>{escape(pack.name)}: states, moves and reminders</title>\n"
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
            'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
            'fill="#445"/></marker></defs>\n'
            f'<rect width="{width:.0f}" height="{height:.0f}" fill="white"/>\n')
    return head + "\n".join(body) + "\n</svg>\n"


def _arrows(arrows: list[Move], row: dict[str, int], boxes: dict[str, Box], x0: float,
            right_x: float, right: list[Move], left: list[Move]) -> list[str]:
    used: dict[tuple[str, str], int] = {}

    def slot(side: str, state: str) -> float:
        n = used.get((side, state), 0)
        used[(side, state)] = n + 1
        return boxes[state][1] + 14 + 13 * n

    out: list[str] = []
    for m in arrows:
        sx, sy, sw, sh = boxes[m.source]
        tx, ty, tw, _ = boxes[m.dest]
        if m in right:
            channel = right_x + 14 * right.index(m)
            lift, arrive = slot("r", m.source), slot("r", m.dest)
            points = [(sx + sw, lift), (channel, lift), (channel, arrive), (tx + tw, arrive)]
            label, anchor = (sx + sw + 6, lift - 3), "start"
        elif m in left:
            channel = x0 - 16 * (left.index(m) + 1)
            lift, arrive = slot("l", m.source), slot("l", m.dest)
            points = [(sx, lift), (channel, lift), (channel, arrive), (tx, arrive)]
            label, anchor = (channel - 6, lift - 3), "end"
        else:  # the next row: straight down
            points = [(x0 + 30, sy + sh), (x0 + 30, ty)]
            label, anchor = (x0 + 36, (sy + sh + ty) / 2 + 4), "start"
        path = " L ".join(f"{x:.0f} {y:.0f}" for x, y in points)
        out.append(f'<path d="M {path}" fill="none" stroke="#445" marker-end="url(#arrow)"/>'
                   + _text(*label, m.label, size=11, anchor=anchor, fill="#335"))
    return out


def _dot(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dot_lines(lines: list[str]) -> str:
    """A label of left-aligned lines (each escaped, each ended by ``\\l``)."""
    return '"' + "".join(_dot(line)[1:-1] + "\\l" for line in lines) + '"'


def to_dot(pack: RulePack) -> str:
    """The same picture as Graphviz DOT text (``dot -Tpng`` draws it)."""
    lines = [f"digraph {_dot(pack.name)} {{", "  rankdir=TB;",
             '  node [shape=box, style="rounded,filled", fillcolor="#f7f7f7", '
             'fontname="Helvetica"];', '  edge [fontname="Helvetica", fontsize=10];',
             '  start [shape=point, width=0.15, label=""];',
             f"  start -> {_dot(pack.initial)};"]
    for s in pack.states:
        label = _dot_lines([s, *_reminders(pack, s)])
        fill = ', fillcolor="#e8f0fe", penwidth=2' if s == pack.initial else ""
        lines.append(f"  {_dot(s)} [label={label}{fill}];")
    for m in moves(pack):
        lines.append(f"  {_dot(m.source)} -> {_dot(m.dest)} [label={_dot(m.label)}];")
    if pack.owner_rules:
        label = _dot_lines(["over all applications:"] + [
            f"⏰ {r.name}" + (f" every {r.every.text}" if r.every else "")
            for r in pack.owner_rules])
        lines.append(f'  owner_rules [shape=note, fillcolor="#fffbe6", label={label}];')
    lines.append("}")
    return "\n".join(lines) + "\n"
