"""Pictures of a rule pack: its state machine, with the reminders armed in each state,
and one application's path through it, as Mermaid text (rendered by GitHub, GitLab,
many editors and mermaid.live). ``followup.interop.drawing`` draws the same as SVG and DOT."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from followup.language.pack import Rule, RulePack
from followup.model import HistoryEntry

if TYPE_CHECKING:
    from followup.timing.calendar import WorkCalendar

__all__ = ["path_to_mermaid", "timing_parts", "to_mermaid"]


def _label(text: str) -> str:
    # Mermaid labels may not contain ':' or ';' unescaped; keep them readable.
    return text.replace(":", " -").replace(";", ",").replace('"', "'")


def timing_parts(rule: Rule) -> list[str]:
    """When a rule's reminder comes, in the pack's own words: ``at ...``, then ``due
    ...``, ``every ...`` and each ``instead at ...`` it has (the SVG drawing shows the
    same, a line each)."""
    parts = [f"at {rule.at.text}"]
    if rule.due is not None:
        parts.append(f"due {rule.due.text}")
    if rule.every is not None:
        parts.append(f"every {rule.every.text}" + (f", {rule.limit}x" if rule.limit else ""))
    for override in rule.instead:
        parts.append(f"instead at {override.at.text} when {override.fact} is known")
    return parts


def _timing(rule: Rule) -> str:
    return "; ".join(timing_parts(rule))


def to_mermaid(pack: RulePack) -> str:
    """The pack's states, its events and own transitions as arrows, and for each state
    the reminders armed in it, as a Mermaid ``stateDiagram-v2``."""
    lines = ["stateDiagram-v2", f"    [*] --> {pack.initial}"]
    for event in pack.events.values():
        if event.dest is None:
            continue
        for source in event.sources or pack.states:
            if source != event.dest:
                lines.append(f"    {source} --> {event.dest}: {_label(event.name)}")
    for auto in pack.transitions:
        if auto.after is not None:
            why = f"after {auto.after.text}"
        elif auto.every is not None:
            why = f"every {auto.every} did {auto.did}"
        else:
            why = auto.when.source if auto.when is not None else ""
        for source in auto.sources:
            lines.append(f"    {source} --> {auto.dest}: {_label(f'{auto.name} ({why})')}")
    for state in pack.states:
        armed = [r for r in pack.application_rules if r.states is None or state in r.states]
        if not armed:
            continue
        lines.append(f"    note right of {state}")
        for rule in armed:
            who = f" (each {rule.for_each})" if rule.for_each else ""
            lines.append(f"        {_label(rule.name + who)} - {_label(_timing(rule))}")
        lines.append("    end note")
    owner_rules = pack.owner_rules
    if owner_rules:
        lines.append("    note left of " + pack.initial)
        lines.append("        over all applications:")
        for rule in owner_rules:
            cond = f" while {rule.condition.source}" if rule.condition is not None else ""
            every = rule.every.text if rule.every else ""
            lines.append(f"        {_label(rule.name)} - every {every}{_label(cond)}")
        lines.append("    end note")
    return "\n".join(lines) + "\n"


def path_to_mermaid(pack: RulePack, history: Sequence[HistoryEntry], *,
                    calendar: WorkCalendar | None = None) -> str:
    """One application's path so far over the pack's machine, as a Mermaid
    ``stateDiagram-v2``: every move it made is numbered in order, with its date (in
    ``calendar``'s zone when given), the states it passed through are shaded and the
    state it is in stands out."""
    taken: dict[tuple[str, str], list[str]] = {}
    visited: list[str] = []
    step = 0
    for h in history:
        if h.kind == "created" and h.to_state:
            visited.append(h.to_state)
        if h.kind in ("event", "transition") and h.from_state and h.to_state:
            step += 1
            day = (calendar.local(h.at) if calendar else h.at).date().isoformat()
            taken.setdefault((h.from_state, h.to_state), []).append(f"{step}. {h.name} {day}")
            visited.append(h.to_state)
    lines = ["stateDiagram-v2", f"    [*] --> {pack.initial}"]
    pairs: dict[tuple[str, str], list[str]] = {}
    for event in pack.events.values():
        if event.dest is not None:
            for source in event.sources or pack.states:
                if source != event.dest:
                    pairs.setdefault((source, event.dest), []).append(event.name)
    for auto in pack.transitions:
        for source in auto.sources:
            pairs.setdefault((source, auto.dest), []).append(auto.name)
    for pair in taken:
        pairs.setdefault(pair, [])
    for (source, dest), names in pairs.items():
        label = ", ".join(taken[(source, dest)]) if (source, dest) in taken else ", ".join(names)
        lines.append(f"    {source} --> {dest}: {_label(label)}")
    lines.append("    classDef visited fill:#e8f0fe,stroke:#335")
    lines.append("    classDef current fill:#ffd966,stroke:#333,stroke-width:3px")
    current = visited[-1] if visited else pack.initial
    passed = [s for s in dict.fromkeys(visited) if s != current]
    if passed:
        lines.append(f"    class {','.join(passed)} visited")
    lines.append(f"    class {current} current")
    return "\n".join(lines) + "\n"
