"""Which plugins are installed is remembered between commands (delivery/_pointcache.py):
the answer is the one ``importlib.metadata`` gives, it changes as soon as a distribution
is installed, changed or removed, and a cache file that is not private or not whole is
never believed."""

from __future__ import annotations

import json
import os
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from followup.delivery._pointcache import KEEP, entry_points_of

GROUP = "followup"


def _env(tmp_path: Path) -> dict[str, str]:
    return {"FOLLOWUP_CACHE_DIR": str(tmp_path / "cache")}


def _install(site: Path, version: str, value: str) -> Path:
    """A distribution ``demo`` of ``version`` whose entry point ``demo`` is ``value``."""
    for old in site.glob("demo-*.dist-info"):
        for file in old.iterdir():
            file.unlink()
        old.rmdir()
    info = site / f"demo-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: demo\nVersion: {version}\n",
                                   encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[{GROUP}]\ndemo = {value}\n", encoding="utf-8")
    return info


def _cached_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / "plugins").glob("*.json"))


def test_the_answer_is_importlib_metadata_s_and_is_kept(tmp_path: Path) -> None:
    env = _env(tmp_path)
    expected = [(ep.name, ep.value) for ep in entry_points(group=GROUP)]
    assert entry_points_of(GROUP, env) == expected
    [kept] = _cached_files(tmp_path)
    assert [tuple(p) for p in json.loads(kept.read_text(encoding="utf-8"))["points"]] == expected
    assert oct(os.stat(kept.parent).st_mode & 0o777) == oct(0o700)
    assert entry_points_of(GROUP, env) == expected


def test_a_kept_answer_is_what_the_next_command_reads(tmp_path: Path) -> None:
    env = _env(tmp_path)
    entry_points_of(GROUP, env)
    [kept] = _cached_files(tmp_path)
    body = json.loads(kept.read_text(encoding="utf-8"))
    body["points"] = [["only-in-the-file", "somewhere.else"]]
    kept.write_text(json.dumps(body), encoding="utf-8")
    assert entry_points_of(GROUP, env) == [("only-in-the-file", "somewhere.else")]


def test_installing_changing_and_removing_a_plugin_is_seen_at_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = _env(tmp_path)
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    assert ("demo", "demo_plugin") not in entry_points_of(GROUP, env)
    _install(site, "1.0", "demo_plugin")
    assert ("demo", "demo_plugin") in entry_points_of(GROUP, env)
    _install(site, "1.1", "demo_plugin.v2")  # an upgrade: another metadata folder
    found = entry_points_of(GROUP, env)
    assert ("demo", "demo_plugin.v2") in found and ("demo", "demo_plugin") not in found
    info = _install(site, "1.1", "demo_plugin.v3")  # the same version, installed again
    later = os.stat(info / "entry_points.txt").st_mtime_ns + 1_000_000
    os.utime(info / "entry_points.txt", ns=(later, later))
    assert ("demo", "demo_plugin.v3") in entry_points_of(GROUP, env)
    for file in info.iterdir():
        file.unlink()
    info.rmdir()
    assert all(name != "demo" for name, _ in entry_points_of(GROUP, env))


@pytest.mark.parametrize("spoil", ["open to the group", "not json", "not whole"])
def test_a_cache_file_not_to_be_believed_means_a_scan(tmp_path: Path, spoil: str) -> None:
    env = _env(tmp_path)
    expected = entry_points_of(GROUP, env)
    [kept] = _cached_files(tmp_path)
    body = json.loads(kept.read_text(encoding="utf-8"))
    if spoil == "open to the group":
        body["points"] = [["planted", "by.someone.else"]]
        kept.write_text(json.dumps(body), encoding="utf-8")
        os.chmod(kept.parent, 0o770)
    elif spoil == "not json":
        kept.write_text("{\"key\": ", encoding="utf-8")
    else:
        del body["points"]
        kept.write_text(json.dumps(body), encoding="utf-8")
    assert entry_points_of(GROUP, env) == expected


def test_with_the_cache_off_nothing_is_written(tmp_path: Path) -> None:
    expected = [(ep.name, ep.value) for ep in entry_points(group=GROUP)]
    assert entry_points_of(GROUP, {"FOLLOWUP_CACHE_DIR": "off"}) == expected
    assert not (tmp_path / "cache").exists()


def test_answers_for_other_states_are_pruned(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = _env(tmp_path)
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    for minor in range(KEEP + 3):
        _install(site, f"1.{minor}", "demo_plugin")
        entry_points_of(GROUP, env)
    assert len(_cached_files(tmp_path)) == KEEP
