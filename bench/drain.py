"""Drain throughput on PostgreSQL: ``python bench/drain.py [--stored 10000,1000000]
[--workers 1,2,4] [--due 10000] [--runs 2] [--url URL] [--out FILE]``.

For each number of stored applications, and each number of worker processes: start the
workers (the installed ``followup run``, webhook channel) against one PostgreSQL schema,
let them settle, then commit ``--due`` applications whose one reminder is due now, and time
from that commit to the moment a loopback webhook receiver has every reminder once. The
stored applications each hold one reminder a month ahead, so the due work sits among them
in the same tables and indexes; every application is written as the drain pack plans it
(its ``planned_by``), so the workers have nothing to re-plan. The due applications are committed in one transaction,
and the clock starts when that commit returns (the time to write them is the producer's,
not the drain's). Figures are medians of ``--runs``. Needs a PostgreSQL
server (default: postgresql://postgres@127.0.0.1:5432/test, or FOLLOWUP_TEST_POSTGRES); the
schema it makes is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import cast
from urllib.parse import quote

from followup import load_rules
from followup.model import Application, Change, HistoryEntry, Timer
from followup.store.postgres import PostgresStore

PACK = """\
version: 1
name: drain
states: [open, done]
initial: open
calendar:
  workweek: [mon, tue, wed, thu, fri, sat, sun]
  send_window: null
events:
  finished: {from: [open], to: done}
channels: [webhook]
templates:
  ping:
    subject: "Ping {{ application.company }}"
rules:
  - name: ping
    while: open
    at: created
    notify: {template: ping}
"""


class Sink:
    """A webhook receiver on loopback that counts each Idempotency-Key it is sent (the
    tests of many workers use it too): ``serve_forever`` in a thread, then ``shutdown``
    and ``server_close``.

    It is a minimal HTTP/1.1 server on asyncio (keep-alive, POST with Content-Length,
    200 with an empty body), not ``http.server``: the receiver shares the machine's cores
    with the workers and PostgreSQL, and the standard library's handler costs several
    times its CPU per request. A request whose body did not arrive whole (a sender killed
    mid-request) is not counted."""

    def __init__(self) -> None:
        self.keys: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.socket = socket.create_server(("127.0.0.1", 0))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._done = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.socket.getsockname()[1]}/hook"

    def unique(self) -> int:
        with self.lock:
            return len(self.keys)

    def repeats(self) -> int:
        with self.lock:
            return sum(n - 1 for n in self.keys.values())

    def serve_forever(self) -> None:
        asyncio.run(self._serve())

    def shutdown(self) -> None:
        """Stop ``serve_forever`` and wait until it returned."""
        self._ready.wait(5)
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
            self._done.wait(5)

    def server_close(self) -> None:
        self.socket.close()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await self._loop.create_server(lambda: _Receive(self), sock=self.socket)
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            server.close()
            self._done.set()


class _Receive(asyncio.Protocol):
    """One connection: requests one after another on it."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end].decode("latin-1").split("\r\n")
            fields = {name.strip().lower(): value.strip() for name, _, value in
                      (line.partition(":") for line in head[1:])}
            length = int(fields.get("content-length", "0"))
            if len(self.buffer) < end + 4 + length:
                return  # the rest of the body is still on its way
            self.buffer = self.buffer[end + 4 + length:]
            key = fields.get("idempotency-key")
            if key is not None:
                with self.sink.lock:
                    self.sink.keys[key] += 1
            if self.transport is not None:
                self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")


NOTES = "<!-- notes below: written by hand, kept when drain.py rewrites the table -->"


def planned_by() -> str:
    """The fingerprint of the drain pack: the applications below are as this pack
    planned them, so the workers have nothing to re-plan (``followup.runtime.replans``)."""
    return load_rules(text=PACK).fingerprint


def change(app_id: str, owner: str, created: datetime, fire_at: datetime,
           fingerprint: str) -> Change:
    """One application of the drain pack as the engine plans it: created, one reminder."""
    app = Application(app_id, owner, f"Company {app_id}", "Role", "open", {}, (), created,
                      planned_by=fingerprint)
    entry = HistoryEntry(app_id, 0, created, "created", "created", to_state="open",
                         data={"company": app.company, "role": "Role", "facts": {},
                               "contacts": []})
    timer = Timer(app_id, owner, f"{app_id}/ping/0/-/0", "ping", "notify", fire_at)
    return Change(app, None, history=(entry,), timers_added=(timer,))


def applications(prefix: str, numbers: range, fire_at: datetime) -> list[Change]:
    """The applications ``prefix`` + each number (of 1,000 owners), created a minute
    ago, each with its one reminder at ``fire_at``."""
    created = datetime.now(UTC) - timedelta(minutes=1)
    fingerprint = planned_by()
    return [change(f"{prefix}{i:07d}", f"owner{i % 1000}", created, fire_at, fingerprint)
            for i in numbers]


def add(store: PostgresStore, prefix: str, count: int, fire_at: datetime) -> float:
    """Commit ``count`` applications in batches; the seconds it took."""
    started = time.perf_counter()
    for first in range(0, count, 2000):
        store.commit_many(applications(prefix, range(first, min(count, first + 2000)),
                                       fire_at))
    return time.perf_counter() - started


def drain_once(url: str, pack: Path, workers: int, due: int, tag: str) -> tuple[float, int]:
    """Seconds from committing ``due`` due reminders until all arrived; and repeats."""
    sink = Sink()
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    script = Path(sys.executable).with_name("followup")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "followup.cli"]
    env = dict(os.environ, FOLLOWUP_DB=url, FOLLOWUP_RULES=str(pack),
               FOLLOWUP_PLUGINS="webhook",
               FOLLOWUP_WEBHOOK_URL=sink.url,
               FOLLOWUP_WEBHOOK_SECRET="bench-only-secret")
    procs = [subprocess.Popen([*command, "run", "--interval", "1", "--lease", "30"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(workers)]
    try:
        time.sleep(3.0)  # started, listening, idle
        changes = applications(f"due-{tag}-", range(due),
                               datetime.now(UTC) - timedelta(seconds=1))
        with PostgresStore(url) as store:
            store.commit_many(changes)  # one transaction: the workers see all at once
            started = time.perf_counter()
        while sink.unique() < due:
            if time.perf_counter() - started > 1800:
                raise RuntimeError(f"only {sink.unique()} of {due} arrived in 30 minutes")
            time.sleep(0.05)
        return time.perf_counter() - started, sink.repeats()
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=60)
        sink.shutdown()
        sink.server_close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stored", default="10000,1000000")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--url", default=os.environ.get(
        "FOLLOWUP_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    stored_sizes = sorted(int(s) for s in args.stored.split(","))
    worker_counts = [int(w) for w in args.workers.split(",")]

    import psycopg

    schema = f"followup_drain_{secrets.token_hex(4)}"
    with psycopg.connect(args.url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    glue = "&" if "?" in args.url else "?"
    url = f"{args.url}{glue}options={quote(f'-csearch_path={schema}')}"
    lines: list[str] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            pack = Path(tmp) / "drain.yaml"
            pack.write_text(PACK)
            later = datetime.now(UTC) + timedelta(days=30)
            have = 0
            with PostgresStore(url, migrate=True) as store:
                for stored in stored_sizes:
                    seconds = add(store, f"s{have:07d}-", stored - have, later)
                    print(f"stored {stored:,} applications (+{stored - have:,} in "
                          f"{seconds:.1f} s)", file=sys.stderr, flush=True)
                    have = stored
                    with psycopg.connect(url, autocommit=True) as conn:
                        conn.execute("VACUUM ANALYZE")
                    for workers in worker_counts:
                        times, repeats = [], 0
                        for run in range(args.runs):
                            took, again = drain_once(url, pack, workers, args.due,
                                                     f"{stored}-{workers}-{run}")
                            times.append(took)
                            repeats += again
                            print(f"  {workers} worker(s): {args.due / took:,.0f}/s "
                                  f"({took:.1f} s)", file=sys.stderr, flush=True)
                        median = statistics.median(times)
                        lines.append(
                            f"| {stored:,} | {workers} | {args.due:,} | {median:.1f} s | "
                            f"{args.due / median:,.0f} | {min(times):.1f} to {max(times):.1f} s "
                            f"| {args.runs} | {repeats} |")
    finally:
        with psycopg.connect(args.url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    with psycopg.connect(args.url) as conn:
        server = conn.execute("SHOW server_version").fetchone()
    header = [
        "## Drain on PostgreSQL (`python bench/drain.py`)",
        "",
        f"Made {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `python bench/drain.py "
        f"--stored {args.stored} --workers {args.workers} --due {args.due} --runs {args.runs}`"
        f" on {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, PostgreSQL {server[0] if server else '?'} "
        f"on the same machine, psycopg {metadata.version('psycopg')}; load average at the "
        f"end {os.getloadavg()[0]:.2f}.",
        "",
        "| stored applications | workers | due reminders | time to deliver all (median) "
        "| reminders/s | range | runs | sent twice |",
        "|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    text = "\n".join(header + lines) + "\n"
    sys.stdout.write(text)
    if args.out:
        # Notes written by hand below the marker are kept.
        old = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        notes = old[old.index(NOTES):] if NOTES in old else f"{NOTES}\n"
        args.out.write_text(f"{text}\n{notes}", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
