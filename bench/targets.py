"""The issue's targets, each computed from one run's figures and marked met or not.

The targets of issue 18 compare followup with what a person would build instead, side by
side in one run (ratios taken per round, see bench/peers.py), and ask that a person at a
terminal waits no longer than they would for a small task manager. Figures that are not
targets but bound what any target can reach (the floors) are listed too, unmarked.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from bench._common import Row

__all__ = ["BASELINE", "targets"]

BASELINE = "1.11"  # raw transitions: every events/s figure is compared with it
COMMANDS_MS = 100  # every everyday command within this of bare python (median)
HELP_MS = 60  # followup --help within this of bare python


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


class _Checks:
    """One run's figures, and the targets checked against them so far."""

    def __init__(self, rows: Sequence[Row]) -> None:
        self.rows = rows
        self.by_row = {r.id: r for r in rows}
        self.by_id = {r.id: r.median for r in rows}
        self.lines: list[tuple[str, str, bool | None]] = []

    def check(self, what: str, shown: str, ok: bool | None) -> None:
        self.lines.append((what, shown, ok))

    def ratio(self, a: str, b: str) -> float | None:
        """``a`` over ``b``: from the runs made in pairs when ``a`` was, else the medians."""
        row = self.by_row.get(a)
        pairs = (row.vs_raw if b == BASELINE else row.vs_psm if b == "1.15" else ()) if row else ()
        if pairs:
            return statistics.median(pairs)
        by_id = self.by_id
        return by_id[a] / by_id[b] if a in by_id and by_id.get(b) else None


def targets(rows: Sequence[Row], *, title: str = "targets (issue 18), from this run") -> list[str]:
    """The Markdown lines of the targets table."""
    c = _Checks(rows)
    _peers(c)
    r = c.ratio("1.13", "1.15")
    c.check("whole engine in memory ≥ 2x python-statemachine alone (1.13 / 1.15, paired runs)",
            f"{r:.2f}x" if r is not None else "not measured: python-statemachine is not "
            "installed", None if r is None else r >= 2)
    r = c.ratio("1.17", "1.15")
    c.check("(not a target) the floor in memory over python-statemachine (1.17 / 1.15, "
            "paired)", f"{r:.2f}x" if r is not None else "", None)
    for row in rows:
        if row.id.startswith("6.") and "over `python -c pass`" in row.figure:
            name = row.figure.split("`")[1]
            c.check(f"`{name}` within {COMMANDS_MS} ms of `python -c pass` ({row.id}, median)",
                    f"{row.median:.0f} ms", row.median <= COMMANDS_MS)
    v = c.by_id.get("6.3")
    c.check(f"`followup --help` within {HELP_MS} ms of bare python (6.3)",
            f"{v:.0f} ms" if v is not None else "", None if v is None else v <= HELP_MS)
    c.check("PostgreSQL drain to a loopback webhook ≥ 1,500 reminders/s with 4 workers",
            "measured by bench/drain.py: see DRAIN.md", None)
    _kept(c)
    out = [f"## {title}", "", "| target | this run | met |", "|---|--:|---|"]
    for what, shown, ok in c.lines:
        out.append(f"| {_cell(what)} | {_cell(shown)} | "
                   f"{'' if ok is None else 'yes' if ok else '**no**'} |")
    return out


def _peers(c: _Checks) -> None:
    """followup against the stacks a person would build instead (bench/peers.py)."""
    missing = "not measured: the peers are not installed (pip install -e '.[bench]')"
    for rid, floor, what in (
            ("7.8", 1.0, "durable SQLite events/s, the same-work pack ≥ 1.0x transitions + "
             "Huey (7.8: 7.1 / 7.3, per round)"),
            ("7.9", 0.75, "durable SQLite events/s, the default pack ≥ 0.75x transitions + "
             "Huey (7.9: 7.2 / 7.3, per round)"),
            ("7.11", 1.0, "drain, fire and deliver to a no-op channel ≥ 1.0x Huey's consumer "
             "(7.11: 7.5 / 7.6, per round)")):
        v = c.by_id.get(rid)
        c.check(what, f"{v:.2f}x" if v is not None else missing,
                None if v is None else v >= floor)
    for rid, what in (("7.10", "followup over transitions + APScheduler 3, events"),
                      ("7.12", "followup over APScheduler 3, drain")):
        v = c.by_id.get(rid)
        c.check(f"(not a target) {what} ({rid})", f"{v:.2f}x" if v is not None else missing,
                None)


def _kept(c: _Checks) -> None:
    """What holds and must keep holding: memory, run_due's growth, the dry run."""
    r = c.ratio("3.4", "3.3")
    c.check("memory flat while adding applications (3.4 / 3.3 ≤ 1.25)",
            f"{r:.2f}x" if r is not None else "", None if r is None else r <= 1.25)
    run_due = sorted((r for r in c.rows if r.figure.startswith("run_due: ") and r.unit == "s"),
                     key=lambda r: int(r.id.split(".")[1]))
    if len(run_due) >= 2:
        grow = run_due[-1].median / run_due[0].median
        c.check(f"run_due grows < 1.5x ({run_due[-1].id} / {run_due[0].id}: "
                f"{run_due[0].figure.split(': ')[-1]} to "
                f"{run_due[-1].figure.split(' among ')[-1]})", f"{grow:.2f}x", grow < 1.5)
    v = c.by_id.get("1.19")
    c.check("(not a target) in memory, an event among many stored applications over one in "
            "an empty store (1.19, paired)", f"{v:.2f}x" if v is not None else "", None)
    v = c.by_id.get("5.1")
    c.check("a 12-month simulation of one application < 50 ms (5.1)",
            f"{v:.1f} ms" if v is not None else "", None if v is None else v < 50)
    v = c.by_id.get("2.5")
    c.check("(not a target) the floor on SQLite, one transaction per event (2.5)",
            _number(v) if v else "", None)
