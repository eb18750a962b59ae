"""The pack cache: compiled rule packs kept on disk between commands.

A hit gives the pack a fresh compile gives; an edit to the pack or to a pack it extends
is a miss; a damaged or foreign entry is ignored and written again; processes share the
folder; the folder is private and can be moved or turned off.
"""

from __future__ import annotations

import copy
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from followup.language._packcodec import encode
from followup.language.loader import load_rules
from followup.language.pack import RulePack
from followup.language.packcache import ENV, FORMAT, PackCache, cache_dir

BASE = """\
version: 1
name: base
states: [interviewed, thanked]
roles: [interviewer]
facts:
  interviewed_at: {type: datetime}
events:
  thank_you_sent: {from: [interviewed], to: thanked}
templates:
  nudge:
    subject: "Write to {{ contact.name }} at {{ application.company }}"
rules:
  - name: thank-you
    while: interviewed
    for_each: interviewer
    at: interviewed_at
    due: 2 working days after interviewed_at
    if: "count.interviewer > 0"
    done_by: thank_you_sent
    notify: {template: nudge}
"""

CHILD = """\
version: 1
name: child
extends: base.yaml
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The cache folder of this test, and a pack that extends another beside it."""
    monkeypatch.setenv(ENV, str(tmp_path / "cache"))
    (tmp_path / "packs").mkdir()
    (tmp_path / "packs" / "base.yaml").write_text(BASE, encoding="utf-8")
    (tmp_path / "packs" / "child.yaml").write_text(CHILD, encoding="utf-8")
    return tmp_path / "cache" / "packs"


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json"))


def subject(pack: RulePack) -> str:
    context = {"contact": {"name": "Jane Doe"}, "application": {"company": "Acme"}}
    return pack.rules[0].message.subject.render(context)


def test_a_hit_gives_the_pack_a_fresh_compile_gives(folder: Path) -> None:
    child = folder.parents[1] / "packs" / "child.yaml"
    fresh = load_rules(child, cache=False)
    assert entries(folder) == []
    first = load_rules(child)  # compiled, then kept
    assert len(entries(folder)) == 1
    stored = PackCache.open(str(child), root=str(child), named={}, sandbox=None)
    assert stored is not None
    hit = stored.get()
    assert hit is not None
    assert encode(hit) == encode(fresh) == encode(first)
    assert hit.files == fresh.files and hit.rules[0].due == fresh.rules[0].due
    # Templates and conditions compile when first used, and work as a fresh pack's do.
    assert subject(hit) == subject(fresh) == "Write to Jane Doe at Acme"
    condition = hit.rules[0].condition
    assert condition is not None and fresh.rules[0].condition is not None
    for count in (0, 2):
        context = {"count": {"interviewer": count}}
        assert condition.holds(context) is fresh.rules[0].condition.holds(context) is (count > 0)


def test_a_cached_pack_can_be_copied(folder: Path) -> None:
    child = folder.parents[1] / "packs" / "child.yaml"
    load_rules(child)
    hit = load_rules(child)
    assert subject(copy.deepcopy(hit)) == subject(copy.copy(hit)) == "Write to Jane Doe at Acme"


def test_the_default_pack_comes_back_equal(folder: Path) -> None:
    fresh = load_rules(cache=False)
    load_rules()
    again = load_rules()
    assert encode(again) == encode(fresh)
    assert len(entries(folder)) == 1
    assert [r.name for r in again.rules] == [r.name for r in fresh.rules]


def test_an_edit_to_the_pack_is_a_miss(folder: Path) -> None:
    child = folder.parents[1] / "packs" / "child.yaml"
    load_rules(child)
    child.write_text(CHILD + "description: edited\n", encoding="utf-8")
    edited = load_rules(child)
    assert edited.description == "edited"
    assert len(entries(folder)) == 2  # a new key; the old entry is left to age out


def test_an_edit_to_a_pack_it_extends_is_a_miss(folder: Path) -> None:
    packs = folder.parents[1] / "packs"
    before = load_rules(packs / "child.yaml")
    assert subject(before) == "Write to Jane Doe at Acme"
    (packs / "base.yaml").write_text(BASE.replace("Write to", "Thank"), encoding="utf-8")
    after = load_rules(packs / "child.yaml")
    assert subject(after) == "Thank Jane Doe at Acme"
    assert encode(after) == encode(load_rules(packs / "child.yaml", cache=False))


def test_a_hit_carries_the_fingerprint_without_working_it_out(folder: Path) -> None:
    child = folder.parents[1] / "packs" / "child.yaml"
    fresh = load_rules(child, cache=False)
    load_rules(child)
    hit = load_rules(child)
    assert "fingerprint" in vars(hit)  # read from the entry, not encoded and hashed again
    assert hit.fingerprint == fresh.fingerprint == type(hit).fingerprint.func(hit)


@pytest.mark.parametrize("damage", ["truncated", "not json", "another key", "foreign record",
                                    "a field too many", "an empty file", "no fingerprint",
                                    "a fingerprint not text"])
def test_a_damaged_or_foreign_entry_is_rebuilt(folder: Path, damage: str) -> None:
    child = folder.parents[1] / "packs" / "child.yaml"
    fresh = load_rules(child, cache=False)
    load_rules(child)
    (entry,) = entries(folder)
    text = entry.read_text(encoding="utf-8")
    raw = json.loads(text)
    if damage == "truncated":
        entry.write_text(text[: len(text) // 2], encoding="utf-8")
    elif damage == "not json":
        entry.write_bytes(b"\x80\x81 pickle? no")
    elif damage == "another key":
        raw["key"] = "0" * 64
        entry.write_text(json.dumps(raw), encoding="utf-8")
    elif damage == "foreign record":  # a type the cache never writes: never built
        raw["pack"]["rules"]["$tuple"][0]["$"] = "Popen"
        entry.write_text(json.dumps(raw), encoding="utf-8")
    elif damage == "a field too many":
        raw["pack"]["extra"] = 1
        entry.write_text(json.dumps(raw), encoding="utf-8")
    elif damage == "no fingerprint":
        del raw["fingerprint"]
        entry.write_text(json.dumps(raw), encoding="utf-8")
    elif damage == "a fingerprint not text":
        raw["fingerprint"] = ["0" * 32]
        entry.write_text(json.dumps(raw), encoding="utf-8")
    else:
        entry.write_text("", encoding="utf-8")
    stored = PackCache.open(str(child), root=str(child), named={}, sandbox=None)
    assert stored is not None and stored.get() is None
    again = load_rules(child)
    assert encode(again) == encode(fresh)
    assert json.loads(entry.read_text(encoding="utf-8"))["key"] == stored.key  # rewritten
    assert stored.get() is not None


def test_the_folder_is_private_and_one_others_may_write_to_is_not_used(folder: Path) -> None:
    child = folder.parents[1] / "packs" / "child.yaml"
    load_rules(child)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    (entry,) = entries(folder)
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    os.chmod(folder, 0o777)
    stored = PackCache.open(str(child), root=str(child), named={}, sandbox=None)
    assert stored is not None and stored.get() is None  # someone else may have written it
    os.chmod(folder, 0o700)
    assert stored.get() is not None


def test_off_keeps_nothing_and_the_default_follows_xdg(
        folder: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV, "off")
    load_rules(folder.parents[1] / "packs" / "child.yaml")
    assert not folder.exists()
    assert cache_dir({ENV: "off"}) is None
    assert cache_dir({ENV: "/somewhere"}) == Path("/somewhere/packs")
    assert cache_dir({"XDG_CACHE_HOME": "/xdg"}) == Path("/xdg/followup/packs")
    home = Path(os.path.expanduser("~"))
    assert cache_dir({}) == home / ".cache" / "followup" / "packs"
    assert cache_dir({"XDG_CACHE_HOME": "relative"}) == home / ".cache" / "followup" / "packs"
    monkeypatch.setattr(os.path, "expanduser", lambda path: path)  # no home folder at all
    assert cache_dir({}) is None


def test_text_is_never_cached(folder: Path) -> None:
    pack = load_rules(text=BASE)
    assert pack.name == "base"
    assert not folder.exists()


PROCESS = textwrap.dedent("""
    import sys
    from followup.language.loader import load_rules
    for _ in range(15):
        pack = load_rules(sys.argv[1])
        assert [r.name for r in pack.rules] == ["thank-you"], pack.rules
        assert pack.rules[0].message.subject.render(
            {"contact": {"name": "J"}, "application": {"company": "A"}}) == "Write to J at A"
    print("ok")
""")


def test_two_processes_share_the_folder(folder: Path) -> None:
    child = folder.parents[1] / "packs" / "child.yaml"
    env = {**os.environ, ENV: str(folder.parent)}
    runs = [subprocess.Popen([sys.executable, "-c", PROCESS, str(child)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert [out for out, _err in outputs] == ["ok\n", "ok\n"]
    (entry,) = entries(folder)
    assert json.loads(entry.read_text(encoding="utf-8"))["format"] == FORMAT
    assert not list(folder.glob(".*.tmp"))  # no temporary file left behind


def test_a_fifo_as_the_pack_is_not_read_for_the_key(folder: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    fifo = folder.parents[1] / "packs" / "fifo.yaml"
    os.mkfifo(fifo)
    assert PackCache.open(str(fifo), root=str(fifo), named={}, sandbox=None) is None


def test_plugin_filters_are_part_of_the_key(folder: Path) -> None:
    from followup.language.sandbox import Sandbox

    child = folder.parents[1] / "packs" / "child.yaml"
    plain = PackCache.open(str(child), root=str(child), named={}, sandbox=None)
    shouting = Sandbox({"shout": (lambda s: str(s).upper(), "plugin 'loud'")})
    loud = PackCache.open(str(child), root=str(child), named={}, sandbox=shouting)
    assert plain is not None and loud is not None and plain.key != loud.key

