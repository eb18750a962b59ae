"""Bad input on the command line is a clear error with a documented exit code, never a
traceback (issue 14): dates and day counts past the calendar, bytes that are not UTF-8,
lone surrogates and NULs in an import, names past their limit, a daemon interval that
would spin, a read-only store, a store URL that cannot be read (its password unsaid)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.acceptance.conftest import Followup, Result


def refused(result: Result, code: int, *words: str) -> None:
    assert result.returncode == code, str(result)
    assert "Traceback" not in result.stderr, str(result)
    for word in words:
        assert word in result.stderr, str(result)


@pytest.fixture
def store(followup: Followup) -> Followup:
    followup("init")
    followup("add", "--company", "Acme", "--role", "Engineer", "--id", "a1",
             "--interviewed", "2026-12-23T15:00")
    return followup


@pytest.mark.parametrize("args", [
    ("add", "--company", "X", "--role", "R", "--interviewed", "9999-12-31T23:59"),
    ("add", "--company", "X", "--role", "R", "--interviewed", "0001-01-01T00:00"),
    ("log", "a1", "called", "--at", "9999-12-31T23:59"),
    ("log", "a1", "--fact", "decision_expected_on=9999-12-31"),
    ("simulate", "--interviewed", "9999-12-31T23:59"),
    ("simulate", "--interviewed", "2026-12-23T15:00", "--until", "9999-12-31"),
], ids=["add", "add-year-1", "log-at", "log-fact", "simulate", "simulate-until"])
def test_a_date_past_the_calendar_is_refused(store: Followup, args: tuple[str, ...]) -> None:
    refused(store(*args, expect=None), 2, "outside the years 1900-2999")


@pytest.mark.parametrize("days", ["99999999999", "36601"])
def test_a_day_count_past_a_hundred_years_is_refused(store: Followup, days: str) -> None:
    refused(store("agenda", "--days", days, expect=None), 2, "too far ahead")
    assert store("agenda", "--days", "36600").returncode == 0


@pytest.mark.parametrize("interval", ["0", "-5", "nan", "inf", "0.01"])
def test_the_daemon_interval_must_be_positive(store: Followup, interval: str) -> None:
    refused(store("run", "--once", "--interval", interval, expect=None), 2,
            "--interval", "from 0.1 to 86400")


def test_arguments_that_are_not_utf8_are_refused(store: Followup) -> None:
    # "\udcff" reaches the command as the byte 0xFF, which is not UTF-8.
    result = store("add", "--company", "Acme \udcff", "--role", "R", expect=None)
    refused(result, 2, "argument 3 (b'Acme \\xff') is not UTF-8 text")
    assert "a1" in store("list").stdout and "Acme \\xff" not in store("list").stdout


def test_a_name_past_its_limit_is_refused_and_not_echoed(store: Followup) -> None:
    result = store("add", "--company", "x" * 100_000, "--role", "R", expect=None)
    refused(result, 2, "100,000 characters long; at most 200 are kept")
    assert len(result.stderr) < 400
    refused(store("log", "a1", "called", "--key", "k" * 101, expect=None), 2,
            "the idempotency key", "at most 100")
    assert store("add", "--company", "王" * 200, "--role", "R").returncode == 0


def _import(store: Followup, tmp_path: Path, change: dict[str, object]) -> Result:
    store("export", "--format", "json", "--output", "out.json")
    document = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    document["applications"][0].update({"id": "a2", **change})
    (tmp_path / "in.json").write_text(json.dumps(document), encoding="utf-8")
    return store("import", "in.json", "--db", str(tmp_path / "other.db"), expect=None)


@pytest.mark.parametrize("bad", ["\ud800", "\udfff Acme", "A\u0000cme"],
                         ids=["surrogate", "low-surrogate", "nul"])
def test_an_import_with_a_lone_surrogate_or_a_nul_is_refused(
        store: Followup, tmp_path: Path, bad: str) -> None:
    store("init", "--db", str(tmp_path / "other.db"))
    result = _import(store, tmp_path, {"company": bad})
    refused(result, 2, "NUL" if "\x00" in bad else "not a character")
    assert "no applications yet" in store("list", "--db", str(tmp_path / "other.db")).stdout


def test_a_read_only_store_can_be_read_and_says_so_when_written(store: Followup) -> None:
    store.db.chmod(0o444)
    try:
        assert "a1" in store("list").stdout
        assert "Acme" in store("show", "a1").stdout
        refused(store("log", "a1", "called", expect=None), 3, "read-only", "chmod u+w")
    finally:
        store.db.chmod(0o600)
    assert store("show", "a1", "--json").json()["state"] == "interviewed"


def test_a_store_url_that_cannot_be_read_never_shows_its_password(store: Followup) -> None:
    for url in ("postgresql://u:PG%ZZhunter2@127.0.0.1/db",
                "postgresql://u:PG hunter2@127.0.0.1/db",
                "mysql://u:hunter2@127.0.0.1/db"):
        for command in (("list",), ("migrate",)):
            result = store(*command, "--db", url, expect=None)
            refused(result, 2)
            assert "hunter2" not in result.stderr + result.stdout, str(result)


def test_the_default_store_folder_is_made_for_its_owner_only(followup: Followup) -> None:
    followup("init", env={"FOLLOWUP_DB": None})
    folder = followup.tmp_path / "home" / ".local" / "share" / "followup"
    assert (folder / "followup.db").exists()
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
