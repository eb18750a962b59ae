"""Two daemons on one SQLite file do not send the same reminder twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from followup import Contact, Engine, FakeClock, SQLiteStore, load_rules

NOW = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York

DELIVER = textwrap.dedent(
    """
    import sys
    from datetime import datetime
    from followup import Engine, FakeClock, SQLiteStore, load_rules
    from followup.delivery.manager import load_plugins

    now = datetime.fromisoformat(sys.argv[2])
    pack = load_rules("pack.yaml", text="version: 1\\nextends: after-interview\\nchannels: [file]\\n")
    engine = Engine(rules=pack, store=SQLiteStore(sys.argv[1], timeout=30),
                    clock=FakeClock(now), plugins=load_plugins())
    report = engine.deliver(now)
    print(len(report.delivered), len(report.failed))
    engine.close()
    """
)


def test_two_daemons_deliver_each_reminder_once(tmp_path: Path) -> None:
    db, out = tmp_path / "f.db", tmp_path / "sent.jsonl"
    pack = load_rules("pack.yaml", text="version: 1\nextends: after-interview\nchannels: [file]\n")
    engine = Engine(rules=pack, store=SQLiteStore(db), clock=FakeClock(NOW), channels=[])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    for i in range(60):
        engine.add_application(
            owner="ada", company=f"Company {i}", role="Engineer",
            facts={"interviewed_at": "2027-01-04T09:00"},
            contacts=[Contact("Jane Doe", "interviewer", title="CTO"),
                      Contact("Raj Patel", "interviewer", title="Lead")])
    report = engine.run_due(NOW, deliver=False)
    engine.close()
    expected = {n.key for n in report.notifications}
    assert len(expected) >= 180

    env = {k: v for k, v in os.environ.items() if not k.startswith("FOLLOWUP_")}
    env["FOLLOWUP_FILE_PATH"] = str(out)
    env["FOLLOWUP_PLUGINS"] = "file"
    daemons = [
        subprocess.Popen([sys.executable, "-c", DELIVER, str(db), NOW.isoformat()],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for _ in range(2)
    ]
    results = [d.communicate(timeout=120) for d in daemons]
    for daemon, (_out, stderr) in zip(daemons, results, strict=True):
        assert daemon.returncode == 0, stderr
    delivered = [int(stdout.split()[0]) for stdout, _ in results]
    sent = Counter(json.loads(line)["key"] for line in out.read_text().splitlines())
    assert set(sent) == expected
    assert max(sent.values()) == 1  # nothing sent twice
    assert sum(delivered) == len(expected)
