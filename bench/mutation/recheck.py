"""Run a room's survivors again, against the tests as they are now.

    python bench/mutation/recheck.py ROOM [SESSION]

Each mutant that survived in SESSION (default /tmp/followup-mutation/ROOM/session.sqlite)
is applied to a fresh copy of the committed tree's engine/ (git archive HEAD, with the
rules/ and plugins/ that engine/followup links to), and the room's test command
(bench/mutation/ROOM.toml, read now, so it includes tests added since the run) is run
against that copy, from the checkout, once unmutated first (it must pass). Prints one
line per survivor: KILLED or SURVIVED, where, and the changed line; MOVED when the
mutant no longer applies (the code it changed was moved or rewritten since the run: run
the room again for it). Nothing in the checkout changes. Results: bench/MUTATION.md.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def main() -> int:
    room = sys.argv[1]
    session = Path(sys.argv[2] if len(sys.argv) > 2
                   else f"/tmp/followup-mutation/{room}/session.sqlite")
    config = tomllib.loads((HERE / f"{room}.toml").read_text(encoding="utf-8"))
    command = shlex.split(config["cosmic-ray"]["test-command"])
    with sqlite3.connect(session) as db:
        rows = db.execute(
            "SELECT s.module_path, s.start_pos_row, r.diff FROM work_results r "
            "JOIN mutation_specs s USING (job_id) WHERE r.test_outcome = 'SURVIVED' "
            "ORDER BY s.module_path, s.start_pos_row").fetchall()
    # The tests must pass on the tree unmutated, or every mutant would count as killed.
    baseline = run(command, "")
    if baseline.returncode != 0:
        sys.stderr.write(baseline.stdout.decode(errors="replace")[-3000:])
        sys.stderr.write("recheck: the tests fail without a mutant: fix them first\n")
        return 1
    for module, row, diff in rows:
        changed = next((line[1:].strip() for line in diff.splitlines()
                        if line.startswith("+") and not line.startswith("+++")), "")
        try:
            done = run(command, diff)
        except subprocess.CalledProcessError:  # the lines it changes are gone or rewritten
            print(f"{'MOVED':8} {module}:{row}  {changed}", flush=True)
            continue
        outcome = "KILLED" if done.returncode != 0 else "SURVIVED"
        print(f"{outcome:8} {module}:{row}  {changed}", flush=True)
    return 0


def run(command: list[str], diff: str) -> subprocess.CompletedProcess[bytes]:
    """The test command against a fresh copy of the committed tree with ``diff`` applied."""
    with tempfile.TemporaryDirectory() as scratch:
        # rules/ and plugins/ too: engine/followup/rules and plugins link to them.
        archive = subprocess.run(["git", "-C", str(REPO), "archive", "HEAD", "engine",
                                  "rules", "plugins"], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", scratch], input=archive, check=True)
        if diff:
            patch = "\n".join(line for line in diff.splitlines()
                              if not line.startswith("--- mutation diff"))
            subprocess.run(["patch", "-s", "-p1", "-d", scratch], input=patch.encode() + b"\n",
                           check=True)
        env = {**os.environ, "PYTHONPATH": f"{scratch}/engine"}
        return subprocess.run([sys.executable if command[0] == "python" else command[0],
                               *command[1:]], cwd=REPO, env=env, capture_output=True,
                              timeout=300, check=False)


if __name__ == "__main__":
    sys.exit(main())
