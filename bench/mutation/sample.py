"""Keep a random sample of a session's mutants; mark the rest skipped.

    python bench/mutation/sample.py SESSION N [SEED]

Run by run.sh when SAMPLE=N is set, after the operator filter: of the mutants still
pending, N chosen at random (seeded: the same session and SEED choose the same ones) stay
pending, the others are marked skipped with the output "not in the sample". A room too big
for one sitting (runtime: about 3,000 mutants) is measured on a sample, and its score is
reported with the sample's size and a 95% interval (bench/MUTATION.md); the full run is the
same command without SAMPLE.
"""

from __future__ import annotations

import random
import sys

from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import WorkerOutcome, WorkResult


def main() -> int:
    session, size = sys.argv[1], int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 19
    with use_db(session, WorkDB.Mode.open) as db:
        pending = sorted(item.job_id for item in db.pending_work_items)
        keep = set(random.Random(seed).sample(pending, min(size, len(pending))))
        for job_id in pending:
            if job_id not in keep:
                db.set_result(job_id, WorkResult(output="not in the sample",
                                                 worker_outcome=WorkerOutcome.SKIPPED))
    print(f"{len(keep)} of {len(pending)} mutants kept (seed {seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
