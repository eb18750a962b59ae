"""The benchmarks still run, and their table still has every row: never how fast."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parents[2] / "bench"

#: Every figure bench/run.py reports, by its id in the table.
ROWS = [
    *(f"1.{i}" for i in range(1, 15)),
    "1.16", "1.17", "1.18", "1.19",
    *(f"2.{i}" for i in range(1, 6)),
    *(f"3.{i}" for i in range(1, 5)),
    *(f"4.{i}" for i in range(1, 7)),  # run_due at the smoke run's two sizes
    "5.1", "5.2",
    *(f"6.{i}" for i in range(1, 10)),  # --help, the five everyday commands, bare python
    "7.1", "7.2", "7.5",  # followup's side of the peers' rounds
]
if importlib.util.find_spec("statemachine") is not None:  # the bench extra
    ROWS.append("1.15")
if all(importlib.util.find_spec(m) is not None for m in ("huey", "apscheduler", "sqlalchemy")):
    ROWS += ["7.3", "7.4", *(f"7.{i}" for i in range(6, 13))]  # the peers, and the ratios
ENVIRONMENT = ["CPU", "RAM", "OS", "Python", "transitions", "PyYAML", "holidays", "Jinja2",
               "SQLite"]
NUMBER = re.compile(r"-?[\d,]+(\.\d+)?(e[-+]?\d+)?")


def test_every_benchmark_runs_and_reports_every_row(tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    done = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--smoke", "--out", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    assert text.strip() == done.stdout.strip(), "the file and standard output differ"
    assert "run.py --smoke" in text, "the table does not say which command made it"

    cells = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[1:-1]]
             for line in text.splitlines() if line.startswith("| ")}
    for name in ENVIRONMENT:
        assert cells.get(name, ["", ""])[1], f"the table does not say which {name}"
    for row_id in ROWS:
        assert row_id in cells, f"row {row_id} is missing from the table"
        figure, median, unit, runs = cells[row_id][1:5]
        assert figure and unit, f"row {row_id} has no figure or unit"
        assert NUMBER.fullmatch(median), f"row {row_id}: median {median!r} is not a number"
        assert int(runs) >= 1, f"row {row_id}: {runs!r} runs"
    reported = {key for key in cells if re.fullmatch(r"\d+\.\d+", key)}
    assert reported == set(ROWS), f"rows not known to this test: {reported - set(ROWS)}"
    assert "## targets" in text, "the table does not say which targets were met"
