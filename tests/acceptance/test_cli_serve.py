"""``followup serve``: the calendar feed, on a real loopback server, and its guards.

The guards: a secret token in the address, a Host allow-list against DNS rebinding, a
thread per client with a deadline (an idle or slow client blocks no one), ETag and
Last-Modified. Each test starts the real command and talks to it over 127.0.0.1.
"""

from __future__ import annotations

import http.client
import re
import select
import socket
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import icalendar
import pytest

from followup import Engine, SQLiteStore
from followup.interop.ical import reminder_uid
from tests.acceptance.conftest import followup_command

DAYS = "3650"  # the Acme interview is at a fixed date: reach it whenever the tests run
TIMEOUT = 60  # seconds, as for every run of the command (conftest.py)
PROMPT = 3.0  # seconds: "at once" for a request on a loaded machine
_ADDRESS = re.compile(r"http://127\.0\.0\.1:(\d+)/([A-Za-z0-9_-]+)/calendar\.ics for ([^;( ]+)")


@dataclass
class Served:
    """A running ``followup serve``: its port, the token it printed, the process."""

    port: int
    token: str
    proc: subprocess.Popen[str]
    log: str = ""  # what it wrote on standard error after the address, once it stopped

    @property
    def path(self) -> str:
        return f"/{self.token}/calendar.ics"

    def get(self, path: str | None = None, headers: dict[str, str] | None = None,
            method: str = "GET") -> tuple[int, http.client.HTTPMessage, bytes]:
        """One request; returns the status, the headers and the body."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=PROMPT)
        try:
            conn.request(method, self.path if path is None else path, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()


def _start(followup: Any, *args: str) -> Served:
    proc = subprocess.Popen(
        [*followup_command(), "serve", "--port", "0", "--days", DAYS, *args],
        cwd=followup.tmp_path, env=followup.env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, encoding="utf-8", errors="replace",
    )
    assert proc.stderr is not None
    ready = proc.stderr.readline()  # printed once the socket listens
    found = _ADDRESS.search(ready)
    if found is None:
        proc.kill()
        _, rest = proc.communicate(timeout=TIMEOUT)
        raise AssertionError(ready + rest)
    assert found.group(3) == _owner(args)
    return Served(int(found.group(1)), found.group(2), proc)


def _owner(args: tuple[str, ...]) -> str:
    return args[args.index("--owner") + 1] if "--owner" in args else "tester"


@contextmanager
def serving(followup: Any, *args: str) -> Iterator[Served]:
    """``followup serve ARGS`` running in the background, stopped on leaving."""
    served = _start(followup, *args)
    try:
        yield served
    finally:
        served.proc.terminate()
        served.log = served.proc.communicate(timeout=TIMEOUT)[1]


def _serve_once(followup: Any, path: str | None = None) -> tuple[int, bytes, Served]:
    served = _start(followup, "--once")
    try:
        status, _, body = served.get(path)
    finally:
        served.proc.communicate(timeout=TIMEOUT)
    return status, body, served


def _uids(text: str) -> dict[str, Any]:
    return {str(c["UID"]): c for c in icalendar.Calendar.from_ical(text).walk("VEVENT")}


# -- the feed and its token ---------------------------------------------------------------


def test_serve_once_answers_the_feed_at_its_secret_address(
    followup: Any, acme: dict[str, Any]
) -> None:
    status, body, served = _serve_once(followup)
    assert served.proc.returncode == 0
    assert status == 200
    text = body.decode("utf-8")
    assert icalendar.Calendar.from_ical(text).to_ical() == body  # reads back, writes the same
    events = _uids(text)
    agenda = followup("agenda", "--days", DAYS, "--json").json()
    with SQLiteStore(followup.db) as store:
        apps = {a.id: a for a in Engine(store=store, channels=[]).applications(owner="tester")}
    reminders = {reminder_uid(i["key"], apps.get(i["application"] or "")):
                 datetime.fromisoformat(i["at"]) for i in agenda if i["action"] == "notify"}
    assert len(events) >= 3 and not any("Jane" in uid for uid in events)
    assert set(events) == set(reminders)
    for uid, event in events.items():
        assert event["DTSTART"].dt == reminders[uid]
        assert event["DTSTART"].params["TZID"] == "America/New_York"


def test_a_missing_or_wrong_token_is_not_found(followup: Any, acme: dict[str, Any]) -> None:
    with serving(followup) as served:
        assert len(served.token) >= 40
        status, headers, body = served.get()
        assert status == 200 and headers["Content-Type"] == "text/calendar; charset=utf-8"
        wrong = "A" * len(served.token)
        for path in ["/calendar.ics", "/", f"/{wrong}/calendar.ics",
                     f"/{served.token[:-1]}/calendar.ics", f"/{served.token}x/calendar.ics",
                     f"/{served.token}", f"/{served.token}/calendar.ics/x",
                     f"/{served.token}/../calendar.ics", "/%C3%A9/calendar.ics"]:
            status, _, body = served.get(path)
            assert (status, body) == (404, b"not found\n"), path  # never says why
        # HEAD is answered as GET is, without the body.
        assert served.get(method="HEAD")[0] == 200
        assert served.get("/calendar.ics", method="HEAD")[0] == 404
        # Nothing can be changed through it.
        assert served.get(method="POST")[0] == 501
        # A malformed request that quotes the address: its error is logged without it.
        with socket.create_connection(("127.0.0.1", served.port), timeout=PROMPT) as raw:
            raw.sendall(f"GET {served.path} x HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
            assert raw.makefile("rb").readline().split()[1] == b"400"
    # The log says what was asked, never the address that holds the secret.
    assert "GET 404" in served.log and "code 400" in served.log
    assert served.token not in served.log


def test_the_token_survives_a_restart_is_private_and_differs_per_owner(
    followup: Any, acme: dict[str, Any]
) -> None:
    first = _serve_once(followup)[2]
    again = _serve_once(followup)[2]
    assert first.token == again.token
    folder = followup.db.parent / "feed-tokens"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    (kept,) = folder.iterdir()
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert kept.read_text(encoding="ascii").strip() == first.token
    with serving(followup, "--owner", "bob") as bob:
        assert bob.token != first.token
        assert bob.get(first.path)[0] == 404  # tester's address does not open bob's feed


def test_rotating_the_token_closes_the_old_address_at_once(
    followup: Any, acme: dict[str, Any]
) -> None:
    with serving(followup) as served:
        old = served.path
        assert served.get(old)[0] == 200
        result = followup("serve", "--rotate-token", "--port", str(served.port))
        found = re.search(rf"http://127\.0\.0\.1:{served.port}/([A-Za-z0-9_-]+)/calendar\.ics",
                          result.stderr)
        assert found is not None, str(result)
        new = f"/{found.group(1)}/calendar.ics"
        assert new != old
        # The running server reads the token at every request.
        assert served.get(old)[0] == 404
        assert served.get(new)[0] == 200
    # A restart serves the new one.
    assert _serve_once(followup, new)[0] == 200


# -- who may ask --------------------------------------------------------------------------


def test_a_foreign_host_name_is_refused(followup: Any, acme: dict[str, Any]) -> None:
    with serving(followup, "--allow-host", "Calendar.Example.org.") as served:
        for host in ["attacker.example", f"attacker.example:{served.port}", "127.0.0.2",
                     "localhost.attacker.example", "", "[::1", "local host"]:
            status, _, body = served.get(headers={"Host": host})
            assert status == 403, host
            assert b"BEGIN:VCALENDAR" not in body
        for host in ["localhost", f"LOCALHOST:{served.port}", f"127.0.0.1:{served.port}",
                     f"[::1]:{served.port}", "localhost.", "calendar.example.org",
                     f"calendar.example.org:{served.port}"]:
            assert served.get(headers={"Host": host})[0] == 200, host
        # A request without a Host header (HTTP/1.0) is refused too.
        with socket.create_connection(("127.0.0.1", served.port), timeout=PROMPT) as raw:
            raw.sendall(f"GET {served.path} HTTP/1.0\r\n\r\n".encode())
            assert raw.makefile("rb").readline().split()[1] == b"403"


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "example.org"])
def test_serve_refuses_a_public_address_without_public(followup: Any, host: str) -> None:
    result = followup("serve", "--host", host, "--once", expect=2)
    assert "--public" in result.stderr
    assert "unencrypted" in result.stderr


@pytest.mark.parametrize(("option", "value"), [
    ("--allow-host", "calendar.example.org:8080"), ("--allow-host", "a/b"),
    ("--allow-host", ""), ("--timeout", "0"), ("--timeout", "-1"), ("--timeout", "nan"),
])
def test_bad_guard_options_are_refused(
    followup: Any, acme: dict[str, Any], option: str, value: str
) -> None:
    result = followup("serve", option, value, "--once", expect=2)
    assert option in result.stderr


# -- one slow client blocks no one --------------------------------------------------------


def test_an_idle_client_does_not_block_another(followup: Any, acme: dict[str, Any]) -> None:
    with serving(followup, "--timeout", "30") as served, \
            socket.create_connection(("127.0.0.1", served.port), timeout=PROMPT):
        # Connected, and saying nothing: a one-thread server would wait 30 s for it.
        started = time.monotonic()
        assert served.get()[0] == 200
        assert time.monotonic() - started < PROMPT


def test_an_idle_client_is_let_go_after_the_timeout(
    followup: Any, acme: dict[str, Any]
) -> None:
    with serving(followup, "--timeout", "0.5") as served, \
            socket.create_connection(("127.0.0.1", served.port), timeout=5) as idle:
        started = time.monotonic()
        assert idle.recv(1) == b""  # the server hung up
        assert time.monotonic() - started < 4


def test_a_slow_loris_neither_blocks_others_nor_holds_on(
    followup: Any, acme: dict[str, Any]
) -> None:
    with serving(followup, "--timeout", "1") as served, \
            socket.create_connection(("127.0.0.1", served.port), timeout=5) as slow:
        slow.sendall(f"GET {served.path} HTTP/1.1\r\nHost: localhost\r\n".encode())
        answers: list[tuple[int, float]] = []

        def meanwhile() -> None:
            time.sleep(0.3)
            started = time.monotonic()
            answers.append((served.get()[0], time.monotonic() - started))

        other = threading.Thread(target=meanwhile)
        other.start()
        started, cut = time.monotonic(), None
        # One header byte every 50 ms: each read has bytes long before the timeout.
        for byte in b"X-Slow: " + b"a" * 200:
            if select.select([slow], [], [], 0.05)[0]:
                cut = time.monotonic() - started
                break
            try:
                slow.sendall(bytes([byte]))
            except OSError:
                cut = time.monotonic() - started
                break
        other.join(timeout=TIMEOUT)
        assert answers and answers[0][0] == 200
        assert answers[0][1] < PROMPT
        # Cut off about a second (the --timeout) after it began, though it kept sending.
        assert cut is not None and cut < 4
        with suppress(OSError):
            assert b" 200 " not in slow.recv(100)  # and never answered


def test_more_clients_than_the_server_takes_are_told_to_come_back(
    followup: Any, acme: dict[str, Any]
) -> None:
    with serving(followup, "--timeout", "30") as served:
        idle = [socket.create_connection(("127.0.0.1", served.port), timeout=PROMPT)
                for _ in range(32)]
        try:
            with socket.create_connection(("127.0.0.1", served.port), timeout=PROMPT) as extra:
                extra.sendall(f"GET {served.path} HTTP/1.0\r\nHost: localhost\r\n\r\n".encode())
                assert extra.makefile("rb").readline().split()[1] == b"503"
        finally:
            for s in idle:
                s.close()
        deadline = time.monotonic() + 10
        while served.get()[0] != 200:  # the slots free as the idle ones hang up
            assert time.monotonic() < deadline
            time.sleep(0.1)


# -- validators ---------------------------------------------------------------------------


def test_etag_and_last_modified_answer_304_while_the_feed_is_unchanged(
    followup: Any, acme: dict[str, Any]
) -> None:
    with serving(followup) as served:
        status, headers, body = served.get()
        etag, modified = headers["ETag"], headers["Last-Modified"]
        assert status == 200 and re.fullmatch(r'"[0-9a-f]{32}"', etag)
        assert "no-cache" in headers["Cache-Control"]
        time.sleep(1.1)  # a later second: the same bytes, DTSTAMP included
        status, headers, again = served.get()
        assert (status, headers["ETag"], headers["Last-Modified"], again) == (
            200, etag, modified, body)
        for asked in [etag, f"W/{etag}", f'"nope", {etag}', "*"]:
            status, headers, empty = served.get(headers={"If-None-Match": asked})
            assert (status, empty, headers["ETag"]) == (304, b"", etag), asked
        assert served.get(headers={"If-None-Match": '"nope"'})[0] == 200
        assert served.get(headers={"If-Modified-Since": modified})[0] == 304
        assert served.get(headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}
                          )[0] == 200
        # If-None-Match wins over If-Modified-Since (RFC 9110).
        assert served.get(headers={"If-None-Match": '"nope"',
                                   "If-Modified-Since": modified})[0] == 200
        # A change in the store is a new ETag; what changed has a higher SEQUENCE.
        followup("log", acme["id"], "--fact", "follow_up_requested_on=2026-12-28")
        status, headers, changed = served.get(headers={"If-None-Match": etag})
        assert status == 200 and headers["ETag"] != etag and changed != body
        before, after = _uids(body.decode()), _uids(changed.decode())
        grew = {u for u in before if int(after[u]["SEQUENCE"]) > int(before[u]["SEQUENCE"])}
        assert grew and all(after[u]["DTSTART"].dt < before[u]["DTSTART"].dt for u in grew)
        assert served.get(headers={"If-None-Match": headers["ETag"]})[0] == 304


def test_the_token_folder_is_beside_the_store(followup: Any, tmp_path: Path) -> None:
    followup("init")
    other = tmp_path / "elsewhere" / "second.db"
    other.parent.mkdir()
    followup("--db", str(other), "init")
    mine = _serve_once(followup)[2].token
    served = _start(followup, "--once", "--db", str(other))
    served.get()
    served.proc.communicate(timeout=TIMEOUT)
    assert served.token != mine
    assert len(list((other.parent / "feed-tokens").iterdir())) == 1
