"""Two daemons started together on one SQLite file, both firing timers and delivering at
once, send each of hundreds of reminders exactly once.

``tests/integration/test_two_daemons.py`` has two processes deliver an outbox that was
already filled. Here the timers are not fired yet, so the daemons also race to fire them
(each firing is one transaction, retried on a conflict), and they start at the same
moment: each waits at a barrier until the other has opened the store.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from followup import Contact, Engine, FakeClock, SQLiteStore

NOW = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York
APPLICATIONS = 120

DAEMON = textwrap.dedent(
    """
    import json, os, sys, time
    from datetime import datetime
    from pathlib import Path
    from followup import Engine, FakeClock, SQLiteStore

    db, out, me, now = sys.argv[1], Path(sys.argv[2]), sys.argv[3], datetime.fromisoformat(sys.argv[4])

    class Appending:
        name = "console"
        timeout = 60.0
        def send(self, notification):
            line = json.dumps({"key": notification.key, "daemon": me}) + "\\n"
            fd = os.open(out / "sent.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode())  # one write with O_APPEND: lines never mix
            finally:
                os.close(fd)

    engine = Engine(store=SQLiteStore(db, timeout=60), clock=FakeClock(now),
                    channels=[Appending()])
    (out / f"ready-{me}").touch()
    deadline = time.monotonic() + 60
    while len(list(out.glob("ready-*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    fired = delivered = 0
    for _ in range(3):  # a daemon's passes: what the other held is picked up next time
        report = engine.run_due(now)
        fired += report.fired
        delivered += len(report.delivery.delivered)
    print(fired, delivered, sorted(report.errors.values()))
    engine.close()
    """
)


def test_two_daemons_started_together_fire_and_send_each_reminder_once(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    engine = Engine(store=SQLiteStore(db), clock=FakeClock(NOW), channels=[])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    for i in range(APPLICATIONS):
        engine.add_application(
            owner="ada", company=f"Company {i}", role="Engineer",
            facts={"interviewed_at": "2027-01-04T09:00"},
            contacts=[Contact("Jane Doe", "interviewer", title="CTO"),
                      Contact("Raj Patel", "interviewer", title="Lead")])
    due = engine.store.due_timers(NOW, limit=100_000)
    engine.close()
    assert len(due) >= 3 * APPLICATIONS

    daemons = [subprocess.Popen([sys.executable, "-c", DAEMON, str(db), str(tmp_path), name,
                                 NOW.isoformat()],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for name in ("a", "b")]
    results = [d.communicate(timeout=300) for d in daemons]
    for daemon, (stdout, stderr) in zip(daemons, results, strict=True):
        assert daemon.returncode == 0, stderr[-3000:]
        assert stdout.strip().endswith("[]"), stdout  # no application failed
    fired = sum(int(stdout.split()[0]) for stdout, _ in results)
    delivered = sum(int(stdout.split()[1]) for stdout, _ in results)

    sent = [json.loads(line) for line in (tmp_path / "sent.jsonl").read_text().splitlines()]
    times = Counter(s["key"] for s in sent)
    assert max(times.values()) == 1, [k for k, n in times.items() if n > 1][:5]
    with SQLiteStore(db) as store:
        rows = store.deliveries()
        notified = [h.key for app in store.applications()
                    for h in store.history(app.id) if h.kind == "notified"]
    assert len(notified) == len(set(notified))  # each timer fired once, by one daemon
    assert {d.notification.key for d in rows} == set(times) >= {t.key for t in due
                                                                 if t.action == "notify"}
    assert {d.status for d in rows} == {"delivered"}
    assert fired == len(rows) == delivered == len(sent)
