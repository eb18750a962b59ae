#!/bin/sh
# Mutation testing of one room, on demand (never in CI): bench/mutation/run.sh ROOM
# ROOM is the name of a ROOM.toml beside this script. The committed tree (git archive
# HEAD) is copied to a scratch folder, where cosmic-ray changes one thing at a time in
# the room's files and runs the room's tests (the config's test-command) against that
# copy, which PYTHONPATH puts before any installed followup; the checkout is never
# touched. The session (a SQLite file) and the report are written to OUT (default:
# /tmp/followup-mutation/ROOM); RESUME=1 goes on with a session that was stopped;
# SAMPLE=N (and SEED, default 19) runs a random N of the room's mutants (sample.py).
# Results: bench/MUTATION.md.
set -eu
room="$1"
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${OUT:-/tmp/followup-mutation/$room}"
python="${PYTHON:-python}"
bin="$(dirname "$python")"
export PYTHONPATH="$out/tree/engine" PATH="$bin:$PATH"
if [ "${RESUME:-0}" != 1 ]; then
    rm -rf "$out" && mkdir -p "$out/tree"
    git -C "$repo" archive HEAD | tar -x -C "$out/tree"
    cp "$here/$room.toml" "$out/config.toml"
    cd "$out/tree"
    "$python" -m cosmic_ray.cli init "$out/config.toml" "$out/session.sqlite"
    "$bin/cr-filter-operators" "$out/session.sqlite" "$out/config.toml"
    if [ -n "${SAMPLE:-}" ]; then
        "$python" "$here/sample.py" "$out/session.sqlite" "$SAMPLE" "${SEED:-19}"
    fi
    "$python" -m cosmic_ray.cli --verbosity INFO baseline "$out/config.toml"
fi
cd "$out/tree"
nice -n 19 "$python" -m cosmic_ray.cli exec "$out/config.toml" "$out/session.sqlite"
"$bin/cr-report" --show-pending "$out/session.sqlite" > "$out/report.txt"
tail -n 3 "$out/report.txt"
