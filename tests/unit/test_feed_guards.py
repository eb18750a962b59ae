"""The calendar feed's guards in process: Host names, tokens kept on disk, validators.

The server on a real socket is tested through the command (tests/acceptance/
test_cli_serve.py); these are the parts that decide, each on its own.
"""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from followup.cli.feed import Snapshot, Versions, _not_modified, host_name
from followup.cli.feed_tokens import FeedTokens
from followup.errors import StoreError


@pytest.mark.parametrize(("value", "name"), [
    ("localhost", "localhost"), ("LocalHost:8765", "localhost"), ("localhost.", "localhost"),
    ("127.0.0.1:80", "127.0.0.1"), ("[::1]:8765", "::1"), ("[::1]", "::1"), ("::1", "::1"),
    ("Calendar.Example.org", "calendar.example.org"),
    ("", None), ("[::1", None), ("[::1]x", None), ("host:port", None), ("a b", None),
    ("a/b", None), ("évil.example", None), (":8765", None), ("host\r\nX: y", None),
])
def test_host_name_keeps_only_a_plain_name_or_address(value: str, name: str | None) -> None:
    assert host_name(value) == name


def test_a_token_is_made_once_kept_private_and_rotated(tmp_path: Path) -> None:
    tokens = FeedTokens(tmp_path / "feed-tokens", "followup.db")
    assert tokens.read("ada") is None
    first = tokens.get("ada")
    assert len(first) == 43 and tokens.get("ada") == first == tokens.read("ada")
    assert stat.S_IMODE((tmp_path / "feed-tokens").stat().st_mode) == 0o700
    assert stat.S_IMODE(tokens.path("ada").stat().st_mode) == 0o600
    assert tokens.get("bob") != first
    rotated = tokens.rotate("ada")
    assert rotated != first and tokens.get("ada") == rotated
    # Nothing but the kept tokens in the folder: no temporary file left behind.
    assert sorted(p.name for p in (tmp_path / "feed-tokens").iterdir()) == sorted(
        [tokens.path("ada").name, tokens.path("bob").name])


@pytest.mark.parametrize("owner", ["ada", "ada.", "ada x", "ada_x", "../../etc", "王伟", "\udcff"])
def test_every_owner_and_store_has_a_file_of_its_own(tmp_path: Path, owner: str) -> None:
    one, two = FeedTokens(tmp_path, "one.db"), FeedTokens(tmp_path, "two.db")
    assert one.path(owner).parent == tmp_path
    assert one.path(owner) != two.path(owner) and one.path(owner) != one.path(owner + "!")
    assert one.get(owner) != two.get(owner)


def test_a_damaged_token_file_is_replaced(tmp_path: Path) -> None:
    tokens = FeedTokens(tmp_path, "followup.db")
    tokens.folder.mkdir(exist_ok=True)
    tokens.path("ada").write_text("", encoding="ascii")  # an interrupted write
    assert tokens.read("ada") is None
    token = tokens.get("ada")
    assert tokens.read("ada") == token


def test_a_folder_that_cannot_be_written_is_a_store_error(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder", encoding="utf-8")
    with pytest.raises(StoreError, match=r"the feed's token in .*file/feed-tokens"):
        FeedTokens(blocked / "feed-tokens", "followup.db").get("ada")


class _Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 12, 1, 9, 0, 0, 123456, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


def test_versions_hold_etag_and_last_modified_while_the_content_does() -> None:
    clock = _Clock()
    items = ["a"]

    def render(content: list[str], stamp: datetime) -> bytes:
        return f"{content} {stamp.isoformat()}".encode()

    versions = Versions(lambda: list(items), render, clock.now)
    first = versions.current()
    assert first.modified == datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)
    assert first.body == b"['a'] 2026-12-01T09:00:00+00:00"  # stamped with Last-Modified
    clock.at += timedelta(hours=1)
    assert versions.current() == first  # the same bytes an hour later
    items.append("b")
    changed = versions.current()
    assert changed.etag != first.etag
    assert changed.modified == datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)


def test_not_modified_follows_rfc_9110() -> None:
    snap = Snapshot(b"x", '"abc"', datetime(2026, 12, 1, 9, tzinfo=UTC))
    since = "Tue, 01 Dec 2026 09:00:00 GMT"
    assert _not_modified('"abc"', None, snap)
    assert _not_modified('W/"abc"', None, snap)
    assert _not_modified('"x", "abc"', None, snap)
    assert _not_modified("*", None, snap)
    assert not _not_modified('"x"', since, snap)  # If-None-Match decides when present
    assert _not_modified(None, since, snap)
    assert not _not_modified(None, "Tue, 01 Dec 2026 08:59:59 GMT", snap)
    assert not _not_modified(None, "yesterday", snap)
    assert not _not_modified(None, None, snap)
