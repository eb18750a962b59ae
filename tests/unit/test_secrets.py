"""Secrets (the SMTP password, the webhook's HMAC secret, the password in a webhook URL,
each also read from a ``FOLLOWUP_*_FILE``) never show in logs at DEBUG, errors, the
history, the outbox's last_error, the command line's output, or exports; and the files
followup makes are its owner's alone.

Each channel here fails (a closed port, a server that answers 500), because failures are
where secrets leak: an error message that quotes the URL or the login.
"""

from __future__ import annotations

import http.server
import json
import logging
import os
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from followup import Contact, Engine, FakeClock, SQLiteStore, load_rules
from followup.delivery.manager import load_plugins

PASSWORD = "smtp-pa55-Zq8xW"
HMAC = "hmac-s3cret-Vb7yK"
URL_PASSWORD = "url-pa55-Jm4tR"
SECRETS = (PASSWORD, HMAC, URL_PASSWORD)
PACK = "version: 1\nextends: after-interview\nchannels: [console, email, webhook]\n"


class _Fails(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def failing_server() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Fails)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def environ(tmp_path: Path, failing_server: int) -> dict[str, str]:
    (tmp_path / "smtp-password").write_text(PASSWORD + "\n")
    (tmp_path / "hmac").write_text(HMAC + "\n")
    (tmp_path / "pack.yaml").write_text(PACK)
    return {
        "FOLLOWUP_EMAIL_HOST": "127.0.0.1", "FOLLOWUP_EMAIL_PORT": str(_closed_port()),
        "FOLLOWUP_EMAIL_SECURITY": "starttls", "FOLLOWUP_EMAIL_USERNAME": "ada",
        "FOLLOWUP_EMAIL_PASSWORD_FILE": str(tmp_path / "smtp-password"),
        "FOLLOWUP_EMAIL_FROM": "ada@example.com", "FOLLOWUP_EMAIL_TO": "ada@example.com",
        "FOLLOWUP_EMAIL_TIMEOUT": "5",
        "FOLLOWUP_WEBHOOK_URL": f"http://robot:{URL_PASSWORD}@127.0.0.1:{failing_server}/h",
        "FOLLOWUP_WEBHOOK_SECRET_FILE": str(tmp_path / "hmac"),
        "FOLLOWUP_WEBHOOK_TIMEOUT": "5",
        "FOLLOWUP_PLUGINS": "console,email,webhook",
    }


def _clean(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"a secret shows in {where}"


def test_failing_channels_keep_their_secrets_out_of_logs_errors_history_and_outbox(
    environ: dict[str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level
    plugins = load_plugins(environ=environ)
    assert {"email", "webhook"} <= set(plugins.channels.names()), plugins.failures
    engine = Engine(rules=load_rules(tmp_path / "pack.yaml"), plugins=plugins,
                    store=SQLiteStore(tmp_path / "f.db"),
                    clock=FakeClock(datetime(2027, 1, 4, 15, tzinfo=UTC)))
    try:
        engine.set_owner("ada", timezone="America/New_York", country="US")
        engine.add_application(owner="ada", company="Acme", role="Engineer",
                               facts={"interviewed_at": "2027-01-04T09:00"},
                               contacts=[Contact("Jane Doe", "interviewer", title="CTO")])
        report = engine.run_due()
        failed = report.delivery.failed
        assert {row.channel for row in failed} == {"email", "webhook"}
        errors = [str(row.last_error) for row in failed]
        assert any("500" in e for e in errors) and any("refused" in e.lower() for e in errors)
        rows = engine.store.deliveries()
        _clean(json.dumps([[d.last_error, d.notification.subject, d.notification.body,
                            d.notification.data] for d in rows], default=str), "the outbox")
        _clean("\n".join(errors), "the delivery report")
        _clean(repr(report), "the run report")
        for app in engine.applications(owner="ada"):
            _clean(repr(engine.history(app.id)), "the history")
        _clean(repr(plugins.channels.get("email")) + repr(plugins.channels.get("webhook")),
               "a channel's repr")
        _clean(json.dumps(plugins.failures), "plugin failures")
    finally:
        engine.close()
    _clean(caplog.text, "the log")
    db = tmp_path / "f.db"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    _clean(db.read_bytes().decode("utf-8", "replace"), "the database file")


def _followup() -> list[str]:
    script = Path(sys.executable).parent / "followup"
    return [str(script)] if script.exists() else [sys.executable, "-m", "followup.cli"]


def test_the_command_line_shows_no_secret_and_its_files_are_the_owner_s(
    environ: dict[str, str], tmp_path: Path,
) -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
           "FOLLOWUP_OWNER": "ada", "FOLLOWUP_RULES": str(tmp_path / "pack.yaml"),
           "FOLLOWUP_DB": str(tmp_path / "cli.db"), **environ}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        # An ordinary umask: followup itself must make its files private.
        done = subprocess.run([*_followup(), *args], capture_output=True, text=True,
                              env=env, timeout=120, umask=0o022)
        _clean(done.stdout + done.stderr, f"the output of followup {' '.join(args)}")
        return done

    assert run("init", "--timezone", "America/New_York", "--country", "US").returncode == 0
    added = run("add", "--company", "Acme", "--role", "Engineer",
                "--interviewed", "2027-01-04T09:00", "--interviewer", "Jane Doe, CTO")
    assert added.returncode == 0, added.stderr
    daemon = run("run", "--once")
    assert "webhook" in daemon.stdout + daemon.stderr, daemon  # it tried, and said so
    for args in (("--json", "outbox"), ("plugins",), ("--json", "plugins")):
        assert run(*args).returncode == 0
    out = tmp_path / "export.json"
    exported = run("export", "--format", "json", "--output", str(out))
    assert exported.returncode == 0, exported.stderr
    _clean(out.read_text(), "the export")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "cli.db").stat().st_mode) == 0o600
